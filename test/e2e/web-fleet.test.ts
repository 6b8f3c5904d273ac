/**
 * Two engines on one Redis, as docs/scaling.md runs a fleet: a login started on one finishes on the other
 * (its cookie opens with the account's key on any instance) and its ticket, kept in Redis, is redeemed on the
 * first (a load balancer picks any instance for each request); the jsapi_ticket is fetched once for both.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { TICKET_PATH } from '../../core/platform/jsapi-ticket.ts'
import { DEFAULT_BROWSER_USER } from '../../core/testkit/fake-web-login.ts'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { signJsSdk } from '../../core/web/jssdk-signature.ts'
import { cookieHeaderFrom } from '../support/cookie-header.ts'
import type { Harness } from '../support/engine-harness.ts'
import { startEnginesOnRedis, type EnginesOnRedis } from '../support/engines-on-redis.ts'

const ACCOUNTS: AccountConfig[] = [{ id: 'main', token: 'maintoken', appId: 'wxmain0000000001', appSecret: 'main-secret', mode: 'plaintext', pageDomains: ['h5.example.com'] }]
const PAGE = 'https://h5.example.com/'

describe('web endpoints across a fleet on one Redis', () => {
  let fake: FakeWeChatApi
  let fleet: EnginesOnRedis
  let a: Harness
  let b: Harness
  before(async () => {
    fake = await startFakeWeChatApi({ apps: [{ appId: 'wxmain0000000001', appSecret: 'main-secret' }] })
    fleet = await startEnginesOnRedis(2, { accounts: ACCOUNTS, config: { platform: { apiBase: fake.baseUrl, openBase: fake.baseUrl } } })
    ;[a, b] = fleet.engines as [Harness, Harness]
  })
  after(async () => {
    await fleet?.close()
    await fake?.close()
  })

  const location = async (url: string) => (await fetch(url, { redirect: 'manual' })).headers.get('location') ?? ''

  it('a login started on one instance finishes on the other; the ticket is redeemed on the first, once', async () => {
    const started = await fetch(`${a.url}/oauth?to=${encodeURIComponent(PAGE)}`, { redirect: 'manual' })
    // The browser keeps the login cookie for the engine's host, whichever instance answered.
    const cookie = cookieHeaderFrom(started.headers)
    const toWeChat = started.headers.get('location') ?? ''
    const back = new URL(await location(toWeChat.split('#')[0]))
    // The load balancer sends WeChat's redirect to the other instance.
    const toPage = (await fetch(`${b.url}${back.pathname}${back.search}`, { redirect: 'manual', headers: { cookie } })).headers.get('location') ?? ''
    const ticket = new URL(toPage).searchParams.get('wxe_ticket')
    assert.ok(ticket, toPage)
    const first = await fetch(`${a.url}/oauth-identity?ticket=${ticket}`)
    assert.equal(first.status, 200)
    assert.equal(((await first.json()) as { openid: string }).openid, DEFAULT_BROWSER_USER.openId)
    assert.equal((await fetch(`${b.url}/oauth-identity?ticket=${ticket}`)).status, 404)
  })

  it('the jsapi_ticket is fetched once for both instances', async () => {
    const asked = () => fake.requests.filter((r) => r.path === TICKET_PATH).length
    const before = asked()
    const answers = await Promise.all([a, b, a, b].map(async (h) => (await fetch(`${h.url}/jssdk-config?url=${encodeURIComponent(PAGE)}`)).json()))
    assert.equal(asked() - before, 1)
    const ticket = fake.issuedTickets.at(-1)!
    for (const c of answers as Array<{ nonceStr: string; timestamp: number; signature: string }>) assert.equal(c.signature, signJsSdk(ticket, c.nonceStr, c.timestamp, PAGE))
  })
})
