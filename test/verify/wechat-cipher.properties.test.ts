/**
 * Properties of the message cipher over generated inputs (fast-check), beside the vectors and hand-made
 * faults of wechat-cipher.test.ts: what it encrypts it decrypts to the same text, node's own AES-256-CBC
 * with PKCS#7 to 32 reads its output (so the one-cipher-per-account chaining never leaks between replies),
 * and whatever a client puts in Encrypt is answered with an error code, never an exception.
 */
import { createDecipheriv, createCipheriv } from 'node:crypto'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from '../support/fast-check.ts'
import { createWeChatCipher, type WeChatCipher } from '../../core/verify/wechat-cipher.ts'

const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const APP_ID = 'wxb11529c136998cb6'
const aesKey = Buffer.from(`${KEY}=`, 'base64')
const iv = aesKey.subarray(0, 16)

function cipherFor(appId: string): WeChatCipher {
  const c = createWeChatCipher(KEY, appId)
  if (!c.ok) throw new Error(c.error.reason)
  return c.value
}
const cipher = cipherFor(APP_ID)

/** A reference decryption with a fresh node decipher per message: the scheme of protocol.md §2, read plainly. */
function referenceDecrypt(b64: string): { message: string; appId: string } {
  const d = createDecipheriv('aes-256-cbc', aesKey, iv)
  d.setAutoPadding(false)
  const plain = Buffer.concat([d.update(Buffer.from(b64, 'base64')), d.final()])
  const pad = plain[plain.length - 1]
  assert.ok(pad >= 1 && pad <= 32, `pad ${pad}`)
  assert.ok(plain.subarray(plain.length - pad).every((b) => b === pad))
  assert.equal(plain.length % 32, 0, 'padded to 32 bytes, not to the AES block of 16')
  const len = plain.readUInt32BE(16)
  return { message: plain.toString('utf8', 20, 20 + len), appId: plain.toString('utf8', 20 + len, plain.length - pad) }
}

/** Text as a reply may carry it: any well-formed UTF-16 (lone surrogates are not UTF-8 and never reach here). */
const TEXT = fc.string({ unit: 'grapheme', maxLength: 300 })

test('a run of replies, each decrypted by a fresh AES-256-CBC decipher, reads back exactly: the kept cipher leaks no chaining', () => {
  fc.assert(
    fc.property(fc.array(TEXT, { minLength: 1, maxLength: 8 }), (texts) => {
      for (const text of texts) {
        const enc = cipher.encrypt(text)
        assert.deepStrictEqual(referenceDecrypt(enc), { message: text, appId: APP_ID })
        const back = cipher.decrypt(enc)
        assert.ok(back.ok)
        assert.equal(back.value, text)
      }
    }),
    { numRuns: 500 },
  )
})

test('what node encrypts under the scheme, with any random prefix, the cipher decrypts; another appId is WRONG_APPID', () => {
  fc.assert(
    fc.property(TEXT, fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.stringMatching(/^wx[0-9a-f]{16}$/), (text, random, appId) => {
      const msg = Buffer.from(text, 'utf8')
      const app = Buffer.from(appId)
      const body = Buffer.concat([Buffer.from(random), Buffer.alloc(4), msg, app])
      body.writeUInt32BE(msg.length, 16)
      const pad = 32 - (body.length % 32)
      const e = createCipheriv('aes-256-cbc', aesKey, iv)
      e.setAutoPadding(false)
      const enc = Buffer.concat([e.update(Buffer.concat([body, Buffer.alloc(pad, pad)])), e.final()]).toString('base64')
      const r = cipherFor(appId).decrypt(enc)
      assert.ok(r.ok)
      assert.equal(r.value, text)
      const other = cipher.decrypt(enc)
      if (appId === APP_ID) assert.ok(other.ok)
      else assert.ok(!other.ok && other.error.code === 'WRONG_APPID')
    }),
    { numRuns: 500 },
  )
})

const CODES = new Set(['BAD_ENCRYPT', 'WRONG_APPID'])

test('any Encrypt a client can send, text or the base64 of any bytes, is an error code or a message, never a throw', () => {
  const check = (input: string) => {
    const r = cipher.decrypt(input)
    if (!r.ok) {
      assert.ok(CODES.has(r.error.code), r.error.code)
      // The reason goes into a log line: bounded, and no raw control bytes from the garbled plaintext.
      assert.ok(r.error.reason.length < 400, `reason of ${r.error.reason.length}`)
      assert.ok(!/[\u0000-\u001f]/.test(r.error.reason), JSON.stringify(r.error.reason))
    }
  }
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), { numRuns: 2000 })
  fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => check(Buffer.from(bytes).toString('base64'))), { numRuns: 3000 })
  // Whole blocks decrypt to noise under the key: the padding, length and appId checks must all hold up.
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 16 }).chain((n) => fc.uint8Array({ minLength: 16 * n, maxLength: 16 * n })), (bytes) =>
      check(Buffer.from(bytes).toString('base64')),
    ),
    { numRuns: 3000 },
  )
})
