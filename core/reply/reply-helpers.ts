/**
 * The reply helpers plugins call as ctx.reply.*: plain data, no engine state. Kept free of zod (and of any
 * other import with a run-time cost) because every plugin worker loads it at start.
 */
import { apiError } from '../plugin/api-error.ts'
import type { CustomMessageHelpers, ReplyHelpers } from '../plugin/plugin-api.ts'
import type { CustomMessage } from './custom-message-types.ts'
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

/**
 * The list a builder takes, or a TypeError saying what it takes. Plugins are not type-checked at load, and
 * `ctx.reply.news({ title, url })`, one article without its list, failed as "articles.map is not a function"
 * (a plugin author's walkthrough). Made in the plugin's realm (apiError), so it names the plugin's line.
 */
function listOf<T>(call: string, what: string, value: readonly T[]): readonly T[] {
  if (Array.isArray(value)) return value
  const given = value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value
  throw apiError('TypeError', `${call} takes a list of ${what}, got ${given}${given === 'an object' ? ': put it in [ ]' : ''}`)
}

/**
 * Builders of the messages only `ctx.api.sendToUser` sends (custom-message-types.ts). On `ctx.reply` with
 * the others so a plugin finds them in one place; their return type keeps them out of `handle`'s.
 */
export const customMessageHelpers: CustomMessageHelpers = {
  msgMenu: (list, opts) =>
    withOptional<CustomMessage>(
      { type: 'msgmenu', list: listOf('ctx.reply.msgMenu', 'options, [{ id, content }, ...]', list).map((option) => ({ id: option.id, content: option.content })) },
      opts && { headContent: opts.headContent, tailContent: opts.tailContent },
    ),
  miniProgramPage: (page) =>
    withOptional<CustomMessage>(
      { type: 'miniprogrampage', appId: page.appId, pagePath: page.pagePath, thumbMediaId: page.thumbMediaId },
      { title: page.title },
    ),
  mpNews: (mediaId) => ({ type: 'mpnews', mediaId }),
  mpNewsArticle: (articleId) => ({ type: 'mpnewsarticle', articleId }),
  wxCard: (cardId) => ({ type: 'wxcard', cardId }),
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
  news: (articles) => ({ type: 'news', articles: listOf('ctx.reply.news', 'articles, [{ title, url?, ... }, ...]', articles).map(copyArticle) }),
  transfer: (kfAccount) =>
    kfAccount === undefined ? { type: 'transfer_customer_service' } : { type: 'transfer_customer_service', kfAccount },
  none: () => ({ type: 'none' }),
  ...customMessageHelpers,
}
