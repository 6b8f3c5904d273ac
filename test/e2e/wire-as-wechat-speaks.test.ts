/**
 * The wire as WeChat's servers speak it, checked with an implementation other than the engine's own
 * (wechat-crypto, the SDK co-wechat uses): the simulator in core/testkit shares the engine's signature and
 * cipher code, so a fault common to both would pass every other end-to-end test. Found missing by a
 * conformance review of the wire path (protocol.md §1, §2).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import net from 'node:net'
import { parseXml } from '../../core/normalize/safe-xml.ts'
import { AES_KEY, ACCOUNTS, startHarness, type Harness } from '../support/engine-harness.ts'

interface WXBizMsgCrypt {
  getSignature(timestamp: string, nonce: string, encrypt: string): string
  encrypt(text: string): string
  decrypt(text: string): { message: string; id: string }
}
const WXBizMsgCrypt = createRequire(import.meta.url)('wechat-crypto') as new (token: string, key: string, appId: string) => WXBizMsgCrypt

const RULES = `
rules:
  - name: hello
    keywords:
      - exact: hello
    reply: { type: text, content: "你好 ]]> world" }
`

/** sha1 of the parts sorted and joined, written out here rather than taken from core/verify. */
function sha1Sorted(parts: string[]): string {
  return createHash('sha1').update([...parts].sort().join('')).digest('hex')
}

function account(id: string) {
  const found = ACCOUNTS.find((a) => a.id === id)
  assert.ok(found)
  return found
}

function textPushXml(from: string, content: string): string {
  return (
    '<xml><ToUserName><![CDATA[gh_wxengine]]></ToUserName>' +
    `<FromUserName><![CDATA[${from}]]></FromUserName>` +
    `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime>` +
    '<MsgType><![CDATA[text]]></MsgType>' +
    `<Content><![CDATA[${content}]]></Content>` +
    `<MsgId>${BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000))}</MsgId></xml>`
  )
}

/**
 * The PKCS#7 padding of a ciphertext, read with node's AES alone: wechat-crypto's decoder takes any pad
 * byte up to 32, so it would not notice a reply padded to AES's own 16-byte block.
 */
function paddingOf(encrypt: string, appId: string): { pad: number; expected: number; padBytesEqual: boolean } {
  const key = Buffer.from(`${AES_KEY}=`, 'base64')
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16))
  decipher.setAutoPadding(false)
  const plain = Buffer.concat([decipher.update(encrypt, 'base64'), decipher.final()])
  const pad = plain[plain.length - 1]
  // random(16) ‖ uint32be(length) ‖ msg ‖ appId, then 32 - (its length mod 32) bytes: 1 to 32, never 0.
  const content = 20 + plain.readUInt32BE(16) + Buffer.byteLength(appId)
  return { pad, expected: 32 - (content % 32), padBytesEqual: plain.subarray(plain.length - pad).every((b) => b === pad) }
}

/** One request written on a fresh socket, the whole answer read until the server closes it. */
function exchange(port: number, request: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request))
    const timer = setTimeout(() => socket.destroy(new Error('no answer within 5 s')), 5_000)
    socket.on('data', (d) => chunks.push(d))
    socket.on('error', (e) => (clearTimeout(timer), reject(e)))
    socket.on('end', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      resolve({ status: Number(text.slice(9, 12)), headers: text.slice(0, split), body: text.slice(split + 4) })
    })
  })
}

describe('the wire as WeChat speaks it, checked with wechat-crypto', () => {
  let h: Harness
  let port: number
  before(async () => {
    h = await startHarness({ rules: { 'main.yaml': RULES } })
    port = Number(new URL(h.url).port)
  })
  after(() => h.close())

  /** A push query signed as the platform signs it, sha1 written out here. */
  function pushQuery(token: string, encrypt?: string): URLSearchParams {
    const timestamp = String(Math.floor(Date.now() / 1000))
    const nonce = String(1_000_000_000 + Math.floor(Math.random() * 1e9))
    const q = new URLSearchParams({ signature: sha1Sorted([token, timestamp, nonce]), timestamp, nonce, openid: 'o-wire' })
    if (encrypt !== undefined) {
      q.set('encrypt_type', 'aes')
      q.set('msg_signature', sha1Sorted([token, timestamp, nonce, encrypt]))
    }
    return q
  }

  for (const id of ['compat', 'safe']) {
    it(`GET verification of a ${id} account: encrypt_type=aes and msg_signature may come along; echostr is plaintext, echoed as is; signature covers token, timestamp and nonce only (protocol.md §1)`, async () => {
      const { token } = account(id)
      const timestamp = String(Math.floor(Date.now() / 1000))
      const nonce = '1372399923'
      const echostr = '5894412749035375647'
      const q = new URLSearchParams({ signature: sha1Sorted([token, timestamp, nonce]), echostr, timestamp, nonce, encrypt_type: 'aes', msg_signature: 'f'.repeat(40) })
      let res = await fetch(`${h.url}/wechat/${id}?${q}`)
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
      assert.equal(await res.text(), echostr)
      // The mistake of WXBizMsgCrypt.verifyUrl (a WeCom routine) applied to an Official Account: echostr
      // inside the signature. WeChat does not sign so; such a signature is not the account's.
      q.set('signature', sha1Sorted([token, timestamp, nonce, echostr]))
      res = await fetch(`${h.url}/wechat/${id}?${q}`)
      assert.equal(res.status, 401)
      assert.equal(await res.text(), 'BAD_SIGNATURE')
    })
  }

  it('a plaintext push over HTTP/1.0 without Host, as WeChat\'s servers send it, is answered in plain XML', async () => {
    const body = textPushXml('o-http10', 'hello')
    const res = await exchange(
      port,
      `POST /wechat/plain?${pushQuery(account('plain').token)} HTTP/1.0\r\nUser-Agent: Mozilla/4.0\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
    assert.equal(res.status, 200, res.headers)
    const reply = parseXml(res.body)
    assert.ok(reply.ok, res.body)
    assert.equal(reply.value.Content, '你好 ]]> world')
    assert.equal(reply.value.ToUserName, 'o-http10')
  })

  for (const id of ['compat', 'safe']) {
    it(`${id} mode: a push encrypted by wechat-crypto is read, and its encrypted answer opens with wechat-crypto (protocol.md §2)`, async () => {
      const { token, appId } = account(id)
      const theirs = new WXBizMsgCrypt(token, AES_KEY, appId)
      const inner = textPushXml(`o-${id}`, 'hello')
      const encrypt = theirs.encrypt(inner)
      // Compatible mode sends the plain fields beside Encrypt; safe mode ToUserName and Encrypt alone.
      const body = id === 'compat'
        ? inner.replace('</xml>', `<Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`)
        : `<xml><ToUserName><![CDATA[gh_wxengine]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`
      const res = await exchange(
        port,
        `POST /wechat/${id}?${pushQuery(token, encrypt)} HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      )
      assert.equal(res.status, 200, res.headers)
      const envelope = parseXml(res.body)
      assert.ok(envelope.ok, res.body)
      const { Encrypt, MsgSignature, TimeStamp, Nonce } = envelope.value
      assert.ok(typeof Encrypt === 'string' && typeof MsgSignature === 'string' && typeof TimeStamp === 'string' && typeof Nonce === 'string', res.body)
      assert.match(TimeStamp, /^\d{10}$/)
      assert.equal(theirs.getSignature(TimeStamp, Nonce, Encrypt), MsgSignature)
      // Padded to WeChat's 32-byte block, with 1 to 32 bytes of the pad's value.
      const padding = paddingOf(Encrypt, appId)
      assert.equal(padding.pad, padding.expected)
      assert.ok(padding.padBytesEqual, JSON.stringify(padding))
      const opened = theirs.decrypt(Encrypt)
      assert.equal(opened.id, appId)
      const reply = parseXml(opened.message)
      assert.ok(reply.ok, opened.message)
      assert.equal(reply.value.Content, '你好 ]]> world')
      assert.equal(reply.value.ToUserName, `o-${id}`)
    })
  }

  it('safe mode: a push encrypted under another account\'s AppId is refused, 401 WRONG_APPID, with a line saying why', async () => {
    const { token } = account('safe')
    const foreign = new WXBizMsgCrypt(token, AES_KEY, `wx${randomBytes(8).toString('hex')}`)
    const encrypt = foreign.encrypt(textPushXml('o-foreign', 'hello'))
    const before = h.lines.length
    const res = await fetch(`${h.url}/wechat/safe?${pushQuery(token, encrypt)}`, {
      method: 'POST',
      body: `<xml><ToUserName><![CDATA[gh_wxengine]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
    })
    assert.equal(res.status, 401)
    assert.equal(await res.text(), 'WRONG_APPID')
    assert.ok(h.lines.slice(before).some((l) => l.code === 'WRONG_APPID' && typeof l.reason === 'string'), JSON.stringify(h.lines.slice(before)))
  })
})
