/**
 * The message encryption scheme of protocol.md §2:
 *   key = base64(EncodingAESKey + "="), 32 bytes; IV = key[0..16]; AES-256-CBC;
 *   plaintext = random(16) ‖ uint32be(len(msg)) ‖ msg ‖ appId, PKCS#7-padded to a 32-byte block.
 * Padding is done by hand (setAutoPadding(false)) because Node's PKCS#7 uses the AES block size, 16.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { fail, ok, type Result } from '../errors.ts'
import { randomBytesFromPool } from './random-pool.ts'

export interface WeChatCipher {
  readonly appId: string
  /** Decrypts the Encrypt element of a push into its inner XML and checks the trailing appId. */
  decrypt(encryptBase64: string): Result<string>
  /** The same, the inner XML as its bytes: for a caller that asks whether they are UTF-8 (verify-request.ts). */
  decryptBytes(encryptBase64: string): Result<Buffer>
  /** Encrypts a reply XML; `random16` only for reproducible vectors in tests. */
  encrypt(xml: string, random16?: Buffer): string
}

const ENCODING_AES_KEY = /^[A-Za-z0-9+/]{43}$/
/** PKCS#7 block size the platform pads to (protocol.md §2), twice the AES block. */
const PAD_BLOCK = 32
const AES_BLOCK = 16
const RANDOM_LENGTH = 16
const HEADER_LENGTH = RANDOM_LENGTH + 4
/**
 * After each reason that garbled plaintext gives: a key other than the console's decrypts every push into
 * noise, which fails one of these checks, and the operator reading "bad PKCS#7 padding" alone would look
 * at WeChat, not at the key (an operator's review).
 */
const KEY_HINT = ' (every push failing so means this EncodingAESKey is not the one in WeChat\'s console)'

export function createWeChatCipher(encodingAESKey: string, appId: string): Result<WeChatCipher> {
  if (typeof encodingAESKey !== 'string' || !ENCODING_AES_KEY.test(encodingAESKey)) {
    return fail('BAD_CONFIG', 'encodingAESKey must be 43 characters of base64 (A-Z a-z 0-9 + /)')
  }
  const key = Buffer.from(`${encodingAESKey}=`, 'base64')
  if (key.length !== 32) {
    return fail('BAD_CONFIG', `encodingAESKey decodes to ${key.length} bytes, expected 32`)
  }
  if (typeof appId !== 'string' || appId.length === 0) {
    return fail('BAD_CONFIG', 'appId is required to check decrypted messages')
  }
  const iv = key.subarray(0, 16)
  const appIdBytes = Buffer.from(appId, 'utf8')
  // CBC decryption is ECB decryption XORed with the previous ciphertext block (the IV for the first), so
  // one ECB decipher per account, kept open, serves every message: creating a CBC decipher per message cost
  // more than the decryption itself. With padding off and whole blocks, update() returns every block at once
  // and keeps no state between calls. (Encryption keeps one cipher too: see encryptCbc.)
  const ecb = createDecipheriv('aes-256-ecb', key, null)
  ecb.setAutoPadding(false)

  /** AES-256-CBC decryption of whole blocks; the caller checked the length. */
  function decryptCbc(ciphertext: Buffer): Buffer {
    const plain = ecb.update(ciphertext)
    if (plain.length !== ciphertext.length) throw new Error(`AES-ECB returned ${plain.length} of ${ciphertext.length} bytes`)
    for (let i = ciphertext.length - 1; i >= AES_BLOCK; i--) plain[i] ^= ciphertext[i - AES_BLOCK]
    for (let i = 0; i < AES_BLOCK; i++) plain[i] ^= iv[i]
    return plain
  }

  function decrypt(encryptBase64: string): Result<string> {
    const bytes = decryptBytes(encryptBase64)
    return bytes.ok ? ok(bytes.value.toString('utf8')) : bytes
  }

  function decryptBytes(encryptBase64: string): Result<Buffer> {
    if (typeof encryptBase64 !== 'string' || encryptBase64.length === 0) {
      return fail('BAD_ENCRYPT', 'Encrypt is empty')
    }
    // Node's decoder skips what is not base64; encoding back and comparing refuses it instead (and any
    // non-canonical form), at a fifth of the cost of a validating regex over the whole string.
    const ciphertext = Buffer.from(encryptBase64, 'base64')
    if (encryptBase64.length % 4 !== 0 || ciphertext.toString('base64') !== encryptBase64) {
      return fail('BAD_ENCRYPT', 'Encrypt is not base64 (bad character, bad padding or length not a multiple of 4)')
    }
    if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK !== 0) {
      return fail('BAD_ENCRYPT', `ciphertext is ${ciphertext.length} bytes, not a multiple of ${AES_BLOCK}`)
    }
    const plain = decryptCbc(ciphertext)
    const pad = plain[plain.length - 1]
    if (pad < 1 || pad > PAD_BLOCK || pad > plain.length) {
      return fail('BAD_ENCRYPT', `bad PKCS#7 padding: pad byte ${pad} is outside 1..${PAD_BLOCK}${KEY_HINT}`)
    }
    for (let i = plain.length - pad; i < plain.length - 1; i++) {
      if (plain[i] !== pad) {
        return fail('BAD_ENCRYPT', `bad PKCS#7 padding: the last ${pad} bytes are not all ${pad}${KEY_HINT}`)
      }
    }
    const contentEnd = plain.length - pad
    if (contentEnd < HEADER_LENGTH) {
      return fail('BAD_ENCRYPT', `decrypted content is ${contentEnd} bytes, too short for the ${HEADER_LENGTH}-byte header${KEY_HINT}`)
    }
    const msgLength = plain.readUInt32BE(RANDOM_LENGTH)
    const msgEnd = HEADER_LENGTH + msgLength
    if (msgEnd > contentEnd) {
      return fail(
        'BAD_ENCRYPT',
        `length field ${msgLength} runs past the end of the ${contentEnd - HEADER_LENGTH} bytes after the header${KEY_HINT}`,
      )
    }
    const foundAppId = plain.subarray(msgEnd, contentEnd)
    if (!foundAppId.equals(appIdBytes)) {
      return fail('WRONG_APPID', `decrypted appId ${describeAppId(foundAppId)} is not this account's (${appId})`)
    }
    return ok(plain.subarray(HEADER_LENGTH, msgEnd))
  }

  function encrypt(xml: string, random16: Buffer = randomBytesFromPool(RANDOM_LENGTH)): string {
    if (random16.length !== RANDOM_LENGTH) {
      throw new RangeError(`random prefix must be ${RANDOM_LENGTH} bytes, got ${random16.length}`)
    }
    const msgLength = Buffer.byteLength(xml, 'utf8')
    const contentLength = HEADER_LENGTH + msgLength + appIdBytes.length
    const pad = PAD_BLOCK - (contentLength % PAD_BLOCK)
    // One allocation for the whole plaintext: this runs for every reply in safe mode.
    const plain = Buffer.allocUnsafe(contentLength + pad)
    random16.copy(plain, 0)
    plain.writeUInt32BE(msgLength, RANDOM_LENGTH)
    plain.write(xml, HEADER_LENGTH, 'utf8')
    appIdBytes.copy(plain, HEADER_LENGTH + msgLength)
    plain.fill(pad, contentLength)
    return encryptCbc(plain).toString('base64')
  }

  // CBC encryption chains each block to the previous ciphertext block, and a cipher left open carries the
  // last one over to the next update(). So one cipher per account serves every reply: XORing the first
  // plaintext block with (IV xor the carried block) cancels the carry and leaves exactly IV chaining,
  // i.e. a fresh AES-256-CBC encryption under IV. Creating a cipher per reply cost more than encrypting.
  let chain: ReturnType<typeof createCipheriv> | undefined
  const carried = Buffer.alloc(AES_BLOCK)

  /** AES-256-CBC encryption of whole blocks under `iv`; `plain` is overwritten. */
  function encryptCbc(plain: Buffer): Buffer {
    if (!chain) {
      chain = createCipheriv('aes-256-cbc', key, iv)
      chain.setAutoPadding(false)
      iv.copy(carried)
    }
    for (let i = 0; i < AES_BLOCK; i++) plain[i] ^= iv[i] ^ carried[i]
    const out = chain.update(plain)
    if (out.length !== plain.length) {
      // Never seen with whole blocks and padding off; if it happens the carry is unknown: start over.
      chain = undefined
      throw new Error(`AES-CBC returned ${out.length} of ${plain.length} bytes`)
    }
    out.copy(carried, 0, out.length - AES_BLOCK)
    return out
  }

  return ok({ appId, decrypt, decryptBytes, encrypt })
}

/**
 * The foreign appId goes into a log line: printable ASCII only, and no longer than an AppID can be. A push
 * whose length field says 0 puts the whole decrypted message where the appId goes: at 64 characters its
 * start, the user's openId, went into the log (a robustness review).
 */
function describeAppId(bytes: Buffer): string {
  if (bytes.length === 0) return '(empty)'
  const text = bytes.subarray(0, APPID_SHOWN).toString('latin1').replace(/[^\x20-\x7e]/g, '?')
  return bytes.length > APPID_SHOWN ? `${JSON.stringify(`${text}…`)} (${bytes.length} bytes)` : JSON.stringify(text)
}
/** An AppID is 18 characters (wx and 16 hex digits): room for one, and not for a message. */
const APPID_SHOWN = 24
