/**
 * `wxengine init`: an empty folder becomes a project that serves, takes a plugin and its test, and
 * type-checks in an editor (tsc over it, with the declaration files init wrote: no node_modules there).
 * The single binary does the same (test/binary).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { MAIN, REPO, runCommand, TSX } from './cli-harness.ts'

const parent = mkdtempSync(path.join(os.tmpdir(), 'wxengine-init-'))
const project = path.join(parent, 'shop')
after(() => rmSync(parent, { recursive: true, force: true }))

const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: path.join(project, 'data') }
const wxengine = (args: string[], cwd = project) => runCommand(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, env })
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const typecheck = () => spawnSync(process.execPath, [TSC, '-p', project, '--pretty', 'false'], { encoding: 'utf8' })

test('an empty folder becomes a project: it answers, takes a plugin and its test, and type-checks', async () => {
  const r = await wxengine(['init', 'shop'], parent)
  assert.equal(r.code, 0, r.stderr)
  for (const f of ['engine.config.ts', 'rules/default.yaml', 'menus/default.yaml', 'tsconfig.json', '.gitignore', 'plugins/', 'test/plugins/']) {
    assert.match(r.stdout, new RegExp(`^created shop/${f.replace(/[./]/g, '\\$&')}$`, 'm'))
  }
  assert.match(r.stdout, /^wrote shop\/\.wxengine\/types \(\d+ declaration files, for your editor\)$/m)
  assert.match(r.stdout, /^ {2}cd shop$/m)
  assert.match(readFileSync(path.join(project, 'engine.config.ts'), 'utf8'), /token: '[A-Za-z0-9]{16}'/)

  // The example menu's buttons are answered by the rules init wrote, and nothing in the project is warned
  // about: the checks CI would run pass on it as it is.
  const menu = await wxengine(['menu', 'check', '--strict'])
  assert.equal(menu.code, 0, menu.stdout + menu.stderr)
  assert.match(menu.stdout, /^menus\/default\.yaml: ok, \d+ buttons?/)
  assert.doesNotMatch(menu.stdout, /warning|nothing answers/)
  const rules = await wxengine(['rules', 'check', '--strict'])
  assert.equal(rules.code, 0, rules.stdout + rules.stderr)
  assert.doesNotMatch(rules.stdout, /warning/)
  const click = await wxengine(['send', '--event', 'CLICK', '--key', 'hello', '--local'])
  assert.equal(click.stdout, 'text reply\n  Content: Hello! This account runs on wxengine.\n', click.stderr)

  const hello = await wxengine(['send', 'hello', '--local'])
  assert.equal(hello.stdout, 'text reply\n  Content: Hello! This account runs on wxengine.\n', hello.stderr)
  assert.equal((await wxengine(['plugin', 'new', 'weather'])).code, 0)
  const tested = await wxengine(['test'])
  assert.equal(tested.code, 0, tested.stdout + tested.stderr)
  assert.match(tested.stdout, /^(#|ℹ) pass 4$/m)

  // The editor's view: plugins, tests and the config type-check against the written declarations, with
  // the example dialogue too (dialogue() and its types come from plugin-api.d.ts's own imports).
  cpSync(path.join(REPO, 'plugins', 'order'), path.join(project, 'plugins', 'order'), { recursive: true })
  const clean = typecheck()
  assert.equal(clean.stdout + clean.stderr, '')
  assert.equal(clean.status, 0)
  const source = path.join(project, 'plugins', 'weather', 'index.ts')
  const original = readFileSync(source, 'utf8')
  writeFileSync(source, original.replace("if (ctx.message.kind !== 'text') return ctx.pass()", "if (ctx.message.kind !== 'text') return ctx.pass()\n    const n: number = ctx.message.content"))
  try {
    assert.match(typecheck().stdout, /plugins\/weather\/index\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/)
  } finally {
    writeFileSync(source, original)
  }
})

test('the docs its files point at are in the project: a folder made by the single binary has no docs/ (an operator walkthrough)', async () => {
  // Every file init and `plugin new` wrote (the weather plugin, above), and the pages those link to in turn.
  const written = ['engine.config.ts', 'rules/default.yaml', 'menus/default.yaml', 'tsconfig.json', '.gitignore', 'plugins/weather/index.ts', 'rules/weather.yaml', 'test/plugins/weather.test.ts']
  const named = new Set<string>()
  for (const f of written) {
    for (const m of readFileSync(path.join(project, f), 'utf8').matchAll(/[\w./-]*docs\/[\w-]+\.md/g)) named.add(m[0])
  }
  assert.ok(named.size >= 5, [...named].join(', '))
  for (const doc of named) assert.ok(existsSync(path.join(project, doc)), `${doc}, named in a generated file, is not in the project`)
  // The declarations' comments too, which an editor shows on hover: they are the engine's, written for its
  // checkout's docs/ (Node's own, under node_modules/, name none of ours).
  const typesDir = path.join(project, '.wxengine', 'types')
  const inTypes = new Set<string>()
  for (const f of readdirSync(typesDir, { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.d.ts') || f.startsWith(`node_modules${path.sep}`)) continue
    for (const m of readFileSync(path.join(typesDir, f), 'utf8').matchAll(/[\w./-]*docs\/[\w-]+\.md/g)) inTypes.add(m[0])
  }
  assert.ok(inTypes.size >= 5, [...inTypes].join(', '))
  for (const doc of inTypes) assert.ok(existsSync(path.join(project, doc)), `${doc}, named in .wxengine/types, is not in the project`)
  const docsDir = path.join(project, '.wxengine', 'docs')
  for (const page of readdirSync(docsDir)) {
    for (const m of readFileSync(path.join(docsDir, page), 'utf8').matchAll(/\]\(([\w-]+\.md)(#[^)]*)?\)/g)) {
      assert.ok(existsSync(path.join(docsDir, m[1])), `${page} links to ${m[1]}, not written`)
    }
  }
  // The same pages as the wxengine that wrote them.
  assert.equal(readFileSync(path.join(docsDir, 'rules.md'), 'utf8'), readFileSync(path.join(REPO, 'docs', 'rules.md'), 'utf8'))
})

test('run again: nothing overwritten, what is missing is added, the types are rewritten', async () => {
  const config = path.join(project, 'engine.config.ts')
  writeFileSync(config, readFileSync(config, 'utf8').replace('port: 8080', 'port: 8181'))
  rmSync(path.join(project, '.gitignore'))
  rmSync(path.join(project, '.wxengine', 'types', 'core', 'plugin', 'plugin-api.d.ts'))
  const r = await wxengine(['init'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^kept engine\.config\.ts \(exists\)$/m)
  assert.match(r.stdout, /^kept menus\/default\.yaml \(exists\)$/m)
  assert.match(r.stdout, /^created \.gitignore$/m)
  // The example menu comes only with the config and rules it is written for: a project with its own (init
  // run again after an upgrade) may have another account, or rules that no longer answer its keys.
  rmSync(path.join(project, 'menus'), { recursive: true })
  const again = await wxengine(['init'])
  assert.equal(again.code, 0, again.stderr)
  assert.doesNotMatch(again.stdout, /menus/)
  assert.equal(existsSync(path.join(project, 'menus')), false)
  assert.match(readFileSync(config, 'utf8'), /port: 8181/)
  assert.ok(existsSync(path.join(project, '.wxengine', 'types', 'core', 'plugin', 'plugin-api.d.ts')))
})

test("the account's values from the environment go in as string literals, whatever they hold; a token the engine would refuse stops init before it writes (an operator review)", async () => {
  const appId = `wx1'); process.exit(9); ('$&\\"`
  const dir = path.join(parent, 'quoted')
  const r = await runCommand(process.execPath, ['--import', TSX, MAIN, 'init', 'quoted'], { cwd: parent, env: { ...env, WECHAT_APPID: appId, WECHAT_TOKEN: 'abc123' } })
  assert.equal(r.code, 0, r.stderr)
  // The engine reads the file back with the very values given.
  const { loadConfig } = await import('../../core/config/load-config.ts')
  const loaded = loadConfig({ root: dir, env: {} })
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.reason)
  assert.equal(loaded.value.accounts[0].appId, appId)
  assert.equal(loaded.value.accounts[0].token, 'abc123')

  const refused = await runCommand(process.execPath, ['--import', TSX, MAIN, 'init', 'short'], { cwd: parent, env: { ...env, WECHAT_TOKEN: 'ab' } })
  assert.equal(refused.code, 2)
  assert.match(refused.stderr, /WECHAT_TOKEN must be 3 to 32 letters or digits, as WeChat's console takes it \(it is 2 characters\)/)
  assert.equal(existsSync(path.join(parent, 'short')), false, 'nothing written')
})

test('the "Next:" lines run as printed from a checkout, where no wxengine is on the PATH (a plugin-author review)', async () => {
  const r = await runCommand(process.execPath, ['--import', TSX, MAIN, 'init', 'next'], { cwd: parent, env })
  assert.equal(r.code, 0, r.stderr)
  const launcher = path.join(REPO, 'core', 'cli', 'wxengine.mjs')
  const line = r.stdout.split('\n').find((l) => l.includes('send hello --local'))
  assert.equal(line?.replace(/\s+#.*$/, ''), `  node ${launcher} send hello --local`)
  // Run as printed, after the printed cd.
  const sent = await runCommand(process.execPath, [launcher, 'send', 'hello', '--local'], { cwd: path.join(parent, 'next'), env: { ...env, DATA_DIR: path.join(parent, 'next', 'data') } })
  assert.equal(sent.stdout, 'text reply\n  Content: Hello! This account runs on wxengine.\n', sent.stderr)

  // Launched by npx: after the cd, npx would not find wxengine in the new project (no node_modules), so the
  // launcher's path stays; in the folder npx ran in (init .), npx wxengine.
  const npx = { ...env, npm_command: 'exec' }
  const away = await runCommand(process.execPath, ['--import', TSX, MAIN, 'init', 'npxed'], { cwd: parent, env: npx })
  assert.match(away.stdout, new RegExp(`^  node ${launcher.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} plugin new weather`, 'm'))
  const inPlace = path.join(parent, 'in-place')
  mkdirSync(inPlace)
  const here = await runCommand(process.execPath, ['--import', TSX, MAIN, 'init', '.'], { cwd: inPlace, env: npx })
  assert.equal(here.code, 0, here.stderr)
  assert.match(here.stdout, /^  npx wxengine send hello --local/m)
})

test('a folder it cannot write: exit 1 naming what and why, no stack trace (it was an uncaught EACCES/ENOTDIR)', async () => {
  // A file given for the folder, or under one: a usage mistake said so (it was "EEXIST: file already exists, mkdir").
  writeFileSync(path.join(parent, 'a-file'), 'not a folder\n')
  for (const given of ['a-file', 'a-file/shop']) {
    const r = await wxengine(['init', given], parent)
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.equal(r.stderr, 'wxengine init: a-file is a file, not a folder: give the folder to make the project in\n')
  }

  // Part of the project written, then a file refused: what was made is said, and that init adds the rest.
  const partial = path.join(parent, 'partial')
  mkdirSync(partial)
  writeFileSync(path.join(partial, 'menus'), 'not a folder\n')
  const half = await wxengine(['init', 'partial'], parent)
  assert.equal(half.code, 1, half.stdout + half.stderr)
  assert.equal(half.stdout, 'created partial/engine.config.ts\ncreated partial/rules/default.yaml\n')
  assert.equal(half.stderr, 'wxengine init: cannot write partial/menus/default.yaml (partial/menus is a file where a folder goes; move it aside); run init again once it can be, to add what is missing\n')
  assert.doesNotMatch(half.stderr, /\n\s+at /)
})
