/**
 * What a client can do to the HTTP layer itself, below and around the WeChat protocol: stall, leave midway,
 * send what is not HTTP, use another method or a trailing slash. Each gets an answer, a log line with a code
 * and a metric, and nothing holds the server or its shutdown.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { computeSignature } from '../../core/verify/signature.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'
import { rawConnection, rawExchange } from '../support/raw-connection.ts'

const RULES = { 'main.yaml': 'rules:\n  - name: hello\n    keywords: [hello]\n    reply: { type: text, content: hi }\n' }

function signedSearch(token: string): string {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = `n${Math.random().toString(36).slice(2)}`
  return new URLSearchParams({ signature: computeSignature([token, timestamp, nonce]), timestamp, nonce }).toString()
}

const waitFor = async (check: () => boolean, ms: number) => {
  const until = Date.now() + ms
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
  return check()
}

describe('HTTP edges', () => {
  let h: Harness
  before(async () => {
    h = await startHarness({ rules: RULES, config: { limits: { requestTimeoutMs: 1500 } } })
  })
  after(() => h.close())

  it('a body that stops arriving is answered 408 and its connection closed, with a line and a metric', async () => {
    const before = h.lines.length
    const eventsBefore = h.events.length
    const req = h.sim('plain').request(push.text('u-stall', 'hello'))
    const c = rawConnection(h.url)
    c.socket.write(`POST /wechat/plain?${req.search} HTTP/1.1\r\nHost: x\r\nContent-Length: ${req.body.length}\r\n\r\n${req.body.slice(0, 20)}`)
    const after = await c.closed
    assert.match(c.received(), /^HTTP\/1\.1 408 /)
    // 1.5 s allowed, checked every second.
    assert.ok(after < 4_000, `closed after ${after} ms`)
    assert.ok(h.lines.slice(before).some((l) => l.code === 'REQUEST_TIMEOUT' && typeof l.reason === 'string'), 'a REQUEST_TIMEOUT line')
    assert.ok(h.events.some((e) => e.type === 'rejected' && e.code === 'REQUEST_TIMEOUT' && e.status === 408))
    assert.equal((await h.post('plain', push.text('u-after', 'hello'))).reply?.Content, 'hi')
    // One request, one line: the body read that the timeout cut short is not a second refusal (BAD_BODY,
    // "request aborted"), nor a second rejected metric (an operator's review).
    const refusals = h.lines.slice(before).filter((l) => typeof l.code === 'string' && String(l.msg).startsWith('request refused'))
    assert.deepEqual(refusals.map((l) => l.code), ['REQUEST_TIMEOUT'])
    assert.equal(h.events.slice(eventsBefore).filter((e) => e.type === 'rejected').length, 1)
  })

  it('an answer given without reading the body closes the connection: a PUT, an unknown account, the endpoint check, a path of nobody\'s (found by a robustness review)', async () => {
    // Kept open, node read the announced 100 MB, for nothing, until the request timeout (here 1.5 s).
    const heads = [
      ['PUT /wechat/plain', 405],
      ['POST /wechat/nobody', 404],
      [`GET /wechat/plain?${signedSearch('plaintoken')}&echostr=e`, 200],
      ['POST /nothing-here', 404],
    ] as const
    for (const [head, status] of heads) {
      const c = rawConnection(h.url)
      c.socket.write(`${head} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n${'x'.repeat(1000)}`)
      const closedAfter = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 1_000))])
      assert.match(c.received(), new RegExp(`^HTTP/1\\.1 ${status} `), head)
      assert.match(c.received(), /\r\nConnection: close\r\n/i, head)
      assert.ok(closedAfter >= 0, `${head}: still open after 1 s`)
      c.socket.destroy()
    }
    assert.equal((await h.post('plain', push.text('u-after-unread', 'hello'))).reply?.Content, 'hi')
  })

  it('garbage after a whole request on its connection: the request is answered first, then the connection ends, with a line (found by a robustness review)', async () => {
    // A 400 written when the parser failed on the garbage went out ahead of the answer, which was lost
    // though the message had run.
    const before = h.lines.length
    const req = h.sim('plain').request(push.text('u-pipelined', 'hello'))
    const c = rawConnection(h.url)
    c.socket.write(`POST /wechat/plain?${req.search} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(req.body)}\r\n\r\n${req.body}GARBAGE\r\n\r\n`)
    const closedAfter = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 3_000))])
    assert.ok(closedAfter >= 0, 'the connection ended')
    assert.match(c.received(), /^HTTP\/1\.1 200 /, c.received())
    assert.match(c.received(), /<Content><!\[CDATA\[hi\]\]><\/Content>/)
    assert.doesNotMatch(c.received(), /400 Bad Request/)
    assert.ok(h.lines.slice(before).some((l) => l.code === 'BAD_HTTP'), 'the garbage is said')
  })

  it('what node answered by itself in silence gets a line and a metric: an unmet Expect, no Host, CONNECT (found by a robustness review)', async () => {
    const cases = [
      [`POST /wechat/plain?${signedSearch('plaintoken')} HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 6\r\n\r\n<xml/>`, 417, 'BAD_HTTP', /Expect: 200-ok/],
      [`GET /wechat/plain HTTP/1.1\r\n\r\n`, 400, 'BAD_HTTP', /without a Host header/],
      ['CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', 405, 'METHOD_NOT_ALLOWED', /CONNECT is not GET or POST/],
    ] as const
    for (const [raw, status, code, reason] of cases) {
      const before = h.lines.length
      const eventsBefore = h.events.length
      const c = rawConnection(h.url)
      c.socket.write(raw)
      const closedAfter = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 3_000))])
      assert.ok(closedAfter >= 0, `${status}: the connection ended`)
      assert.match(c.received(), new RegExp(`^HTTP/1\\.1 ${status} `), c.received())
      const line = h.lines.slice(before).find((l) => l.code === code)
      assert.ok(line && reason.test(String(line.reason)), JSON.stringify(h.lines.slice(before)))
      assert.ok(h.events.slice(eventsBefore).some((e) => e.type === 'rejected' && e.code === code && e.status === status))
    }
    assert.equal((await h.post('plain', push.text('u-after-silent', 'hello'))).reply?.Content, 'hi')
  })

  it('an idle keep-alive connection outlives the request timeout: it has no request in progress', async () => {
    const c = rawConnection(h.url)
    const get = () => `GET /wechat/plain?${signedSearch('plaintoken')}&echostr=e1 HTTP/1.1\r\nHost: x\r\n\r\n`
    c.socket.write(get())
    assert.ok(await waitFor(() => c.received().includes('\r\n\r\ne1'), 2_000), c.received())
    await new Promise((r) => setTimeout(r, 2_600))
    c.socket.write(get().replace('echostr=e1', 'echostr=e2'))
    assert.ok(await waitFor(() => c.received().endsWith('e2'), 2_000), c.received())
    assert.doesNotMatch(c.received(), /408/)
    c.socket.destroy()
  })

  const exchange = (head: string, body: Buffer) => rawExchange(h.url, head, body)

  describe('a push framed as any HTTP client may frame it is read alike: a BOM, layout, a prolog, any Content-Type, chunks, a query key repeated', () => {
    const text = () => Buffer.from(`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[u-frame]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>${Date.now()}${Math.floor(Math.random() * 1e6)}</MsgId></xml>`)
    const withLength = (headers: string) => (search: string, body: Buffer) =>
      `POST /wechat/plain?${search} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}Content-Length: ${body.length}\r\n\r\n`
    const cases: Array<[string, () => Buffer, (search: string, body: Buffer) => string, (search: string) => string]> = [
      ['a UTF-8 BOM', () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text()]), withLength('Content-Type: text/xml\r\n'), (q) => q],
      ['leading layout and an XML declaration', () => Buffer.concat([Buffer.from('\r\n  <?xml version="1.0" encoding="UTF-8"?>\n'), text()]), withLength('Content-Type: text/xml\r\n'), (q) => q],
      ['no Content-Type', text, withLength(''), (q) => q],
      ['Content-Type application/xml; charset=UTF-8', text, withLength('Content-Type: application/xml; charset=UTF-8\r\n'), (q) => q],
      ['Content-Type application/x-www-form-urlencoded', text, withLength('Content-Type: application/x-www-form-urlencoded\r\n'), (q) => q],
      ['a chunked body', text, (search) => `POST /wechat/plain?${search} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n`, (q) => q],
      ['the query\'s signature given twice, the right one first (the first is taken)', text, withLength(''), (q) => `${q}&signature=${'0'.repeat(40)}`],
    ]
    for (const [what, body, head, search] of cases) {
      it(`${what}: answered`, async () => {
        const bytes = body()
        const start = head(search(signedSearch('plaintoken')), bytes)
        // Chunked: in two chunks, the first 10 bytes and the rest.
        const chunks = Buffer.concat([Buffer.from('a\r\n'), bytes.subarray(0, 10), Buffer.from(`\r\n${(bytes.length - 10).toString(16)}\r\n`), bytes.subarray(10), Buffer.from('\r\n0\r\n\r\n')])
        const res = await exchange(start, start.includes('chunked') ? chunks : bytes)
        assert.equal(res.status, 'HTTP/1.1 200 OK', res.body)
        assert.match(res.body, /^<xml><ToUserName><!\[CDATA\[u-frame\]\]><\/ToUserName>.*<Content><!\[CDATA\[hi\]\]><\/Content><\/xml>$/)
      })
    }

    it('the query\'s signature given twice, a wrong one first: 401 BAD_SIGNATURE, said in a line', async () => {
      const before = h.lines.length
      const body = text()
      const res = await exchange(withLength('')(`signature=${'0'.repeat(40)}&${signedSearch('plaintoken')}`, body), body)
      assert.equal(res.status, 'HTTP/1.1 401 Unauthorized')
      assert.equal(res.body, 'BAD_SIGNATURE')
      assert.ok(h.lines.slice(before).some((l) => l.code === 'BAD_SIGNATURE'))
    })
  })

  it('a request that is not HTTP node can parse gets 400 and a BAD_HTTP line', async () => {
    const before = h.lines.length
    const c = rawConnection(h.url)
    c.socket.write(`POST /wechat/plain HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`)
    await c.closed
    assert.match(c.received(), /^HTTP\/1\.1 400 /)
    assert.ok(h.lines.slice(before).some((l) => l.code === 'BAD_HTTP' && String(l.reason).startsWith('HPE_')), 'a BAD_HTTP line')
  })

  it('a client that leaves mid-body is a BAD_BODY warning and a metric, not an internal error', async () => {
    const before = h.lines.length
    const c = rawConnection(h.url)
    const body = '<xml><ToUserName>a</ToUserName></xml>'
    c.socket.write(`POST /wechat/plain?${signedSearch('plaintoken')} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length + 50}\r\n\r\n${body}`)
    await new Promise((r) => setTimeout(r, 100))
    c.socket.end()
    assert.ok(await waitFor(() => h.lines.slice(before).some((l) => l.code === 'BAD_BODY'), 2_000), 'a BAD_BODY line')
    await new Promise((r) => setTimeout(r, 200))
    assert.deepEqual(h.lines.slice(before).filter((l) => l.code === 'INTERNAL'), [])
    assert.ok(h.events.some((e) => e.type === 'rejected' && e.code === 'BAD_BODY'))
  })

  it('another method on /wechat is 405 with Allow, a line and a metric', async () => {
    const before = h.lines.length
    const res = await fetch(`${h.url}/wechat/plain?${signedSearch('plaintoken')}`, { method: 'PUT', body: '<xml/>' })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'GET, POST')
    assert.ok(h.lines.slice(before).some((l) => l.code === 'METHOD_NOT_ALLOWED' && l.reason === 'PUT is not GET or POST'))
    assert.ok(h.events.some((e) => e.type === 'rejected' && e.code === 'METHOD_NOT_ALLOWED'))
  })

  it('an account URL with a trailing slash works; another path under /wechat/ is an unknown account, logged', async () => {
    const req = h.sim('plain').request(push.text('u-slash', 'hello'))
    const res = await fetch(`${h.url}/wechat/plain/?${req.search}`, { method: 'POST', body: req.body })
    assert.equal(res.status, 200)
    assert.match(await res.text(), /<Content><!\[CDATA\[hi\]\]><\/Content>/)
    const before = h.lines.length
    const bad = await fetch(`${h.url}/wechat/plain/x?${req.search}`, { method: 'POST', body: req.body })
    assert.equal(bad.status, 404)
    assert.equal(await bad.text(), 'UNKNOWN_ACCOUNT')
    assert.ok(h.lines.slice(before).some((l) => l.code === 'UNKNOWN_ACCOUNT' && l.reason === 'no account at /wechat/plain/x'))
  })

  it('an unknown account id of any length or bytes is said short and escaped: a request with no signature cannot write 36 KB lines', async () => {
    const before = h.lines.length
    const huge = await fetch(`${h.url}/wechat/${'A'.repeat(12_000)}`, { method: 'POST', body: '<xml/>' })
    assert.equal(huge.status, 404)
    const odd = await fetch(`${h.url}/wechat/%0a%1b%5b31mX`, { method: 'POST', body: '<xml/>' })
    assert.equal(odd.status, 404)
    const lines = h.lines.slice(before).filter((l) => l.code === 'UNKNOWN_ACCOUNT')
    assert.equal(lines.length, 2)
    assert.equal(lines[0].reason, `no account "${'A'.repeat(64)}…"`)
    assert.equal(lines[0].account, `${'A'.repeat(64)}…`)
    assert.ok(JSON.stringify(lines[0]).length < 1_000, `a ${JSON.stringify(lines[0]).length}-character line`)
    // Control characters stay escaped in the message, which `wxengine dev` prints as it is.
    assert.equal(lines[1].reason, 'no account "\\n\\u001b[31mX"')
  })
})

describe('shutdown with a stalled client', () => {
  it('closes within the reply budget and a second, not when the client gives up', async () => {
    // The request timeout is long here: shutdown itself must cut the connection.
    const h = await startHarness({ rules: RULES, config: { limits: { requestTimeoutMs: 60_000, replyBudgetMs: 1_000 } } })
    const c = rawConnection(h.url)
    c.socket.write(`POST /wechat/plain?${signedSearch('plaintoken')} HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n<xml>`)
    await new Promise((r) => setTimeout(r, 200))
    const started = Date.now()
    await h.close()
    const took = Date.now() - started
    assert.ok(took < 5_000, `shutdown took ${took} ms`)
    assert.ok((await c.closed) > 0)
  })
})
