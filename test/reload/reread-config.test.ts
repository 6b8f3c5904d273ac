/**
 * What a reload takes from the configuration read again (core/reload/reread-config.ts): the accounts'
 * userGroups and pageDomains (by account id) and the plugins section; every other difference is named by path, never by
 * value, for a restart.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { it } from 'node:test'
import type { EngineConfig } from '../../core/config/config-types.ts'
import { defaultConfig } from '../../core/config/load-config.ts'
import { fail, ok } from '../../core/errors.ts'
import { readConfigFile } from '../../core/config/read-config-file.ts'
import { configForReload, notRunAgainWhileStuck, pickReloadable } from '../../core/reload/reread-config.ts'

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
  assert.deepEqual(warned.warnings, ['port, accounts[0].token, accounts[1].appSecret, limits.replyBudgetMs, admin.token: changed in /srv/bot/engine.config.ts; a restart applies them'])
  for (const secret of ['secrettoken0003', 'another-secret', 'admintoken-value']) assert.ok(!warned.warnings[0]!.includes(secret))

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

it('what the start warns of the settings a reload applies is said again; of those it does not, only that they changed', () => {
  const running = config()
  const reread = config()
  reread.publicUrl = 'https://wx.example.com:8443'
  // Applied: a group emptied, page domains on an account without an appSecret.
  reread.accounts[0].userGroups = { admins: [] }
  reread.accounts[0].pageDomains = ['h5.example.com']
  // Not applied: the example token (the running one is kept), a publicUrl (only named for the restart).
  reread.accounts[1].token = 'wxenginedev'
  const warned = configForReload(running, { file: '/srv/bot/engine.config.ts', read: () => ok(reread) })
  assert.ok(warned.ok)
  assert.equal(warned.warnings.length, 3, warned.warnings.join('\n'))
  assert.equal(warned.warnings[0], 'accounts[1].token, publicUrl: changed in /srv/bot/engine.config.ts; a restart applies them')
  assert.match(warned.warnings[1]!, /^account "default" has an empty user group "admins": rules and handlers with users: admins answer nobody/)
  assert.match(warned.warnings[2]!, /^account "default" has pageDomains but no appSecret: \/jssdk-config and \/oauth answer its pages 503/)
  // The publicUrl served is the running one (no port), so no login is sent to the new one before a restart.
  assert.ok(!warned.warnings.some((w) => w.startsWith('publicUrl has a port')))

  // With the running publicUrl on a port, new page domains make it matter: said by the reload that adds them.
  running.publicUrl = 'http://203.0.113.7:8080'
  const again = configForReload(running, { read: () => ok({ ...config(), publicUrl: running.publicUrl, accounts: [{ ...config().accounts[1], pageDomains: ['h5.example.com'] }, config().accounts[0]] }) })
  assert.ok(again.ok)
  assert.ok(again.warnings.some((w) => w.startsWith('publicUrl is an IP address (203.0.113.7): web logins tell WeChat to come back there')), again.warnings.join('\n'))
  // Nothing to say of a configuration that gives none of these.
  const quiet = configForReload(config(), { read: () => ok(config()) })
  assert.deepEqual(quiet.ok && quiet.warnings, [])
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

it('a configuration stopped at its deadline is not run again while its files are unchanged: the same refusal at once', () => {
  // Each run held every message for the whole deadline, and every reload (a rules file saved) ran it again.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-stuck-config-'))
  try {
    const file = path.join(dir, 'engine.config.ts')
    const imported = path.join(dir, 'groups.ts')
    writeFileSync(file, "import { groups } from './groups'\nexport default { groups }\nwhile (true) {}\n")
    writeFileSync(imported, 'export const groups = {}\n')
    let runs = 0
    let files: string[] = []
    const read = notRunAgainWhileStuck(
      () => {
        runs++
        const seen: string[] = []
        const r = readConfigFile(file, { deadlineMs: 100, onFileRead: (f) => seen.push(f) })
        files = seen
        return r
      },
      () => files,
    )
    const first = read()
    assert.ok(!first.ok && first.error.reason.includes('still running after 0.1 s'))
    // The first stopped read found the import the last read did not know of: run once more to stamp both.
    read()
    assert.equal(runs, 2)
    const again = read()
    assert.equal(runs, 2, 'not run a third time')
    assert.ok(!again.ok)
    assert.equal(again.error.reason, `${first.error.reason} (not run again: its files are unchanged since)`)

    // An imported file saved: run again.
    writeFileSync(imported, 'export const groups = { admins: [] }\n')
    read()
    assert.equal(runs, 3)
    // Mended: read, and read at every reload from then on, as any configuration that finishes.
    writeFileSync(file, "import { groups } from './groups'\nexport default { port: 9001 }\n")
    assert.ok(read().ok)
    assert.ok(read().ok)
    assert.equal(runs, 5)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

it('a configuration that fails otherwise (a syntax error) is read again at each reload: only a stopped run is held', () => {
  let runs = 0
  const read = notRunAgainWhileStuck(() => {
    runs++
    return fail('BAD_CONFIG', 'engine.config.ts:3:5: SyntaxError: Unexpected token')
  }, () => [])
  read()
  read()
  assert.equal(runs, 2)
})
