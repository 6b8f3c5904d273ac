/**
 * Deploy settings come from the environment (README): over generated environments (fast-check), with
 * values right, wrong, empty, huge or not text at all, loading the configuration never throws; it succeeds,
 * or it is refused with BAD_CONFIG and one line per problem, each naming the setting or the variable.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import fc from '../support/fast-check.ts'
import { loadConfig } from '../../core/config/load-config.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-env-'))
after(() => rmSync(root, { recursive: true, force: true }))

/** Each variable the engine reads, with values that are right for it. */
const GOOD: Record<string, string[]> = {
  PORT: ['8080', '0', '65535'],
  HOST: ['127.0.0.1', '::1', '0.0.0.0'],
  DATA_DIR: ['data', '/tmp/x'],
  RULES_DIR: ['rules'],
  PLUGINS_DIR: ['plugins'],
  MENUS_DIR: ['menus'],
  LOG_LEVEL: ['info', 'debug', 'silent'],
  STORE: ['sqlite', 'memory', 'redis'],
  REDIS_URL: ['redis://127.0.0.1:6379/0', 'rediss://h:1'],
  WECHAT_API_BASE: ['https://api.weixin.qq.com', 'http://127.0.0.1:9/x'],
  WECHAT_MP_BASE: ['https://mp.weixin.qq.com'],
  WECHAT_OPEN_BASE: ['https://open.weixin.qq.com'],
  ADMIN_TOKEN: ['a-long-admin-token'],
  WECHAT_TOKEN: ['token123', 'abc'],
  WECHAT_APPID: ['wx0123456789abcdef'],
  WECHAT_APPSECRET: ['0123456789abcdef0123456789abcdef'],
  WECHAT_ENCODING_AES_KEY: ['abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'],
  WECHAT_ORIGINAL_ID: ['gh_0123456789ab'],
  WECHAT_MODE: ['plaintext', 'compatible', 'safe'],
  WECHAT_ADMINS: ['o-admin', 'o-a,o-b'],
  WECHAT_PAGE_DOMAINS: ['h5.example.com', 'a.example.com/mp, b.example.com'],
  PUBLIC_URL: ['https://wx.example.com', 'https://example.com/wx/', 'http://127.0.0.1:8080'],
}
const NAMES = Object.keys(GOOD)

const anyValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom('', ' ', '-1', '1e3', '0x10', '99999999999999999999', 'NaN', 'true', 'null', '{}', '[]', ',', 'x'.repeat(5000), '\u0000', '../../etc', 'redis://', 'https://u:p@h'),
)
const environments = fc
  .uniqueArray(fc.constantFrom(...NAMES), { maxLength: NAMES.length })
  .chain((names) => fc.tuple(...names.map((n) => fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...GOOD[n]) }, { weight: 1, arbitrary: anyValue }).map((v) => [n, v] as const))))
  .map((pairs) => Object.fromEntries(pairs))

test('any environment: the configuration loads, or is refused with BAD_CONFIG and a line per problem naming the setting or variable; never a throw', () => {
  const seen = { ok: 0, refused: 0 }
  fc.assert(
    fc.property(environments, (env) => {
      const r = loadConfig({ root, env })
      if (r.ok) {
        seen.ok++
        return
      }
      seen.refused++
      assert.equal(r.error.code, 'BAD_CONFIG')
      const [head, ...problems] = r.error.reason.split('\n')
      assert.match(head, /^invalid configuration/)
      assert.ok(problems.length > 0, r.error.reason)
      for (const line of problems) {
        // `accounts[0].token: ... (WECHAT_TOKEN)`, `PORT: must be a whole number ...`, `accounts: needs at least one account`
        assert.match(line, /^ {2}[A-Za-z_][A-Za-z0-9_.[\]]*: \S/, `a problem that names no setting: ${JSON.stringify(line)}`)
        assert.ok(line.length < 700, `a problem of ${line.length} characters`)
      }
    }),
    { numRuns: 1500 },
  )
  assert.ok(seen.ok > 20 && seen.refused > 20, JSON.stringify(seen))
})

/** Setting paths of engine.config.ts (a part of each level), to put generated values at. */
const SETTINGS = [
  'port', 'host', 'publicUrl', 'dataDir', 'rulesDir', 'pluginsDir', 'menusDir', 'defaultAccount', 'watch', 'store', 'store.kind', 'store.url', 'limits',
  'limits.maxBodyBytes', 'limits.replyBudgetMs', 'limits.pluginIsolation', 'limits.newsMaxArticles', 'plugins', 'plugins.echo', 'log', 'log.level',
  'log.retentionDays', 'platform', 'platform.apiBase', 'platform.mpBase', 'admin', 'admin.port', 'admin.token', 'admin.enabled', 'accounts',
  'accounts.0', 'accounts.0.id', 'accounts.0.token', 'accounts.0.appId', 'accounts.0.encodingAESKey', 'accounts.0.mode', 'accounts.0.userGroups',
  'accounts.0.userGroups.admins', 'accounts.0.userGroups.admins.0', 'accounts.1', 'accounts.1.appId', 'prot', '__proto__', 'constructor',
]

function put(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.')
  let at: Record<string, unknown> = target
  for (const key of keys.slice(0, -1)) {
    const next = Object.hasOwn(at, key) ? at[key] : undefined
    if (typeof next !== 'object' || next === null) at[key] = /^\d+$/.test(keys[keys.indexOf(key) + 1] ?? '') ? [] : {}
    at = at[key] as Record<string, unknown>
  }
  Object.defineProperty(at, keys.at(-1)!, { value, enumerable: true, writable: true, configurable: true })
}

test('any value at any setting of engine.config.ts: loaded, or refused with BAD_CONFIG and a line per problem naming the setting; never a throw', () => {
  const account = { id: 'default', token: 'token123', appId: 'wx0123456789abcdef', mode: 'plaintext' }
  const anySetting = fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyValue, fc.constantFrom(null, -1, 0, 1.5, 2 ** 40, true, [], {}, ['x'], { x: 1 }))
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom(...SETTINGS), anySetting), { minLength: 1, maxLength: 4 }), (edits) => {
      const overrides: Record<string, unknown> = { accounts: [{ ...account }] }
      // A copy: put() writes into objects on its way, and fast-check hands the same constant objects out again.
      for (const [setting, value] of edits) put(overrides, setting, structuredClone(value))
      const r = loadConfig({ root, env: {}, overrides: overrides as never })
      if (r.ok) return
      assert.equal(r.error.code, 'BAD_CONFIG')
      const [head, ...problems] = r.error.reason.split('\n')
      assert.match(head, /^invalid configuration/)
      for (const line of problems) {
        // `accounts[0].token: ...`, `store[" "]: is not a setting`, `the configuration: must be plain data ...`
        assert.match(line, /^ {2}(\(config\)|the configuration|(?:[A-Za-z_$][\w$-]*|\["(?:[^"\\]|\\.)*"\])(?:\.[A-Za-z_$][\w$-]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*): \S/, `a problem that names no setting: ${JSON.stringify(line)}`)
        assert.ok(line.length < 700, `a problem of ${line.length} characters`)
      }
    }),
    { numRuns: 2000 },
  )
})
