/**
 * From a request as received to the message XML we can trust (protocol.md §1–2):
 * the timestamp is inside the replay window, the signature matches the account's token, and in encrypted
 * modes the body decrypts with the account's key and carries the account's AppId.
 */
import { isUtf8 } from 'node:buffer'
import type { AccountConfig } from '../config/config-types.ts'
import { fail, ok, type Result } from '../errors.ts'
import type { RawFields } from '../normalize/message-types.ts'
import { parseXml } from '../normalize/safe-xml.ts'
import { firstNotUtf8, looksLikeUtf16 } from '../utf8-text.ts'
import { verifyMsgSignature, verifySignature } from './signature.ts'
import { checkTimestamp } from './timestamp-window.ts'
import type { WeChatCipher } from './wechat-cipher.ts'

export interface VerifiedAccount {
  config: AccountConfig
  /** Present in compatible and safe mode. */
  cipher?: WeChatCipher
}

/**
 * GET: WeChat checks the endpoint; answer echostr only when the signature is right, and 401 otherwise
 * (protocol.md §1), a request missing a parameter included: it cannot be verified either. The timestamp
 * must be inside the replay window, as a push's: every push URL carries a signed (timestamp, nonce) triple,
 * and without the window any one of them, however old, made the endpoint echo whatever echostr said (a
 * robustness review). WeChat signs the check when the console's submit is pressed, so it is always fresh.
 */
export function verifyEndpoint(account: VerifiedAccount, query: Record<string, string | undefined>, nowSeconds: number, windowSeconds: number): Result<string> {
  const { signature, timestamp, nonce, echostr } = query
  if (!signature || !timestamp || !nonce || echostr === undefined) {
    // An empty echostr is echoed as given; the other three must have a value.
    const missing = ['signature', 'timestamp', 'nonce', 'echostr'].filter((name) => (name === 'echostr' ? echostr === undefined : !query[name]))
    return fail('BAD_SIGNATURE', `cannot verify the endpoint without ${missing.join(', ')}`)
  }
  const fresh = checkTimestamp(timestamp, nowSeconds, windowSeconds)
  // 401 for every check that fails here (protocol.md §1): a timestamp that is no number cannot be verified.
  if (!fresh.ok) return fresh.error.code === 'BAD_QUERY' ? fail('BAD_SIGNATURE', `cannot verify the endpoint: ${fresh.error.reason}`) : fresh
  if (!verifySignature(account.config.token, timestamp, nonce, signature)) {
    return fail('BAD_SIGNATURE', 'signature does not match the account token')
  }
  return ok(echostr)
}

export interface TrustedBody {
  /** The message fields (decrypted when the request was encrypted). */
  fields: RawFields
  /** The reply must be encrypted the same way. */
  encrypted: boolean
  /**
   * A compatible-mode push (plain fields and an Encrypt copy) to a plaintext account, read from its plain
   * fields and answered in plain XML. The engine says so once per account: the console and the
   * configuration disagree, which is a step of switching modes or a forgotten one.
   */
  compatibleAsPlain?: true
  /** Why the decrypted message's text has U+FFFD where its bytes were not UTF-8: served all the same, and said. */
  notUtf8?: string
}

export function verifyPost(
  account: VerifiedAccount,
  query: Record<string, string | undefined>,
  body: string,
  nowSeconds: number,
  windowSeconds: number,
): Result<TrustedBody> {
  const signed = verifyPushQuery(account, query, nowSeconds, windowSeconds)
  return signed.ok ? verifyPostBody(account, query, body) : signed
}

/**
 * What a push's query alone proves: the timestamp is inside the replay window and `signature` (token, timestamp,
 * nonce), which comes with every push (the encrypted modes add encrypt_type and msg_signature to it), is the
 * account's. Checked before the body is read (engine.refuseBeforeBody), so a request that is not from WeChat
 * is answered before it can make us hold its body, and never reaches the XML reader, whatever its query claims.
 */
export function verifyPushQuery(account: VerifiedAccount, query: Record<string, string | undefined>, nowSeconds: number, windowSeconds: number): Result<true> {
  const { timestamp, nonce, signature } = query
  if (!timestamp || !nonce) return fail('BAD_QUERY', 'timestamp and nonce are required')
  const fresh = checkTimestamp(timestamp, nowSeconds, windowSeconds)
  if (!fresh.ok) return fresh
  if (!signature) return fail('BAD_SIGNATURE', 'signature is missing')
  if (!verifySignature(account.config.token, timestamp, nonce, signature)) return fail('BAD_SIGNATURE', 'signature does not match the account token')
  return ok(true)
}

/**
 * The message without its `Encrypt`: the envelope of the encrypted modes, not a field of the message. A push
 * read from its plain fields (a compatible-mode push, which carries both, taken as plaintext, with or without
 * encrypt_type in its query) must give the record its decrypted form gives, whatever the account's mode
 * (protocol.md §2): a plugin or the message log saw `raw.Encrypt` only on some accounts. A copy on the reader's
 * own prototype (none reaching Object.prototype, as docs/messages.md promises of `raw`; a spread made an
 * ordinary object of it), made only when there is an Encrypt to leave out.
 */
function withoutEnvelope(fields: RawFields): RawFields {
  if (!('Encrypt' in fields)) return fields
  const plain = Object.assign(Object.create(Object.getPrototypeOf(fields) as object) as RawFields, fields)
  delete plain.Encrypt
  return plain
}

/** The body of a push whose query verifyPushQuery accepted: parsed, and in the encrypted modes checked and decrypted. */
export function verifyPostBody(account: VerifiedAccount, query: Record<string, string | undefined>, body: string): Result<TrustedBody> {
  const timestamp = query.timestamp!
  const nonce = query.nonce!
  const { mode, token } = account.config
  const outer = parseXml(body)
  if (!outer.ok) return outer
  const encrypt = outer.value.Encrypt
  // An Encrypt that is there but is not one text element: a forged push, said as such (it was taken for a
  // plaintext request, and a safe-mode account then said "the request must be encrypted").
  if (query.encrypt_type === 'aes' && encrypt !== undefined && typeof encrypt !== 'string') {
    return fail('BAD_ENCRYPT', `Encrypt ${Array.isArray(encrypt) ? 'is repeated' : 'has elements inside it'}: an encrypted push has one Encrypt, of text`)
  }
  // encrypt_type=aes but no Encrypt element: nothing to decrypt, so it is a plaintext request.
  if (query.encrypt_type !== 'aes' || typeof encrypt !== 'string') {
    if (mode === 'safe') return fail('BAD_QUERY', `account "${account.config.id}" is in safe mode: the request must be encrypted (encrypt_type=aes)`)
    return ok({ fields: withoutEnvelope(outer.value), encrypted: false })
  }
  // The mode decides, not whether a key is set: a plaintext account (with a key kept while switching the
  // console, or none) reads and answers plain XML only. The console in 兼容模式 sends the plain message beside
  // its Encrypt, and WeChat takes a plain answer then ("公众号回复明文或密文均可，不影响现有消息收发"): that
  // push is served from its plain fields, as in plaintext mode (whose body no signature covers either). One
  // with Encrypt alone is the console's 安全模式, which cannot be read here: refused, saying what to set.
  if (mode === 'plaintext' || !account.cipher) {
    if (typeof outer.value.MsgType === 'string') return ok({ fields: withoutEnvelope(outer.value), encrypted: false, compatibleAsPlain: true })
    return fail('BAD_QUERY', `account "${account.config.id}" is in plaintext mode but the push is encrypted only (the console is in safe mode): set encodingAESKey and mode: safe, or compatible`)
  }
  const msgSignature = query.msg_signature
  if (!msgSignature) return fail('BAD_SIGNATURE', 'msg_signature is missing from an encrypted request')
  if (!verifyMsgSignature(token, timestamp, nonce, encrypt, msgSignature)) {
    return fail('BAD_SIGNATURE', 'msg_signature does not match the account token and Encrypt')
  }
  const inner = account.cipher.decryptBytes(encrypt)
  if (!inner.ok) return inner
  const fields = parseXml(inner.value.toString('utf8'))
  if (!fields.ok) {
    // Said as a plain body's is (receive/read-request.ts), not "text before the root element". Asked only of a message that failed.
    if (looksLikeUtf16(inner.value)) return fail(fields.error.code, 'decrypted message: it is UTF-16, not UTF-8: WeChat sends UTF-8 (encrypted by something else?)')
    return fail(fields.error.code, `decrypted message: ${fields.error.reason}`)
  }
  // Read with U+FFFD where its bytes are not UTF-8, as a plain body is (receive/read-request.ts), and said.
  if (!isUtf8(inner.value)) return ok({ fields: fields.value, encrypted: true, notUtf8: `decrypted message: ${firstNotUtf8(inner.value)} is not UTF-8: its text is read with U+FFFD in place of what is not` })
  return ok({ fields: fields.value, encrypted: true })
}
