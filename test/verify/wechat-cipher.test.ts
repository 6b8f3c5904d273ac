import { createCipheriv, createDecipheriv, randomBytes, randomInt } from 'node:crypto'
import { createRequire } from 'node:module'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createWeChatCipher, type WeChatCipher } from '../../core/verify/wechat-cipher.ts'
import type { Result } from '../../core/errors.ts'

// The platform's public vector (protocol.md §2).
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const APP_ID = 'wxb11529c136998cb6'
const RANDOM = Buffer.from('aaaabbbbccccdddd')
const MESSAGE = '我是中文abcd123'
const ENCRYPTED = 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=='

const aesKey = Buffer.from(`${KEY}=`, 'base64')
const aesIv = aesKey.subarray(0, 16)

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.reason}`)
  return result.value
}

const cipher: WeChatCipher = unwrap(createWeChatCipher(KEY, APP_ID))

/** Encrypts raw bytes with no padding of ours: lets a test hand decrypt any plaintext it likes. */
function rawEncrypt(plain: Buffer): string {
  const aes = createCipheriv('aes-256-cbc', aesKey, aesIv)
  aes.setAutoPadding(false)
  return Buffer.concat([aes.update(plain), aes.final()]).toString('base64')
}

function rawDecrypt(encrypt: string): Buffer {
  const aes = createDecipheriv('aes-256-cbc', aesKey, aesIv)
  aes.setAutoPadding(false)
  return Buffer.concat([aes.update(Buffer.from(encrypt, 'base64')), aes.final()])
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

/** random ‖ uint32be(declared length) ‖ msg ‖ appId ‖ padding bytes, built independently of the cipher. */
function plaintext(parts: { msg: Buffer; appId?: string; declaredLength?: number; padding: Buffer }): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(parts.declaredLength ?? parts.msg.length)
  return Buffer.concat([randomBytes(16), length, parts.msg, Buffer.from(parts.appId ?? APP_ID), parts.padding])
}

function pkcs7(contentLength: number): Buffer {
  const pad = 32 - (contentLength % 32)
  return Buffer.alloc(pad, pad)
}

function expectError(result: Result<string>, code: string, reason: RegExp): string {
  assert.equal(result.ok, false, 'expected an error')
  if (result.ok) return ''
  assert.equal(result.error.code, code)
  assert.match(result.error.reason, reason)
  return result.error.reason
}

describe('createWeChatCipher', () => {
  const badKeys: Array<[string, string]> = [
    ['42 characters', KEY.slice(0, 42)],
    ['44 characters', `${KEY}A`],
    ['43 characters with "="', `${KEY.slice(0, 42)}=`],
    ['a URL-safe base64 character', `${KEY.slice(0, 42)}-`],
    ['a space', ` ${KEY.slice(1)}`],
    ['empty', ''],
  ]
  for (const [what, key] of badKeys) {
    it(`refuses a key with ${what} (BAD_CONFIG)`, () => {
      const result = createWeChatCipher(key, APP_ID)
      assert.equal(result.ok ? 'ok' : result.error.code, 'BAD_CONFIG')
    })
  }

  it('refuses an empty appId', () => {
    const result = createWeChatCipher(KEY, '')
    assert.equal(result.ok ? 'ok' : result.error.code, 'BAD_CONFIG')
  })

  it('accepts a generated key', () => {
    const key = randomBytes(32).toString('base64').slice(0, 43)
    assert.equal(createWeChatCipher(key, APP_ID).ok, true)
  })
})

describe('public vector (protocol.md §2)', () => {
  it('encrypts to the platform’s Encrypt exactly', () => {
    assert.equal(cipher.encrypt(MESSAGE, RANDOM), ENCRYPTED)
  })

  it('decrypts the platform’s Encrypt to the message', () => {
    assert.deepEqual(cipher.decrypt(ENCRYPTED), { ok: true, value: MESSAGE })
  })

  it('pads to a 32-byte block: 57 bytes of content take 7 bytes of 7', () => {
    const plain = rawDecrypt(ENCRYPTED)
    assert.equal(plain.length, 64)
    assert.deepEqual([...plain.subarray(57)], [7, 7, 7, 7, 7, 7, 7])
    assert.equal(plain.subarray(0, 16).toString(), 'aaaabbbbccccdddd')
    assert.equal(plain.readUInt32BE(16), Buffer.byteLength(MESSAGE))
  })
})

describe('round trip', () => {
  const samples = [
    '',
    'a',
    '<xml><Content><![CDATA[hi]]></Content></xml>',
    '表情😀🎉 and ünïcödé ✓',
    '\u0000\u0001 binary-ish \uFFFD',
    'x'.repeat(100_000),
  ]
  for (const sample of samples) {
    it(`keeps ${JSON.stringify(sample.slice(0, 30))}${sample.length > 30 ? '…' : ''} (${sample.length} chars)`, () => {
      assert.deepEqual(cipher.decrypt(cipher.encrypt(sample)), { ok: true, value: sample })
    })
  }

  it('round-trips random multibyte text of every padding length 1..32', () => {
    const alphabet = ['a', 'Z', '9', '<', '>', '中', '文', 'é', '😀', '\n']
    const pads = new Set<number>()
    for (let i = 0; i < 400; i++) {
      let text = ''
      const length = randomInt(0, 120)
      for (let j = 0; j < length; j++) text += alphabet[randomInt(alphabet.length)]
      const encrypted = cipher.encrypt(text)
      const plain = rawDecrypt(encrypted)
      const pad = plain[plain.length - 1]
      pads.add(pad)
      assert.equal(plain.length % 32, 0)
      assert.ok(pad >= 1 && pad <= 32)
      assert.ok(plain.subarray(plain.length - pad).every((byte) => byte === pad))
      assert.deepEqual(cipher.decrypt(encrypted), { ok: true, value: text })
    }
    // 400 random lengths all but certainly hit every residue; if not, the assertion names the gap.
    assert.deepEqual([...pads].sort((a, b) => a - b), Array.from({ length: 32 }, (_, i) => i + 1))
  })

  it('decrypts what node\'s own AES-256-CBC encrypted, for messages of 1 to 64 blocks', () => {
    // decrypt chains an ECB decipher by hand; node's CBC (through rawEncrypt) is the reference.
    for (let blocks = 2; blocks <= 64; blocks++) {
      const msgLength = blocks * 32 - 20 - APP_ID.length - 1 - randomInt(0, 12)
      if (msgLength < 0) continue
      const msg = randomBytes(msgLength).toString('hex').slice(0, msgLength)
      const content = Buffer.concat([RANDOM, uint32(msgLength), Buffer.from(msg), Buffer.from(APP_ID)])
      const pad = 32 - (content.length % 32)
      const encrypt = rawEncrypt(Buffer.concat([content, Buffer.alloc(pad, pad)]))
      assert.deepEqual(cipher.decrypt(encrypt), { ok: true, value: msg }, `${blocks} blocks`)
    }
  })

  it('encrypts exactly as a fresh AES-256-CBC cipher would, message after message', () => {
    // encrypt keeps one cipher open and cancels its carried block; every output must still equal a fresh
    // encryption under the IV, whatever came before it.
    const own = unwrap(createWeChatCipher(KEY, APP_ID))
    for (let n = 0; n < 300; n++) {
      const text = randomBytes(randomInt(0, 200)).toString('base64')
      const random16 = randomBytes(16)
      const content = Buffer.concat([random16, uint32(Buffer.byteLength(text)), Buffer.from(text), Buffer.from(APP_ID)])
      const pad = 32 - (content.length % 32)
      assert.equal(own.encrypt(text, random16), rawEncrypt(Buffer.concat([content, Buffer.alloc(pad, pad)])), `message ${n}`)
    }
  })

  it('uses a fresh random prefix each time', () => {
    const a = cipher.encrypt('same')
    const b = cipher.encrypt('same')
    assert.notEqual(a, b)
    assert.notDeepEqual(rawDecrypt(a).subarray(0, 16), rawDecrypt(b).subarray(0, 16))
  })

  it('throws (a bug, not input) for a random prefix that is not 16 bytes', () => {
    assert.throws(() => cipher.encrypt('x', Buffer.alloc(15)), RangeError)
  })

  it('interoperates with wechat-crypto (the SDK co-wechat uses) both ways', () => {
    const require = createRequire(import.meta.url)
    const WXBizMsgCrypt = require('wechat-crypto') as new (
      token: string,
      key: string,
      id: string,
    ) => { encrypt(text: string): string; decrypt(text: string): { message: string; id: string } }
    const theirs = new WXBizMsgCrypt('pamtest', KEY, APP_ID)
    const text = '<xml><Content><![CDATA[互通 ok]]></Content></xml>'
    assert.deepEqual(theirs.decrypt(cipher.encrypt(text)), { message: text, id: APP_ID })
    assert.deepEqual(cipher.decrypt(theirs.encrypt(text)), { ok: true, value: text })
  })
})

describe('decrypt errors', () => {
  const msg = Buffer.from('<xml>hi</xml>')
  const content = 16 + 4 + msg.length + APP_ID.length

  it('BAD_ENCRYPT for an empty Encrypt', () => {
    expectError(cipher.decrypt(''), 'BAD_ENCRYPT', /empty/)
  })

  const notBase64 = [
    ['a character outside base64', ENCRYPTED.replace('+', '-')],
    ['a length not a multiple of 4', ENCRYPTED.slice(0, -1)],
    ['padding in the middle', `AAAA=AAA${ENCRYPTED.slice(8)}`],
    ['three padding characters', `${ENCRYPTED.slice(0, -3)}===`],
    ['whitespace', `${ENCRYPTED.slice(0, 20)}\n${ENCRYPTED.slice(21)}`],
    // 'fg==' -> 'fh==': decodes to the same bytes in lenient decoders, but its unused trailing bits are set.
    ['non-canonical trailing bits', `${ENCRYPTED.slice(0, -3)}h==`],
  ]
  for (const [what, value] of notBase64) {
    it(`BAD_ENCRYPT (not base64) for ${what}`, () => {
      expectError(cipher.decrypt(value), 'BAD_ENCRYPT', /not base64/)
    })
  }

  it('BAD_ENCRYPT when the ciphertext is not whole 16-byte blocks', () => {
    const reason = expectError(
      cipher.decrypt(Buffer.alloc(20).toString('base64')),
      'BAD_ENCRYPT',
      /20 bytes, not a multiple of 16/,
    )
    assert.doesNotMatch(reason, /base64/)
  })

  it('a push encrypted under another key: BAD_ENCRYPT that points at the EncodingAESKey', () => {
    const other = createWeChatCipher('ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut', APP_ID)
    assert.ok(other.ok)
    // Noise after decryption fails the padding or the length check; which one depends on the noise.
    for (let i = 0; i < 20; i++) {
      expectError(cipher.decrypt(other.value.encrypt(`<xml>${i}</xml>`)), 'BAD_ENCRYPT', /\(every push failing so means this EncodingAESKey is not the one in WeChat's console\)$/)
    }
  })

  it('BAD_ENCRYPT for a pad byte of 0', () => {
    const plain = plaintext({ msg, padding: Buffer.alloc(32 - (content % 32), 0) })
    expectError(cipher.decrypt(rawEncrypt(plain)), 'BAD_ENCRYPT', /pad byte 0 is outside 1\.\.32/)
  })

  it('BAD_ENCRYPT for a pad byte above 32 (a 16-byte-block PKCS#7 is fine, 33 is not)', () => {
    const body = plaintext({ msg, padding: Buffer.alloc(0) })
    const plain = Buffer.concat([body, Buffer.alloc(64 - (body.length % 32), 0)])
    plain[plain.length - 1] = 33
    expectError(cipher.decrypt(rawEncrypt(plain)), 'BAD_ENCRYPT', /pad byte 33/)
  })

  it('BAD_ENCRYPT when the pad bytes are not all equal', () => {
    const padding = pkcs7(content)
    assert.ok(padding.length >= 2, 'the test needs at least two pad bytes')
    padding[0] = padding[0] === 1 ? 2 : 1
    const plain = plaintext({ msg, padding })
    expectError(cipher.decrypt(rawEncrypt(plain)), 'BAD_ENCRYPT', /not all/)
  })

  it('BAD_ENCRYPT when the length field runs past the end', () => {
    const plain = plaintext({ msg, declaredLength: msg.length + APP_ID.length + 1, padding: pkcs7(content) })
    expectError(cipher.decrypt(rawEncrypt(plain)), 'BAD_ENCRYPT', /length field \d+ runs past the end/)
  })

  it('BAD_ENCRYPT for a length field of 2^32-1', () => {
    const plain = plaintext({ msg, declaredLength: 0xffffffff, padding: pkcs7(content) })
    expectError(cipher.decrypt(rawEncrypt(plain)), 'BAD_ENCRYPT', /length field 4294967295/)
  })

  it('BAD_ENCRYPT when the content is shorter than the 20-byte header', () => {
    const plain = Buffer.concat([randomBytes(10), Buffer.alloc(22, 22)])
    expectError(cipher.decrypt(rawEncrypt(plain)), 'BAD_ENCRYPT', /too short/)
  })

  it('BAD_ENCRYPT when one block is all padding', () => {
    expectError(cipher.decrypt(rawEncrypt(Buffer.alloc(32, 32))), 'BAD_ENCRYPT', /too short/)
  })

  it('BAD_ENCRYPT when a single 16-byte block claims more padding than it holds', () => {
    expectError(cipher.decrypt(rawEncrypt(Buffer.alloc(16, 20))), 'BAD_ENCRYPT', /padding/)
  })

  it('gives each failure its own reason text', () => {
    const reasons = [
      cipher.decrypt(''),
      cipher.decrypt('@@@@'),
      cipher.decrypt(Buffer.alloc(20).toString('base64')),
      cipher.decrypt(rawEncrypt(plaintext({ msg, padding: Buffer.alloc(32 - (content % 32), 0) }))),
      cipher.decrypt(rawEncrypt(Buffer.concat([randomBytes(63), Buffer.from([5])]))),
      cipher.decrypt(rawEncrypt(plaintext({ msg, declaredLength: 999, padding: pkcs7(content) }))),
      cipher.decrypt(rawEncrypt(Buffer.alloc(32, 32))),
    ].map((r) => (r.ok ? 'ok' : r.error.reason.replace(/\d+/g, 'N')))
    assert.equal(new Set(reasons).size, reasons.length, reasons.join('\n'))
  })

  it('WRONG_APPID when the trailing appId is another account’s', () => {
    const other = unwrap(createWeChatCipher(KEY, 'wx0000000000000000'))
    expectError(cipher.decrypt(other.encrypt('<xml/>')), 'WRONG_APPID', /"wx0000000000000000".*wxb11529c136998cb6/)
  })

  it('WRONG_APPID when the appId is a prefix or an extension of ours', () => {
    for (const appId of [APP_ID.slice(0, -1), `${APP_ID}7`, `x${APP_ID}`]) {
      const other = unwrap(createWeChatCipher(KEY, appId))
      expectError(cipher.decrypt(other.encrypt('<xml/>')), 'WRONG_APPID', /is not this account/)
    }
  })

  it('WRONG_APPID for a length field of 0: the log line shows no more than an AppID could be, not the message', () => {
    const xml = '<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o-the-user-openid]]></FromUserName></xml>'
    const body = Buffer.from(xml + APP_ID)
    const plain = plaintext({ msg: Buffer.alloc(0), appId: xml + APP_ID, padding: pkcs7(16 + 4 + body.length) })
    const reason = expectError(cipher.decrypt(rawEncrypt(plain)), 'WRONG_APPID', /decrypted appId "<xml><ToUserName><!\[CDAT…" \(\d+ bytes\) is not this account.s/)
    assert.doesNotMatch(reason, /o-the-user/)
  })

  it('WRONG_APPID when there is no appId at all', () => {
    const plain = plaintext({ msg, appId: '', padding: pkcs7(16 + 4 + msg.length) })
    expectError(cipher.decrypt(rawEncrypt(plain)), 'WRONG_APPID', /\(empty\)/)
  })

  it('does not decrypt with another key: some error, never a throw', () => {
    const otherKey = unwrap(createWeChatCipher('A'.repeat(43), APP_ID))
    const result = otherKey.decrypt(ENCRYPTED)
    assert.equal(result.ok, false)
  })

  it('never throws on random ciphertexts or non-string input', () => {
    for (let i = 0; i < 500; i++) {
      const value = randomBytes(16 * randomInt(1, 8)).toString('base64')
      const result = cipher.decrypt(value)
      if (!result.ok) assert.ok(['BAD_ENCRYPT', 'WRONG_APPID'].includes(result.error.code))
    }
    for (const value of [undefined, null, 42, ['a'], {}]) {
      const result = cipher.decrypt(value as unknown as string)
      assert.equal(result.ok ? 'ok' : result.error.code, 'BAD_ENCRYPT')
    }
  })
})
