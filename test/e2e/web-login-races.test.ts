/**
 * One use under concurrency, on each store (a review's): ten redemptions of one ticket at once, across two
 * instances on Redis, give one identity (the kv's compareAndSet); ten callbacks of one login at once give one
 * ticket (WeChat exchanges a code once).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { cookieHeaderFrom } from '../support/cookie-header.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'
import { startEnginesOnRedis, type EnginesOnRedis } from '../support/engines-on-redis.ts'

const ACCOUNTS: AccountConfig[] = [{ id: 'main', token: 'maintoken', appId: 'wxmain0000000001', appSecret: 'main-secret', mode: 'plaintext', pageDomains: ['h5.example.com'] }]
const PAGE = 'https://h5.example.com/'
/** One request with the browser's cookie, its redirect not followed; the login cookie it sets, if any. */
const loc = async (url: string, cookie = '') => {
  const r = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} })
  await r.text()
  return { status: r.status, location: r.headers.get('location') ?? '', cookie: cookieHeaderFrom(r.headers) }
}

for (const kind of ['memory', 'sqlite', 'redis'] as const) {
  describe(`one use under concurrency: ${kind}`, () => {
    let fake: FakeWeChatApi
    let fleet: EnginesOnRedis | undefined
    let hs: Harness[] = []
    before(async () => {
      fake = await startFakeWeChatApi({ apps: [{ appId: 'wxmain0000000001', appSecret: 'main-secret' }] })
      const platform = { apiBase: fake.baseUrl, openBase: fake.baseUrl }
      // On Redis, two instances (a fleet's); the other stores are one engine's own.
      if (kind === 'redis') {
        fleet = await startEnginesOnRedis(2, { accounts: ACCOUNTS, config: { platform } })
        hs = fleet.engines
      } else hs = [await startHarness({ accounts: ACCOUNTS, config: { platform, store: { kind } } })]
    })
    after(async () => {
      if (fleet) await fleet.close()
      else for (const h of hs) await h.close()
      await fake.close()
    })

    it('concurrent callbacks with one state and its cookie (a double tap): one ticket, WeChat taking a code once', async () => {
      for (let round = 0; round < 5; round++) {
        const toWeChat = await loc(`${hs[0]!.url}/oauth?to=${encodeURIComponent(PAGE)}`)
        const back = new URL((await loc(toWeChat.location.split('#')[0])).location)
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => loc(`${hs[i % hs.length]!.url}${back.pathname}${back.search}`, toWeChat.cookie)))
        assert.equal(results.filter((r) => r.status === 302).length, 1, JSON.stringify(results.map((r) => r.status)))
      }
    })
    it('concurrent redemptions of one ticket: one answer', async () => {
      for (let round = 0; round < 5; round++) {
        const toWeChat = await loc(`${hs[0]!.url}/oauth?to=${encodeURIComponent(PAGE)}`)
        const back = new URL((await loc(toWeChat.location.split('#')[0])).location)
        const ticket = new URL((await loc(`${hs[0]!.url}${back.pathname}${back.search}`, toWeChat.cookie)).location).searchParams.get('wxe_ticket')
        const results = await Promise.all(Array.from({ length: 10 }, async (_, i) => (await fetch(`${hs[i % hs.length]!.url}/oauth-identity?ticket=${ticket}`)).status))
        assert.equal(results.filter((s) => s === 200).length, 1, JSON.stringify(results))
      }
    })
  })
}
