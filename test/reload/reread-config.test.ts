/**
 * What a reload takes from the configuration read again (core/reload/reread-config.ts): the accounts'
 * userGroups and pageDomains (by account id) and the plugins section; every other difference is named by path, never by
 * value, for a restart.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { EngineConfig } from '../../core/config/config-types.ts'
import { defaultConfig } from '../../core/config/load-config.ts'
import { fail, ok } from '../../core/errors.ts'
import { configForReload, pickReloadable } from '../../core/reload/reread-config.ts'

const ADMIN = 'oAdmin0000000000000000000001'

function config(): EngineConfig {
  const c = defaultConfig('/srv/bot')
  c.accounts = [
    { id: 'default', token: 'secrettoken0001', appId: 'wx1111111111111111', mode: 'plaintext', userGroups: { admins: [ADMIN] } },
    { id: 'shop', token: 'secrettoken0002', appId: 'wx2222222222222222', appSecret: 'appsecret-value', mode: 'plaintext' },
  ]
  c.plugins = { 'menu-click': { config: { fallback: 'soon' } } }
  return c
}

it('the same configuration: nothing to restart for, the running one back as it was', () => {
  const running = config()
  const picked = pickReloadable(running, config())
  assert.deepEqual(picked.needRestart, [])
  assert.deepEqual(picked.config, running)
})

it('new groups (by account id, whatever the order) and plugin settings are taken; nothing named for a restart', () => {
  const running = config()
  const reread = config()
  reread.accounts = [
    { ...reread.accounts[1], userGroups: { staff: [ADMIN] } },
    { ...reread.accounts[0], userGroups: undefined },
  ]
  reread.plugins = { 'menu-click': { config: { fallback: 'later' }, timeoutMs: 5000 }, survey: { enabled: false } }
  const picked = pickReloadable(running, reread)
  // Reordered accounts are a change of the list: the order is the configuration's, taken at a restart.
  assert.deepEqual(picked.needRestart, ['accounts[0].id', 'accounts[0].token', 'accounts[0].appId', 'accounts[0].appSecret', 'accounts[1].id', 'accounts[1].token', 'accounts[1].appId', 'accounts[1].appSecret'])
  assert.deepEqual(picked.config.accounts.map((a) => [a.id, a.userGroups]), [['default', undefined], ['shop', { staff: [ADMIN] }]])
  assert.deepEqual(picked.config.plugins, reread.plugins)
  // The rest is the running configuration's.
  assert.equal(picked.config.accounts[0].token, 'secrettoken0001')
})

it('new pageDomains (added, changed, removed) are taken by account id; nothing named for a restart', () => {
  const running = config()
  running.accounts[1].pageDomains = ['h5.example.com']
  const reread = config()
  reread.accounts[0].pageDomains = ['blog.example.com']
  reread.accounts[1].pageDomains = ['h5.example.com', 'shop.example.com/mp']
  const picked = pickReloadable(running, reread)
  assert.deepEqual(picked.needRestart, [])
  assert.deepEqual(picked.config.accounts.map((a) => a.pageDomains), [['blog.example.com'], ['h5.example.com', 'shop.example.com/mp']])
  // Removed: the account has none after the reload.
  const none = pickReloadable(picked.config, config())
  assert.deepEqual(none.needRestart, [])
  assert.deepEqual(none.config.accounts.map((a) => a.pageDomains), [undefined, undefined])
  // The groups ride along, as before.
  assert.deepEqual(picked.config.accounts[0].userGroups, { admins: [ADMIN] })
})

it('other changes are named by path, values never; an account added or removed names the list', () => {
  const running = config()
  const reread = config()
  reread.port = 9090
  reread.accounts[0].token = 'secrettoken0003'
  reread.accounts[1].appSecret = 'another-secret'
  reread.admin.token = 'admintoken-value'
  reread.limits.replyBudgetMs = 3000
  const warned = configForReload(running, { file: '/srv/bot/engine.config.ts', read: () => ok(reread) })
  assert.ok(warned.ok)
  assert.equal(warned.warning, 'port, accounts[0].token, accounts[1].appSecret, limits.replyBudgetMs, admin.token: changed in /srv/bot/engine.config.ts; a restart applies them')
  for (const secret of ['secrettoken0003', 'another-secret', 'admintoken-value']) assert.ok(!warned.warning.includes(secret))

  const more = config()
  more.accounts.push({ id: 'third', token: 'secrettoken0004', appId: 'wx3333333333333333', mode: 'plaintext', userGroups: { admins: [ADMIN] } })
  assert.deepEqual(pickReloadable(running, more).needRestart, ['accounts'])
  // An account that is no longer in the file keeps its groups until the restart that removes it.
  const fewer = config()
  fewer.accounts = [fewer.accounts[1]]
  const picked = pickReloadable(running, fewer)
  assert.deepEqual(picked.needRestart, ['accounts'])
  assert.deepEqual(picked.config.accounts[0].userGroups, { admins: [ADMIN] })
})

it('a key set to undefined is a key left out', () => {
  const running = config()
  const reread = config()
  reread.admin = { ...reread.admin, port: undefined }
  assert.deepEqual(pickReloadable(running, reread).needRestart, [])
})

it('a configuration that does not load: its reasons, one a line', () => {
  const refused = configForReload(config(), { read: () => fail('BAD_CONFIG', 'invalid configuration (engine.config.ts):\n  port: must be a whole number') })
  assert.deepEqual(refused, { ok: false, problems: ['invalid configuration (engine.config.ts):', 'port: must be a whole number'] })
})
