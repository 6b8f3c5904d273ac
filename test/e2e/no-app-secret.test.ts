/**
 * An account without an appSecret (the example configuration has none) can answer passively, but the
 * customer-service API is out of reach. A plugin author's review found a late reply failing unseen: the
 * message log said `late text` and nothing else, and the reason carried UNKNOWN_ACCOUNT. Now the reason is
 * BAD_CONFIG naming what to set, and the message log has a row saying the late reply failed. (`wxengine
 * start` warns about such an account: test/server/start.test.ts.)
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'

const PLUGINS = path.resolve(import.meta.dirname, '../fixtures/engine-plugins')
const RULES = 'rules:\n  - name: sleep\n    keywords: [sleep]\n    plugin: sleeper\n    args: { ms: 300 }\n'

describe('an account without an appSecret', () => {
  let h: Harness
  before(async () => {
    h = await startHarness({ rules: { 'r.yaml': RULES }, plugins: PLUGINS, config: { limits: { replyBudgetMs: 100 } } })
  })
  after(() => h.close())

  it("a late reply fails with BAD_CONFIG, and the message log says so in a row of its own", async () => {
    const r = await h.post('plain', push.text('slow-user', 'sleep'))
    assert.equal(r.body, 'success', 'answered at the budget')
    await h.runtime.engine.idle()
    await h.runtime.platform.idle()
    const rows = (await h.runtime.store.log.query({ openId: 'slow-user' })).reverse()
    assert.deepEqual(
      rows.map((e) => [e.outcome, e.replyType ?? null, e.rule ?? null]),
      [
        ['late', null, null], // at the budget: the plugin still working
        ['late', 'text', 'sleep'], // the plugin answered: handed to the sender (a hit)
        ['failed', 'text', null], // the send failed for good (not a second hit)
      ],
    )
    assert.match(rows[2].error ?? '', /^late reply failed: BAD_CONFIG: account "plain" has no appSecret: /)
    const failedLine = h.lines.find((l) => l.msg === 'late reply failed')
    assert.equal(failedLine?.code, 'BAD_CONFIG')
    const event = h.events.find((e) => e.type === 'late_reply')
    assert.equal(event?.type === 'late_reply' && event.outcome, 'failed')
  })

  it("a plugin's API call is refused with BAD_CONFIG too (not a bare Error)", async () => {
    assert.throws(
      () => h.runtime.platform.apiFor('plain'),
      (e: Error & { code?: string }) => e.name === 'PlatformApiError' && e.code === 'BAD_CONFIG' && /account "plain" has no appSecret/.test(e.message),
    )
    assert.throws(() => h.runtime.platform.apiFor('nope'), (e: Error & { code?: string }) => e.code === 'UNKNOWN_ACCOUNT')
  })
})
