/**
 * YAML merge keys in rules files (`<<: *base`): the shared part of several rules written once. They were
 * refused ("unknown key "<<""): yaml's 1.2 schema reads `<<` as a key like any other unless `merge` is on.
 * The schema checks the merged rule, and an error in a merged entry points at the line it is written on.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { formatRuleErrors, loadRuleSet } from '../../../core/route/rules/index.ts'
import type { RuleLoadError } from '../../../core/route/rule-types.ts'
import { createTestClient } from '../../../core/testkit/plugin-test-client.ts'
import { tempRulesDirs } from '../../support/rules-dir.ts'

const rulesDir = tempRulesDirs('merge-keys')

/** The errors of a one-file rules directory, as [line, column, message]. */
async function errorsOf(text: string): Promise<Array<[number, number | undefined, string]>> {
  const dir = await rulesDir({ 'main.yaml': text })
  const result = await loadRuleSet(dir)
  assert.equal(result.ok, false, 'expected the rules to be rejected')
  const errors = result.ok ? [] : result.errors
  for (const e of errors) assert.equal(e.file, path.join(dir, 'main.yaml'), formatRuleErrors(errors))
  return errors.map((e: RuleLoadError) => [e.line, e.column, e.message])
}

describe('a rules file with an anchor and merge keys', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-merge-keys-'))
  after(() => rmSync(root, { recursive: true, force: true }))

  it('loads, and each rule answers with what it merged in, its own entries winning', async () => {
    mkdirSync(path.join(root, 'rules'))
    writeFileSync(
      path.join(root, 'rules', 'main.yaml'),
      [
        'rules:',
        '  - &hours',
        '    name: hours',
        '    keywords: [hours]',
        '    priority: 5',
        '    reply: &hoursReply { type: text, content: open 9 to 5 }',
        '  - <<: *hours',
        '    name: weekend',
        '    keywords: [weekend]',
        '    reply:',
        '      <<: *hoursReply',
        '      content: closed on weekends',
        '  - <<: *hours', // all of it but the name and keywords
        '    name: opening',
        '    keywords: [opening]',
        '',
      ].join('\n'),
    )
    const client = await createTestClient({ root })
    try {
      await client.expectReply('hours', 'open 9 to 5')
      await client.expectReply('weekend', 'closed on weekends')
      await client.expectReply('opening', 'open 9 to 5')
    } finally {
      await client.close()
    }
  })

  it('an error in a merged entry is said for each rule that has it, at the line where it is written', async () => {
    const errors = await errorsOf(
      [
        'rules:',
        '  - &base',
        '    name: a',
        '    keywords: [a]',
        '    priority: high',
        '    plugin: p',
        '  - <<: *base',
        '    name: b',
        '    keywords: [b]',
        '',
      ].join('\n'),
    )
    assert.deepEqual(
      errors.map(([line, , message]) => [line, message.replace(/:.*/, '')]),
      [
        [5, 'rule "a"'],
        [5, 'rule "b"'],
      ],
    )
    assert.match(errors[1]![2], /priority must be a whole number, got "high"/)
  })

  it('an unknown key in a merged mapping points at that key, also through a list of merges', async () => {
    const errors = await errorsOf(
      [
        'rules:',
        '  - name: a',
        '    keywords: [a]',
        '    reply: &textReply { type: text, content: hi }',
        '  - name: b',
        '    keywords: [b]',
        '    reply: &extra',
        '      colour: red',
        '      type: text',
        '      content: hi',
        '  - name: c',
        '    keywords: [c]',
        '    reply: { <<: [*textReply, *extra] }',
        '',
      ].join('\n'),
    )
    assert.deepEqual(
      errors.map(([line, column, message]) => [line, column, /^rule "(\w)": unknown key "colour"/.exec(message)?.[1]]),
      [
        [8, 7, 'b'],
        [8, 7, 'c'],
      ],
    )
  })

  it('a template merged into a thousand rules loads, in a second or two (100 were refused as "Excessive alias count indicates a resource exhaustion attack", at 1:1)', async () => {
    const rules = Array.from({ length: 1000 }, (_, i) => `  - <<: *menu\n    name: key${i}\n    keywords: [{exact: KEY_${i}}]\n`).join('')
    const dir = await rulesDir({ 'main.yaml': `rules:\n  - &menu\n    name: menu\n    keywords: [menu]\n    foldCase: false\n    plugin: menu-click\n${rules}` })
    const started = performance.now()
    const result = await loadRuleSet(dir)
    const ms = performance.now() - started
    assert.ok(result.ok, result.ok ? '' : formatRuleErrors(result.errors))
    assert.equal(result.ruleSet.size.textRules, 1001)
    assert.deepEqual(result.ruleSet.matchText('default', 'KEY_999', true).map((c) => [c.rule, c.target]), [['key999', { plugin: 'menu-click', args: {} }]])
    // Each alias was resolved by a walk of the whole file: 1,000 took 12 s, 2,000 a minute.
    assert.ok(ms < 5000, `${Math.round(ms)} ms`)
  })

  it('past 5,000 aliases a file is refused at the one past the bound: toJS would take seconds to expand them', async () => {
    const rules = Array.from({ length: 5001 }, (_, i) => `  - {<<: *t, name: r${i}, keywords: [k${i}]}\n`).join('')
    const errors = await errorsOf(`rules:\n  - &t {name: t, keywords: [t], plugin: p}\n${rules}`)
    assert.deepEqual(errors, [[5003, 10, 'YAML error: more than 5,000 aliases (*name) in one file, which would take seconds to expand: split the file']])
  })

  it('a merge key whose value is not a mapping: said at that value, with what to write', async () => {
    const errors = await errorsOf(['rules:', '  - &base', '    name: a', '    keywords: [a]', '    plugin: p', '  - name: b', '    <<: [*base, p]', '    keywords: [b]', ''].join('\n'))
    assert.deepEqual(errors, [[7, 17, 'YAML error: a merge key (<<) takes a mapping to copy in: an alias of one (<<: *base), a list of them (<<: [*base, *other]), or a mapping written there']])
  })
})
