/**
 * A user's message answered late (its plugin ran past the reply budget, the reply went out through the
 * customer-service API) and their next one, answered passively by an inline rule: the next one waited in
 * the user queue only until the first one's routing ended, then answered in a millisecond while the late
 * reply was still an HTTPS round trip from the platform. The user read the answer to their second message
 * above the answer to their first. It now waits for the late send to end, for LATE_REPLY_ORDER_BOUND_MS at
 * most (engine.ts says why that long).
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { afterEach, it } from 'node:test'
import { LATE_REPLY_ORDER_BOUND_MS } from '../../core/engine.ts'
import { FAKE_PATHS, startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'

const PLUGINS = path.resolve(import.meta.dirname, '../fixtures/engine-plugins')
const APP_ID = 'wxplain000000001'

let fake: FakeWeChatApi | undefined
let engines: Harness[] = []
let redis: RedisServer | undefined
afterEach(async () => {
  // The stand-in first: it drops the send it still holds back, so the engine's shutdown does not wait for it.
  await fake?.close()
  await Promise.all(engines.map((e) => e.close()))
  await redis?.stop()
  fake = redis = undefined
  engines = []
})

/**
 * `count` engines (on one Redis when `redis` is given) whose `slow` rule answers `sleepMs` after the message
 * through plugin sleeper, and `hi` inline; one stand-in platform.
 */
async function startEngines(budgetMs: number, sleepMs: number, count = 1, redisUrl?: string): Promise<{ engines: Harness[]; fake: FakeWeChatApi }> {
  fake = await startFakeWeChatApi({ appId: APP_ID, appSecret: 'plainsecret' })
  for (let i = 0; i < count; i++) {
    engines.push(
      await startHarness({
        rules: { 'r.yaml': `rules:\n  - { name: slow, keywords: [slow], plugin: sleeper, args: { ms: ${sleepMs} } }\n  - { name: hi, keywords: [hi], reply: { type: text, content: hello } }\n` },
        plugins: PLUGINS,
        config: { limits: { replyBudgetMs: budgetMs }, platform: { apiBase: fake.baseUrl }, ...(redisUrl ? { store: { kind: 'redis' as const, url: redisUrl } } : {}) },
        accounts: [{ id: 'plain', token: 'plaintoken', appId: APP_ID, appSecret: 'plainsecret', mode: 'plaintext' }],
      }),
    )
  }
  return { engines, fake }
}

async function start(budgetMs: number, sleepMs: number): Promise<{ h: Harness; fake: FakeWeChatApi }> {
  const { engines, fake } = await startEngines(budgetMs, sleepMs)
  return { h: engines[0], fake }
}

const lateTexts = (api: FakeWeChatApi) => api.sent.map((m) => (m.body.text as { content?: string } | undefined)?.content)

it("the next message's passive answer comes back only once the platform has taken the late reply", async () => {
  // The plugin ends 100 ms after the budget; the platform answers the late send 300 ms after it arrives.
  // The second message's own budget (1 s from its arrival) leaves it room to wait for both.
  const { h, fake } = await start(1000, 1100)
  fake.setDelay(300, FAKE_PATHS.customSend)
  const first = await h.post('plain', push.text('o-order', 'slow'))
  assert.equal(first.body, 'success', 'answered success at the budget: the reply goes out late')
  const second = await h.post('plain', push.text('o-order', 'hi'))
  // Read as the answer arrives: the late reply must already be with the platform.
  const sentThen = lateTexts(fake)
  assert.equal(second.reply?.Content, 'hello', 'answered passively, within its own budget')
  assert.deepEqual(sentThen, ['slept 1100 ms'], 'the platform took the late reply before the next answer came back')
})

it('a platform slower than the bound holds the next message for the bound only', async () => {
  // The platform answers the late send after 5 s; the second message's budget (2.7 s) is past the bound
  // (2 s) after the first message's routing ends, and short of the platform's answer.
  const { h, fake } = await start(2700, 2750)
  fake.setDelay(5000, FAKE_PATHS.customSend)
  const first = await h.post('plain', push.text('o-bound', 'slow'))
  assert.equal(first.body, 'success')
  const at = performance.now()
  const second = await h.post('plain', push.text('o-bound', 'hi'))
  const waited = performance.now() - at
  assert.equal(second.reply?.Content, 'hello', `answered passively after ${Math.round(waited)} ms, not past its budget waiting for the platform`)
  assert.deepEqual(lateTexts(fake), [], 'the platform is still holding the late send')
  // Sent before the first message's routing ended, it waited for that and then the whole bound.
  assert.ok(waited >= LATE_REPLY_ORDER_BOUND_MS, `waited ${Math.round(waited)} ms`)
})

it('across a fleet too: the next message on another instance waits, the user lock kept until the platform has the late reply', async () => {
  redis = await startRedisServer()
  const { engines: [a, b], fake } = await startEngines(1000, 1100, 2, redis.url)
  fake.setDelay(300, FAKE_PATHS.customSend)
  const first = await a.post('plain', push.text('o-fleet', 'slow'))
  assert.equal(first.body, 'success')
  // On the other instance: it shares no queue with the first, only the user's lock in Redis.
  const second = await b.post('plain', push.text('o-fleet', 'hi'))
  const sentThen = lateTexts(fake)
  assert.equal(second.reply?.Content, 'hello', 'answered passively, within its own budget')
  assert.deepEqual(sentThen, ['slept 1100 ms'], 'the platform took the late reply before the next answer came back')
})
