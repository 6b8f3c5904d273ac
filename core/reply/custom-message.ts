/**
 * A Reply as a customer-service message (protocol.md §6): how an answer that missed the 5 s passive
 * window still reaches the user, within 48 h of their last message.
 */
import { fail, ok, type Result } from '../errors.ts'
import type { Reply } from './reply-types.ts'

/**
 * The customer-service API accepts one news article (more is refused with errcode 45008, losing the
 * whole reply), so only the first is sent. Body for POST /cgi-bin/message/custom/send.
 */
export function toCustomMessage(openId: string, reply: Reply): Result<Record<string, unknown>> {
  const base = { touser: openId, msgtype: reply.type }
  switch (reply.type) {
    case 'text':
      return ok({ ...base, text: { content: reply.content } })
    case 'image':
      return ok({ ...base, image: { media_id: reply.mediaId } })
    case 'voice':
      return ok({ ...base, voice: { media_id: reply.mediaId } })
    case 'video':
      return ok({
        ...base,
        video: defined({
          media_id: reply.mediaId,
          thumb_media_id: reply.thumbMediaId,
          title: reply.title,
          description: reply.description,
        }),
      })
    case 'music':
      return ok({
        ...base,
        music: defined({
          title: reply.title,
          description: reply.description,
          musicurl: reply.musicUrl,
          hqmusicurl: reply.hqMusicUrl,
          thumb_media_id: reply.thumbMediaId,
        }),
      })
    case 'news': {
      if (reply.articles.length === 0) return fail('PLUGIN_BAD_REPLY', 'news reply has no articles to send')
      const articles = reply.articles.slice(0, 1).map((article) =>
        defined({ title: article.title, description: article.description, url: article.url, picurl: article.picUrl }),
      )
      return ok({ ...base, news: { articles } })
    }
    case 'transfer_customer_service':
      return fail('PLUGIN_BAD_REPLY', 'transfer_customer_service only works as a passive reply; it cannot be sent later')
    case 'none':
      return fail('PLUGIN_BAD_REPLY', 'a none reply has nothing to send')
    default: {
      const unknown: never = reply
      throw new TypeError(`unknown reply type ${JSON.stringify((unknown as { type: unknown }).type)}`)
    }
  }
}

function defined(fields: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value
  return out
}
