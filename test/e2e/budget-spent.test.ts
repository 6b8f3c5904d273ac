/**
 * A message whose plugin outruns the reply budget is answered `success` and its reply handed to the late
 * path: the engine says so with a `budget_spent` event, once, naming the account and the plugin still at
 * work, so that what needs to know (the metrics, `send --local`'s hint) need not match the warning's wording.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, it } from 'node:test'
import type { EngineEvent } from '../../core/engine.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'

const PLUGINS = path.resolve(import.meta.dirname, '../fixtures/engine-plugins')
const RULES =
  'rules:\n  - name: slow\n    keywords: [slow]\n    plugin: sleeper\n    args: { ms: 400 }\n' +
  '  - name: quick\n    keywords: [quick]\n    plugin: sleeper\n    args: { ms: 0 }\n'

let h: Harness
before(async () => {
  h = await startHarness({ rules: { 'r.yaml': RULES }, plugins: PLUGINS, config: { limits: { replyBudgetMs: 150 } } })
})
after(() => h.close())

const spent = () => h.events.filter((e): e is Extract<EngineEvent, { type: 'budget_spent' }> => e.type === 'budget_spent')

it('a plugin past the budget: one budget_spent event, with the account, the user, the plugin and the message key', async () => {
  const r = await h.post('plain', push.text('slow-user', 'slow'))
  assert.equal(r.body, 'success', 'answered at the budget')
  assert.deepEqual(spent().map(({ key: _, ...e }) => e), [{ type: 'budget_spent', account: 'plain', openId: 'slow-user', plugin: 'sleeper' }])
  await h.runtime.engine.idle()
  await h.runtime.platform.idle()
  assert.equal(spent().length, 1, 'not again when the plugin finishes')
  // The same key as the late reply's event: the two tell of one message.
  const late = h.events.find((e) => e.type === 'late_reply')
  assert.ok(late?.type === 'late_reply' && late.key !== undefined)
  assert.equal(spent()[0].key, late.key)
})

it('a plugin that answers within the budget: no budget_spent event', async () => {
  const before = spent().length
  const r = await h.post('plain', push.text('quick-user', 'quick'))
  assert.equal(r.reply?.Content, 'slept 0 ms')
  await h.runtime.engine.idle()
  assert.equal(spent().length, before)
})
