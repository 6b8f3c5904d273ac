/**
 * Which deliveries are "the same message". WeChat retries a push it got no answer to, with the same
 * content (protocol.md §5; seeds/000: "有msgid的消息推荐使用msgid排重。事件类型消息推荐使用FromUserName +
 * CreateTime 排重"). Keys are scoped by account: ids are per account.
 *
 * - A message carries a MsgId: keyed on it and its sender. A retry comes from the same user; were an id
 *   ever seen from two users, each must get their own answer, not the other's (a leak and a loss).
 * - A job-finished event (MASSSENDJOBFINISH, TEMPLATESENDJOBFINISH, and any new one) carries the job's
 *   MsgID: keyed on the event and it. MASSSENDJOBFINISH always comes from `mphelper`, so sender and second
 *   would merge two jobs finishing together.
 * - Any other event: sender, CreateTime, Event and EventKey, as WxJava's checker, plus a digest of all its
 *   fields. A retry repeats them all; two different events of one user in one second (several cards
 *   taken at once, each its own UserCardCode; a template result and a menu click) do not, and each is run.
 */
import { hash } from 'node:crypto'
import type { InboundMessage } from '../normalize/message-types.ts'

export function dedupKeyOf(accountId: string, message: InboundMessage): string {
  const raw = message.raw
  if (typeof raw.MsgId === 'string' && raw.MsgId !== '') return `${accountId}:m:${message.fromUser}:${bounded(raw.MsgId)}`
  const event = typeof raw.Event === 'string' ? bounded(raw.Event) : ''
  if (typeof raw.MsgID === 'string' && raw.MsgID !== '') return `${accountId}:j:${event}:${bounded(raw.MsgID)}`
  const eventKey = typeof raw.EventKey === 'string' ? bounded(raw.EventKey) : ''
  // 12 bytes of sha1: only the events of one user in one second share the rest of the key.
  const digest = hash('sha1', JSON.stringify(raw), 'base64url').slice(0, 16)
  return `${accountId}:e:${message.fromUser}:${message.createTime}:${event}:${eventKey}:${digest}`
}

/**
 * Longest part of a key kept as it is: a MsgId is a 64-bit number, a menu key at most 128 bytes. The key goes
 * into the store, the reply cache, the message log and every line about the message; FromUserName was bounded
 * for that (normalize-message.ts MAX_ID_LENGTH), but a forged push's 400 KB MsgId made a 400 KB key all the
 * same (a review of bad input). A longer part is replaced by its digest: still the message's own.
 */
const KEY_PART_MAX = 128

function bounded(part: string): string {
  return part.length <= KEY_PART_MAX ? part : `#${hash('sha1', part, 'base64url')}`
}
