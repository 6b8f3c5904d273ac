/**
 * What in a passive reply would keep WeChat from showing it (protocol.md §4), read as WeChat reads it:
 * `wxengine send` runs these on the reply it opened, so an engine behind `--url` (a proxy, another build)
 * that answers with a wrong envelope, a CreateTime in milliseconds or a news reply over the platform's
 * limit is told so, not printed as if it had reached the user. The platform drops such a reply without a
 * word: the user sees nothing, or its "cannot provide service" notice.
 */
import type { SimulatedRequest } from './wechat-simulator.ts'
import type { RawFields, RawValue } from '../normalize/message-types.ts'
import type { NewsLimits } from '../reply/reply-xml.ts'

/** The passive reply types and the element each needs (null: none). */
const REQUIRED: Readonly<Record<string, readonly [string, string] | null>> = {
  text: null,
  image: ['Image', 'MediaId'],
  voice: ['Voice', 'MediaId'],
  video: ['Video', 'MediaId'],
  music: ['Music', 'ThumbMediaId'],
  news: null,
  transfer_customer_service: null,
}

/** The platform's limits on a news reply today (protocol.md §4; the seeds say 10): 8, and 1 in answer to a user's message. */
export const PLATFORM_NEWS_LIMITS: NewsLimits = { newsMaxArticles: 8, newsMaxArticlesForUserMessage: 1 }

export interface ReplyCheckOptions {
  /** Now, for CreateTime (default Date.now()). */
  nowMs?: number
  /** The most articles a news reply may have (default the platform's); the test client passes the engine's limits. */
  newsLimits?: NewsLimits
}

/** A CreateTime further than this from now is not the reply's own time (one in milliseconds is 1000× too big). */
const CREATE_TIME_SLACK_S = 5 * 60

/**
 * Each reason WeChat would not show `reply` (as the simulator opened it: decrypted when it was encrypted) as
 * the answer to the push `sent` (its fields: the user in FromUserName, the account's gh_ id in
 * ToUserName); empty when nothing is wrong, and for no reply (`success`) or a push sent as raw XML.
 */
export function replyProblems(sent: Pick<SimulatedRequest, 'fields' | 'query'>, reply: { fields: RawFields | null; encrypted: boolean }, o: ReplyCheckOptions = {}): string[] {
  const f = reply.fields
  if (!f || !sent.fields) return []
  const problems: string[] = []
  const user = String(sent.fields.FromUserName ?? '')
  const account = String(sent.fields.ToUserName ?? '')
  if (sent.query.encrypt_type === 'aes' && !reply.encrypted) problems.push('the push was encrypted and the reply is not: an account in safe or compatible mode needs an encrypted reply')
  if (f.ToUserName !== user) problems.push(`ToUserName is ${shown(f.ToUserName)}, not the user who sent the push (${JSON.stringify(user)})`)
  if (f.FromUserName !== account) problems.push(`FromUserName is ${shown(f.FromUserName)}, not the account the push went to (${JSON.stringify(account)})`)
  problems.push(...createTimeProblems(f.CreateTime, o.nowMs ?? Date.now()))
  const type = f.MsgType
  if (typeof type !== 'string' || !(type in REQUIRED)) {
    problems.push(`MsgType ${shown(type)} is not a passive reply type (${Object.keys(REQUIRED).join(', ')})`)
    return problems
  }
  if (type === 'text' && !nonEmpty(f.Content)) problems.push('a text reply without Content')
  const required = REQUIRED[type]
  if (required) {
    const [box, name] = required
    const inner = f[box]
    if (!isFields(inner) || !nonEmpty(inner[name])) problems.push(`a ${type} reply without ${box}.${name}`)
  }
  if (type === 'news') problems.push(...newsProblems(f, sent.fields.MsgType !== 'event', o.newsLimits ?? PLATFORM_NEWS_LIMITS))
  return problems
}

function createTimeProblems(value: RawValue | undefined, nowMs: number): string[] {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return [`CreateTime is ${shown(value)}, not a number of seconds`]
  const seconds = Number(value)
  const now = nowMs / 1000
  if (Math.abs(seconds - now) <= CREATE_TIME_SLACK_S) return []
  if (Math.abs(seconds / 1000 - now) <= CREATE_TIME_SLACK_S) return [`CreateTime ${value} is in milliseconds; WeChat reads seconds`]
  return [`CreateTime ${value} is ${Math.round(Math.abs(seconds - now))} s from now`]
}

function newsProblems(f: RawFields, answeringUserMessage: boolean, limits: NewsLimits): string[] {
  const box = f.Articles
  const items = isFields(box) ? box.item : undefined
  const count = Array.isArray(items) ? items.length : items === undefined ? 0 : 1
  const problems: string[] = []
  if (count === 0) problems.push('a news reply without articles')
  if (f.ArticleCount !== String(count)) problems.push(`ArticleCount is ${shown(f.ArticleCount)} but the reply has ${count} article(s)`)
  const max = answeringUserMessage ? limits.newsMaxArticlesForUserMessage : limits.newsMaxArticles
  if (count > max) problems.push(`a news reply of ${count} articles, more than the platform takes (${max}${answeringUserMessage ? ' in answer to a user message' : ''})`)
  return problems
}

function isFields(value: RawValue | undefined): value is RawFields {
  return typeof value === 'object' && !Array.isArray(value)
}

function nonEmpty(value: RawValue | undefined): boolean {
  return typeof value === 'string' && value !== ''
}

function shown(value: RawValue | undefined): string {
  if (value === undefined) return 'missing'
  return typeof value === 'string' ? JSON.stringify(value) : 'not text'
}
