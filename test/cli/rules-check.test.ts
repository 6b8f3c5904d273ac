import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, beforeEach, test } from 'node:test'
import { makeProject, type Project } from './cli-harness.ts'

let project: Project

beforeEach(() => {
  project?.remove()
  project = makeProject()
})
after(() => project.remove())

test('a valid rules directory: summary on stdout, exit 0', async () => {
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'rules: ok, 2 text rules (2 keywords), 4 type handlers, plugins used: echo\n')
})

test('a rule with a bad regex and a misspelt key: file:line:col for each, exit 1', async () => {
  writeFileSync(
    path.join(project.dir, 'rules', 'broken.yaml'),
    ['rules:', '  - name: weather', '    keywords:', "      - regex: '([unclosed'", '    plugin: echo', '  - name: other', '    keywords: [x]', '    prority: 5', '    plugin: echo', ''].join('\n'),
  )
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1)
  const lines = r.stdout.trim().split('\n')
  assert.equal(lines.length, 2, r.stdout)
  assert.match(lines[0], /^rules\/broken\.yaml:4:\d+: .*invalid regular expression "\(\[unclosed"/)
  assert.match(lines[1], /^rules\/broken\.yaml:8:\d+: .*prority/)
  assert.match(r.stderr, /2 errors in 1 file; the engine refuses to start/)
})

test('a duplicate rule name: both places as paths from here, as the first one is', async () => {
  writeFileSync(path.join(project.dir, 'rules', 'twice.yaml'), 'rules:\n  - name: hello\n    keywords: [again]\n    plugin: echo\n')
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1)
  assert.match(r.stdout, /^rules\/(main|twice)\.yaml:\d+:\d+: duplicate name "hello": also defined at rules\/(main|twice)\.yaml:\d+:\d+$/m)
  assert.doesNotMatch(r.stdout, new RegExp(project.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
})

test('a rule naming a plugin that is not there, close to one that is: did you mean', async () => {
  writeFileSync(path.join(project.dir, 'rules', 'typo.yaml'), 'rules:\n  - name: typo\n    keywords: [typo]\n    plugin: ecko\n')
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^warning: rules send messages to plugin "ecko", but plugins\/ecko\/index\.ts does not exist \(did you mean "echo"\?\)$/m)
})

test('a YAML syntax error names its line', async () => {
  writeFileSync(path.join(project.dir, 'rules', 'syntax.yaml'), 'rules:\n  - name: a\n    keywords: [x\n')
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1)
  assert.match(r.stdout, /^rules\/syntax\.yaml:\d+:\d+: YAML syntax error/m)
})

test('rules sending messages to a missing plugin: a warning saying how to create it, exit 0', async () => {
  writeFileSync(path.join(project.dir, 'rules', 'more.yaml'), 'rules:\n  - name: weather\n    keywords: [weather]\n    plugin: weather\n')
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^rules: ok, 3 text rules/)
  assert.match(r.stdout, /^warning: rules send messages to plugin "weather", but plugins\/weather\/index\.ts does not exist \(create it with: wxengine plugin new weather\)$/m)
})

test('--root points at the project from elsewhere, and another rules directory can be checked', async () => {
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'wxengine-cwd-'))
  try {
    const r = await project.run(['--root', project.dir, 'rules', 'check'], { cwd: elsewhere })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${path.join(project.dir, 'rules')}: ok, 2 text rules (2 keywords), 4 type handlers, plugins used: echo\n`)

    mkdirSync(path.join(elsewhere, 'staging'))
    writeFileSync(path.join(elsewhere, 'staging', 'welcome.yaml'), '# no target\nwelcome: {}\n')
    const other = await project.run(['--root', project.dir, 'rules', 'check', 'staging'], { cwd: elsewhere })
    assert.equal(other.code, 1)
    assert.match(other.stdout, /^staging\/welcome\.yaml:2:\d+: .*needs a target/)
  } finally {
    rmSync(elsewhere, { recursive: true, force: true })
  }
})

test('rules for an account that is not configured: a warning, in a folder or by account:, exit 0', async () => {
  mkdirSync(path.join(project.dir, 'rules', 'typo-acct'))
  writeFileSync(path.join(project.dir, 'rules', 'typo-acct', 'a.yaml'), 'rules:\n  - name: folder-rule\n    keywords: [x]\n    reply: { type: text, content: x }\n')
  writeFileSync(path.join(project.dir, 'rules', 'b.yaml'), 'account: nosuchaccount\nrules:\n  - name: key-rule\n    keywords: [y]\n    reply: { type: text, content: y }\n')
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^warning: rules\/typo-acct\/a\.yaml: rules for account "typo-acct", which is not configured \(accounts: [^)]+\): they never run$/m)
  assert.match(r.stdout, /^warning: rules\/b\.yaml: rules for account "nosuchaccount", which is not configured/m)
})

test('an account: that is blank is an error, not rules that never run', async () => {
  writeFileSync(path.join(project.dir, 'rules', 'blank.yaml'), 'account: "  "\nrules:\n  - name: r\n    keywords: [x]\n    reply: { type: text, content: x }\n')
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1)
  assert.match(r.stdout, /^rules\/blank\.yaml:1:\d+: account is empty/m)
})

test('a plugin config the engine would refuse fails the check too, naming the plugin and the setting; exit 1', async () => {
  // A plugin whose schema requires a setting the configuration does not give.
  mkdirSync(path.join(project.dir, 'plugins', 'strict'))
  writeFileSync(path.join(project.dir, 'plugins', 'strict', 'index.ts'), "import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({ name: 'strict', handle: (ctx) => ctx.pass() })\n")
  writeFileSync(
    path.join(project.dir, 'plugins', 'strict', 'plugin.json'),
    JSON.stringify({ name: 'strict', version: '1.0.0', configSchema: { type: 'object', properties: { greeting: { type: 'string' } }, required: ['greeting'] } }),
  )
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1, r.stdout)
  assert.match(r.stdout, /^error: plugin strict: config invalid .*greeting/m)
  assert.match(r.stderr, /1 plugin the engine would refuse to load/)
  // The engine refuses it the same way when it loads the project (send --local: exit 1).
  const started = await project.run(['send', 'hi', '--local'])
  assert.equal(started.code, 1)
  assert.match(started.stderr, /plugin strict: config invalid .*greeting/)
})

test('settings for a plugin that is not there (a misspelt name): a warning with the folder it resembles; --strict fails on warnings (a plugin author review)', async () => {
  const file = path.join(project.dir, 'engine.config.ts')
  writeFileSync(file, readFileSync(file, 'utf8').replace("store: { kind: 'sqlite' },", "store: { kind: 'sqlite' },\n  plugins: { ecoh: { timeoutMs: 1000 } },"))
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^warning: engine\.config\.ts has settings for plugin "ecoh", which is not in plugins: they apply to nothing \(did you mean "echo"\?\)$/m)
  const strict = await project.run(['rules', 'check', '--strict'])
  assert.equal(strict.code, 1)
  assert.match(strict.stderr, /^1 warning, which --strict counts as failures$/m)
  writeFileSync(file, readFileSync(file, 'utf8').replace('  plugins: { ecoh: { timeoutMs: 1000 } },\n', ''))
  assert.equal((await project.run(['rules', 'check', '--strict'])).code, 0, 'a clean project passes --strict')
  // A mistyped rules directory is a warning too, and fails --strict (review of this stop's diff).
  const missing = await project.run(['rules', 'check', '--strict', 'rulez'])
  assert.equal(missing.code, 1)
  // One wording with the start's warning (both come from listRuleFiles).
  assert.match(missing.stdout, /^warning: the rules directory rulez does not exist: no rules, so no replies \(not even welcome or default\); check RULES_DIR or rulesDir$/m)
  assert.match(missing.stderr, /^1 warning, which --strict counts as failures$/m)
})

test('the example token on an account: a warning, which --strict fails (a deploy that forgot to set its own; an operator review)', async () => {
  const r = await project.run(['rules', 'check'], { env: { WECHAT_TOKEN: 'wxenginedev' } })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^warning: account "default" serves with the example token "wxenginedev", which anyone can sign pushes with/m)
  const strict = await project.run(['rules', 'check', '--strict'], { env: { WECHAT_TOKEN: 'wxenginedev' } })
  assert.equal(strict.code, 1)
})

test('an AppID or original id of the wrong shape: a warning naming the variable, which --strict fails (a mistyped WECHAT_APPID showed only as WRONG_APPID on every push)', async () => {
  const env = { WECHAT_APPID: 'wx12345', WECHAT_ORIGINAL_ID: 'wx0000000000000000' }
  const r = await project.run(['rules', 'check'], { env })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^warning: account "default" has appId "wx12345", which is not an AppID \("wx" and 16 hex digits, from the console's basic settings\): .*\(WECHAT_APPID for the default account\)$/m)
  assert.match(r.stdout, /^warning: account "default" has originalId "wx0000000000000000", which is not an original id \("gh_" and 12 hex digits, .*\(WECHAT_ORIGINAL_ID for the default account\)$/m)
  assert.equal((await project.run(['rules', 'check', '--strict'], { env })).code, 1)
  // The real shapes pass, upper-case hex too.
  const good = await project.run(['rules', 'check', '--strict'], { env: { WECHAT_APPID: 'wxB11529C136998CB6', WECHAT_ORIGINAL_ID: 'gh_3b2d9f4a5c6e' } })
  assert.equal(good.code, 0, good.stdout + good.stderr)
})
