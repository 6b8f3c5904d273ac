/**
 * A page's web login (core/web/web-login-endpoint.ts) over the real server, each redirect followed by hand
 * as a browser would, through the fake platform's consent page and code exchange (fake-web-login.ts).
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, describe, it } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { WEB_CODE_PATH } from '../../core/platform/web-authorization.ts'
import { DEFAULT_BROWSER_USER } from '../../core/testkit/fake-web-login.ts'
import { startHarness } from '../support/engine-harness.ts'
import { startWebLoginEngine, WEB_LOGIN_ACCOUNT, type WebLoginEngine } from '../support/web-login-engine.ts'

const ACCOUNTS: AccountConfig[] = [
  WEB_LOGIN_ACCOUNT,
  { id: 'other', token: 'othertoken', appId: 'wxother000000001', appSecret: 'other-secret', mode: 'plaintext', pageDomains: ['other.example.com'] },
  { id: 'nodomains', token: 'nodomtoken', appId: 'wxnodom000000001', appSecret: 'nodom-secret', mode: 'plaintext' },
  { id: 'nosecret', token: 'nosecrettoken', appId: 'wxnosec000000001', mode: 'plaintext', pageDomains: ['h5.example.com'] },
]
const PAGE = 'https://h5.example.com/order?id=7'

describe('web login: /oauth and /oauth-identity', () => {
  let h: WebLoginEngine
  before(async () => {
    h = await startWebLoginEngine(ACCOUNTS)
  })
  after(() => h?.close())

  /** The browser's cookies for the engine's host (name -> value); a fresh jar is another browser. */
  type Jar = Map<string, string>
  let browser: Jar = new Map()

  /** One request, its redirect not followed, with and into the jar's cookies when it goes to the engine. */
  async function step(url: string, headers: Record<string, string> = {}, method = 'GET', jar: Jar = browser) {
    const toEngine = url.startsWith(h.url)
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await fetch(url, { redirect: 'manual', headers: toEngine && cookie ? { ...headers, cookie } : headers, method })
    if (toEngine) {
      for (const line of res.headers.getSetCookie()) {
        const [pair, ...attributes] = line.split(';')
        const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]
        const gone = value === '' || attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a))
        if (gone) jar.delete(name)
        else jar.set(name, value)
      }
    }
    return { status: res.status, location: res.headers.get('location') ?? '', text: await res.text(), headers: res.headers }
  }

  /** The whole login as a browser makes it: the engine, WeChat's consent (no fragment sent), back to the engine. */
  async function login(path: string) {
    const toWeChat = await step(`${h.url}${path}`)
    assert.equal(toWeChat.status, 302, toWeChat.text)
    const back = await step(toWeChat.location.split('#')[0])
    assert.equal(back.status, 302, back.text)
    const toPage = await step(back.location)
    return { toWeChat, back, toPage }
  }

  const ticketIn = (location: string) => new URL(location).searchParams.get('wxe_ticket') ?? ''

  it('base: to WeChat with the account, a state and this path to come back to; back to the page with a ticket, good once', async () => {
    const { toWeChat, back, toPage } = await login(`/oauth?to=${encodeURIComponent(`${PAGE}#/pay`)}`)
    const consent = new URL(toWeChat.location)
    assert.equal(consent.origin + consent.pathname, `${h.fake.baseUrl}/connect/oauth2/authorize`)
    assert.equal(consent.hash, '#wechat_redirect')
    assert.equal(consent.searchParams.get('appid'), 'wxmain0000000001')
    assert.equal(consent.searchParams.get('redirect_uri'), `${h.url}/oauth`)
    assert.equal(consent.searchParams.get('response_type'), 'code')
    assert.equal(consent.searchParams.get('scope'), 'snsapi_base')
    // a-zA-Z0-9 only, as WeChat's document allows in a state.
    assert.match(consent.searchParams.get('state') ?? '', /^[0-9a-f]{32}$/)
    assert.match(back.location, new RegExp(`^${h.url}/oauth\\?code=[0-9a-f]+&state=`))
    // The page, as it was, with the ticket before its fragment.
    assert.match(toPage.location, /^https:\/\/h5\.example\.com\/order\?id=7&wxe_ticket=[A-Za-z0-9_-]{24}#\/pay$/)
    assert.equal(toPage.status, 302)

    const redeem = `${h.url}/oauth-identity?ticket=${ticketIn(toPage.location)}`
    const first = await fetch(redeem)
    assert.equal(first.status, 200)
    assert.equal(first.headers.get('cache-control'), 'no-store')
    assert.deepEqual(await first.json(), { openid: DEFAULT_BROWSER_USER.openId, scope: 'snsapi_base' })
    const second = await fetch(redeem)
    assert.equal(second.status, 404)
    assert.match(((await second.json()) as { reason: string }).reason, /^no such ticket: it was used already/)
  })

  it("userinfo: the user's profile and unionid come with the openid", async () => {
    h.fake.setBrowserUser({ openId: 'oAlice', unionId: 'uAlice', nickname: '小明', headimgurl: 'https://thirdwx.qlogo.cn/a/132' })
    try {
      const { toWeChat, toPage } = await login(`/oauth/main?scope=userinfo&to=${encodeURIComponent(PAGE)}`)
      assert.equal(new URL(toWeChat.location).searchParams.get('scope'), 'snsapi_userinfo')
      assert.equal(new URL(toWeChat.location).searchParams.get('redirect_uri'), `${h.url}/oauth/main`)
      const who = (await (await fetch(`${h.url}/oauth-identity/main?ticket=${ticketIn(toPage.location)}`)).json()) as Record<string, unknown>
      assert.equal(who.openid, 'oAlice')
      assert.equal(who.unionid, 'uAlice')
      assert.equal(who.scope, 'snsapi_userinfo')
      const info = who.userinfo as Record<string, unknown>
      assert.equal(info.nickname, '小明')
      assert.equal(info.headimgurl, 'https://thirdwx.qlogo.cn/a/132')
      assert.equal(info.errcode, undefined)
    } finally {
      h.fake.setBrowserUser(DEFAULT_BROWSER_USER)
    }
  })

  it('a user who refuses a userinfo login is sent back to the page saying so, with no ticket', async () => {
    h.fake.setBrowserUser({ openId: 'oBob', refuses: true })
    try {
      const { toPage } = await login(`/oauth?scope=snsapi_userinfo&to=${encodeURIComponent(PAGE)}`)
      assert.equal(toPage.location, `${PAGE}&wxe_login=refused`)
    } finally {
      h.fake.setBrowserUser(DEFAULT_BROWSER_USER)
    }
  })

  it('a callback is good once, in the browser that started the login, for its account', async () => {
    const toWeChat = await step(`${h.url}/oauth?to=${encodeURIComponent(PAGE)}`)
    const cookie = toWeChat.headers.getSetCookie()[0] ?? ''
    assert.match(cookie, /^wxe_login_[0-9a-f]{12}=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; path=\/oauth; expires=[^;]+; samesite=lax; httponly$/)
    const back = await step(toWeChat.location.split('#')[0])
    assert.equal((await step(back.location)).status, 302)
    const replay = await step(back.location)
    assert.equal(replay.status, 400)
    assert.equal(replay.text, 'BAD_QUERY: this login was not started in this browser, or is older than 10 minutes: open the page again\n')
    assert.equal((await step(`${h.url}/oauth?code=abc&state=made-up`)).text, 'BAD_QUERY: this login was not started here: open the page again\n')
    // A state of one account is not another's: its cookie does not open with the other account's key.
    const started = await step(`${h.url}/oauth/other?to=${encodeURIComponent('https://other.example.com/')}`)
    const state = new URL(started.location).searchParams.get('state')
    const crossed = await step(`${h.url}/oauth/main?code=abc&state=${state}`)
    assert.equal(crossed.text, "BAD_QUERY: the login cookie is not this account's: open the page again\n")
  })

  it("login CSRF: WeChat's redirect back, sent to someone else's browser, does not log them in", async () => {
    // The attacker logs in as themself and stops at WeChat's redirect back...
    const attacker: Jar = new Map()
    const toWeChat = await step(`${h.url}/oauth?to=${encodeURIComponent(PAGE)}`, {}, 'GET', attacker)
    const back = await step(toWeChat.location.split('#')[0], {}, 'GET', attacker)
    // ...and has the victim open it.
    const victim = await step(back.location, {}, 'GET', new Map())
    assert.equal(victim.status, 400)
    assert.doesNotMatch(victim.location, /wxe_ticket/)
  })

  it('HEAD spends nothing: a link checker or a prefetch does not use up a login or a ticket', async () => {
    const toWeChat = await step(`${h.url}/oauth?to=${encodeURIComponent(PAGE)}`)
    const back = await step(toWeChat.location.split('#')[0])
    const exchanges = () => h.fake.requests.filter((r) => r.path === WEB_CODE_PATH).length
    const before = exchanges()
    assert.equal((await step(back.location, {}, 'HEAD')).status, 405)
    assert.equal(exchanges(), before)
    const toPage = await step(back.location)
    assert.equal(toPage.status, 302)
    const redeem = `${h.url}/oauth-identity?ticket=${ticketIn(toPage.location)}`
    assert.equal((await step(redeem, {}, 'HEAD')).status, 405)
    assert.equal((await fetch(redeem)).status, 200)
  })

  it('the page is used as it was checked: parsed, its wxe_ parameters dropped, the ticket added once', async () => {
    for (const [to, page] of [
      ['https:h5.example.com/x', 'https://h5.example.com/x?wxe_ticket='],
      [' https://h5.example.com/x', 'https://h5.example.com/x?wxe_ticket='],
      ['https://h5.example.com/?wxe_ticket=ATTACKERS&a=1', 'https://h5.example.com/?a=1&wxe_ticket='],
      ['https://h5.example.com/?wxe_login=refused', 'https://h5.example.com/?wxe_ticket='],
    ]) {
      const { toPage } = await login(`/oauth?to=${encodeURIComponent(to)}`)
      assert.ok(toPage.location.startsWith(page), `${JSON.stringify(to)} -> ${toPage.location}`)
      assert.equal(new URL(toPage.location).searchParams.getAll('wxe_ticket').length, 1)
    }
  })

  it('a user in a snapshot page (快照页) is said to be one, with no profile', async () => {
    h.fake.setBrowserUser({ openId: 'oVirtual', snapshot: true })
    try {
      const { toPage } = await login(`/oauth?scope=userinfo&to=${encodeURIComponent(PAGE)}`)
      const who = await (await fetch(`${h.url}/oauth-identity?ticket=${ticketIn(toPage.location)}`)).json()
      assert.deepEqual(who, { openid: 'oVirtual', scope: 'snsapi_userinfo', snapshot: true })
    } finally {
      h.fake.setBrowserUser(DEFAULT_BROWSER_USER)
    }
  })

  it("a ticket is the account's: another account's endpoint does not know it", async () => {
    const { toPage } = await login(`/oauth/other?to=${encodeURIComponent('https://other.example.com/')}`)
    assert.equal((await fetch(`${h.url}/oauth-identity/main?ticket=${ticketIn(toPage.location)}`)).status, 404)
    assert.equal((await fetch(`${h.url}/oauth-identity/other?ticket=${ticketIn(toPage.location)}`)).status, 200)
  })

  it("behind a proxy, WeChat is told to come back on the proxy's scheme and host", async () => {
    // node:http, not fetch: fetch sets Host itself.
    const location = await new Promise<string>((resolve, reject) => {
      const req = http.get(`${h.url}/oauth?to=${encodeURIComponent(PAGE)}`, { headers: { 'x-forwarded-proto': 'https', host: 'wx.example.com' } }, (res) => {
        res.resume()
        resolve(String(res.headers.location))
      })
      req.on('error', reject)
    })
    assert.equal(new URL(location).searchParams.get('redirect_uri'), 'https://wx.example.com/oauth')
  })

  it('a login on https hands no ticket to an http page; on plain http the page may be http', async () => {
    const httpPage = 'http://h5.example.com/order?id=7'
    const viaProxy = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.get(`${h.url}/oauth?to=${encodeURIComponent(httpPage)}`, { headers: { 'x-forwarded-proto': 'https', host: 'wx.example.com' } }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      })
      req.on('error', reject)
    })
    assert.equal(viaProxy.status, 400)
    assert.match(viaProxy.text, /^BAD_QUERY: the to "http:\/\/h5\.example\.com\/order\?id=7" is http while the login runs on https: the user's login ticket would reach the page unencrypted; pass the page's https address/)
    // This engine is reached on http itself (a LAN, a test): nothing is encrypted to begin with, and it is allowed.
    const { toPage } = await login(`/oauth?to=${encodeURIComponent(httpPage)}`)
    assert.match(toPage.location, /^http:\/\/h5\.example\.com\/order\?id=7&wxe_ticket=[\w-]{24}$/)
  })

  it("CORS: the account's pages may redeem from their script, no other page", async () => {
    const { toPage } = await login(`/oauth?to=${encodeURIComponent(PAGE)}`)
    const mine = await fetch(`${h.url}/oauth-identity?ticket=${ticketIn(toPage.location)}`, { headers: { origin: 'https://h5.example.com' } })
    assert.equal(mine.headers.get('access-control-allow-origin'), 'https://h5.example.com')
    const theirs = await fetch(`${h.url}/oauth-identity?ticket=x`, { headers: { origin: 'https://evil.example.net' } })
    assert.equal(theirs.headers.get('access-control-allow-origin'), null)
    const preflight = await fetch(`${h.url}/oauth-identity`, { method: 'OPTIONS', headers: { origin: 'https://h5.example.com', 'access-control-request-headers': 'x-requested-with' } })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://h5.example.com')
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'x-requested-with')
    // A script that adds its own header is not preflighted before every call: reused for ten minutes.
    assert.equal(preflight.headers.get('access-control-max-age'), '600')
  })

  it('refusals: each with its status and reason, and a log line', async () => {
    const cases: Array<[string, number, RegExp, string?]> = [
      ['/oauth', 400, /^BAD_QUERY: no to: pass the full URL of the page to come back to, as \?to=\n$/],
      [`/oauth?to=${encodeURIComponent('https://evil.example.net/steal')}`, 400, /^BAD_QUERY: "evil\.example\.net\/steal" is not under the account's page domains \(h5\.example\.com\)/],
      [`/oauth?to=${encodeURIComponent('//evil.example.net/')}`, 400, /^BAD_QUERY: the to "\/\/evil\.example\.net\/" is not a full URL/],
      [`/oauth?scope=all&to=${encodeURIComponent(PAGE)}`, 400, /^BAD_QUERY: scope "all" is not base or userinfo/],
      [`/oauth/nope?to=${encodeURIComponent(PAGE)}`, 404, /^UNKNOWN_ACCOUNT: no account at \/oauth\/nope\n$/],
      [`/oauth/nodomains?to=${encodeURIComponent(PAGE)}`, 404, /^BAD_CONFIG: account "nodomains" has no page domains/],
      [`/oauth/nosecret?to=${encodeURIComponent(PAGE)}`, 503, /^BAD_CONFIG: account "nosecret" has no appSecret/],
      [`/oauth?to=${encodeURIComponent(PAGE)}`, 405, /^METHOD_NOT_ALLOWED: POST is not GET\n$/, 'POST'],
      ['/oauth-identity', 400, /"reason":"no ticket: pass the wxe_ticket/],
      // Not a ticket the login gives (the page's URL, a ticket cut short, a flood of long ones): said so, not "used or expired".
      [`/oauth-identity?ticket=${encodeURIComponent('https://h5.example.com/?wxe_ticket=AAAAAAAAAAAAAAAAAAAAAAAA')}`, 400, /"reason":"the ticket \\"https:\/\/h5\.example\.com\/\?wxe_ticket=AAAA[^"]*\\" is not one a login gives \(24 letters, digits, - and _\): pass the wxe_ticket value alone, as it is"/],
      [`/oauth-identity?ticket=${'x'.repeat(5000)}`, 400, /"reason":"the ticket \\"x{40}\.\.\.\\" is not one a login gives/],
      [`/oauth?scope=__proto__&to=${encodeURIComponent(PAGE)}`, 400, /^BAD_QUERY: scope "__proto__" is not base or userinfo/],
      [`/oauth?scope=constructor&to=${encodeURIComponent(PAGE)}`, 400, /^BAD_QUERY: scope "constructor" is not base or userinfo/],
      [`/oauth?to=${encodeURIComponent(`${PAGE}&q=${'x'.repeat(1500)}`)}`, 400, /^BAD_QUERY: the to is \d+ characters, over 1500/],
    ]
    for (const [path, status, text, method] of cases) {
      const seen = h.lines.length
      const r = await step(`${h.url}${path}`, {}, method)
      assert.equal(r.status, status, path)
      assert.match(r.text, text, path)
      // The text can quote the query: never to be sniffed as a page.
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path)
      assert.ok(h.lines.slice(seen).some((l) => typeof l.msg === 'string' && l.msg.startsWith('web login refused: ') && l.status === status), `a line for ${path}`)
    }
  })

  it("a code the platform refuses: the user reads to open the page again, the log has the platform's words", async () => {
    h.fake.failNext(WEB_CODE_PATH, 1, -1, 'system error')
    const toWeChat = await step(`${h.url}/oauth?to=${encodeURIComponent(PAGE)}`)
    const back = await step(toWeChat.location.split('#')[0])
    const failed = await step(back.location)
    assert.equal(failed.status, 502)
    assert.equal(failed.text, 'API_ERROR: the login could not be completed; open the page again (the server log says why)\n')
    const line = h.lines.find((l) => l.msg === 'web login refused: ' + String(l.reason) && l.errcode === -1)
    assert.ok(line, 'the errcode is logged')
    assert.equal(line.level, 50, "the platform's failure is an error")
    assert.ok(!JSON.stringify(h.lines).includes('main-secret'), 'the AppSecret is never logged')
  })

  it('a code WeChat no longer takes (40029 invalid, 40163 used) is the request\'s fault: 400, a warning with the errcode', async () => {
    for (const [errcode, errmsg] of [[40029, 'invalid code'], [40163, 'code been used']] as const) {
      h.fake.failNext(WEB_CODE_PATH, 1, errcode, errmsg)
      const toWeChat = await step(`${h.url}/oauth?to=${encodeURIComponent(PAGE)}`)
      const back = await step(toWeChat.location.split('#')[0])
      const seen = h.lines.length
      const failed = await step(back.location)
      assert.equal(failed.status, 400)
      assert.equal(failed.text, 'BAD_QUERY: the code WeChat sent back is not good (expired, used already, or not WeChat\'s): open the page again\n')
      const line = h.lines.slice(seen).find((l) => typeof l.msg === 'string' && l.msg.startsWith('web login refused: ') && l.errcode === errcode)
      assert.ok(line, `a line with errcode ${errcode}`)
      assert.equal(line.level, 40, 'a warning: anyone can bring a made-up code, and no alert should fire for it')
      assert.match(String(line.reason), new RegExp(errmsg))
    }
  })

  it("a store that does not answer: 503, the caller told to try again, the store's own words only in the log", async () => {
    const broken = await startHarness({ accounts: [ACCOUNTS[0]], config: { platform: { apiBase: h.fake.baseUrl, openBase: h.fake.baseUrl } } })
    try {
      const kv = broken.runtime.store.kv
      const fail = () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:6379'))
      kv.set = fail
      kv.get = fail
      // Starting needs no store (the login is in the cookie); keeping the ticket does.
      const jar: Jar = new Map()
      const toWeChat = await fetch(`${broken.url}/oauth?to=${encodeURIComponent(PAGE)}`, { redirect: 'manual' })
      assert.equal(toWeChat.status, 302)
      for (const c of toWeChat.headers.getSetCookie()) jar.set(c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1, c.indexOf(';')))
      const back = (await fetch((toWeChat.headers.get('location') ?? '').split('#')[0], { redirect: 'manual' })).headers.get('location') ?? ''
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
      const start = await fetch(back, { redirect: 'manual', headers: { cookie } })
      assert.equal(start.status, 503)
      assert.equal(await start.text(), 'STORE_UNAVAILABLE: the store did not answer; try again (the server log says why)\n')
      const redeem = await step(`${broken.url}/oauth-identity?ticket=${'A'.repeat(24)}`)
      assert.equal(redeem.status, 503)
      assert.deepEqual(JSON.parse(redeem.text), { error: 'STORE_UNAVAILABLE', reason: 'the store did not answer; try again (the server log says why)' })
      assert.ok(broken.lines.some((l) => l.code === 'STORE_UNAVAILABLE' && String(l.reason).includes('10.0.0.7:6379')))
    } finally {
      await broken.close()
    }
  })

  it('/metrics counts each step by account and outcome (the tests above, in order)', async () => {
    const text = await h.runtime.metrics.render()
    const value = (labels: string) => Number(new RegExp(`^wxengine_web_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
    assert.ok(value('endpoint="oauth",account="main",outcome="ok"') >= 5)
    assert.ok(value('endpoint="oauth-callback",account="main",outcome="ok"') >= 4)
    assert.equal(value('endpoint="oauth-callback",account="main",outcome="user_refused"'), 1)
    assert.equal(value('endpoint="oauth-callback",account="main",outcome="API_ERROR"'), 1)
    assert.ok(value('endpoint="oauth-identity",account="main",outcome="ok"') >= 3)
    // An unknown account in a path is no label of its own.
    assert.equal(value('endpoint="oauth",account="",outcome="UNKNOWN_ACCOUNT"'), 1)
    assert.equal(value('endpoint="oauth-callback",account="main",outcome="BAD_QUERY"') >= 4, true)
    assert.doesNotMatch(text, /account="nope"/)
  })
})
