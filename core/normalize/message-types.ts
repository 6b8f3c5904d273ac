/**
 * The flat typed record every WeChat push is normalized into (protocol.md §3).
 * One member per message type and per event; the discriminant is `kind`.
 *
 * Conventions (tests hold them):
 * - Field names are the XML names in lowerCamelCase (`FromUserName` -> `fromUser` is the one rename, with
 *   `toUser`, and `Location_X` -> `locationX`).
 * - MsgId, MsgID and every other 64-bit id are strings: they exceed 2^53.
 * - Numbers that are numbers (CreateTime, coordinates, scale, counts, status codes) are numbers.
 * - Repeated elements are arrays, always: one element is an array of one.
 * - `raw` keeps every field as parsed (strings, nested objects, arrays), so nothing the platform
 *   adds later is lost; an unknown MsgType/Event becomes `kind: 'unknown'` and is still routable.
 *
 * THIS FILE IS FILLED IN BY core/normalize (see docs/messages.md for every member and field).
 */

/** A parsed XML element: text, or nested elements (repeated names become arrays). */
export type RawValue = string | RawFields | RawValue[]
export interface RawFields {
  [name: string]: RawValue
}

export interface MessageBase {
  /** The account's original id (gh_...). */
  toUser: string
  /** The user's OpenID. */
  fromUser: string
  /** Unix seconds. */
  createTime: number
  /** Every field of the push as parsed, the original XML names as keys. */
  raw: RawFields
}

export interface UserMessageBase extends MessageBase {
  /** 64-bit id as a decimal string. */
  msgId: string
}

export interface EventBase extends MessageBase {
  /** The Event field exactly as received (e.g. `subscribe`, `CLICK`). */
  event: string
}
