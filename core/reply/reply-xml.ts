/**
 * Passive reply XML (protocol.md §4) and its encrypted envelope (§2). Built by string concatenation:
 * the shapes are fixed and small, and this runs for every answered message.
 */
import type { Article, Reply } from './reply-types.ts'
import type { WeChatCipher } from '../verify/wechat-cipher.ts'
import { computeSignature } from '../verify/signature.ts'
import { quotedShort } from '../shown-text.ts'

export interface ReplyEnvelope {
  /** The user's OpenID (the inbound FromUserName). */
  toUser: string
  /** The account (the inbound ToUserName). */
  fromUser: string
  /** Unix seconds: WeChat rejects milliseconds here (protocol.md §4). */
  createTime: number
  /**
   * True when answering a user's message rather than an event (answersUserMessage: text, image, voice, video,
   * shortvideo, location, link, file, miniprogrampage, and an `unknown` that is no event): news is then cut to
   * its own limit. The platform names six kinds; the rest are held to the same limit, as issue #2 asks (one
   * article for any user message).
   */
  answeringUserMessage: boolean
}

export interface NewsLimits {
  newsMaxArticles: number
  newsMaxArticlesForUserMessage: number
}

export interface SerializedReply {
  /** null: no reply; the engine answers `success`. */
  xml: string | null
  /** What was changed or dropped on the way; the engine logs them. */
  warnings: string[]
}

/**
 * XML 1.0 Char production: no C0 controls except tab/LF/CR, no U+FFFE/U+FFFF, no unpaired surrogates.
 * One of these in a reply makes the whole document unparsable and the user sees the platform's
 * "cannot provide service" notice instead (§4).
 */
const FORBIDDEN_XML_CHARS =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** Characters removed per call, reported once as a warning. */
interface Tally {
  removed: number
}

/** Cheap pre-check without lookarounds: most values have none of these, and then skip the replace. */
const MAYBE_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/

/** `value` without the characters XML 1.0 forbids; how many were removed is added to `tally`. */
function xmlSafe(value: string, tally?: Tally): string {
  if (!MAYBE_FORBIDDEN.test(value)) return value
  const clean = value.replace(FORBIDDEN_XML_CHARS, '')
  if (tally && clean.length !== value.length) tally.removed += value.length - clean.length
  return clean
}

/** Text already free of forbidden characters as CDATA: `]]>` split across two sections. */
function cdataOfSafe(clean: string): string {
  return `<![CDATA[${clean.includes(']]>') ? clean.replaceAll(']]>', ']]]]><![CDATA[>') : clean}]]>`
}

/** A value as CDATA: forbidden characters removed, `]]>` split across two sections. */
export function cdata(value: string, tally?: Tally): string {
  return cdataOfSafe(xmlSafe(value, tally))
}

function element(name: string, value: string, tally?: Tally): string {
  return `<${name}>${cdata(value, tally)}</${name}>`
}

function optionalElement(name: string, value: string | undefined, tally: Tally): string {
  return value === undefined ? '' : element(name, value, tally)
}

export function serializeReply(reply: Reply, env: ReplyEnvelope, limits: NewsLimits): SerializedReply {
  const warnings: string[] = []
  const tally: Tally = { removed: 0 }
  const body = serializeBody(reply, env, limits, warnings, tally)
  if (body === null) return { xml: null, warnings }
  const head =
    element('ToUserName', env.toUser, tally) +
    element('FromUserName', env.fromUser, tally) +
    `<CreateTime>${formatCreateTime(env.createTime)}</CreateTime>` +
    element('MsgType', reply.type)
  if (tally.removed > 0) {
    warnings.push(`removed ${tally.removed} character(s) that XML 1.0 forbids from the ${reply.type} reply`)
  }
  return { xml: `<xml>${head}${body}</xml>`, warnings }
}

/**
 * A field the platform needs (the reply check refuses it empty) as an element, or null when nothing is left
 * of it once the forbidden characters are removed: a text of control characters alone went out as an empty
 * Content, which seeds/001 sets apart from the no-reply (an empty body, not an empty Content). Answered
 * `success` instead, as a news reply without articles is. A function of its own, not an arrow made in
 * serializeBody: that was one closure a reply, named each time by the bundle (esbuild's keepNames).
 */
function requiredElement(type: Reply['type'], name: string, value: string, warnings: string[], tally: Tally): string | null {
  const clean = xmlSafe(value, tally)
  if (clean !== '') return `<${name}>${cdataOfSafe(clean)}</${name}>`
  warnings.push(`${type} reply's ${name} is empty once the characters XML 1.0 forbids are removed; answered success instead`)
  return null
}

/** Field order follows the platform's reply samples (seeds/001). */
function serializeBody(
  reply: Reply,
  env: ReplyEnvelope,
  limits: NewsLimits,
  warnings: string[],
  tally: Tally,
): string | null {
  switch (reply.type) {
    case 'text':
      return requiredElement(reply.type, 'Content', reply.content, warnings, tally)
    case 'image': {
      const mediaId = requiredElement(reply.type, 'MediaId', reply.mediaId, warnings, tally)
      return mediaId === null ? null : `<Image>${mediaId}</Image>`
    }
    case 'voice': {
      const mediaId = requiredElement(reply.type, 'MediaId', reply.mediaId, warnings, tally)
      return mediaId === null ? null : `<Voice>${mediaId}</Voice>`
    }
    case 'video': {
      const mediaId = requiredElement(reply.type, 'MediaId', reply.mediaId, warnings, tally)
      if (mediaId === null) return null
      return '<Video>' + mediaId + optionalElement('Title', reply.title, tally) + optionalElement('Description', reply.description, tally) + '</Video>'
    }
    case 'music': {
      // seeds/001 contradicts itself here: its field table says `MusicURL`, its sample XML `<MusicUrl>`. The
      // sample is what the platform reads (WxJava, wechatpy and EasyWeChat all write MusicUrl): test/reply
      // compares this output with that sample (fixtures/reply/seed-music.xml).
      const thumbMediaId = requiredElement(reply.type, 'ThumbMediaId', reply.thumbMediaId, warnings, tally)
      if (thumbMediaId === null) return null
      return (
        '<Music>' +
        optionalElement('Title', reply.title, tally) +
        optionalElement('Description', reply.description, tally) +
        optionalElement('MusicUrl', reply.musicUrl, tally) +
        optionalElement('HQMusicUrl', reply.hqMusicUrl, tally) +
        thumbMediaId +
        '</Music>'
      )
    }
    case 'news':
      return serializeNews(reply.articles, env, limits, warnings, tally)
    case 'transfer_customer_service':
      // Without TransInfo the platform picks any available agent.
      return reply.kfAccount ? `<TransInfo>${element('KfAccount', reply.kfAccount, tally)}</TransInfo>` : ''
    case 'none':
      return null
    default: {
      const unknown: never = reply
      throw new TypeError(`unknown reply type ${JSON.stringify((unknown as { type: unknown }).type)}`)
    }
  }
}

/** How many of a cut news reply's dropped titles its warning names; the rest are counted. */
const DROPPED_TITLES_SHOWN = 5

/**
 * The seeds allow 10 articles; the platform today allows 8, and only 1 when the reply answers a
 * user's message (protocol.md §4). Over the limit the platform answers nothing at all, so cut instead.
 */
function serializeNews(
  articles: Article[],
  env: ReplyEnvelope,
  limits: NewsLimits,
  warnings: string[],
  tally: Tally,
): string | null {
  if (articles.length === 0) {
    warnings.push('news reply has no articles; answered success instead')
    return null
  }
  // A limit below 1 would turn every news reply into silence; config validation should prevent it.
  const configured = env.answeringUserMessage ? limits.newsMaxArticlesForUserMessage : limits.newsMaxArticles
  const limit = Math.max(1, Math.floor(configured))
  let kept = articles
  if (articles.length > limit) {
    kept = articles.slice(0, limit)
    // The first few titles only: listing every one made a line of 106 KB for a plugin's 1150 articles.
    const titles = articles.slice(limit, limit + DROPPED_TITLES_SHOWN).map((article) => quotedShort(article.title, 40))
    const more = articles.length - limit - titles.length
    const dropped = titles.join(', ') + (more > 0 ? ` and ${more} more` : '')
    const why = env.answeringUserMessage ? ' (answering a user message)' : ''
    warnings.push(`news reply cut from ${articles.length} to ${limit} article(s)${why}; dropped: ${dropped}`)
  }
  let items = ''
  for (const article of kept) {
    items +=
      '<item>' +
      element('Title', article.title, tally) +
      optionalElement('Description', article.description, tally) +
      optionalElement('PicUrl', article.picUrl, tally) +
      optionalElement('Url', article.url, tally) +
      '</item>'
  }
  return `<ArticleCount>${kept.length}</ArticleCount><Articles>${items}</Articles>`
}

/** A millisecond value here is a bug in the caller, not input: fail loudly. */
function formatCreateTime(createTime: number): string {
  if (!Number.isSafeInteger(createTime) || createTime < 0 || createTime >= 1e11) {
    throw new RangeError(`createTime must be whole unix seconds, got ${createTime}`)
  }
  return String(createTime)
}


/**
 * The encrypted reply of safe (and optionally compatible) mode (protocol.md §2). MsgSignature covers
 * this reply's own timestamp and nonce, not the request's.
 */
export function buildEncryptedReply(
  cipher: WeChatCipher,
  token: string,
  xml: string,
  timestamp: string,
  nonce: string,
): string {
  if (!/^\d+$/.test(timestamp)) throw new RangeError(`reply timestamp must be digits, got ${JSON.stringify(timestamp)}`)
  const encrypt = cipher.encrypt(xml)
  const signature = computeSignature([token, timestamp, nonce, encrypt])
  return (
    '<xml>' +
    element('Encrypt', encrypt) +
    element('MsgSignature', signature) +
    `<TimeStamp>${timestamp}</TimeStamp>` +
    element('Nonce', nonce) +
    '</xml>'
  )
}
