/**
 * Plays WeChat: builds a push as the platform would send it (XML, query, signature, and in encrypted modes
 * the AES envelope and msg_signature), and opens the engine's answer (decrypts and checks it).
 * Used by `wxengine send`, the plugin test kit, the end-to-end tests and the benchmarks.
 */
import { randomBytes } from 'node:crypto'
import type { AccountConfig } from '../config/config-types.ts'
import type { RawFields } from '../normalize/message-types.ts'
import { parseXml } from '../normalize/safe-xml.ts'
import { cdata } from '../reply/reply-xml.ts'
import { computeSignature, verifyMsgSignature } from '../verify/signature.ts'
import { createWeChatCipher, type WeChatCipher } from '../verify/wechat-cipher.ts'

export interface PushFields {
  [name: string]: string | number | PushFields | PushFields[]
}

/** A push's XML: strings in CDATA, numbers bare, nested objects and arrays as elements (arrays repeat). */
export function buildPushXml(fields: PushFields): string {
  return `<xml>${elements(fields)}</xml>`
}

function elements(fields: PushFields): string {
  let out = ''
  for (const [name, value] of Object.entries(fields)) {
    if (Array.isArray(value)) for (const v of value) out += `<${name}>${elements(v)}</${name}>`
    else if (typeof value === 'object') out += `<${name}>${elements(value)}</${name}>`
    else if (typeof value === 'number') out += `<${name}>${value}</${name}>`
    else out += `<${name}>${cdata(value)}</${name}>`
  }
  return out
}

let msgIdSeq = BigInt(Date.now()) * 1000n

/** Common pushes. `extra` fields are added as they are. */
export const push = {
  text: (from: string, content: string, extra: PushFields = {}): PushFields => ({
    ...head(from, 'text'), Content: content, MsgId: String(++msgIdSeq), ...extra,
  }),
  event: (from: string, event: string, extra: PushFields = {}): PushFields => ({ ...eventHead(from), Event: event, ...extra }),
  message: (from: string, msgType: string, extra: PushFields = {}): PushFields => ({
    ...head(from, msgType), MsgId: String(++msgIdSeq), ...extra,
  }),
  /** A custom-menu button of type click (Event CLICK); `eventKey` is the button's key. */
  click: (from: string, eventKey: string, extra: PushFields = {}): PushFields => ({ ...eventHead(from), Event: 'CLICK', EventKey: eventKey, ...extra }),
  /** A location the user shared in the chat: Location_X is the latitude, Location_Y the longitude (protocol.md §3). */
  location: (from: string, at: { latitude: number; longitude: number; scale?: number; label?: string }): PushFields => ({
    ...head(from, 'location'),
    Location_X: at.latitude,
    Location_Y: at.longitude,
    Scale: at.scale ?? 15,
    Label: at.label ?? '',
    MsgId: String(++msgIdSeq),
  }),
}

/**
 * The ToUserName of a push built by `push.*`, which knows no account: a simulator whose account has an
 * `originalId` sends that instead, as WeChat would (the engine says when a push is addressed to another id).
 */
export const ANY_ACCOUNT = 'gh_wxengine'

function head(from: string, msgType: string, createTime = Math.floor(Date.now() / 1000)): PushFields {
  return { ToUserName: ANY_ACCOUNT, FromUserName: from, CreateTime: createTime, MsgType: msgType }
}

let lastEventTime = 0

/**
 * An event has no MsgId: the engine tells a retry from a new event by sender, CreateTime (whole seconds),
 * event and fields (core/dedup/dedup-key.ts). Each event built here gets a CreateTime of its own (now, or a
 * second past the last one), so two clicks built one after the other are two clicks, not a click and its
 * retry. Sending the same built push twice is a retry.
 */
function eventHead(from: string): PushFields {
  lastEventTime = Math.max(Math.floor(Date.now() / 1000), lastEventTime + 1)
  return head(from, 'event', lastEventTime)
}

export interface SimulatedRequest {
  query: Record<string, string>
  body: string
  /** The query as a string, for a URL. */
  search: string
  /** The push as signed (its ToUserName the account's originalId, when it has one); none for a raw XML string. */
  fields?: PushFields
}

export interface SimulatorOptions {
  account: Pick<AccountConfig, 'token' | 'appId' | 'encodingAESKey' | 'mode'> & Partial<Pick<AccountConfig, 'originalId'>>
  /** Send encrypted (default: when the account's mode is not plaintext). */
  encrypt?: boolean
  now?: () => number
}

export interface WeChatSimulator {
  /** Sign (and encrypt) a push as WeChat does. */
  request(fields: PushFields | string, opts?: { timestamp?: number; nonce?: string }): SimulatedRequest
  /** GET verification query. */
  verification(echostr: string, opts?: { timestamp?: number }): SimulatedRequest
  /** The reply's message fields: decrypted and signature-checked when encrypted; null for `success`/empty. */
  openReply(body: string): { fields: RawFields | null; encrypted: boolean; error?: string }
}

export function createWeChatSimulator(opts: SimulatorOptions): WeChatSimulator {
  const { account } = opts
  const now = opts.now ?? Date.now
  const encrypt = opts.encrypt ?? account.mode !== 'plaintext'
  let cipher: WeChatCipher | undefined
  if (account.encodingAESKey) {
    const made = createWeChatCipher(account.encodingAESKey, account.appId)
    if (!made.ok) throw new Error(made.error.reason)
    cipher = made.value
  }
  if (encrypt && !cipher) throw new Error('encrypting needs the account encodingAESKey')

  return {
    request(fields, o = {}) {
      if (typeof fields === 'object' && fields.ToUserName === ANY_ACCOUNT && account.originalId) fields = { ...fields, ToUserName: account.originalId }
      const xml = typeof fields === 'string' ? fields : buildPushXml(fields)
      const timestamp = String(o.timestamp ?? Math.floor(now() / 1000))
      const nonce = o.nonce ?? randomBytes(5).toString('hex')
      const query: Record<string, string> = {
        signature: computeSignature([account.token, timestamp, nonce]),
        timestamp,
        nonce,
        openid: typeof fields === 'object' && typeof fields.FromUserName === 'string' ? fields.FromUserName : 'openid',
      }
      let body = xml
      if (encrypt) {
        const encrypted = cipher!.encrypt(xml)
        query.encrypt_type = 'aes'
        query.msg_signature = computeSignature([account.token, timestamp, nonce, encrypted])
        body = account.mode === 'compatible'
          ? xml.replace(/<\/xml>$/, `<Encrypt>${cdata(encrypted)}</Encrypt></xml>`)
          : `<xml><ToUserName>${cdata(typeof fields === 'object' ? String(fields.ToUserName ?? '') : '')}</ToUserName><Encrypt>${cdata(encrypted)}</Encrypt></xml>`
      }
      const search = new URLSearchParams(query).toString()
      return typeof fields === 'object' ? { query, body, search, fields } : { query, body, search }
    },
    verification(echostr, o = {}) {
      const timestamp = String(o.timestamp ?? Math.floor(now() / 1000))
      const nonce = randomBytes(5).toString('hex')
      const query = { signature: computeSignature([account.token, timestamp, nonce]), timestamp, nonce, echostr }
      return { query, body: '', search: new URLSearchParams(query).toString() }
    },
    openReply(body) {
      if (body === '' || body === 'success') return { fields: null, encrypted: false }
      const parsed = parseXml(body)
      if (!parsed.ok) return { fields: null, encrypted: false, error: parsed.error.reason }
      const f = parsed.value
      if (typeof f.Encrypt !== 'string') return { fields: f, encrypted: false }
      if (!cipher) return { fields: null, encrypted: true, error: 'encrypted reply but no key' }
      const sig = f.MsgSignature, ts = f.TimeStamp, nonce = f.Nonce
      if (typeof sig !== 'string' || typeof ts !== 'string' || typeof nonce !== 'string' || !verifyMsgSignature(account.token, ts, nonce, f.Encrypt, sig)) {
        return { fields: null, encrypted: true, error: 'reply MsgSignature does not verify' }
      }
      const inner = cipher.decrypt(f.Encrypt)
      if (!inner.ok) return { fields: null, encrypted: true, error: inner.error.reason }
      const fields = parseXml(inner.value)
      return fields.ok ? { fields: fields.value, encrypted: true } : { fields: null, encrypted: true, error: fields.error.reason }
    },
  }
}
