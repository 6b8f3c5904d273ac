/**
 * engine.config.ts importing the project's own files (core/config/read-config-file.ts): TypeScript, JSON and
 * folders with an index, read from disk at every read (a reload sees an edit of them), each named to
 * `onFileRead`; a problem in one of them said at its own file and line; packages and built-ins from node.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'
import { readConfigFile } from '../../core/config/read-config-file.ts'

let dir: string
const write = (name: string, text: string) => {
  mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
  writeFileSync(path.join(dir, name), text)
}
const CONFIG = `import { defineConfig } from 'wxengine/config'
import os from 'node:os'
import { accounts } from './accounts.ts'
import plugins from './plugins.json'
import { port } from './shared'

export default defineConfig({ port, host: os.EOL === '\\n' ? '127.0.0.1' : '127.0.0.1', accounts, plugins })
`
const ACCOUNTS = (admins: string[]) => `import type { AccountConfig } from 'wxengine/config'
import { ADMINS_GROUP } from './shared/groups'

export const accounts: Array<Partial<AccountConfig>> = [
  { id: 'default', token: 'localtoken01', appId: 'wx0123456789abcdef', userGroups: { [ADMINS_GROUP]: ${JSON.stringify(admins)} } },
]
`

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-config-imports-'))
  write('engine.config.ts', CONFIG)
  write('accounts.ts', ACCOUNTS(['oAdmin0000000000000000000001']))
  write('plugins.json', JSON.stringify({ greeter: { config: { greeting: 'hi' } } }))
  write('shared/index.ts', "export const port = 9123\n")
  // Imports the file that imports it (through accounts.ts): a cycle, run once, as node runs one.
  write('shared/groups.ts', "import { port } from './index'\nexport const ADMINS_GROUP = port > 0 ? 'admins' : 'none'\n")
})
after(() => rmSync(dir, { recursive: true, force: true }))

test("the project's files the configuration imports: TypeScript, JSON, a folder's index; each named, packages and built-ins not", () => {
  const read: string[] = []
  const r = loadConfig({ root: dir, env: {}, onFileRead: (f) => read.push(path.relative(dir, f)) })
  assert.ok(r.ok, r.ok ? '' : r.error.reason)
  assert.equal(r.value.port, 9123)
  assert.deepEqual(r.value.accounts[0]!.userGroups, { admins: ['oAdmin0000000000000000000001'] })
  assert.deepEqual(r.value.plugins.greeter?.config, { greeting: 'hi' })
  assert.deepEqual(read, ['engine.config.ts', 'accounts.ts', path.join('shared', 'groups.ts'), path.join('shared', 'index.ts'), 'plugins.json'])
})

test("`./x.js` names x.ts when there is no x.js, as TypeScript (NodeNext) writes imports and tsx finds them", () => {
  write('engine.config.ts', CONFIG.replace("from './accounts.ts'", "from './accounts.js'"))
  try {
    const r = loadConfig({ root: dir, env: {} })
    assert.ok(r.ok, r.ok ? '' : r.error.reason)
    assert.deepEqual(r.value.accounts[0]!.userGroups, { admins: ['oAdmin0000000000000000000001'] })
  } finally {
    write('engine.config.ts', CONFIG)
  }
})

test('an edit of an imported file is seen by the next read (a reload), not only an edit of the configuration file', () => {
  write('accounts.ts', ACCOUNTS(['oAdmin0000000000000000000001', 'oNewcomer00000000000000000001']))
  try {
    const r = loadConfig({ root: dir, env: {} })
    assert.ok(r.ok, r.ok ? '' : r.error.reason)
    assert.deepEqual(r.value.accounts[0]!.userGroups?.admins, ['oAdmin0000000000000000000001', 'oNewcomer00000000000000000001'])
  } finally {
    write('accounts.ts', ACCOUNTS(['oAdmin0000000000000000000001']))
  }
})

test('a problem in an imported file is said at its own file and line; the file is still named, to be watched', () => {
  const reason = () => {
    const read: string[] = []
    const r = readConfigFile(path.join(dir, 'engine.config.ts'), { onFileRead: (f) => read.push(path.basename(f)) })
    assert.equal(r.ok, false)
    return { reason: r.ok ? '' : `${r.error.code} ${r.error.reason.replaceAll(dir + path.sep, '')}`, read }
  }
  try {
    write('accounts.ts', "export const accounts = [\n  { id: 'default', token: 'x' \n]\n")
    const syntax = reason()
    assert.match(syntax.reason, /^BAD_CONFIG accounts\.ts:3:1: SyntaxError: /)
    assert.deepEqual(syntax.read, ['engine.config.ts', 'accounts.ts'])
    write('accounts.ts', "export const accounts = []\nthrow new RangeError('no accounts yet')\n")
    assert.equal(reason().reason, 'BAD_CONFIG accounts.ts:2:7: RangeError: no accounts yet')
    // A bare name where a quoted token was meant: the place, not the name (it could be a secret).
    write('accounts.ts', "export const accounts = [{ id: 'default', token: s3cretValue }]\n")
    const secret = reason().reason
    assert.match(secret, /^BAD_CONFIG accounts\.ts:1:\d+: ReferenceError: a name there is not defined/)
    assert.doesNotMatch(secret, /s3cretValue/)
    write('accounts.yaml', 'accounts: []\n')
    write('accounts.ts', "export { accounts } from './accounts.yaml'\n")
    assert.equal(reason().reason, 'BAD_CONFIG accounts.ts:1:26: "./accounts.yaml" is not a file the configuration can import: .ts, .mts, .cts, .js, .mjs, .cjs, .json are')
    // At the import's place (its quote), for the editor to jump to; not at a comment naming it first.
    write('accounts.ts', "// moved out of './missing'\nexport { accounts } from './missing'\n")
    assert.equal(reason().reason, 'BAD_CONFIG accounts.ts:2:26: cannot find "./missing" (tried it with .ts, .mts, .cts, .js, .mjs, .cjs, .json, and as a folder\'s index)')
    // A name made at run time: the file alone.
    write('accounts.ts', "const target = './miss' + 'ing'\nexport const accounts = require(target).accounts\n")
    assert.equal(reason().reason, 'BAD_CONFIG accounts.ts: cannot find "./missing" (tried it with .ts, .mts, .cts, .js, .mjs, .cjs, .json, and as a folder\'s index)')
  } finally {
    write('accounts.ts', ACCOUNTS(['oAdmin0000000000000000000001']))
  }
  write('plugins.json', '{ "greeter": ')
  try {
    assert.match(reason().reason, /^BAD_CONFIG plugins\.json: .*JSON/)
  } finally {
    write('plugins.json', JSON.stringify({ greeter: { config: { greeting: 'hi' } } }))
  }
  assert.ok(readConfigFile(path.join(dir, 'engine.config.ts')).ok, 'all mended')
})
