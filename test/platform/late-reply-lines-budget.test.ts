/**
 * The late-reply sender's lines that could come once per reply are budgeted (log/line-budget.ts), as its
 * sent/failed/retrying lines are: the start-up's "resuming" line for each pending entry and "late reply
 * failed" for each one past the 48 h window (after a long stop the outbox may hold thousands), and the line
 * of a bug in the sender (a settled callback that throws fails every reply). The bug's line names the
 * message's key, as the send's other lines do.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createLineBudget, LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createAccessTokenManager } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { createLateReplySender, type LateReplySenderOptions } from '../../core/platform/late-reply-sender.ts'
import { createPlatformApi } from '../../core/platform/platform-api.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
after(() => fake.close())
const MANY = LINES_PER_KEY + 5

function setUp(overrides: Partial<LateReplySenderOptions> = {}) {
  const store = createMemoryStore()
  const memLog = createMemoryLogger()
  const lines = createLineBudget(memLog.logger)
  const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 1000 })
  const api = createPlatformApi({ client, tokens: createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: store.tokens, log: memLog.logger }) })
  const sender = createLateReplySender({ api: () => api, outbox: store.outbox, log: memLog.logger, lines, sleep: async () => undefined, ...overrides })
  return { store, memLog, lines, sender }
}
const oneByOne = (lines: Array<Record<string, unknown>>, msg: string) => lines.filter((l) => l.msg === msg && l.held === undefined)

test('resuming many pending replies: the resuming line and the expired line each cost their budget', async () => {
  const { store, memLog, lines, sender } = setUp()
  for (let i = 0; i < MANY; i++) {
    await store.outbox.record({ account: 'acc', openId: `o-${i}`, msgKey: `k-${i}`, reply: { type: 'text', content: 'left' }, attempts: 1, status: 'pending', at: Date.now() - 60_000 })
    await store.outbox.record({ account: 'acc', openId: `o-old-${i}`, msgKey: `k-old-${i}`, reply: { type: 'text', content: 'old' }, attempts: 1, status: 'pending', at: Date.now() - 49 * 3_600_000 })
  }
  assert.equal(await sender.resumePending(), MANY)
  await sender.idle()
  lines.close()
  assert.equal(oneByOne(memLog.lines, 'resuming a late reply left pending by the previous run').length, LINES_PER_KEY)
  const expired = oneByOne(memLog.lines, 'late reply failed').filter((l) => l.reason === 'pending late reply expired (48 h window)')
  assert.equal(expired.length, LINES_PER_KEY)
  assert.ok(memLog.lines.some((l) => l.held === 5 && l.lastReason === 'pending late reply expired (48 h window)'), 'the rest counted in one line')
  // Every entry still says how it ended.
  assert.equal((await store.outbox.list('failed')).length, MANY)
  assert.equal((await store.outbox.list('sent')).length, MANY)
})

test("a bug in the sender (a settled callback that throws): its line names the message and is budgeted", async () => {
  const { memLog, lines, sender } = setUp({
    onSettled: () => {
      throw new TypeError('cannot read properties of undefined')
    },
  })
  for (let i = 0; i < MANY; i++) await sender.send('acc', `o-${i}`, { type: 'text', content: 'late' }, `k-${i}`)
  await sender.idle()
  const bugs = oneByOne(memLog.lines, 'late reply sender bug')
  assert.equal(bugs.length, LINES_PER_KEY)
  assert.equal(bugs[0]!.key, 'k-0')
  assert.equal(bugs[0]!.code, 'INTERNAL')
  assert.equal(bugs[0]!.reason, 'cannot read properties of undefined')
  lines.close()
})
