/**
 * verifyPost's trusted fields (core/verify/verify-request.ts) are the XML reader's objects: no prototype, so
 * no element name reaches Object.prototype, even through code that copies `raw` later (docs/messages.md).
 * The compatible push served to a plaintext account from its plain fields is a copy: it keeps that too.
 * Whatever the mode, one message gives one record: `Encrypt`, the envelope, is never in it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { computeSignature } from '../../core/verify/signature.ts'
import { verifyPost, type VerifiedAccount } from '../../core/verify/verify-request.ts'
import { createWeChatCipher } from '../../core/verify/wechat-cipher.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'
import { parseXml } from '../../core/normalize/safe-xml.ts'

const account: VerifiedAccount = { config: { id: 'plain', token: 'plaintoken', appId: 'wxplain000000001', mode: 'plaintext' } as VerifiedAccount['config'] }

function signedQuery(extra: Record<string, string> = {}): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = '12345'
  return { timestamp, nonce, signature: computeSignature([account.config.token, timestamp, nonce]), ...extra }
}

/** Whether Object.prototype is on the object's chain (the XML reader's objects share a prototype-less one). */
function reachesObjectPrototype(o: object): boolean {
  for (let p = Object.getPrototypeOf(o); p !== null; p = Object.getPrototypeOf(p)) if (p === Object.prototype) return true
  return false
}

const fields = '<ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[u1]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>1</MsgId>'

test('a plaintext push and a compatible push to a plaintext account: fields that do not reach Object.prototype, Encrypt left out', () => {
  const now = Math.floor(Date.now() / 1000)
  const plain = verifyPost(account, signedQuery(), `<xml>${fields}</xml>`, now, 600)
  assert.ok(plain.ok)
  if (!plain.ok) return
  assert.equal(reachesObjectPrototype(plain.value.fields), false)

  const compatible = verifyPost(account, signedQuery({ encrypt_type: 'aes', msg_signature: 'x' }), `<xml>${fields}<Encrypt><![CDATA[AAAA]]></Encrypt></xml>`, now, 600)
  assert.ok(compatible.ok)
  if (!compatible.ok) return
  assert.equal(compatible.value.compatibleAsPlain, true)
  assert.equal(reachesObjectPrototype(compatible.value.fields), false, 'nor does the plain copy')
  assert.equal('Encrypt' in compatible.value.fields, false)
  assert.equal(compatible.value.fields.Content, 'hi')
})

test("one message gives one record in every mode: a plain push's Encrypt (compatible mode's copy, encrypt_type absent) is left out too", () => {
  const now = Math.floor(Date.now() / 1000)
  const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
  const cipher = createWeChatCipher(KEY, account.config.appId)
  assert.ok(cipher.ok)
  if (!cipher.ok) return
  const compatibleAccount: VerifiedAccount = { config: { ...account.config, id: 'compat', mode: 'compatible', encodingAESKey: KEY }, cipher: cipher.value }
  const message = `<xml>${fields}</xml>`
  const encrypt = cipher.value.encrypt(message)
  const both = `<xml>${fields}<Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`
  const aes = (q: Record<string, string>) => ({ ...q, encrypt_type: 'aes', msg_signature: computeSignature([account.config.token, q.timestamp!, q.nonce!, encrypt]) })

  const ways = {
    'plaintext push': verifyPost(account, signedQuery(), message, now, 600),
    'plain push with an Encrypt, no encrypt_type': verifyPost(account, signedQuery(), both, now, 600),
    'the same to a compatible account': verifyPost(compatibleAccount, signedQuery(), both, now, 600),
    'compatible push to a plaintext account': verifyPost(account, aes(signedQuery()), both, now, 600),
    'compatible push, decrypted': verifyPost(compatibleAccount, aes(signedQuery()), both, now, 600),
  }
  const expected = normalizeMessage(parsed(message))
  assert.ok(expected.ok)
  for (const [way, result] of Object.entries(ways)) {
    assert.ok(result.ok, way)
    if (!result.ok) continue
    assert.equal('Encrypt' in result.value.fields, false, way)
    assert.equal(reachesObjectPrototype(result.value.fields), false, way)
    const record = normalizeMessage(result.value.fields)
    assert.ok(record.ok, way)
    if (record.ok && expected.ok) assert.deepEqual({ ...record.value, raw: { ...record.value.raw } }, { ...expected.value, raw: { ...expected.value.raw } }, way)
  }
})

function parsed(xml: string) {
  const r = parseXml(xml)
  assert.ok(r.ok)
  return r.ok ? r.value : ({} as never)
}
