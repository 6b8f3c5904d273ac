/**
 * /jssdk-config while the platform fails, through a fresh engine each time: the ticket's fetch does not
 * multiply the token's tries, and each refusal is worded once and by its own API (a review found a page view
 * sending 9 token requests in an outage, a hint said twice, and getticket's quota blamed on the token).
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { TICKET_PATH } from '../../core/platform/jsapi-ticket.ts'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { startHarness } from '../support/engine-harness.ts'

const ACC: AccountConfig = { id: 'main', token: 'maintoken', appId: 'wxmain0000000001', appSecret: 'main-secret', mode: 'plaintext', pageDomains: ['h5.example.com'] }
const page = `/jssdk-config?url=${encodeURIComponent('https://h5.example.com/x')}`

describe('the ticket behind the access_token manager', () => {
  // A fake platform of its own for each test (failNext queues outlive a test), and a fresh engine on an
  // empty memory store: its first page view fetches token and ticket.
  let fake: FakeWeChatApi
  beforeEach(async () => {
    fake = await startFakeWeChatApi({ apps: [{ appId: ACC.appId, appSecret: ACC.appSecret! }] })
  })
  afterEach(() => fake.close())
  const fresh = () => startHarness({ accounts: [ACC], config: { platform: { apiBase: fake.baseUrl }, store: { kind: 'memory' } } })
  const tokenRequests = () => fake.requests.filter((r) => r.path === '/cgi-bin/token').length

  it('a page view during a token API outage (-1) asks /cgi-bin/token no more often than any other API call does (3 tries)', async () => {
    const h = await fresh()
    try {
      const before = tokenRequests()
      fake.failNext('/cgi-bin/token', 20, -1, 'system error')
      const res = await fetch(`${h.url}${page}`)
      assert.equal(res.status, 502)
      // The token manager tries 3 times; the ticket's fetch, once: a second layer of tries multiplied them.
      assert.ok(tokenRequests() - before <= 3, `one page view sent ${tokenRequests() - before} requests to /cgi-bin/token`)
    } finally {
      await h.close()
    }
  })

  it("a token config error seen through the ticket carries its hint once, not twice", async () => {
    const h = await fresh()
    try {
      fake.failNext('/cgi-bin/token', 1, 40125, 'invalid appsecret')
      assert.equal((await fetch(`${h.url}${page}`)).status, 502)
      const line = h.lines.find((l) => String(l.msg).startsWith('jssdk-config refused'))
      const hints = String(line?.reason).split('the AppSecret is wrong').length - 1
      assert.equal(hints, 1, String(line?.reason))
    } finally {
      await h.close()
    }
  })

  it("getticket's own 45009 (its daily quota) is not reported as /cgi-bin/token's quota", async () => {
    const h = await fresh()
    try {
      fake.failNext(TICKET_PATH, 1, 45009, 'reach max api daily quota limit')
      assert.equal((await fetch(`${h.url}${page}`)).status, 502)
      const line = h.lines.find((l) => l.msg === 'jsapi_ticket fetch failed')
      assert.ok(line, 'a jsapi_ticket fetch failed line')
      assert.doesNotMatch(String(line.reason), /quota of \/cgi-bin\/token/, String(line.reason))
      assert.notEqual(line.setting, 'token daily quota')
    } finally {
      await h.close()
    }
  })
})
