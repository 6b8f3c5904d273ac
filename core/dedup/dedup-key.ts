/**
 * Which deliveries are "the same message". WeChat retries a push it got no answer to (protocol.md §5):
 * messages carry a MsgId; events do not, so they are keyed by FromUserName + CreateTime + Event + EventKey
 * (the key WxJava's WxMessageDuplicateChecker uses). Keys are scoped by account: ids are per account.
 */
import type { InboundMessage } from '../normalize/message-types.ts'

export function dedupKeyOf(accountId: string, message: InboundMessage): string {
  const raw = message.raw
  const msgId = typeof raw.MsgId === 'string' ? raw.MsgId : undefined
  if (msgId) return `${accountId}:m:${msgId}`
  const event = typeof raw.Event === 'string' ? raw.Event : ''
  const eventKey = typeof raw.EventKey === 'string' ? raw.EventKey : ''
  return `${accountId}:e:${message.fromUser}:${message.createTime}:${event}:${eventKey}`
}
