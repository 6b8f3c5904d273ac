/**
 * A refused setting says where it came from: its file:line:col in engine.config.ts, or in a file it imports,
 * where that file writes it literally (the editor jumps there), or the environment variable that set it; the
 * imported file alone when that file computes the value; neither when it cannot be known (a value spread in
 * or computed in engine.config.ts), where the setting's path alone is said, as before.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'

const dirs: string[] = []
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** The problems of a refused configuration, `engine.config.ts` shown relative to its project. */
function problemsOf(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): string[] {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-setting-places-'))
  dirs.push(root)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true })
    writeFileSync(path.join(root, name), text)
  }
  const r = loadConfig({ root, env })
  assert.equal(r.ok, false, 'expected the configuration to be refused')
  if (r.ok) return []
  const [, ...problems] = r.error.reason.split('\n')
  // Files are shown from the working directory: here, from the project's folder.
  const shownRoot = path.relative(process.cwd(), root) || root
  return problems.map((p) => p.trim().split(`${root}${path.sep}`).join('').split(`${shownRoot}${path.sep}`).join(''))
}

const CONFIG = `import { defineConfig } from 'wxengine/config'
const shop = { id: 'shop', token: 'tok123', appId: 'wx2', mode: 'safe' as const }
const port: number = 8080
export default defineConfig({
  prot: port,
  accounts: [
    { id: 'default', token: 'tok123', appId: 'wx1', mode: 'secure' as any },
    shop,
  ],
  limits: { pluginTimeoutMs: -1 },
})
`

test('a value written in the file: its line and column, through a const name and past removed types', () => {
  assert.deepEqual(problemsOf({ 'engine.config.ts': CONFIG }), [
    'engine.config.ts:7:53: accounts[0].mode: must be plaintext, compatible or safe (WECHAT_MODE)',
    // Missing from the literal the name `shop` gives: that literal's line (a type on it: no column).
    'engine.config.ts:2: accounts[1].encodingAESKey: is required in safe mode',
    'engine.config.ts:10:13: limits.pluginTimeoutMs: Too small: expected number to be >0',
    'engine.config.ts:5:3: prot: is not a setting (did you mean "port"?)',
  ])
})

test('a value the environment set names its variable, not the file, even where the file writes the setting too', () => {
  const file = `import { defineConfig } from 'wxengine/config'\nexport default defineConfig({\n  accounts: [{ id: 'default', token: 'tok123', appId: 'wx1', mode: 'plaintext' }],\n  store: { kind: 'sqlite' },\n})\n`
  assert.deepEqual(problemsOf({ 'engine.config.ts': file }, { WECHAT_MODE: 'secure', STORE: 'postgres', PORT: '70000' }), [
    'port: must be 0 to 65535 (PORT, from the environment)',
    'accounts[0].mode: must be plaintext, compatible or safe (WECHAT_MODE, from the environment)',
    'store.kind: must be sqlite, memory or redis (STORE, from the environment)',
  ])
})

test('a value spread in: the setting path alone; one imported: its line in the file that writes it', () => {
  const file = `import { defineConfig } from 'wxengine/config'\nimport { accounts } from './accounts.ts'\nconst base = { limits: { pluginTimeoutMs: -1 } }\nexport default defineConfig({\n  ...base,\n  accounts,\n})\n`
  const accounts = `export const accounts = [{ id: 'default', token: 'tok123', appId: 'wx1', mode: 'secure' }]\n`
  assert.deepEqual(problemsOf({ 'engine.config.ts': file, 'accounts.ts': accounts }), [
    'accounts.ts:1:74: accounts[0].mode: must be plaintext, compatible or safe (WECHAT_MODE)',
    'limits.pluginTimeoutMs: Too small: expected number to be >0',
  ])
})

test("a default import, a JSON file, a re-export and a const of the imported file: each setting at its own file's line", () => {
  const file = `import { defineConfig } from 'wxengine/config'
import accounts from './accounts.ts'
import limits from './limits.json'
import { store } from './shared/index.ts'
export default defineConfig({ accounts, limits, store })
`
  const accounts = `import type { AccountConfig } from 'wxengine/config'
const shop = { id: 'shop', token: 'tok123', appId: 'wx2' }
export default [
  { id: 'default', token: 'tok123', appId: 'wx1', mode: 'secure' as AccountConfig['mode'] },
  { ...shop, mode: 'safe' },
] satisfies Partial<AccountConfig>[]
`
  assert.deepEqual(
    problemsOf({
      'engine.config.ts': file,
      'accounts.ts': accounts,
      'limits.json': '{\n  "pluginTimeoutMs": -1\n}\n',
      'shared/index.ts': "export { store } from './store.ts'\n",
      'shared/store.ts': "export const store = { kind: 'postgres' }\n",
    }),
    [
      'accounts.ts:4:51: accounts[0].mode: must be plaintext, compatible or safe (WECHAT_MODE)',
      // The spread may give a key: the object it is in is all that is known, and it is in accounts.ts.
      'accounts.ts: accounts[1].encodingAESKey: is required in safe mode',
      `${path.join('shared', 'store.ts')}:1:24: store.kind: must be sqlite, memory or redis (STORE)`,
      'limits.json:2:3: limits.pluginTimeoutMs: Too small: expected number to be >0',
    ],
  )
})

test('a value an imported file computes: that file named, without a line', () => {
  const file = `import { defineConfig } from 'wxengine/config'\nimport { accounts } from './accounts.ts'\nexport default defineConfig({ accounts })\n`
  const accounts = `export const accounts = ['default'].map((id) => ({ id, token: 'tok123', appId: 'wx1', mode: 'secure' }))\n`
  assert.deepEqual(problemsOf({ 'engine.config.ts': file, 'accounts.ts': accounts }), [
    'accounts.ts: accounts[0].mode: must be plaintext, compatible or safe (WECHAT_MODE)',
  ])
})
