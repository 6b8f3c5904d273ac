/**
 * What `menu check` and `qrcode create` say answers a push, against what the router does (found by a
 * routing review: a default reply whose plugin is not there was promised, and the router gave no reply).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseXml } from '../../core/normalize/safe-xml.ts'
import { buildPushXml, push } from '../../core/testkit/wechat-simulator.ts'
import { loadRuleSet } from '../../core/route/rules/load-rule-set.ts'
import { NO_REPLY, whatAnswersPush } from '../../core/route/what-answers.ts'
import { tempRulesDirs } from '../support/rules-dir.ts'

const rulesDir = tempRulesDirs('what-answers')

test('a system reply whose plugin is not there is skipped, and nothing answers after it: no reply, as the router', async () => {
  const dir = await rulesDir({ 'a.yaml': 'default: { plugin: gone }\n' })
  const loaded = await loadRuleSet(dir)
  assert.ok(loaded.ok)
  const ctx = { account: 'default', rules: loaded.ruleSet, groups: [], pluginMissing: (name: string) => (name === 'gone' ? 'not in plugins/' : undefined) }
  // As the server reads it: every field text.
  const parsed = parseXml(buildPushXml(push.click('o-1', 'K')))
  assert.ok(parsed.ok)
  const click = parsed.value
  const answer = whatAnswersPush(click, ctx, 'a click')
  assert.equal(answer.answered, false)
  assert.equal(answer.otherwise, NO_REPLY)
  assert.deepEqual(answer.steps.map((s) => [s.by, s.skipped]), [['default reply', 'not in plugins/']])
  // The same rules with the plugin there: the default reply answers.
  const there = whatAnswersPush(click, { ...ctx, pluginMissing: () => undefined }, 'a click')
  assert.equal(there.otherwise, 'the default reply (plugin gone)')
})
