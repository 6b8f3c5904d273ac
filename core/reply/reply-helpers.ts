/**
 * The reply helpers plugins call as ctx.reply.*: plain data, no engine state. Kept free of zod (and of any
 * other import with a run-time cost) because every plugin worker loads it at start.
 */
import type { ReplyHelpers } from '../plugin/plugin-api.ts'
import type { Article, Reply } from './reply-types.ts'

/** Sets only the keys that have a value, so replies stay clean plain data. */
function withOptional<T extends object>(base: T, extra: Record<string, string | undefined> | undefined): T {
  if (!extra) return base
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) out[key] = value
  return out as T
}

function copyArticle(article: Article): Article {
  return withOptional(
    { title: article.title },
    { description: article.description, picUrl: article.picUrl, url: article.url },
  )
}

export const replyHelpers: ReplyHelpers = {
  text: (content) => ({ type: 'text', content }),
  image: (mediaId) => ({ type: 'image', mediaId }),
  voice: (mediaId) => ({ type: 'voice', mediaId }),
  video: (mediaId, opts) =>
    withOptional<Reply>(
      { type: 'video', mediaId },
      opts && { title: opts.title, description: opts.description, thumbMediaId: opts.thumbMediaId },
    ),
  music: (opts) =>
    withOptional<Reply>(
      { type: 'music', thumbMediaId: opts.thumbMediaId },
      { title: opts.title, description: opts.description, musicUrl: opts.musicUrl, hqMusicUrl: opts.hqMusicUrl },
    ),
  news: (articles) => ({ type: 'news', articles: articles.map(copyArticle) }),
  transfer: (kfAccount) =>
    kfAccount === undefined ? { type: 'transfer_customer_service' } : { type: 'transfer_customer_service', kfAccount },
  none: () => ({ type: 'none' }),
}
