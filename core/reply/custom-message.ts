/**
 * A Reply or a CustomMessage as a customer-service message (protocol.md §6): how an answer that missed the
 * 5 s passive window still reaches the user, within 48 h of their last message, and how the types that
 * have no passive form (custom-message-types.ts) are sent at all.
 */
import { fail, ok, type Result } from '../errors.ts'
import { isCustomMessage, parseCustomMessage, parseSendOptions } from './custom-message-schema.ts'
import type { CustomMessage, SendOptions } from './custom-message-types.ts'
import type { Reply } from './reply-types.ts'

/**
 * Body for POST /cgi-bin/message/custom/send. Keys are in the order of the platform's samples, with
 * `customservice` last; a Reply is taken as typed, a CustomMessage and the options are checked here
 * (their rules are not in their types).
 */
export function toCustomMessage(openId: string, message: Reply | CustomMessage, opts?: SendOptions): Result<Record<string, unknown>> {
  const options = parseSendOptions(opts)
  if (!options.ok) return options
  let body: Result<Record<string, unknown>>
  if (isCustomMessage(message)) {
    const checked = parseCustomMessage(message)
    body = checked.ok ? ok(customOnlyBody(openId, checked.value)) : checked
  } else {
    body = replyBody(openId, message)
  }
  if (!body.ok || options.value.kfAccount === undefined) return body
  return ok({ ...body.value, customservice: { kf_account: options.value.kfAccount } })
}

function customOnlyBody(openId: string, message: CustomMessage): Record<string, unknown> {
  const base = { touser: openId, msgtype: message.type }
  switch (message.type) {
    case 'msgmenu':
      return {
        ...base,
        msgmenu: {
          ...defined({ head_content: message.headContent }),
          list: message.list.map((option) => ({ id: option.id, content: option.content })),
          ...defined({ tail_content: message.tailContent }),
        },
      }
    case 'miniprogrampage':
      return {
        ...base,
        miniprogrampage: defined({
          title: message.title,
          appid: message.appId,
          pagepath: message.pagePath,
          thumb_media_id: message.thumbMediaId,
        }),
      }
    case 'mpnews':
      return { ...base, mpnews: { media_id: message.mediaId } }
    case 'mpnewsarticle':
      return { ...base, mpnewsarticle: { article_id: message.articleId } }
    case 'wxcard':
      return { ...base, wxcard: { card_id: message.cardId } }
    default: {
      const unknown: never = message
      throw new TypeError(`unknown message type ${JSON.stringify((unknown as { type: unknown }).type)}`)
    }
  }
}

/**
 * The customer-service API accepts one news article (more is refused with errcode 45008, losing the
 * whole reply), so only the first is sent.
 */
function replyBody(openId: string, reply: Reply): Result<Record<string, unknown>> {
  const base = { touser: openId, msgtype: reply.type }
  switch (reply.type) {
    case 'text':
      return ok({ ...base, text: { content: reply.content } })
    case 'image':
      return ok({ ...base, image: { media_id: reply.mediaId } })
    case 'voice':
      return ok({ ...base, voice: { media_id: reply.mediaId } })
    case 'video':
      // A passive video reply has no thumbnail; the customer-service API refuses one without it (40007).
      // Refused here with the reason rather than spending a request on a known refusal.
      if (!reply.thumbMediaId) return fail('PLUGIN_BAD_REPLY', 'video reply has no thumbMediaId, which the customer-service API requires (a passive reply does not): it cannot go out late or through sendToUser')
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
