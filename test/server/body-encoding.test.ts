/**
 * A push's body in a form the engine does not read: compressed (Content-Encoding, Transfer-Encoding), UTF-16, or bytes that are
 * not UTF-8 (GBK, say, from a proxy that transcodes). WeChat sends UTF-8, unencoded. Before, a gzip or UTF-16
 * body was refused as BAD_XML with a reason about the XML ("text before the root element", "expected an element
 * name at offset 1"), saying nothing of what was wrong with it; and a GBK body was served with every Chinese
 * character turned into U+FFFD, without a word: its rules never matched, and the user got the default reply
 * (found by a review of bad input). So was a safe-mode push whose decrypted message was not UTF-8, or UTF-16.
 */
import assert from 'node:assert/strict'
import { createCipheriv, randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { computeSignature } from '../../core/verify/signature.ts'
import { ACCOUNTS, startHarness, type Harness } from '../support/engine-harness.ts'
import { rawExchange } from '../support/raw-connection.ts'
import { until } from '../support/until.ts'

const RULES = { 'main.yaml': 'rules:\n  - name: hello\n    keywords: [hello]\n    reply: { type: text, content: hi }\n' }

describe('a body not in UTF-8 as it is', () => {
  let h: Harness
  before(async () => {
    h = await startHarness({ rules: RULES })
  })
  after(() => h.close())

  const head = (search: string, length: number, headers: string) =>
    `POST /wechat/plain?${search} HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: ${length}\r\n\r\n`

  it('a compressed body (Content-Encoding: gzip) is 415 BAD_BODY saying so, unread, its connection closed; the next push is served', async () => {
    const before = h.lines.length
    const eventsBefore = h.events.length
    const req = h.sim('plain').request(push.text('u-gzip', 'hello'))
    const body = gzipSync(req.body)
    const res = await rawExchange(h.url, head(req.search, body.length, 'Content-Type: text/xml\r\nContent-Encoding: gzip\r\n'), body)
    assert.equal(res.status, 'HTTP/1.1 415 Unsupported Media Type', res.body)
    assert.equal(res.body, 'BAD_BODY')
    const line = h.lines.slice(before).find((l) => l.code === 'BAD_BODY')
    assert.match(String(line?.reason), /^Content-Encoding: gzip is not read here/, JSON.stringify(h.lines.slice(before)))
    assert.ok(h.events.slice(eventsBefore).some((e) => e.type === 'rejected' && e.code === 'BAD_BODY' && e.status === 415))
    // `identity` is no encoding at all: served.
    const plain = h.sim('plain').request(push.text('u-identity', 'hello'))
    const served = await rawExchange(h.url, head(plain.search, Buffer.byteLength(plain.body), 'Connection: close\r\nContent-Encoding: identity\r\n'), Buffer.from(plain.body))
    assert.equal(served.status, 'HTTP/1.1 200 OK', served.body)
    assert.match(served.body, /<Content><!\[CDATA\[hi\]\]><\/Content>/)
  })

  it('a compressed transfer coding (Transfer-Encoding: gzip, chunked) is 501 BAD_BODY saying so, not "body cut short?"; plain chunked is served', async () => {
    const before = h.lines.length
    const req = h.sim('plain').request(push.text('u-te-gzip', 'hello'))
    const body = gzipSync(req.body)
    const chunked = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n0\r\n\r\n')])
    const teHead = (search: string, coding: string) => `POST /wechat/plain?${search} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: ${coding}\r\n\r\n`
    const res = await rawExchange(h.url, teHead(req.search, 'gzip, chunked'), chunked(body))
    assert.equal(res.status, 'HTTP/1.1 501 Not Implemented', res.body)
    assert.equal(res.body, 'BAD_BODY')
    const line = h.lines.slice(before).find((l) => l.code === 'BAD_BODY')
    assert.match(String(line?.reason), /^Transfer-Encoding: gzip, chunked is not read here/, JSON.stringify(h.lines.slice(before)))
    const plain = h.sim('plain').request(push.text('u-te-chunked', 'hello'))
    const served = await rawExchange(h.url, teHead(plain.search, 'Chunked'), chunked(Buffer.from(plain.body)))
    assert.equal(served.status, 'HTTP/1.1 200 OK', served.body)
    assert.match(served.body, /<Content><!\[CDATA\[hi\]\]><\/Content>/)
  })

  it('a gzip body sent in full is still not read: the refusal closes the connection', async () => {
    const req = h.sim('plain').request(push.text('u-gzip-close', 'hello'))
    const body = gzipSync(req.body)
    const res = await rawExchange(h.url, head(req.search, body.length, 'Content-Encoding: gzip\r\n'), body)
    assert.ok(res.close, 'Connection: close')
  })

  it('a UTF-16 body is 415 BAD_BODY saying it is UTF-16, not "expected an element name"', async () => {
    const before = h.lines.length
    const req = h.sim('plain').request(push.text('u-utf16', 'hello'))
    const body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(req.body, 'utf16le')])
    const res = await rawExchange(h.url, head(req.search, body.length, 'Content-Type: text/xml; charset=utf-16\r\nConnection: close\r\n'), body)
    assert.equal(res.status, 'HTTP/1.1 415 Unsupported Media Type', res.body)
    const line = h.lines.slice(before).find((l) => l.code === 'BAD_BODY')
    assert.match(String(line?.reason), /UTF-16, not UTF-8/, JSON.stringify(h.lines.slice(before)))
    // Without a byte order mark too: ASCII in UTF-16 is a NUL beside every letter.
    const bareReq = h.sim('plain').request(push.text('u-utf16-bare', 'hello'))
    const bare = Buffer.from(bareReq.body, 'utf16le')
    const res2 = await rawExchange(h.url, head(bareReq.search, bare.length, 'Connection: close\r\n'), bare)
    assert.equal(res2.status, 'HTTP/1.1 415 Unsupported Media Type', res2.body)
  })

  it('bytes that are not UTF-8 (GBK) are served, and a line says the text was garbled, where, and the charset the request named', async () => {
    const before = h.lines.length
    const req = h.sim('plain').request(push.text('u-gbk', 'hello'))
    // 你好 in GBK, after the keyword.
    const at = req.body.indexOf('hello') + 'hello'.length
    const body = Buffer.concat([Buffer.from(req.body.slice(0, at)), Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), Buffer.from(req.body.slice(at))])
    const res = await rawExchange(h.url, head(req.search, body.length, 'Content-Type: text/xml; charset=GBK\r\nConnection: close\r\n'), body)
    assert.equal(res.status, 'HTTP/1.1 200 OK', res.body)
    const line = await until('the not-UTF-8 line', () => h.lines.slice(before).find((l) => String(l.msg).includes('not UTF-8')))
    assert.equal(line.account, 'plain')
    assert.match(String(line.reason), new RegExp(`^byte 0xC4 at offset ${Buffer.byteLength(req.body.slice(0, at))} is not UTF-8 \\(the request says charset=GBK\\)`), String(line.reason))
    assert.equal((await h.post('plain', push.text('u-after-gbk', 'hello'))).reply?.Content, 'hi')
  })

  it("at /wechat the lines name the account it serves (the default), as the engine's lines about a push there do", async () => {
    const before = h.lines.length
    const req = h.sim('plain').request(push.text('u-gbk-default', 'hello'))
    const at = req.body.indexOf('hello') + 'hello'.length
    const body = Buffer.concat([Buffer.from(req.body.slice(0, at)), Buffer.from([0xc4, 0xe3]), Buffer.from(req.body.slice(at))])
    const atDefault = (search: string, length: number, headers: string) => `POST /wechat?${search} HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: ${length}\r\n\r\n`
    const res = await rawExchange(h.url, atDefault(req.search, body.length, 'Connection: close\r\n'), body)
    assert.equal(res.status, 'HTTP/1.1 200 OK', res.body)
    const line = await until('the not-UTF-8 line', () => h.lines.slice(before).find((l) => String(l.msg).includes('not UTF-8')))
    assert.equal(line.account, 'plain', JSON.stringify(line))
    // A refusal made here after the engine's check of the query (a compressed body): the same.
    const again = h.sim('plain').request(push.text('u-gzip-default', 'hello'))
    const gzip = gzipSync(again.body)
    const refused = await rawExchange(h.url, atDefault(again.search, gzip.length, 'Content-Encoding: gzip\r\n'), gzip)
    assert.equal(refused.status, 'HTTP/1.1 415 Unsupported Media Type', refused.body)
    const refusal = h.lines.slice(before).find((l) => l.code === 'BAD_BODY')
    assert.equal(refusal?.account, 'plain', JSON.stringify(h.lines.slice(before)))
  })

  it('a safe-mode push whose decrypted message is not UTF-8 is served too, and said the same way', async () => {
    const before = h.lines.length
    // A text message, with 你好 in GBK after the keyword.
    const inner = `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[u-gbk-safe]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello`
    const bytes = Buffer.concat([Buffer.from(inner), Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), Buffer.from(`]]></Content><MsgId>${Date.now()}</MsgId></xml>`)])
    const res = await postEncrypted(h.url, bytes)
    assert.equal(res.status, 200, await res.text())
    const line = await until('the not-UTF-8 line', () => h.lines.slice(before).find((l) => String(l.msg).includes('not UTF-8')))
    assert.equal(line.account, 'safe')
    assert.equal(line.reason, `decrypted message: byte 0xC4 at offset ${Buffer.byteLength(inner)} is not UTF-8: its text is read with U+FFFD in place of what is not`)
  })

  it('a safe-mode push whose decrypted message is UTF-16 is refused saying so, as a plain body is', async () => {
    const before = h.lines.length
    const inner = `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[u-utf16-safe]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>${Date.now()}</MsgId></xml>`
    const res = await postEncrypted(h.url, Buffer.from(inner, 'utf16le'))
    assert.equal(res.status, 400, await res.text())
    const line = await until('the refusal', () => h.lines.slice(before).find((l) => l.account === 'safe' && typeof l.reason === 'string' && l.reason.startsWith('decrypted message')))
    assert.equal(line.reason, 'decrypted message: it is UTF-16, not UTF-8: WeChat sends UTF-8 (encrypted by something else?)')
  })

  it('a UTF-8 body with a byte order mark, or without, says nothing', async () => {
    const before = h.lines.length
    const req = h.sim('plain').request(push.text('u-bom', 'hello 你好'))
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(req.body)])
    const res = await rawExchange(h.url, head(req.search, body.length, 'Connection: close\r\n'), body)
    assert.equal(res.status, 'HTTP/1.1 200 OK', res.body)
    assert.equal((await h.post('plain', push.text('u-utf8', 'hello 你好'))).status, 200)
    assert.deepEqual(h.lines.slice(before).filter((l) => String(l.msg).includes('UTF-8') || l.code === 'BAD_BODY'), [])
  })
})

/** Posts `message`'s bytes, encrypted and signed as WeChat does, to the harness's safe-mode account. */
function postEncrypted(url: string, message: Buffer): Promise<Response> {
  const account = ACCOUNTS.find((a) => a.id === 'safe')!
  const encrypt = encryptBytes(message, account.encodingAESKey!, account.appId)
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = `n${Math.random().toString(36).slice(2)}`
  const search = new URLSearchParams({
    signature: computeSignature([account.token, timestamp, nonce]),
    timestamp,
    nonce,
    encrypt_type: 'aes',
    msg_signature: computeSignature([account.token, timestamp, nonce, encrypt]),
  }).toString()
  return fetch(`${url}/wechat/safe?${search}`, { method: 'POST', body: `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>` })
}

/** WeChat's encryption (protocol.md §2) of bytes as they are: the cipher's encrypt takes text, and writes it as UTF-8. */
function encryptBytes(message: Buffer, encodingAESKey: string, appId: string): string {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64')
  const length = Buffer.alloc(4)
  length.writeUInt32BE(message.length)
  const content = Buffer.concat([randomBytes(16), length, message, Buffer.from(appId)])
  const pad = 32 - (content.length % 32)
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false)
  return Buffer.concat([cipher.update(Buffer.concat([content, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64')
}
