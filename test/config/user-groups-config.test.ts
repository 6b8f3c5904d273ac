/**
 * `accounts[].userGroups` (core/config/config-schema.ts): named groups of OpenIDs a rule's `users:` can
 * restrict it to. A wrong value stops the start naming the setting; WECHAT_ADMINS sets the default
 * account's `admins` group, as the other WECHAT_* variables set its fields.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'

const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function project(groups?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-groups-'))
  dirs.push(dir)
  const extra = groups === undefined ? '' : `, userGroups: ${groups}`
  writeFileSync(
    path.join(dir, 'engine.config.ts'),
    `import { defineConfig } from 'wxengine/config'\nexport default defineConfig({\n  accounts: [{ id: 'default', token: 'tok123', appId: 'wx1'${extra} }],\n})\n`,
  )
  return dir
}

function refused(root: string, env: NodeJS.ProcessEnv = {}): string {
  const r = loadConfig({ root, env })
  assert.equal(r.ok, false, 'the configuration should be refused')
  return r.ok ? '' : r.error.reason
}

test('named groups of OpenIDs load as written', () => {
  const r = loadConfig({ root: project(`{ admins: ['oAbc123_-XYZ', 'oDef456'], staff: [] }`), env: {} })
  assert.ok(r.ok, r.ok ? '' : r.error.reason)
  assert.deepEqual(r.value.accounts[0].userGroups, { admins: ['oAbc123_-XYZ', 'oDef456'], staff: [] })
})

test('no userGroups is the common case: the account has none', () => {
  const r = loadConfig({ root: project(), env: {} })
  assert.ok(r.ok)
  assert.equal(r.value.accounts[0].userGroups, undefined)
})

test('an empty or blank OpenID is refused, naming the setting', () => {
  assert.match(refused(project(`{ admins: ['oAbc', ''] }`)), /accounts\[0\]\.userGroups\.admins\[1\]: must be an OpenID/)
  assert.match(refused(project(`{ admins: ['  '] }`)), /accounts\[0\]\.userGroups\.admins\[0\]: must be an OpenID/)
  assert.match(refused(project(`{ admins: [' oAbc'] }`)), /accounts\[0\]\.userGroups\.admins\[0\]: must be an OpenID/)
})

test('a group that is not a list of strings is refused, naming the setting', () => {
  assert.match(refused(project(`{ admins: 'oAbc' }`)), /accounts\[0\]\.userGroups\.admins: must be a list/)
  assert.match(refused(project(`{ admins: [42] }`)), /accounts\[0\]\.userGroups\.admins\[0\]: must be a string/)
})

test('a group name that is not an identifier is refused, naming it', () => {
  assert.match(refused(project(`{ 'the admins': ['oAbc'] }`)), /accounts\[0\]\.userGroups: group name "the admins" must be a letter followed by letters, digits, _ or -/)
  assert.match(refused(project(`{ '1st': ['oAbc'] }`)), /group name "1st"/)
})

test('WECHAT_ADMINS sets the default account’s admins group (commas or spaces between OpenIDs)', () => {
  const r = loadConfig({ root: project(`{ admins: ['oFile'], staff: ['oStaff'] }`), env: { WECHAT_ADMINS: 'oA1, oA2 oA3' } })
  assert.ok(r.ok, r.ok ? '' : r.error.reason)
  assert.deepEqual(r.value.accounts[0].userGroups, { admins: ['oA1', 'oA2', 'oA3'], staff: ['oStaff'] })
  const fresh = loadConfig({ root: project(), env: { WECHAT_ADMINS: 'oA1' } })
  assert.ok(fresh.ok)
  assert.deepEqual(fresh.value.accounts[0].userGroups, { admins: ['oA1'] })
})

test('WECHAT_ADMINS set but empty stops the start, as the other WECHAT_* variables do', () => {
  assert.match(refused(project(`{ admins: ['oFile'] }`), { WECHAT_ADMINS: '' }), /WECHAT_ADMINS: is set but empty/)
  assert.match(refused(project(), { WECHAT_ADMINS: ' , ' }), /WECHAT_ADMINS: is set but empty/)
})
