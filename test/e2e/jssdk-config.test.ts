/**
 * GET /jssdk-config[/<account>]?url=: a page's wx.config, signed with the ticket the fake platform issued,
 * over the real server; CORS for the account's pages only; each refusal with its status, reason and line.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { TICKET_PATH } from '../../core/platform/jsapi-ticket.ts'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { signJsSdk } from '../../core/web/jssdk-signature.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'

const ACCOUNTS: AccountConfig[] = [
  { id: 'main', token: 'maintoken', appId: 'wxmain0000000001', appSecret: 'main-secret', mode: 'plaintext', pageDomains: ['h5.example.com', 'shop.example.com/mp'] },
  { id: 'other', token: 'othertoken', appId: 'wxother000000001', appSecret: 'other-secret', mode: 'plaintext', pageDomains: ['other.example.com'] },
  { id: 'nodomains', token: 'nodomtoken', appId: 'wxnodom000000001', appSecret: 'nodom-secret', mode: 'plaintext' },
  { id: 'nosecret', token: 'nosecrettoken', appId: 'wxnosec000000001', mode: 'plaintext', pageDomains: ['h5.example.com'] },
]

describe('GET /jssdk-config', () => {
  let fake: FakeWeChatApi
  let h: Harness
  before(async () => {
    fake = await startFakeWeChatApi({ apps: ACCOUNTS.flatMap((a) => (a.appSecret ? [{ appId: a.appId, appSecret: a.appSecret }] : [])) })
    h = await startHarness({ accounts: ACCOUNTS, config: { platform: { apiBase: fake.baseUrl } } })
  })
  after(async () => {
    await h.close()
    await fake.close()
  })
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${h.url}${path}`, { headers, method })
  const page = 'https://h5.example.com/order?id=7'

  it("the default account signs its page's URL with the platform's ticket; the fragment is left out", async () => {
    const res = await get(`/jssdk-config?url=${encodeURIComponent(`${page}#/pay`)}`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    const body = (await res.json()) as { appId: string; timestamp: number; nonceStr: string; signature: string }
    assert.deepEqual(Object.keys(body).sort(), ['appId', 'nonceStr', 'signature', 'timestamp'])
    assert.equal(body.appId, 'wxmain0000000001')
    assert.ok(Math.abs(body.timestamp - Date.now() / 1000) < 5)
    assert.equal(fake.issuedTickets.length, 1)
    assert.equal(body.signature, signJsSdk(fake.issuedTickets[0], body.nonceStr, body.timestamp, page))
  })

  it('each account signs with its own appId and ticket; the ticket is fetched once per account', async () => {
    const before = fake.requests.filter((r) => r.path === TICKET_PATH).length
    const bodies = await Promise.all(Array.from({ length: 5 }, () => get(`/jssdk-config/other?url=${encodeURIComponent('https://other.example.com/')}`).then((r) => r.json())))
    assert.equal(fake.requests.filter((r) => r.path === TICKET_PATH).length, before + 1)
    const ticket = fake.issuedTickets.at(-1)!
    for (const b of bodies as Array<{ appId: string; timestamp: number; nonceStr: string; signature: string }>) {
      assert.equal(b.appId, 'wxother000000001')
      assert.equal(b.signature, signJsSdk(ticket, b.nonceStr, b.timestamp, 'https://other.example.com/'))
    }
    // The default account's ticket is still the one it had.
    const again = (await (await get(`/jssdk-config/main?url=${encodeURIComponent(page)}`)).json()) as { nonceStr: string; timestamp: number; signature: string }
    assert.equal(again.signature, signJsSdk(fake.issuedTickets[0], again.nonceStr, again.timestamp, page))
  })

  it("CORS: a page on the account's domains may read the answer, another page's script may not", async () => {
    const mine = await get(`/jssdk-config?url=${encodeURIComponent(page)}`, { origin: 'https://h5.example.com' })
    assert.equal(mine.headers.get('access-control-allow-origin'), 'https://h5.example.com')
    assert.match(mine.headers.get('vary') ?? '', /Origin/)
    const theirs = await get(`/jssdk-config?url=${encodeURIComponent(page)}`, { origin: 'https://evil.example.net' })
    assert.equal(theirs.headers.get('access-control-allow-origin'), null)
    const preflight = await get('/jssdk-config', { origin: 'https://h5.example.com' }, 'OPTIONS')
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://h5.example.com')
    // Reused by the browser for ten minutes, not asked again before each call (docs/web.md).
    assert.equal(preflight.headers.get('access-control-max-age'), '600')
  })

  it('refusals: each with its status, code and reason, and a log line', async () => {
    const cases: Array<[string, number, string, RegExp, string?]> = [
      ['/jssdk-config', 400, 'BAD_QUERY', /^no url: pass the page's own URL/],
      [`/jssdk-config?url=${encodeURIComponent('https://evil.example.net/')}`, 400, 'BAD_QUERY', /"evil\.example\.net\/" is not under the account's page domains \(h5\.example\.com, shop\.example\.com\/mp\)/],
      [`/jssdk-config/other?url=${encodeURIComponent(page)}`, 400, 'BAD_QUERY', /is not under the account's page domains \(other\.example\.com\)/],
      [`/jssdk-config/nope?url=${encodeURIComponent(page)}`, 404, 'UNKNOWN_ACCOUNT', /^no account at \/jssdk-config\/nope$/],
      ['/jssdk-config/a/b', 404, 'UNKNOWN_ACCOUNT', /^no account at/],
      [`/jssdk-config/nodomains?url=${encodeURIComponent(page)}`, 404, 'BAD_CONFIG', /^account "nodomains" has no page domains, so it signs no page: set accounts\[\]\.pageDomains to/],
      [`/jssdk-config/nosecret?url=${encodeURIComponent(page)}`, 503, 'BAD_CONFIG', /^account "nosecret" has no appSecret, and the jsapi_ticket needs an access_token/],
      [`/jssdk-config?url=${encodeURIComponent(page)}`, 405, 'METHOD_NOT_ALLOWED', /^POST is not GET or HEAD$/, 'POST'],
    ]
    for (const [path, status, code, reason, method] of cases) {
      const res = await get(path, {}, method)
      assert.equal(res.status, status, path)
      const body = (await res.json()) as { error: string; reason: string }
      assert.equal(body.error, code, path)
      assert.match(body.reason, reason, path)
      assert.ok(h.lines.some((l) => l.code === code && typeof l.msg === 'string' && l.msg.startsWith('jssdk-config refused: ') && l.reason === body.reason), `a line for ${path}`)
    }
  })

  it("the platform's refusal stays in the log: the page reads only that the ticket could not be had", async () => {
    // An engine of its own on an empty store: its first call fetches the ticket, and this fetch is refused.
    const fresh = await startHarness({ accounts: [ACCOUNTS[0]], config: { platform: { apiBase: fake.baseUrl } } })
    try {
      // The IP whitelist guards the token API: the ticket's token is refused.
      fake.failNext('/cgi-bin/token', 1, 40164, 'invalid ip 203.0.113.9 ipv6 ::ffff:203.0.113.9, not in whitelist')
      const res = await fetch(`${fresh.url}/jssdk-config?url=${encodeURIComponent(page)}`)
      assert.equal(res.status, 502)
      const body = (await res.json()) as { error: string; reason: string }
      assert.deepEqual(body, { error: 'API_ERROR', reason: 'the jsapi_ticket could not be had; the server log says why' })
      const line = fresh.lines.find((l) => l.msg === 'jssdk-config refused: ' + String(l.reason))
      assert.equal(line?.errcode, 40164)
      assert.match(String(line?.reason), /203\.0\.113\.9.*IP whitelist/)
      assert.equal(String(line?.reason).split('IP whitelist').length - 1, 1, 'the setting named once, by the token manager')
      // The IP whitelist is a setting: the refusal is held a while (access-token-manager.ts), not asked again per page view.
      const asked = fake.requests.filter((r) => r.path === '/cgi-bin/token').length
      const later = await fetch(`${fresh.url}/jssdk-config?url=${encodeURIComponent(page)}`)
      assert.equal(later.status, 502)
      assert.equal(fake.requests.filter((r) => r.path === '/cgi-bin/token').length, asked)
    } finally {
      await fresh.close()
    }
  })

  it('/metrics counts signatures and refusals by account and outcome (the tests above, in order)', async () => {
    const text = await h.runtime.metrics.render()
    const value = (labels: string) => Number(new RegExp(`^wxengine_web_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
    assert.ok(value('endpoint="jssdk-config",account="main",outcome="ok"') >= 4)
    assert.equal(value('endpoint="jssdk-config",account="other",outcome="ok"'), 5)
    assert.ok(value('endpoint="jssdk-config",account="main",outcome="BAD_QUERY"') >= 2)
    assert.equal(value('endpoint="jssdk-config",account="nosecret",outcome="BAD_CONFIG"'), 1)
    assert.equal(value('endpoint="jssdk-config",account="",outcome="UNKNOWN_ACCOUNT"'), 2)
  })

  it('WeChat pushes are answered as before on the same server', async () => {
    const r = await h.post('main', { MsgType: 'text', Content: 'hi', FromUserName: 'u1', ToUserName: 'gh_main', CreateTime: Math.floor(Date.now() / 1000), MsgId: '1' })
    assert.equal(r.status, 200)
  })
})
