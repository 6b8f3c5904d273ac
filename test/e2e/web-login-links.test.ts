/**
 * Login links from a plugin (`ctx.web.loginUrl`, core/web/login-link.ts) and the engine's publicUrl, over the
 * real server: the link in a reply, followed as a browser would, through a proxy that serves the engine under
 * /wx/ (as nginx's `location /wx/ { proxy_pass http://127.0.0.1:8080/; }` does), to the page with a ticket.
 * With publicUrl set, WeChat is told to come back to it whatever Host or X-Forwarded-Proto a request carries;
 * without it, a plugin's link throws at its line and a request with no Host is refused.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { DEFAULT_BROWSER_USER } from '../../core/testkit/fake-web-login.ts'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'
import { memberRules } from '../support/login-article-rules.ts'

const ACCOUNTS: AccountConfig[] = [
  { id: 'main', token: 'maintoken', appId: 'wxmain0000000001', appSecret: 'main-secret', mode: 'plaintext', pageDomains: ['h5.example.com', 'vip.example.com'] },
  { id: 'other', token: 'othertoken', appId: 'wxother000000001', appSecret: 'other-secret', mode: 'plaintext', pageDomains: ['other.example.com', 'vip.example.com'] },
]
const USER = 'oUser000000000000000000000001'

const RULES = `
rules:
  - name: links
    keywords: [orders, setup link, bad page, no link]
    plugin: web-links
`
const PLUGIN = `import { definePlugin } from 'wxengine/plugin'
let fromSetup = ''
let ghost = ''
export default definePlugin({
  name: 'web-links',
  setup(api) {
    // A reminder built in setup or a timer links into a page too.
    try { fromSetup = api.web('other').loginUrl('https://other.example.com/daily') } catch (e) { fromSetup = String(e) }
    try { api.web('ghost') } catch (e) { ghost = (e instanceof TypeError) + ' ' + e.message }
  },
  handle(ctx) {
    const text = ctx.message.kind === 'text' ? ctx.message.content : ''
    if (text === 'orders') {
      return ctx.reply.news([{ title: 'Your orders', url: ctx.web.loginUrl('https://h5.example.com/orders?tab=open#/list', { scope: 'userinfo' }) }])
    }
    if (text === 'setup link') return fromSetup + ' | ' + ghost
    if (text === 'bad page') {
      try {
        return ctx.web.loginUrl('https://evil.example.net/steal')
      } catch (e) {
        return (e instanceof TypeError) + ' ' + e.message
      }
    }
    // Not caught: the engine's log says why the message failed.
    if (text === 'no link') return ctx.web.loginUrl('https://h5.example.com/')
    return ctx.pass()
  },
})
`

/** For every account: each has vip.example.com among its pageDomains. */
const MEMBER_RULES = memberRules()

/** The browser's cookies (name -> value), and a step that keeps them, as web-login.test.ts does. */
function browser() {
  const jar = new Map<string, string>()
  const setCookies: string[] = []
  async function step(url: string, headers: Record<string, string> = {}) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { ...headers, cookie } : headers })
    for (const line of res.headers.getSetCookie()) {
      setCookies.push(line)
      const pair = line.split(';')[0]
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name)
      else jar.set(name, value)
    }
    return { status: res.status, location: res.headers.get('location') ?? '', text: await res.text() }
  }
  return { jar, setCookies, step }
}

/** A proxy that serves the engine under /wx/, as nginx would: the prefix taken off, everything else passed on. */
async function startPrefixProxy(target: () => string): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/'
    if (!url.startsWith('/wx/')) {
      res.writeHead(404).end('not under /wx/')
      return
    }
    seen.push(url)
    const upstream = new URL(target())
    const out = http.request({ host: upstream.hostname, port: upstream.port, path: url.slice('/wx'.length), method: req.method, headers: { ...req.headers, host: req.headers.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    out.on('error', () => res.writeHead(502).end())
    req.pipe(out)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

let fake: FakeWeChatApi
let plugins: string
before(async () => {
  fake = await startFakeWeChatApi({ apps: ACCOUNTS.map((a) => ({ appId: a.appId, appSecret: a.appSecret! })) })
  plugins = mkdtempSync(path.join(os.tmpdir(), 'wxengine-links-plugins-'))
  mkdirSync(path.join(plugins, 'web-links'))
  writeFileSync(path.join(plugins, 'web-links', 'index.ts'), PLUGIN)
})
after(async () => {
  await fake.close()
  rmSync(plugins, { recursive: true, force: true })
})

const platform = () => ({ platform: { apiBase: fake.baseUrl, openBase: fake.baseUrl } })

describe('with publicUrl: the engine behind a proxy at /wx/', () => {
  let h: Harness
  let proxy: Awaited<ReturnType<typeof startPrefixProxy>>
  before(async () => {
    proxy = await startPrefixProxy(() => h.url)
    h = await startHarness({ rules: { 'links.yaml': RULES, 'member.yaml': MEMBER_RULES }, plugins, accounts: ACCOUNTS, config: { ...platform(), publicUrl: `${proxy.url}/wx/` } })
  })
  after(async () => {
    await h.close()
    await proxy.close()
  })

  it("a plugin's link in a news reply logs the user in through the proxy and opens the page with a ticket", async () => {
    const res = await h.post('main', push.text(USER, 'orders'))
    assert.equal(res.status, 200, res.body)
    const article = (res.reply?.Articles as { item: Record<string, string> }).item
    const link = `${proxy.url}/wx/oauth/main?to=${encodeURIComponent('https://h5.example.com/orders?tab=open#/list')}&scope=userinfo`
    assert.equal(article.Url, link)

    fake.setBrowserUser({ openId: USER, nickname: '小明' })
    try {
      const b = browser()
      const toWeChat = await b.step(article.Url)
      assert.equal(toWeChat.status, 302, toWeChat.text)
      const consent = new URL(toWeChat.location)
      // WeChat comes back through the proxy, under its prefix: the engine's own address would not be reachable.
      assert.equal(consent.searchParams.get('redirect_uri'), `${proxy.url}/wx/oauth/main`)
      assert.equal(consent.searchParams.get('scope'), 'snsapi_userinfo')
      // The cookie is for the path the browser sees; at the engine's /oauth/main it would never be sent back.
      assert.match(b.setCookies[0], /^wxe_login_[0-9a-f]{12}=[^;]+; path=\/wx\/oauth\/main; expires=[^;]+; samesite=lax; httponly$/)
      const back = await b.step(toWeChat.location.split('#')[0])
      assert.equal(back.status, 302)
      assert.match(back.location, new RegExp(`^${proxy.url}/wx/oauth/main\\?code=`))
      const toPage = await b.step(back.location)
      assert.equal(toPage.status, 302, toPage.text)
      assert.match(toPage.location, /^https:\/\/h5\.example\.com\/orders\?tab=open&wxe_ticket=[A-Za-z0-9_-]{24}#\/list$/)
      // Cleared at the path it was set for.
      assert.match(b.setCookies[1], /^wxe_login_[0-9a-f]{12}=; path=\/wx\/oauth\/main; expires=Thu, 01 Jan 1970/)
      assert.equal(b.jar.size, 0)
      assert.deepEqual(proxy.seen.map((p) => p.split('?')[0]), ['/wx/oauth/main', '/wx/oauth/main'])

      const ticket = new URL(toPage.location).searchParams.get('wxe_ticket')
      const who = (await (await fetch(`${proxy.url}/wx/oauth-identity/main?ticket=${ticket}`)).json()) as Record<string, unknown>
      assert.equal(who.openid, USER)
      assert.equal((who.userinfo as Record<string, unknown>).nickname, '小明')
    } finally {
      fake.setBrowserUser(DEFAULT_BROWSER_USER)
    }
  })

  it("WeChat is sent back to publicUrl whatever Host or X-Forwarded-Proto a request carries; http there: no Secure cookie", async () => {
    const b = browser()
    const toWeChat = await b.step(`${h.url}/oauth/main?to=${encodeURIComponent('https://h5.example.com/')}`, { host: 'evil.example.net', 'x-forwarded-proto': 'https' })
    assert.equal(toWeChat.status, 302, toWeChat.text)
    assert.equal(new URL(toWeChat.location).searchParams.get('redirect_uri'), `${proxy.url}/wx/oauth/main`)
    assert.doesNotMatch(b.setCookies[0], /secure/i)
  })

  it("a rules file's news article with login: is sent as the account's own login link, no plugin needed", async () => {
    for (const account of ['main', 'other']) {
      const res = await h.post(account, push.text(USER, '会员'))
      const article = (res.reply?.Articles as { item: Record<string, string> }).item
      assert.equal(article.Url, `${proxy.url}/wx/oauth/${account}?to=${encodeURIComponent('https://vip.example.com/center')}&scope=userinfo`)
    }
  })

  it('setup builds links for any account by id; an id not served is a TypeError naming the ones that are', async () => {
    const res = await h.post('main', push.text(USER, 'setup link'))
    assert.equal(res.reply?.Content, `${proxy.url}/wx/oauth/other?to=${encodeURIComponent('https://other.example.com/daily')} | true api.web("ghost"): no such account; the engine serves "main", "other" (api.accounts)`)
  })

  it("a page not on the account's pageDomains is a TypeError at the plugin's call, never a link", async () => {
    const res = await h.post('main', push.text(USER, 'bad page'))
    assert.match(String(res.reply?.Content), /^true web\.loginUrl: "evil\.example\.net\/steal" is not under the account's page domains \(h5\.example\.com, vip\.example\.com\)/)
  })
})

describe('without publicUrl', () => {
  let h: Harness
  before(async () => {
    h = await startHarness({ rules: { 'links.yaml': RULES }, plugins, accounts: ACCOUNTS, config: platform() })
  })
  after(() => h.close())

  it("a plugin's link throws, and the failed message's log line says to set publicUrl", async () => {
    const res = await h.post('main', push.text(USER, 'no link'))
    assert.equal(res.status, 200)
    const failed = h.lines.find((l) => l.code === 'PLUGIN_ERROR')
    assert.ok(failed, JSON.stringify(h.lines.slice(-5)))
    assert.match(JSON.stringify(failed), /TypeError: web\.loginUrl: the engine's public address is not set: set publicUrl in engine\.config\.ts \(or PUBLIC_URL\)/)
  })

  it('a login takes the scheme and host from the request, and one with no Host is refused saying to set publicUrl', async () => {
    const b = browser()
    const toWeChat = await b.step(`${h.url}/oauth/main?to=${encodeURIComponent('https://h5.example.com/')}`, { 'x-forwarded-proto': 'https' })
    assert.equal(new URL(toWeChat.location).searchParams.get('redirect_uri'), `https://${new URL(h.url).host}/oauth/main`)
    assert.match(b.setCookies[0], /; secure; httponly$/)

    // HTTP/1.0 may leave Host out (Node refuses that only for 1.1).
    const { port } = new URL(h.url)
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(`GET /oauth/main?to=${encodeURIComponent('https://h5.example.com/')} HTTP/1.0\r\n\r\n`))
      let data = ''
      socket.on('data', (d) => (data += d))
      socket.on('end', () => resolve(data))
      socket.on('error', reject)
    })
    assert.match(raw, /^HTTP\/1\.1 400 /)
    assert.match(raw, /BAD_HTTP: no Host header, so there is no address for WeChat to send the user back to: set publicUrl \(PUBLIC_URL\)/)
    assert.ok(h.lines.some((l) => l.code === 'BAD_HTTP' && l.status === 400 && String(l.msg).startsWith('web login refused: no Host header')), 'the refusal is logged with its reason')
  })

  it('a Host that is no host name is refused, and a scheme other than http or https from X-Forwarded-Proto is not taken', async () => {
    // Both went into the redirect_uri as written: http://evil.example.net/x?y=/oauth, javascript://...
    const { port } = new URL(h.url)
    const raw = (headers: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(`GET /oauth/main?to=${encodeURIComponent('https://h5.example.com/')} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`))
        let data = ''
        socket.on('data', (d) => (data += d))
        socket.on('end', () => resolve(data))
        socket.on('error', reject)
      })
    const pathHost = await raw('Host: evil.example.net/x?y=\r\n')
    assert.match(pathHost, /^HTTP\/1\.1 400 /)
    assert.match(pathHost, /BAD_HTTP: the Host header "evil\.example\.net\/x\?y=" is no host name, so there is no address for WeChat to send the user back to: set publicUrl/)
    const scheme = await raw(`Host: 127.0.0.1:${port}\r\nX-Forwarded-Proto: javascript\r\n`)
    assert.match(scheme, /^HTTP\/1\.1 302 /)
    const location = /\r\nLocation: (\S+)\r\n/i.exec(scheme)?.[1]
    assert.equal(new URL(location!).searchParams.get('redirect_uri'), `http://127.0.0.1:${port}/oauth/main`)
    for (const host of ['wx.example.com', 'wx.example.com:8443', '[::1]:8080', '127.0.0.1']) {
      assert.match(await raw(`Host: ${host}\r\n`), /^HTTP\/1\.1 302 /, host)
    }
  })
})

describe('with an https publicUrl', () => {
  let h: Harness
  before(async () => {
    h = await startHarness({ rules: { 'links.yaml': RULES }, plugins, accounts: ACCOUNTS, config: { ...platform(), publicUrl: 'https://wx.example.com' } })
  })
  after(() => h.close())

  it('the login cookie is Secure though this hop is http, for the path under publicUrl', async () => {
    const b = browser()
    const toWeChat = await b.step(`${h.url}/oauth/other?to=${encodeURIComponent('https://other.example.com/a')}`)
    assert.equal(toWeChat.status, 302, toWeChat.text)
    assert.equal(new URL(toWeChat.location).searchParams.get('redirect_uri'), 'https://wx.example.com/oauth/other')
    assert.match(b.setCookies[0], /; path=\/oauth\/other; expires=[^;]+; samesite=lax; secure; httponly$/)
  })
})
