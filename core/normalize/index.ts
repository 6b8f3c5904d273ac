/** core/normalize: request body XML -> RawFields -> the typed InboundMessage (protocol.md §3). */
export { parseXml } from './safe-xml.ts'
export { normalizeMessage } from './normalize-message.ts'
export { MESSAGE_KINDS, USER_MESSAGE_KINDS } from './message-types.ts'
export type { InboundMessage, MessageKind, MessageOf, RawFields, RawValue, MessageBase, UserMessageBase, EventBase, UnknownMessage } from './message-types.ts'
