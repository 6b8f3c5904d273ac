/**
 * The wire path end to end: a real server on loopback, spoken to as WeChat does, in all three modes,
 * and every bad input a client can send (issue: the engine's foundation).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createCipheriv, randomBytes } from 'node:crypto'
import http from 'node:http'
import { LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { computeSignature } from '../../core/verify/signature.ts'
import { createWeChatSimulator, push, type PushFields } from '../../core/testkit/wechat-simulator.ts'
import { AES_KEY, startHarness, type Harness } from '../support/engine-harness.ts'
import { keyOfPush } from '../support/message-key.ts'

const RULES = `
rules:
  - name: hello
    keywords:
      - exact: hello
    reply:
      type: text
      content: "Hello ]]> <world> & 你好"
  - name: many-news
    keywords:
      - exact: news
    reply:
      type: news
      articles:
        - { title: A, url: "https://example.com/a" }
        - { title: B, url: "https://example.com/b" }
  - name: trailing-x
    keywords:
      - regex: '\\s+x$'
    reply: { type: text, content: ends in x }
default:
  reply: { type: text, content: nothing matched }
welcome:
  reply: { type: text, content: welcome! }
`

/** AES-256-CBC with WeChat's key/IV but a plaintext we fully control (to forge bad padding and lengths). */
function rawEncrypt(plain: Buffer): string {
  const key = Buffer.from(AES_KEY + '=', 'base64')
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16))
  c.setAutoPadding(false)
  return Buffer.concat([c.update(plain), c.final()]).toString('base64')
}

function wechatPlain(msg: string, appId: string, lengthOverride?: number): Buffer {
  const body = Buffer.from(msg)
  const len = Buffer.alloc(4)
  len.writeUInt32BE(lengthOverride ?? body.length)
  const raw = Buffer.concat([randomBytes(16), len, body, Buffer.from(appId)])
  const pad = 32 - (raw.length % 32)
  return Buffer.concat([raw, Buffer.alloc(pad, pad)])
}

describe('wire: request to reply XML', () => {
  let h: Harness
  before(async () => {
    h = await startHarness({ rules: { 'main.yaml': RULES } })
  })
  after(() => h.close())

  const signedQuery = (token: string, extra: Record<string, string> = {}) => {
    const timestamp = String(Math.floor(Date.now() / 1000))
    const nonce = 'n' + Math.random().toString(36).slice(2)
    return { signature: computeSignature([token, timestamp, nonce]), timestamp, nonce, ...extra }
  }
  const rawPost = async (account: string, query: Record<string, string>, body: string) => {
    const res = await fetch(`${h.url}/wechat/${account}?${new URLSearchParams(query)}`, { method: 'POST', body })
    return { status: res.status, body: await res.text() }
  }
  const encryptedQuery = (token: string, encrypt: string) => {
    const q = signedQuery(token, { encrypt_type: 'aes' })
    return { ...q, msg_signature: computeSignature([token, q.timestamp, q.nonce, encrypt]) }
  }

  it('GET verification echoes echostr only with a valid signature', async () => {
    const ok = h.sim('plain').verification('echo-123')
    let res = await fetch(`${h.url}/wechat/plain?${ok.search}`)
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'echo-123')
    res = await fetch(`${h.url}/wechat/plain?${ok.search.replace(/signature=[0-9a-f]{4}/, 'signature=0000')}`)
    assert.equal(res.status, 401)
    assert.ok(!(await res.text()).includes('echo-123'))
    // The default account answers at /wechat too.
    res = await fetch(`${h.url}/wechat?${ok.search}`)
    assert.equal(await res.text(), 'echo-123')
  })

  it('GET verification signed outside the replay window: 401 STALE_TIMESTAMP, echostr not echoed (found by a robustness review)', async () => {
    // Every push URL carries a signed (timestamp, nonce): without the window any old one made the endpoint echo anything.
    const before = h.lines.length
    const stale = h.sim('plain').verification('<html>anything</html>', { timestamp: Math.floor(Date.now() / 1000) - 7200 })
    let res = await fetch(`${h.url}/wechat/plain?${stale.search}`)
    assert.equal(res.status, 401)
    assert.equal(await res.text(), 'STALE_TIMESTAMP')
    assert.match(String(h.lines.slice(before).find((l) => l.code === 'STALE_TIMESTAMP')?.reason), /s in the past \(window 600 s\)/)
    const q = new URLSearchParams(h.sim('plain').verification('e').search)
    q.set('timestamp', 'soon')
    res = await fetch(`${h.url}/wechat/plain?${q}`)
    assert.equal(res.status, 401)
    assert.equal(await res.text(), 'BAD_SIGNATURE')
  })

  it('GET verification missing a parameter: 401, as any request that cannot be verified (protocol.md §1)', async () => {
    const ok = new URLSearchParams(h.sim('plain').verification('echo-456').search)
    for (const name of ['signature', 'timestamp', 'nonce', 'echostr']) {
      const q = new URLSearchParams(ok)
      q.delete(name)
      const res = await fetch(`${h.url}/wechat/plain?${q}`)
      assert.equal(res.status, 401, name)
      assert.equal(await res.text(), 'BAD_SIGNATURE', name)
    }
  })

  it('plaintext: text message -> text reply with CDATA split and fields swapped', async () => {
    const r = await h.post('plain', push.text('user-1', 'hello'))
    assert.equal(r.status, 200)
    assert.equal(r.reply?.MsgType, 'text')
    assert.equal(r.reply?.Content, 'Hello ]]> <world> & 你好')
    assert.equal(r.reply?.ToUserName, 'user-1')
    assert.equal(r.reply?.FromUserName, 'gh_wxengine')
    assert.match(r.body, /\]\]\]\]><!\[CDATA\[>/)
    assert.match(String(r.reply?.CreateTime), /^\d{10}$/)
  })

  it('compatible mode: encrypted request gets an encrypted, signed reply', async () => {
    const r = await h.post('compat', push.text('user-2', 'hello'))
    assert.match(r.body, /^<xml><Encrypt>/)
    assert.equal(r.reply?.Content, 'Hello ]]> <world> & 你好')
  })

  it('compatible mode: a plaintext request gets a plaintext reply', async () => {
    const r = await h.post('compat', push.text('user-2', 'hello'), { encrypt: false })
    assert.doesNotMatch(r.body, /Encrypt/)
    assert.equal(r.reply?.Content, 'Hello ]]> <world> & 你好')
  })

  it('safe mode: encrypted both ways; a plaintext request is refused', async () => {
    const r = await h.post('safe', push.text('user-3', 'hello'))
    assert.match(r.body, /^<xml><Encrypt>/)
    assert.equal(r.reply?.Content, 'Hello ]]> <world> & 你好')
    const plain = h.sim('plain').request(push.text('user-3', 'hello'))
    const res = await rawPost('safe', signedQuery('safetoken'), plain.body)
    assert.equal(res.status, 400)
  })

  it('default and welcome replies; news cut to 1 article when answering a user message', async () => {
    assert.equal((await h.post('plain', push.text('user-4', 'zzz'))).reply?.Content, 'nothing matched')
    assert.equal((await h.post('plain', push.event('user-4', 'subscribe'))).reply?.Content, 'welcome!')
    const news = await h.post('plain', push.text('user-4', 'news'))
    assert.equal(news.reply?.ArticleCount, '1')
    assert.ok(h.lines.some((l) => String(l.msg).includes('news') && l.level === 40), 'a warning says the news was cut')
  })

  it("an unknown message type is kept, routed and, being a user's message nothing answered, given the default reply; an unknown event gets success", async () => {
    const r = await h.post('plain', push.message('user-5', 'brand_new_type', { Foo: 'bar' }))
    assert.equal(r.status, 200)
    assert.equal(r.reply?.Content, 'nothing matched')
    const entry = h.events.find((e) => e.type === 'message' && e.entry.kind === 'unknown')
    assert.ok(entry, 'the unknown message went through routing')
    const ev = await h.post('plain', push.event('user-5', 'brand_new_event', { Foo: 'bar' }))
    assert.equal(ev.status, 200)
    assert.equal(ev.body, 'success')
  })

  it('a known type with a field that does not fit (Content repeated): kept as unknown, answered, and a line says why', async () => {
    const before = h.lines.length
    const xml = '<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[u-twice]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>a</Content><Content>b</Content><MsgId>77</MsgId></xml>'
    const res = await rawPost('plain', signedQuery('plaintoken'), xml)
    assert.equal(res.status, 200)
    const line = h.lines.slice(before).find((l) => typeof l.msg === 'string' && l.msg.startsWith('message kept as unknown'))
    assert.ok(line, JSON.stringify(h.lines.slice(before)))
    assert.equal(line.msg, 'message kept as unknown: Content is not text')
    assert.equal(line.msgType, 'text')
    assert.equal(line.openId, 'u-twice')
    assert.equal(line.account, 'plain')
    assert.equal(line.key, keyOfPush('plain', xml))
  })

  it('a known type that does not fit, sent with its MsgType padded differently each time: one budget, and the line stays short', async () => {
    const before = h.lines.length
    // `image` and 1 to 25 spaces, without its PicUrl: all `image` to the lookup. Each had a budget of its own
    // (20 lines a key), and a MsgType or Event of a megabyte of spaces wrote a line of a megabyte.
    for (let n = 1; n <= 25; n++) {
      const xml = `<xml><ToUserName>gh_1</ToUserName><FromUserName>u-pad</FromUserName><CreateTime>1</CreateTime><MsgType>image${' '.repeat(n)}</MsgType><MediaId>m</MediaId><MsgId>${900 + n}</MsgId></xml>`
      assert.equal((await rawPost('plain', signedQuery('plaintoken'), xml)).status, 200)
    }
    const huge = `<xml><ToUserName>gh_1</ToUserName><FromUserName>u-pad</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>LOCATION${'\t'.repeat(200_000)}</Event></xml>`
    assert.equal((await rawPost('plain', signedQuery('plaintoken'), huge)).status, 200)
    const unfit = h.lines.slice(before).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('message kept as unknown'))
    const padded = unfit.filter((l) => l.openId === 'u-pad' && l.event === undefined)
    assert.equal(padded.length, LINES_PER_KEY, 'the padded types share the budget of `image`')
    assert.equal(padded[0].msgType, 'image ')
    const event = unfit.find((l) => l.event !== undefined)
    assert.ok(event, JSON.stringify(h.lines.slice(before).map((l) => l.msg)))
    assert.equal(event.event, `LOCATION${'\t'.repeat(56)}…`)
    assert.ok(JSON.stringify(event).length < 1_000, `a short line, not ${JSON.stringify(event).length} characters`)
  })

  it("a text longer than the regex limit: answered at once by its other rules' keywords, its regexes not tried, and a line says so", async () => {
    assert.equal((await h.post('plain', push.text('u-long', 'a x'))).reply?.Content, 'ends in x')
    const before = h.lines.length
    // `\s+x$` tried from each of 400,000 starts: minutes on the serving thread, for every account.
    const long = push.text('u-long', 'a' + ' '.repeat(400_000) + 'y')
    const r = await h.post('plain', long)
    assert.equal(r.reply?.Content, 'nothing matched')
    const line = h.lines.slice(before).find((l) => typeof l.msg === 'string' && l.msg.startsWith('text longer than'))
    assert.ok(line, JSON.stringify(h.lines.slice(before)))
    assert.equal(line.msg, "text longer than 16384 characters: rules' regex keywords are not tried on it (text-matcher.ts says why), their exact, prefix and contains keywords are")
    assert.equal(line.length, 400_002)
    assert.equal(line.openId, 'u-long')
    // Written before the key was made, the line had none: now the message's account, key and a reason, as every
    // line about one message has them.
    assert.equal(line.account, 'plain')
    assert.equal(line.key, keyOfPush('plain', long))
    assert.equal(line.reason, 'text longer than 16384 characters')
  })

  describe('bad input: a specific status, a log line, and the engine keeps serving', () => {
    const cases: Array<[string, () => Promise<{ status: number; body: string }>, number, string]> = [
      ['not XML', () => rawPost('plain', signedQuery('plaintoken'), 'this is not xml'), 400, 'BAD_XML'],
      ['XML without FromUserName', () => rawPost('plain', signedQuery('plaintoken'), '<xml><ToUserName>a</ToUserName><MsgType>text</MsgType></xml>'), 400, 'MISSING_FIELD'],
      ['DOCTYPE with entities (billion laughs)', () => rawPost('plain', signedQuery('plaintoken'), `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><ToUserName>&lol2;</ToUserName></xml>`), 400, 'XML_DTD_FORBIDDEN'],
      ['external entity (XXE)', () => rawPost('plain', signedQuery('plaintoken'), `<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>`), 400, 'XML_DTD_FORBIDDEN'],
      ['wrong signature', () => rawPost('plain', { ...signedQuery('plaintoken'), signature: 'f'.repeat(40) }, '<xml/>'), 401, 'BAD_SIGNATURE'],
      // `signature` is checked before the body is parsed, in every mode: a forged request never reaches the XML reader.
      ['wrong signature on a body that is not XML', () => rawPost('plain', { ...signedQuery('plaintoken'), signature: 'f'.repeat(40) }, 'this is not xml'), 401, 'BAD_SIGNATURE'],
      ['wrong signature on a DOCTYPE', () => rawPost('plain', { ...signedQuery('plaintoken'), signature: 'f'.repeat(40) }, '<!DOCTYPE x [<!ENTITY y "z">]><xml/>'), 401, 'BAD_SIGNATURE'],
      ['wrong signature claiming encrypt_type=aes, body not XML', () => rawPost('plain', { ...signedQuery('plaintoken', { encrypt_type: 'aes' }), signature: 'f'.repeat(40) }, 'this is not xml'), 401, 'BAD_SIGNATURE'],
      ['safe mode: wrong signature and msg_signature on a DOCTYPE', () => rawPost('safe', { ...signedQuery('safetoken', { encrypt_type: 'aes' }), signature: 'f'.repeat(40), msg_signature: 'f'.repeat(40) }, '<!DOCTYPE x [<!ENTITY y "z">]><xml/>'), 401, 'BAD_SIGNATURE'],
      ['safe mode without signature', () => { const e = rawEncrypt(wechatPlain('<xml/>', 'wxsafe0000000001')); const { signature: _, ...q } = encryptedQuery('safetoken', e); return rawPost('safe', q, `<xml><Encrypt><![CDATA[${e}]]></Encrypt></xml>`) }, 401, 'BAD_SIGNATURE'],
      ['safe mode without msg_signature', () => { const e = rawEncrypt(wechatPlain('<xml/>', 'wxsafe0000000001')); const { msg_signature: _, ...q } = encryptedQuery('safetoken', e); return rawPost('safe', q, `<xml><Encrypt><![CDATA[${e}]]></Encrypt></xml>`) }, 401, 'BAD_SIGNATURE'],
      ['stale timestamp', () => rawPost('plain', (() => { const ts = String(Math.floor(Date.now() / 1000) - 3600); return { signature: computeSignature(['plaintoken', ts, 'n']), timestamp: ts, nonce: 'n' } })(), '<xml/>'), 401, 'STALE_TIMESTAMP'],
      ['unknown account', () => rawPost('nobody', signedQuery('plaintoken'), '<xml/>'), 404, 'UNKNOWN_ACCOUNT'],
      ['Encrypt that is not base64', () => rawPost('safe', encryptedQuery('safetoken', '***not base64***'), '<xml><Encrypt><![CDATA[***not base64***]]></Encrypt></xml>'), 400, 'BAD_ENCRYPT'],
      ['Encrypt with bad padding', () => { const e = rawEncrypt(Buffer.concat([randomBytes(63), Buffer.from([0])])); return rawPost('safe', encryptedQuery('safetoken', e), `<xml><Encrypt><![CDATA[${e}]]></Encrypt></xml>`) }, 400, 'BAD_ENCRYPT'],
      ['Encrypt whose length field runs past the end', () => { const e = rawEncrypt(wechatPlain('<xml/>', 'wxsafe0000000001', 100000)); return rawPost('safe', encryptedQuery('safetoken', e), `<xml><Encrypt><![CDATA[${e}]]></Encrypt></xml>`) }, 400, 'BAD_ENCRYPT'],
      ['Encrypt for another AppId', () => { const e = rawEncrypt(wechatPlain('<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>', 'wxSOMEONEELSE00')); return rawPost('safe', encryptedQuery('safetoken', e), `<xml><Encrypt><![CDATA[${e}]]></Encrypt></xml>`) }, 401, 'WRONG_APPID'],
      // Forged pushes with Encrypt repeated, or with elements inside it: BAD_ENCRYPT in safe and compatible mode
      // alike, not taken for a plaintext request (a robustness review).
      ['Encrypt repeated (safe)', () => { const e = rawEncrypt(wechatPlain('<xml/>', 'wxsafe0000000001')); return rawPost('safe', encryptedQuery('safetoken', e), `<xml><Encrypt><![CDATA[${e}]]></Encrypt><Encrypt><![CDATA[${e}]]></Encrypt></xml>`) }, 400, 'BAD_ENCRYPT'],
      ['Encrypt with an element inside (compatible)', () => rawPost('compat', encryptedQuery('compattoken', 'x'), '<xml><Encrypt><a>x</a></Encrypt></xml>'), 400, 'BAD_ENCRYPT'],
      ['msg_signature that does not match Encrypt', () => { const e = rawEncrypt(wechatPlain('<xml/>', 'wxsafe0000000001')); return rawPost('safe', { ...encryptedQuery('safetoken', e), msg_signature: 'a'.repeat(40) }, `<xml><Encrypt><![CDATA[${e}]]></Encrypt></xml>`) }, 401, 'BAD_SIGNATURE'],
    ]
    for (const [name, send, status, code] of cases) {
      it(`${name} -> ${status} ${code}`, async () => {
        const before = h.lines.length
        const res = await send()
        assert.equal(res.status, status)
        assert.equal(res.body, code)
        const logged = h.lines.slice(before).find((l) => l.code === code)
        assert.ok(logged, `a log line with code ${code}`)
        assert.ok(typeof logged.reason === 'string' && logged.reason.length > 0, 'the log line says why')
      })
    }

    it('a body over the limit is refused with 413 without reading it all (Content-Length and chunked)', async () => {
      const limit = h.runtime.config.limits.maxBodyBytes
      const big = 'x'.repeat(limit + 1)
      const res = await rawPost('plain', signedQuery('plaintoken'), big)
      assert.equal(res.status, 413)
      // Chunked: the server answers 413 as soon as the limit is passed, while we are still able to send more.
      const status = await new Promise<number>((resolve, reject) => {
        const q = new URLSearchParams(signedQuery('plaintoken'))
        const req = http.request(`${h.url}/wechat/plain?${q}`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (r) => {
          r.resume()
          resolve(r.statusCode ?? 0)
          req.destroy()
        })
        req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(e)))
        const chunk = Buffer.alloc(64 * 1024, 'y')
        let sent = 0
        const pump = () => {
          while (sent < limit * 50) {
            sent += chunk.length
            if (!req.write(chunk)) return void req.once('drain', pump)
          }
          req.end()
        }
        pump()
      })
      assert.equal(status, 413)
    })

    it('a POST without a valid signature is refused before its body is read: answered at once, the connection closed', async () => {
      // Headers promising a 1 MB body, and 10 bytes of it: without the token, a client could make the server
      // hold up to maxBodyBytes per connection until the request timeout.
      const queries: Record<string, string>[] = [{ timestamp: String(Math.floor(Date.now() / 1000)), nonce: 'n1', signature: 'f'.repeat(40) }, {}]
      for (const query of queries) {
        const before = h.lines.length
        const started = performance.now()
        const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
          const req = http.request(`${h.url}/wechat/plain?${new URLSearchParams(query)}`, { method: 'POST', headers: { 'content-length': String(1024 * 1024) } }, resolve)
          req.on('error', reject)
          req.write('<xml><ToUs')
        })
        res.resume()
        assert.equal(res.statusCode, 'signature' in query ? 401 : 400)
        assert.equal(res.headers.connection, 'close')
        assert.ok(performance.now() - started < 2_000, 'answered without waiting for the body')
        assert.ok(h.lines.slice(before).some((l) => l.code === ('signature' in query ? 'BAD_SIGNATURE' : 'BAD_QUERY')), JSON.stringify(h.lines.slice(before)))
      }
    })

    it('after all of that, the engine still answers', async () => {
      const r = await h.post('plain', push.text('user-9', 'hello'))
      assert.equal(r.reply?.MsgType, 'text')
    })
  })
})

describe('the mode decides, not whether a key is set (found by a code read)', () => {
  let h: Harness
  const plainKey = { id: 'plainkey', token: 'plainkeytoken', appId: 'wxplainkey000001', mode: 'plaintext' as const, encodingAESKey: AES_KEY }
  const plainNoKey = { id: 'plainnokey', token: 'plainnokeytoken', appId: 'wxplainnokey0001', mode: 'plaintext' as const }
  before(async () => {
    // A key kept while the console is switched back: the account says plaintext, and means it.
    h = await startHarness({ rules: { 'main.yaml': RULES }, accounts: [plainKey, plainNoKey] })
  })
  after(() => h.close())

  /** A push as WeChat sends it when the console is in `consoleMode` (the engine's account may say otherwise). */
  async function postAsConsole(account: typeof plainKey | typeof plainNoKey, consoleMode: 'compatible' | 'safe', user: string) {
    const sim = createWeChatSimulator({ account: { ...account, encodingAESKey: AES_KEY, mode: consoleMode } })
    const req = sim.request(push.text(user, 'hello'))
    const res = await fetch(`${h.url}/wechat/${account.id}?${req.search}`, { method: 'POST', body: req.body, headers: { 'content-type': 'text/xml' } })
    return { status: res.status, body: await res.text(), sent: req.body }
  }

  it('a plaintext account refuses a safe-mode push (Encrypt alone: 400 BAD_QUERY, the reason logged) and answers a plain one in plain XML', async () => {
    const before = h.lines.length
    const refused = await postAsConsole(plainKey, 'safe', 'user-k')
    assert.equal(refused.status, 400)
    assert.equal(refused.body, 'BAD_QUERY')
    const logged = h.lines.slice(before).find((l) => l.code === 'BAD_QUERY')
    assert.match(String(logged?.reason), /account "plainkey" is in plaintext mode but the push is encrypted only \(the console is in safe mode\): set encodingAESKey and mode: safe/)
    const plain = await h.post('plainkey', push.text('user-k', 'hello'), { encrypt: false })
    assert.equal(plain.status, 200)
    assert.equal(plain.reply?.MsgType, 'text')
    assert.doesNotMatch(plain.body, /<Encrypt>/)
  })

  it('a compatible-mode push (the console switched first) is answered in plain XML from its plain fields, and the mismatch said once per account', async () => {
    // 消息加解密说明: in 兼容模式 "公众号回复明文或密文均可，不影响现有消息收发": a plaintext handler keeps working.
    for (const account of [plainKey, plainNoKey]) {
      const before = h.lines.length
      for (const user of ['user-c1', 'user-c2']) {
        const r = await postAsConsole(account, 'compatible', user)
        assert.match(r.sent, /<MsgType><!\[CDATA\[text\]\]><\/MsgType>.*<Encrypt>/s, 'the push carries both')
        assert.equal(r.status, 200, r.body)
        assert.doesNotMatch(r.body, /<Encrypt>/)
        assert.match(r.body, /<ToUserName><!\[CDATA\[user-c\d\]\]><\/ToUserName>/)
        assert.match(r.body, /<MsgType><!\[CDATA\[text\]\]><\/MsgType><Content><!\[CDATA\[Hello /)
      }
      const said = h.lines.slice(before).filter((l) => /configured plaintext but WeChat sends in compatible mode/.test(String(l.msg)))
      assert.equal(said.length, 1, JSON.stringify(h.lines.slice(before)))
      assert.equal(said[0].account, account.id)
      assert.equal(said[0].level, 40)
    }
  })
})

describe('a news reply to a user message of a type the engine does not read is held to one article, as any user message (found by a protocol review)', () => {
  let h: Harness
  before(async () => {
    h = await startHarness({
      rules: {
        'main.yaml': `
handlers:
  - type: unknown
    reply:
      type: news
      articles:
        - { title: A, url: "https://example.com/a" }
        - { title: B, url: "https://example.com/b" }
`,
      },
    })
  })
  after(() => h.close())

  // The platform shows nothing at all for a news reply of more articles than it takes (protocol.md §4).
  const cases: Array<[string, PushFields | string, string]> = [
    ['a user message of a new MsgType', push.message('user-n1', 'brand_new_type', { Foo: 'bar' }), '1'],
    ['a text that does not fit its member (Content repeated)', '<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[user-n2]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>a</Content><Content>b</Content><MsgId>78</MsgId></xml>', '1'],
    ['an event of a new kind: the event limit', push.event('user-n3', 'brand_new_event'), '2'],
  ]
  for (const [what, fields, count] of cases) {
    it(`${what}: ${count} article(s)`, async () => {
      const r = await h.post('plain', fields)
      assert.equal(r.status, 200)
      assert.equal(r.reply?.MsgType, 'news', r.body)
      assert.equal(r.reply?.ArticleCount, count)
    })
  }
})
