/**
 * What the token manager holds, found by a review of bad answers from the token API: a token API that keeps
 * failing is asked at most once per hold (1 s, doubled per refresh that failed so in a row, up to a minute),
 * whoever calls, instead of three times per caller's try (one late reply made 24 token requests, and an
 * hour's outage spent the day's quota of 2000); a garbled answer is held as a setting's refusal is; a
 * lifetime past the platform's 7200 s is kept 7200 s (1e308 was kept for ever, and Redis refused it as a TTL).
 */
import { test, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createAccessTokenManager, lifetimeOf, MAX_LIFETIME_S, TRANSIENT_HOLD_MAX_MS } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
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
  before = fake.tokenRequests
})
const requests = () => fake.tokenRequests - before
const manager = () => createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: store.tokens, log: memLog.logger, now, sleep: async () => undefined })

test('a token API that keeps failing: asked once per hold, the hold doubling per refresh failed in a row, and reset by a success', async () => {
  fake.failNext(FAKE_PATHS.token, 9, -1)
  const m = manager()
  // 50 callers over 7 s (one every 140 ms), as a burst of late replies and plugin calls retrying would come.
  const failedAt: number[] = []
  for (let i = 0; i < 50; i++) {
    const r = await m.getToken()
    assert.equal(r.ok, false, `call ${i}`)
    if (!r.ok) assert.equal(r.error.errcode, -1)
    if (i === 49) break
    t += 140
  }
  for (const l of memLog.lines) if (l.msg === 'access_token fetch failed') failedAt.push(Number(l.retryInMs))
  // Refreshes at 0, 1.12 s (the first call past the 1 s hold), 3.22 s (2 s): three tries each, the last
  // held 4 s, until 7.22 s.
  assert.deepEqual(failedAt, [1000, 2000, 4000])
  assert.equal(requests(), 9, 'three refreshes of three tries, not three tries per caller (150)')
  t += 300
  assert.equal((await m.getToken()).ok, false)
  assert.equal(requests(), 9)
  // Past it the API answers again, and the token is served.
  t += 1000
  assert.ok((await m.getToken()).ok)
  assert.equal(requests(), 10)
  // The success reset the hold: the next outage starts at 1 s again.
  fake.failNext(FAKE_PATHS.token, 3, -1)
  t += (MAX_LIFETIME_S - 200) * 1000 // inside the refresh margin: a refresh, the old token still served
  assert.ok((await m.getToken()).ok)
  const last = memLog.lines.filter((l) => l.msg === 'access_token fetch failed').at(-1)
  assert.equal(last?.retryInMs, 1000)
})

test('the hold stops doubling at a minute', async () => {
  fake.failNext(FAKE_PATHS.token, 30, -1)
  const m = manager()
  for (let i = 0; i < 10; i++) {
    assert.equal((await m.getToken()).ok, false)
    t += TRANSIENT_HOLD_MAX_MS
  }
  const holds = memLog.lines.filter((l) => l.msg === 'access_token fetch failed').map((l) => l.retryInMs)
  assert.deepEqual(holds, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000])
  fake.failNext(FAKE_PATHS.token, 0, -1)
})

test('a garbled answer is held as a setting refusal is: one request per cool-down, the reason naming the field', async () => {
  fake.answerRawNext(FAKE_PATHS.token, { status: 200, contentType: 'application/json', body: '{"access_token":"abc","expires_in":-5}' })
  const m = manager()
  for (let i = 0; i < 10; i++) {
    const r = await m.getToken()
    assert.equal(r.ok, false)
    if (!r.ok) assert.equal(r.error.reason, "GET /cgi-bin/token: the answer's expires_in is not a number of seconds above 0 (-5)")
  }
  assert.equal(requests(), 1)
  t += 60_000
  assert.ok((await m.getToken()).ok)
  fake.answerRawNext(FAKE_PATHS.token, { status: 200, contentType: 'application/json', body: '{"expires_in":7200}' })
  const r = await createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: createMemoryStore({ now }).tokens, log: memLog.logger, now }).getToken()
  assert.equal(r.ok ? '' : r.error.reason, 'GET /cgi-bin/token: the answer has no access_token')
})

test('a lifetime past 7200 s is kept 7200 s and said once; one given as digits in a string is read', async () => {
  fake.answerRawNext(FAKE_PATHS.token, { status: 200, contentType: 'application/json', body: '{"access_token":"forever","expires_in":1e308}' })
  const m = manager()
  assert.equal((await m.getToken()).ok, true)
  const stored = await store.tokens.get('wxA')
  assert.equal(stored?.token, 'forever')
  assert.equal(stored?.expiresAt, T0 + MAX_LIFETIME_S * 1000)
  const said = memLog.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('longer than the 7200 s'))
  assert.equal(said.length, 1)
  assert.equal(said[0]!.level, 40)
  // Refreshed before the 7200 s are over, as any token.
  t += (MAX_LIFETIME_S - 60) * 1000
  assert.notEqual((await m.getToken()).ok && (await store.tokens.get('wxA'))?.token, 'forever')

  fake.answerRawNext(FAKE_PATHS.token, { status: 200, contentType: 'application/json', body: '{"access_token":"digits","expires_in":"7200"}' })
  const other = createMemoryStore({ now })
  const r = await createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: other.tokens, log: memLog.logger, now }).getToken()
  assert.equal(r.ok ? r.value : r.error.reason, 'digits')
  assert.equal((await other.tokens.get('wxA'))?.expiresAt, t + 7200_000)
})

test('lifetimeOf: a number of seconds above 0, or its digits', () => {
  assert.equal(lifetimeOf(7200), 7200)
  assert.equal(lifetimeOf(' 7200 '), 7200)
  assert.equal(lifetimeOf('7200.5'), 7200.5)
  for (const bad of [0, -5, NaN, Infinity, '', 'soon', '-1', '1e3', null, undefined, {}, [7200], true]) assert.equal(lifetimeOf(bad), undefined, JSON.stringify(bad))
})
