/**
 * `users:` on a rule or handler (docs/rules.md#users): the groups of engine.config.ts's `userGroups` the
 * entry exists for. Parsed into the rule, checked against the groups each account defines, with file and
 * line; the parse worker of a reload checks the same (the options cross to it as data).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { formatRuleErrors, loadRuleSet } from '../../../core/route/rules/index.ts'
import { readRulesOffThread } from '../../../core/route/rules/read-rules-off-thread.ts'
import { createLogger } from '../../../core/log/logger.ts'
import { tempRulesDirs } from '../../support/rules-dir.ts'

const rulesDir = tempRulesDirs('users')
const GROUPS = { main: ['admins', 'staff'], shop: ['staff'] }
const OPTS = { accounts: ['main', 'shop'], userGroups: GROUPS }

const BROADCAST = `rules:
  - name: broadcast
    keywords: [{prefix: 'broadcast '}]
    users: admins
    plugin: broadcast
  - name: stats
    keywords: [stats]
    users: [admins, staff]
    reply: {type: text, content: '42'}
handlers:
  - type: image
    users: staff
    plugin: archive
`

describe('users: on rules and handlers', () => {
  it('one group or a list, kept on the rule; entries without users have none', async () => {
    const dir = await rulesDir({ 'main/admin.yaml': BROADCAST, 'open.yaml': 'rules:\n  - name: hi\n    keywords: [hi]\n    reply: {type: text, content: hi}\n' })
    const loaded = await loadRuleSet(dir, OPTS)
    assert.ok(loaded.ok, loaded.ok ? '' : formatRuleErrors(loaded.errors))
    assert.deepEqual(loaded.warnings, [])
    const [broadcast] = loaded.ruleSet.matchText('main', 'broadcast hi', false)
    assert.deepEqual(broadcast.users, ['admins'])
    assert.deepEqual(loaded.ruleSet.matchText('main', 'stats', false)[0].users, ['admins', 'staff'])
    assert.deepEqual(loaded.ruleSet.matchType('main', 'image')[0].users, ['staff'])
    assert.equal(loaded.ruleSet.matchText('main', 'hi', false)[0].users, undefined)
  })

  it('a group the account does not define is an error with file and line', async () => {
    const dir = await rulesDir({ 'shop/admin.yaml': BROADCAST })
    const loaded = await loadRuleSet(dir, OPTS)
    assert.equal(loaded.ok, false)
    if (loaded.ok) return
    assert.equal(formatRuleErrors(loaded.errors), [
      `${join(dir, 'shop/admin.yaml')}:4:12: rule "broadcast": users: no group "admins" in account "shop"'s userGroups (engine.config.ts; groups: staff)`,
      `${join(dir, 'shop/admin.yaml')}:8:13: rule "stats": users: no group "admins" in account "shop"'s userGroups (engine.config.ts; groups: staff)`,
    ].join('\n'))
  })

  it('a misspelt group says which one was meant', async () => {
    const dir = await rulesDir({ 'main/a.yaml': 'rules:\n  - name: a\n    keywords: [a]\n    users: admin\n    plugin: p\n' })
    const loaded = await loadRuleSet(dir, OPTS)
    assert.equal(loaded.ok, false)
    if (!loaded.ok) assert.match(loaded.errors[0].message, /no group "admin" in account "main"'s userGroups \(did you mean "admins"\?\)/)
  })

  it('for every account (*): an error when no account defines the group, a warning when some do not', async () => {
    const none = await rulesDir({ 'a.yaml': 'rules:\n  - name: a\n    keywords: [a]\n    users: bosses\n    plugin: p\n' })
    const refused = await loadRuleSet(none, OPTS)
    assert.equal(refused.ok, false)
    if (!refused.ok) assert.equal(formatRuleErrors(refused.errors), `${join(none, 'a.yaml')}:4:12: rule "a": users: no account defines a group "bosses" in its userGroups (engine.config.ts; groups: admins, staff)`)
    const some = await rulesDir({ 'a.yaml': 'handlers:\n  - type: text\n    name: admin-text\n    users: admins\n    plugin: p\n' })
    const loaded = await loadRuleSet(some, OPTS)
    assert.ok(loaded.ok, loaded.ok ? '' : formatRuleErrors(loaded.errors))
    assert.deepEqual(loaded.warnings, [`${join(some, 'a.yaml')}:4:12: handler "admin-text": users: account "shop" has no group "admins", so there it answers nobody`])
  })

  it('a group name that is not an identifier, or an empty list, is an error', async () => {
    for (const users of ["'the admins'", '[]', '42']) {
      const dir = await rulesDir({ 'main/a.yaml': `rules:\n  - name: a\n    keywords: [a]\n    users: ${users}\n    plugin: p\n` })
      const loaded = await loadRuleSet(dir, OPTS)
      assert.equal(loaded.ok, false, users)
      if (!loaded.ok) assert.match(loaded.errors[0].message, /rule "a": users/, users)
    }
  })

  it('welcome, default and error take no users: they are what answers when nothing else did', async () => {
    const dir = await rulesDir({ 'a.yaml': 'default:\n  users: admins\n  reply: {type: text, content: x}\n' })
    const loaded = await loadRuleSet(dir, OPTS)
    assert.equal(loaded.ok, false)
    if (!loaded.ok) assert.match(loaded.errors[0].message, /unknown key "users"/)
  })

  it('the parse worker of a reload checks the groups too', async () => {
    const dir = await rulesDir({ 'shop/admin.yaml': BROADCAST })
    const loaded = await loadRuleSet(dir, OPTS, readRulesOffThread(createLogger({ level: 'silent' }), { inThreadMaxBytes: 0 }))
    assert.equal(loaded.ok, false)
    if (!loaded.ok) assert.match(formatRuleErrors(loaded.errors), /no group "admins" in account "shop"/)
  })
})
