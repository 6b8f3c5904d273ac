/**
 * The jsapi_ticket, kept as the access_token is (access-token-manager.ts): one fetch for many callers and
 * for several instances on one store, in the store under its own key, refreshed before it expires, the old
 * one served while the refresh fails. Against the fake platform's real ticket/getticket.
 */
import assert from 'node:assert/strict'
import { after, beforeEach, test } from 'node:test'
import type { Result } from '../../core/errors.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createAccessTokenManager } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { createJsapiTicket, ticketKey, TICKET_FETCH_ATTEMPTS, TICKET_PATH } from '../../core/platform/jsapi-ticket.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import type { Store } from '../../core/store/store.ts'
import { FAKE_PATHS, startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

const T0 = 1_700_000_000_000
let t = T0
const now = () => t
const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA', now })
after(() => fake.close())
const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 2000 })

let store: Store
let memLog: ReturnType<typeof createMemoryLogger>
let before: number
beforeEach(() => {
  t = T0
  store = createMemoryStore({ now })
  memLog = createMemoryLogger()
  before = fake.requests.length
})
const ticketRequests = () => fake.requests.slice(before).filter((r) => r.path === TICKET_PATH).length

/** One instance of the engine: its own token manager, API and ticket, on the shared store. */
function instance() {
  const tokens = createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: store.tokens, log: memLog.logger, now, pollMs: 2 })
  return createJsapiTicket({ appId: 'wxA', withToken: tokens.withToken, tokenWaitBoundMs: tokens.waitBoundMs, client, tokens: store.tokens, log: memLog.logger, now })
}

function value<T>(r: Result<T>): T {
  assert.ok(r.ok, r.ok ? '' : `${r.error.code}: ${r.error.reason}`)
  return r.value
}

test('many callers on two instances: one ticket fetched, kept in the store apart from the token', async () => {
  assert.equal(TICKET_PATH, FAKE_PATHS.jsapiTicket)
  const a = instance()
  const b = instance()
  const got = await Promise.all([...Array.from({ length: 10 }, () => a.get()), ...Array.from({ length: 10 }, () => b.get())])
  assert.deepEqual(new Set(got.map(value)), new Set([fake.issuedTickets.at(-1)]))
  assert.equal(ticketRequests(), 1)
  assert.equal((await store.tokens.get(ticketKey('wxA')))?.token, fake.issuedTickets.at(-1))
  assert.notEqual((await store.tokens.get('wxA'))?.token, fake.issuedTickets.at(-1), 'the access_token keeps its own key')
  assert.ok(memLog.lines.some((l) => l.msg === 'jsapi_ticket refreshed'))
  assert.ok(!JSON.stringify(memLog.lines).includes(fake.issuedTickets.at(-1)!), 'the ticket itself is never logged')
})

test('refreshed five minutes before it expires, not before', async () => {
  const a = instance()
  const first = value(await a.get())
  t += (7200 - 301) * 1000
  assert.equal(value(await a.get()), first)
  assert.equal(ticketRequests(), 1)
  t += 2000
  const second = value(await a.get())
  assert.notEqual(second, first)
  assert.equal(ticketRequests(), 2)
})

test('a refresh that fails serves the old ticket while it lives, then fails with the reason', async () => {
  const a = instance()
  const first = value(await a.get())
  t += (7200 - 60) * 1000
  // Busy on every try of the refresh (TICKET_FETCH_ATTEMPTS).
  fake.failNext(TICKET_PATH, TICKET_FETCH_ATTEMPTS, -1, 'system error')
  assert.equal(value(await a.get()), first)
  assert.ok(memLog.lines.some((l) => l.msg === 'jsapi_ticket refresh failed; the current one is used until it expires'))
  t += 61_000
  fake.failNext(TICKET_PATH, 1, 45009, 'reach max api daily quota limit')
  const failed = await a.get()
  assert.equal(failed.ok, false)
  assert.equal(!failed.ok && failed.error.errcode, 45009)
  // getticket's own quota, named as such (not /cgi-bin/token's), and held: not asked again at once.
  assert.match(!failed.ok ? failed.error.reason : '', /the daily quota of \/cgi-bin\/ticket\/getticket is used up/)
  assert.equal(memLog.lines.find((l) => l.msg === 'jsapi_ticket fetch failed' && l.errcode === 45009)?.setting, 'jsapi_ticket daily quota')
  const asked = ticketRequests()
  assert.equal((await a.get()).ok, false)
  assert.equal(ticketRequests(), asked)
})

test("getticket's -1 (system busy) is asked again, as the token's is: one busy answer fails no page view", async () => {
  const a = instance()
  fake.failNext(TICKET_PATH, 1, -1, 'system error')
  assert.equal(value(await a.get()), fake.issuedTickets.at(-1))
  assert.equal(ticketRequests(), 2)
  const retry = memLog.lines.find((l) => l.msg === 'jsapi_ticket fetch failed; retrying')
  assert.equal(retry?.errcode, -1)
  assert.equal(retry?.appId, 'wxA')
})

test('a getticket busy on every try fails after the bounded tries, with the reason, and no more', async () => {
  const a = instance()
  // Exactly as many busy answers as tries (the fake's queue outlives a test): a further try would get a ticket.
  fake.failNext(TICKET_PATH, TICKET_FETCH_ATTEMPTS, -1, 'system error')
  const r = await a.get()
  assert.equal(r.ok, false)
  assert.equal(!r.ok && r.error.errcode, -1)
  assert.equal(ticketRequests(), TICKET_FETCH_ATTEMPTS)
  const failed = memLog.lines.find((l) => l.msg === 'jsapi_ticket fetch failed')
  assert.equal(failed?.attempts, TICKET_FETCH_ATTEMPTS)
  assert.equal(failed?.transient, true)
})

test('an answer without a ticket is an API_ERROR, not a ticket', async () => {
  const a = instance()
  void fake.answerRawNext(TICKET_PATH, { status: 200, body: '{"errcode":0,"errmsg":"ok"}' })
  const r = await a.get()
  assert.equal(r.ok, false)
  assert.match(!r.ok ? r.error.reason : '', /the answer has no ticket\/expires_in/)
})

test("the access_token's own refusal seen through the ticket stays the token's: not worded as getticket's, not logged again per call", async () => {
  const a = instance()
  // The token API's daily quota (45009), which getticket also answers for its own: this one is /cgi-bin/token's.
  fake.failNext('/cgi-bin/token', 1, 45009, 'reach max api daily quota limit')
  const calls = await Promise.all([a.get(), a.get()])
  calls.push(await a.get(), await a.get())
  for (const r of calls) {
    assert.equal(r.ok, false)
    assert.equal(!r.ok && r.error.errcode, 45009)
    assert.match(!r.ok ? r.error.reason : '', /the daily quota of \/cgi-bin\/token is used up/)
    assert.doesNotMatch(!r.ok ? r.error.reason : '', /getticket/, 'the token refusal blamed on getticket')
  }
  assert.equal(ticketRequests(), 0)
  // Said once, by the token's manager, naming its setting; the ticket's manager adds no line per page view.
  const failed = memLog.lines.filter((l) => String(l.msg).endsWith('fetch failed'))
  assert.deepEqual(failed.map((l) => [l.msg, l.setting]), [['access_token fetch failed', 'token daily quota']])
})
