/**
 * limits.webRequestsPerMinute over the real server: a client past its allowance of the web endpoints is
 * answered 429 with Retry-After and a line; other clients, and WeChat's pushes, are served as before.
 * trustProxy counts the address the proxy added to X-Forwarded-For, not the ones a client wrote itself.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'

const ACCOUNT = { id: 'main', token: 'maintoken', appId: 'wxmain0000000001', appSecret: 'main-secret', mode: 'plaintext' as const, pageDomains: ['h5.example.com'] }
const PAGE = encodeURIComponent('https://h5.example.com/order')

describe('the web endpoints: a per-client allowance', () => {
  let fake: FakeWeChatApi
  let direct: Harness
  let proxied: Harness
  let chained: Harness
  before(async () => {
    fake = await startFakeWeChatApi({ apps: [{ appId: ACCOUNT.appId, appSecret: ACCOUNT.appSecret }] })
    const config = { platform: { apiBase: fake.baseUrl }, limits: { webRequestsPerMinute: 3 } }
    direct = await startHarness({ accounts: [ACCOUNT], config, rules: { 'r.yaml': 'rules:\n  - name: hi\n    keywords: [hi]\n    reply: { type: text, content: hello }\n' } })
    proxied = await startHarness({ accounts: [ACCOUNT], config: { ...config, trustProxy: true } })
    chained = await startHarness({ accounts: [ACCOUNT], config: { ...config, trustProxy: 2 } })
  })
  after(async () => {
    await direct.close()
    await proxied.close()
    await chained.close()
    await fake.close()
  })

  it('the fourth request in a minute is refused 429 with Retry-After; pushes are still answered', async () => {
    const statuses = []
    for (const path of [`/jssdk-config?url=${PAGE}`, `/oauth-identity?ticket=${'n'.repeat(24)}`, `/jssdk-config/main?url=${PAGE}`]) statuses.push((await fetch(`${direct.url}${path}`)).status)
    assert.deepEqual(statuses, [200, 404, 200])
    const refused = await fetch(`${direct.url}/oauth?to=${PAGE}`, { redirect: 'manual' })
    assert.equal(refused.status, 429)
    // 3 a minute: one comes back in 20 s.
    const retryAfter = Number(refused.headers.get('retry-after'))
    assert.ok(retryAfter >= 1 && retryAfter <= 20, `Retry-After ${retryAfter}`)
    assert.equal(refused.headers.get('cache-control'), 'no-store')
    // A login's step is a browser's page: a line of text, as the login's other refusals.
    assert.match(await refused.text(), /^RATE_LIMITED: too many requests from this address; try again in \d+ s\n$/)
    const line = direct.lines.find((l) => l.code === 'RATE_LIMITED')
    assert.ok(line, 'a line says why')
    assert.equal(line.msg, 'web request refused: more than 3 requests a minute from 127.0.0.1')
    assert.equal(line.status, 429)
    assert.equal(line.path, '/oauth')
    // WeChat's pushes are not web requests: never counted, never refused.
    for (let i = 0; i < 5; i++) {
      const answer = await direct.post('main', push.text(`user-${i}`, 'hi'))
      assert.equal(answer.status, 200)
      assert.equal(answer.reply?.Content, 'hello')
    }
    // Nor is anything else the server answers.
    assert.equal((await fetch(`${direct.url}/healthz`)).status, 200)
    const metrics = await direct.runtime.metrics.render()
    assert.match(metrics, /wxengine_web_requests_total\{endpoint="oauth",account="",outcome="RATE_LIMITED"\} 1/)
  })

  it('without trustProxy, X-Forwarded-For changes nothing: the connection is the client', async () => {
    const res = await fetch(`${direct.url}/jssdk-config?url=${PAGE}`, { headers: { 'X-Forwarded-For': '203.0.113.9' } })
    assert.equal(res.status, 429)
    // A page's script reads JSON, as from /jssdk-config's other refusals.
    const body = (await res.json()) as { error: string; reason: string }
    assert.equal(body.error, 'RATE_LIMITED')
    assert.match(body.reason, /^too many requests from this address; try again in \d+ s$/)
  })

  it("a 429 to a page's script carries the page's CORS header and exposes Retry-After; a preflight is not counted", async () => {
    // Without them the browser hid the 429 behind a CORS error: the script could read neither reason nor wait.
    const page = 'https://h5.example.com'
    const refused = await fetch(`${direct.url}/jssdk-config?url=${PAGE}`, { headers: { Origin: page } })
    assert.equal(refused.status, 429)
    assert.equal(refused.headers.get('access-control-allow-origin'), page)
    assert.equal(refused.headers.get('access-control-expose-headers'), 'Retry-After')
    // Another site's page gets no such header, as from the endpoint's own answers.
    const other = await fetch(`${direct.url}/jssdk-config?url=${PAGE}`, { headers: { Origin: 'https://evil.example.net' } })
    assert.equal(other.status, 429)
    assert.equal(other.headers.get('access-control-allow-origin'), null)
    // A preflight is answered by the endpoint, allowance spent or not.
    const preflight = await fetch(`${direct.url}/jssdk-config?url=${PAGE}`, { method: 'OPTIONS', headers: { Origin: page, 'Access-Control-Request-Method': 'GET' } })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers.get('access-control-allow-origin'), page)
  })

  it("with trustProxy, each address the proxy saw has its own allowance; what a client writes in front is ignored", async () => {
    const get = (forwardedFor: string) => fetch(`${proxied.url}/jssdk-config?url=${PAGE}`, { headers: { 'X-Forwarded-For': forwardedFor } }).then((r) => r.status)
    const first = []
    // A client that writes a fresh address of its own each time, in front of the one the proxy adds.
    for (let i = 0; i < 4; i++) first.push(await get(`10.0.0.${i}, 198.51.100.7`))
    assert.deepEqual(first, [200, 200, 200, 429])
    assert.equal(await get('198.51.100.8'), 200)
    // An IPv6 client is one /64: another address in it shares the allowance, another /64 has its own.
    const v6 = []
    for (const a of ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9', '2001:0db8:0001:0002:0:0:0:7']) v6.push(await get(a))
    assert.deepEqual(v6, [200, 200, 200])
    assert.equal(await get('2001:db8:1:2::abcd'), 429)
    assert.equal(await get('2001:db8:1:3::1'), 200)
    const line = proxied.lines.find((l) => l.code === 'RATE_LIMITED' && l.client === '2001:db8:1:2::/64')
    assert.ok(line, 'the line names the /64')
  })

  it('with trustProxy: 2 (a CDN, then nginx), the address the CDN saw is the client, not the CDN', async () => {
    const get = (forwardedFor: string) => fetch(`${chained.url}/jssdk-config?url=${PAGE}`, { headers: { 'X-Forwarded-For': forwardedFor } }).then((r) => r.status)
    // Each request: what the client wrote, the client as the CDN saw it, the CDN's own edge as nginx saw it.
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push(await get(`10.0.0.${i}, 203.0.113.50:5${i}000, 198.51.100.${i}`))
    assert.deepEqual(statuses, [200, 200, 200, 429])
    // Another user through the same CDN edge has an allowance of their own.
    assert.equal(await get('203.0.113.51, 198.51.100.1'), 200)
    const line = chained.lines.find((l) => l.code === 'RATE_LIMITED')
    assert.equal(line?.client, '203.0.113.50')
  })
})
