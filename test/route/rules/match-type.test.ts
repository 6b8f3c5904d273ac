import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { buildSystemCandidate, compileRuleSet } from '../../../core/route/rules/index.ts'
import { handler } from './rule-fixtures.ts'

describe('matchType', () => {
  const set = compileRuleSet(
    [],
    [
      handler('sub-generic', 'subscribe', { source: { file: 'a.yaml', line: 1 } }),
      handler('sub-42', 'subscribe', { scene: '42', source: { file: 'b.yaml', line: 1 } }),
      handler('sub-7', 'subscribe', { scene: '7', source: { file: 'a.yaml', line: 3 } }),
      handler('sub-high', 'subscribe', { priority: 3, source: { file: 'z.yaml', line: 1 } }),
      handler('loc', 'location', { source: { file: 'a.yaml', line: 9 } }),
      handler('loc-acct', 'location', { account: 'acct', source: { file: 'acct/x.yaml', line: 1 } }),
      handler('loc-off', 'location', { enabled: false }),
      handler('scan-42', 'scan', { scene: '42' }),
    ],
  )
  const rules = (account: string, kind: Parameters<typeof set.matchType>[1], scene?: string) =>
    set.matchType(account, kind, scene).map((c) => c.rule)
  const table: [string, Parameters<typeof set.matchType>[1], string | undefined, string[]][] = [
    ['x', 'subscribe', undefined, ['sub-high', 'sub-generic']],
    ['x', 'subscribe', '42', ['sub-high', 'sub-42', 'sub-generic']], // scene before generic at equal priority
    ['x', 'subscribe', '7', ['sub-high', 'sub-7', 'sub-generic']],
    ['x', 'subscribe', '8', ['sub-high', 'sub-generic']],
    ['x', 'location', undefined, ['loc']],
    ['acct', 'location', undefined, ['loc', 'loc-acct']], // a.yaml < acct/x.yaml
    ['x', 'scan', undefined, []],
    ['x', 'scan', '42', ['scan-42']],
    ['x', 'image', undefined, []],
  ]
  for (const [account, kind, scene, expected] of table) {
    it(`${account} ${kind}${scene ? ` scene ${scene}` : ''} -> ${expected.join(',') || 'nothing'}`, () => {
      assert.deepEqual(rules(account, kind, scene), expected)
    })
  }

  it('says how the handler matched', () => {
    const [scene, generic] = set.matchType('x', 'subscribe', '42').slice(1)
    assert.equal(scene.match.via, 'scene')
    assert.equal(scene.match.keyword, '42')
    assert.deepEqual(generic.match, { rule: 'sub-generic', via: 'type', captures: [], groups: {}, fromClick: false, args: {} })
    assert.equal(set.size.typeHandlers, 7)
  })
})

describe('system replies', () => {
  const hi = { reply: { type: 'text' as const, content: 'hi' } }
  const own = { reply: { type: 'text' as const, content: 'own' } }
  const set = compileRuleSet([], [], { '*': { welcome: hi, default: hi }, acct: { default: own } })
  it('takes each of welcome and default from the account, else from *', () => {
    assert.deepEqual(set.system('acct'), { welcome: hi, default: own })
    assert.deepEqual(set.system('other'), { welcome: hi, default: hi })
    assert.deepEqual(compileRuleSet([], []).system('x'), {})
  })
  it('builds their candidates', () => {
    const c = buildSystemCandidate('default', { plugin: 'fallback', args: { a: 1 } })
    assert.deepEqual(c.match, { rule: 'default', via: 'default', captures: [], groups: {}, fromClick: false, args: { a: 1 } })
  })
})
