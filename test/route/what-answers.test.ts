/**
 * What `menu check` and `qrcode create` say answers a push, against what the router does (found by a
 * routing review: a default reply whose plugin is not there was promised, and the router gave no reply).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseXml } from '../../core/normalize/safe-xml.ts'
import { buildPushXml, push } from '../../core/testkit/wechat-simulator.ts'
import { loadRuleSet } from '../../core/route/rules/load-rule-set.ts'
import { describeAnswer, NO_REPLY, whatAnswersPush } from '../../core/route/what-answers.ts'
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

/** A press of the key `K`, as the server reads it. */
function clickK() {
  const parsed = parseXml(buildPushXml(push.click('o-1', 'K')))
  assert.ok(parsed.ok)
  return parsed.value
}

test('a second candidate naming a plugin already asked is skipped, as the router asks a plugin once per message', async () => {
  const dir = await rulesDir({
    'a.yaml': [
      'rules:',
      '  - { name: menu, keywords: [{ exact: K, foldCase: false }], plugin: p }',
      'handlers:',
      '  - { type: click, key: K, plugin: p }',
      '  - { type: click, plugin: q }',
      'default: { reply: { type: text, content: sorry } }',
      '',
    ].join('\n'),
  })
  const loaded = await loadRuleSet(dir)
  assert.ok(loaded.ok)
  const ctx = { account: 'default', rules: loaded.ruleSet, groups: [], pluginMissing: () => undefined }
  const answer = whatAnswersPush(clickK(), ctx, 'a click')
  assert.equal(answer.answered, true)
  assert.deepEqual(
    answer.steps.map((s) => [s.target, s.skipped]),
    [
      ['plugin p', undefined],
      ['plugin p', 'plugin p was asked already, by rule "menu" (keyword "K"): a plugin is asked once per message'],
      ['plugin q', undefined],
    ],
  )
  // p passing goes on to q, never to p again.
  assert.equal(
    describeAnswer(answer),
    'rule "menu" (keyword "K") -> plugin p; if it passes: handler "click:K@a.yaml:4" -> plugin p (skipped: plugin p was asked already, by rule "menu" (keyword "K"): a plugin is asked once per message); then: handler "click@a.yaml:5" -> plugin q; if it passes: the default reply (reply text)',
  )
  // Without q, the skipped step is the last listed: what follows it is still said.
  const withoutQ = await loadRuleSet(await rulesDir({ 'a.yaml': 'rules:\n  - { name: menu, keywords: [{ exact: K, foldCase: false }], plugin: p }\nhandlers:\n  - { type: click, key: K, plugin: p }\ndefault: { reply: { type: text, content: sorry } }\n' }))
  assert.ok(withoutQ.ok)
  const said = describeAnswer(whatAnswersPush(clickK(), { ...ctx, rules: withoutQ.ruleSet }, 'a click'))
  assert.ok(said.endsWith('a plugin is asked once per message); then: the default reply (reply text)'), said)
})

test('a default reply naming a plugin already asked is skipped: a push that plugin passes on gets no reply', async () => {
  const dir = await rulesDir({ 'a.yaml': 'rules:\n  - { name: menu, keywords: [{ exact: K, foldCase: false }], plugin: p }\ndefault: { plugin: p }\n' })
  const loaded = await loadRuleSet(dir)
  assert.ok(loaded.ok)
  const answer = whatAnswersPush(clickK(), { account: 'default', rules: loaded.ruleSet, groups: [], pluginMissing: () => undefined }, 'a click')
  assert.equal(answer.otherwise, NO_REPLY)
  assert.equal(describeAnswer(answer), `rule "menu" (keyword "K") -> plugin p; if it passes: ${NO_REPLY}`)
})

test('a plugin asked by a rule limited to some users is still asked, for the rest, by a later candidate naming it', async () => {
  const dir = await rulesDir({ 'a.yaml': 'rules:\n  - { name: menu, keywords: [{ exact: K, foldCase: false }], plugin: p, users: admins }\nhandlers:\n  - { type: click, plugin: p }\n' })
  const loaded = await loadRuleSet(dir)
  assert.ok(loaded.ok)
  const answer = whatAnswersPush(clickK(), { account: 'default', rules: loaded.ruleSet, groups: ['admins'], pluginMissing: () => undefined }, 'a click')
  assert.deepEqual(answer.steps.map((s) => [s.target, s.users, s.skipped]), [['plugin p', ['admins'], undefined], ['plugin p', undefined, undefined]])
  assert.equal(answer.answered, true)
})
