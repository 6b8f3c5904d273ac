import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, beforeEach, test } from 'node:test'
import { makeProject, REPO, type Project } from './cli-harness.ts'

let project: Project

beforeEach(() => {
  project?.remove()
  project = makeProject()
})
after(() => project.remove())

/** A plugin folder in the project, its files by path (folders made as needed). */
function writePlugin(name: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    const p = path.join(project.dir, 'plugins', name, file)
    mkdirSync(path.dirname(p), { recursive: true })
    writeFileSync(p, content)
  }
}
const pluginSource = (name: string, handle = '(ctx) => ctx.pass()') =>
  `import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({ name: '${name}', handle: ${handle} })\n`

test('a valid rules directory: summary on stdout, exit 0', async () => {
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'rules: ok, 2 text rules (2 keywords), 4 type handlers, plugins used: echo\n')
})

test('a directory given to check that is not there, or is a file: said, exit 2 (it was "ok, 0 text rules" and a hint at RULES_DIR)', async () => {
  const missing = await project.run(['rules', 'check', 'no-such-rules'])
  assert.equal(missing.code, 2)
  assert.equal(missing.stdout, '')
  assert.equal(missing.stderr, 'wxengine rules check: no-such-rules does not exist (the directory given to check)\n')
  const file = await project.run(['rules', 'check', 'engine.config.ts'])
  assert.equal(file.code, 2)
  assert.equal(file.stderr, 'wxengine rules check: engine.config.ts is not a directory (the directory given to check)\n')
  assert.equal((await project.run(['rules', 'check', 'rules'])).code, 0)
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
  assert.match(lines[0], /^rules\/broken\.yaml:4:\d+: .*invalid regular expression '\(\[unclosed'/)
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
  assert.match(r.stdout, /^warning: rules send messages to plugin "ecko" \(rule "typo" at rules\/typo\.yaml:2\), but plugins\/ecko\/index\.ts does not exist \(did you mean "echo"\?\)$/m)
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
  assert.match(r.stdout, /^warning: rules send messages to plugin "weather" \(rule "weather" at rules\/more\.yaml:2\), but plugins\/weather\/index\.ts does not exist \(create it with: wxengine plugin new weather\)$/m)
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
  // At the account: key, the line to fix.
  assert.match(r.stdout, /^warning: rules\/b\.yaml:1:10: rules for account "nosuchaccount", which is not configured/m)
})

test('rules in a folder whose name differs from an account id by case: the warning names the account it resembles', async () => {
  mkdirSync(path.join(project.dir, 'rules', 'Default'))
  writeFileSync(path.join(project.dir, 'rules', 'Default', 'a.yaml'), 'rules:\n  - name: folder-rule\n    keywords: [x]\n    reply: { type: text, content: x }\n')
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^warning: rules\/Default\/a\.yaml: rules for account "Default", which is not configured \(did you mean "default"\?\) \(accounts: [^)]+\): they never run$/m)
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
  // A mistyped rules directory in the configuration is a warning too, and fails --strict (review of this
  // stop's diff). One given on the command line is a usage mistake (exit 2, the test above).
  const missing = await project.run(['rules', 'check', '--strict'], { env: { RULES_DIR: 'rulez' } })
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

test('a publicUrl WeChat will not send a login back to (a port, an IP address), with pages to log in to: a warning, which --strict fails', async () => {
  const env = { WECHAT_APPID: 'wxB11529C136998CB6', WECHAT_ORIGINAL_ID: 'gh_3b2d9f4a5c6e', WECHAT_APPSECRET: 'secret', WECHAT_PAGE_DOMAINS: 'h5.example.com', PUBLIC_URL: 'https://wx.example.com:8443' }
  const r = await project.run(['rules', 'check', '--strict'], { env })
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stdout, /^warning: publicUrl has a port \(8443\): web logins tell WeChat to come back there/m)
  const good = await project.run(['rules', 'check', '--strict'], { env: { ...env, PUBLIC_URL: 'https://wx.example.com' } })
  assert.equal(good.code, 0, good.stdout + good.stderr)
})

test("a syntax error in a plugin's index.ts: file:line:col as the engine says it, exit 1", async () => {
  writePlugin('broken', { 'index.ts': `import { definePlugin } from 'wxengine/plugin'\n\nconst limit = ;\nexport default definePlugin({ name: 'broken', handle: (ctx) => ctx.pass() })\n` })
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1, r.stdout)
  assert.equal(r.stdout, 'error: plugins/broken/index.ts:3:15: SyntaxError: Unexpected token\n')
  assert.match(r.stderr, /^1 plugin the engine would refuse to load/m)
  // The engine refuses it for the same place (send --local: exit 1).
  const started = await project.run(['send', 'hi', '--local'])
  assert.equal(started.code, 1)
  assert.match(started.stderr, /plugin broken: plugins\/broken\/index\.ts:3:15: SyntaxError: Unexpected token/)
})

test("a plugin named otherwise than its folder (a copied folder, renamed): an error at the name, as the start refuses it, exit 1 (a newcomer's walkthrough: rules check said ok)", async () => {
  writePlugin('myecho', { 'index.ts': `import { definePlugin } from 'wxengine/plugin'\n\nexport default definePlugin({\n  name: 'echo',\n  handle: (ctx) => ctx.pass(),\n})\n` })
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1, r.stdout + r.stderr)
  assert.equal(r.stdout, 'error: plugins/myecho/index.ts:4:9: the plugin is named "echo" but its folder is "myecho"; they must be equal\n')
  const started = await project.run(['send', 'hi', '--local'])
  assert.equal(started.code, 1)
  assert.match(started.stderr, /plugin myecho: the plugin is named "echo" but its folder is "myecho"; they must be equal/)
  // module.exports with the name right, and a name that is no literal (not known without running it): no error.
  writePlugin('myecho', { 'index.ts': `module.exports = { name: 'myecho', handle: () => 'hi' }\n` })
  writePlugin('computed', { 'index.ts': `const n = 'comp' + 'uted'\nmodule.exports = { name: n, handle: () => 'hi' }\n` })
  const fixed = await project.run(['rules', 'check'])
  assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr)
})

test("an entry that exports no plugin: no default export, a function as the default, no handle: the engine's own words, exit 1 (a newcomer's review: rules check said ok)", async () => {
  writePlugin('noexp', { 'index.ts': `import { definePlugin } from 'wxengine/plugin'\nexport const plugin = definePlugin({ name: 'noexp', handle: () => 'x' })\n` })
  writePlugin('fnexp', { 'index.ts': `import type { PluginContext } from 'wxengine/plugin'\nexport default function handle(ctx: PluginContext) {\n  return ctx.reply.text('x')\n}\n` })
  writePlugin('handel', { 'index.ts': `import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({\n  name: 'handel',\n  handel(ctx) {\n    return ctx.reply.text('x')\n  },\n} as any)\n` })
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1, r.stdout + r.stderr)
  const fix = "; a plugin's index.ts ends with `export default definePlugin({ name, handle })`"
  assert.equal(
    r.stdout,
    [
      `error: plugin fnexp: plugins/fnexp/index.ts: the default export is a function, not a plugin${fix}`,
      `error: plugin handel: plugins/handel/index.ts:2: the default export has no handle function (it has name, handel)${fix}`,
      `error: plugin noexp: plugins/noexp/index.ts: the module has no default export (it exports plugin)${fix}`,
      '',
    ].join('\n'),
  )
  // The start refuses each of them in the same words.
  const started = await project.run(['send', 'hi', '--local'])
  assert.equal(started.code, 1)
  for (const line of r.stdout.trim().split('\n')) assert.ok(started.stderr.includes(line.replace(/^error: /, '').replace('index.ts:2:', 'index.ts:')), `${line}\n${started.stderr}`)
  // What only running can tell is left to the run: a spread, a definition made elsewhere, a re-exported default,
  // module.exports, and a definition with handle.
  rmSync(path.join(project.dir, 'plugins', 'fnexp'), { recursive: true })
  rmSync(path.join(project.dir, 'plugins', 'noexp'), { recursive: true })
  writePlugin('handel', { 'index.ts': `import { definePlugin } from 'wxengine/plugin'\nconst base = { handle: () => 'x' }\nexport default definePlugin({ name: 'handel', ...base })\n` })
  writePlugin('made', { 'index.ts': `import { make } from './make.ts'\nexport default make('made')\n`, 'make.ts': `export const make = (name: string) => ({ name, handle: () => 'x' })\n` })
  writePlugin('reexp', { 'index.ts': `export { default } from './def.ts'\n`, 'def.ts': `import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({ name: 'reexp', handle: () => 'x' })\n` })
  writePlugin('cjs', { 'index.js': `module.exports = { name: 'cjs', handle: () => 'x' }\n` })
  writePlugin('parts', { 'index.ts': `export const name = 'parts'\nexport function handle() {\n  return 'x'\n}\n` })
  const fixed = await project.run(['rules', 'check'])
  assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr)
  const served = await project.run(['send', 'hi', '--local'])
  assert.equal(served.code, 0, served.stderr)
})

test('a file index.ts imports that does not compile: its own line and column, for what sucrase refuses and for what only V8 does', async () => {
  writePlugin('menu', {
    'index.ts': `import { definePlugin } from 'wxengine/plugin'\nimport { price } from './lib/prices'\nexport default definePlugin({ name: 'menu', handle: (ctx) => ctx.reply.text(String(price(2))) })\n`,
    'lib/prices.ts': 'export function price(n: number): number {\n  const rate = 2\n  return n * rate +\n}\n',
  })
  // A name declared twice: sucrase lets it through, V8's compile refuses it.
  writePlugin('twice', {
    'index.ts': `import { definePlugin } from 'wxengine/plugin'\nimport { a } from './util.ts'\nexport default definePlugin({ name: 'twice', handle: (ctx) => ctx.reply.text(String(a)) })\n`,
    'util.ts': 'export const a = 1\nexport const b = 2\nconst a = 3\n',
  })
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1, r.stdout)
  assert.equal(
    r.stdout,
    "error: plugins/menu/lib/prices.ts:4:1: SyntaxError: Unexpected token\nerror: plugins/twice/util.ts:3:7: SyntaxError: Identifier 'a' has already been declared\n",
  )
  assert.match(r.stderr, /^2 plugins the engine would refuse to load/m)
  // The engine's load says the same place for the error only V8 finds (it said no file or line).
  const started = await project.run(['send', 'hi', '--local'])
  assert.equal(started.code, 1)
  assert.match(started.stderr, /plugin twice: plugins\/twice\/util\.ts:3:7: SyntaxError: Identifier 'a' has already been declared/)
})

test('an import of a file that is not there: an error at the import; a disabled plugin is not compiled', async () => {
  writePlugin('lost', { 'index.ts': `import { definePlugin } from 'wxengine/plugin'\nimport { x } from './helpers/x'\nexport default definePlugin({ name: 'lost', handle: (ctx) => ctx.reply.text(x) })\n` })
  writePlugin('parked', { 'index.ts': `const = 1\n${pluginSource('parked')}` })
  const file = path.join(project.dir, 'engine.config.ts')
  writeFileSync(file, readFileSync(file, 'utf8').replace("store: { kind: 'sqlite' },", "store: { kind: 'sqlite' },\n  plugins: { parked: { enabled: false } },"))
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1, r.stdout)
  assert.match(r.stdout, /^error: plugins\/lost\/index\.ts:2:19: Cannot find module '\.\/helpers\/x': no such file in the plugin's folder/)
  assert.doesNotMatch(r.stdout, /parked/)
  assert.match(r.stderr, /^1 plugin the engine would refuse to load/m)
})

test("an npm package, or a built-in the plugin's allow does not name: an error at the import, as the start refuses it", async () => {
  writePlugin('pkg', { 'index.ts': `import { definePlugin } from 'wxengine/plugin'\nimport dayjs from 'dayjs'\nexport default definePlugin({ name: 'pkg', handle: (ctx) => ctx.reply.text(String(dayjs)) })\n` })
  writePlugin('hash', { 'index.ts': `import { definePlugin } from 'wxengine/plugin'\nimport { createHash } from 'node:crypto'\nexport default definePlugin({ name: 'hash', handle: (ctx) => ctx.reply.text(String(createHash)) })\n` })
  // Allowed (with or without node:), a built-in passes.
  writePlugin('files', { 'index.ts': `import { definePlugin } from 'wxengine/plugin'\nimport { join } from 'node:path'\nexport default definePlugin({ name: 'files', handle: (ctx) => ctx.reply.text(join('a', 'b')) })\n` })
  const file = path.join(project.dir, 'engine.config.ts')
  writeFileSync(file, readFileSync(file, 'utf8').replace("store: { kind: 'sqlite' },", "store: { kind: 'sqlite' },\n  plugins: { files: { allow: ['path'] } },"))
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1, r.stdout)
  assert.equal(
    r.stdout,
    "error: plugins/hash/index.ts:2:28: Cannot find module 'node:crypto': a Node built-in must be allowed first: plugins: { 'hash': { allow: ['crypto'] } } in engine.config.ts\n" +
      "error: plugins/pkg/index.ts:2:19: Cannot find module 'dayjs': npm packages are not available in the plugin sandbox; copy what you need into the plugin's folder (or a shared one, plugins/_shared/), or do it in the engine\n",
  )
  assert.match(r.stderr, /^2 plugins the engine would refuse to load/m)
  // The start refuses them, at the same places.
  const started = await project.run(['send', 'hi', '--local'])
  assert.equal(started.code, 1)
  assert.match(started.stderr, /plugin hash: plugins\/hash\/index\.ts:2:28: Cannot find module 'node:crypto'/)
  assert.match(started.stderr, /plugin pkg: plugins\/pkg\/index\.ts:2:19: Cannot find module 'dayjs'/)
})

test("an allow naming what the sandbox does not give (child_process, a name that is no built-in): an error naming the plugin, as the start refuses it (a review: rules check said ok)", async () => {
  writePlugin('shell', { 'index.ts': pluginSource('shell') })
  const file = path.join(project.dir, 'engine.config.ts')
  writeFileSync(file, readFileSync(file, 'utf8').replace("store: { kind: 'sqlite' },", "store: { kind: 'sqlite' },\n  plugins: { shell: { allow: ['child_process', 'nosuch', 'path'] } },"))
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1, r.stdout)
  const said = 'plugin shell: allow names "child_process", "nosuch", which the sandbox does not give plugins'
  assert.ok(r.stdout.startsWith(`error: ${said} (`), r.stdout)
  assert.doesNotMatch(r.stdout, /"path"/, 'a built-in the sandbox gives is not named')
  const started = await project.run(['send', 'hi', '--local'])
  assert.equal(started.code, 1)
  assert.ok(started.stderr.includes(said), started.stderr)
})

test('a broken file that only a function imports: a warning (the plugin starts, and fails there), which --strict fails', async () => {
  writePlugin('later', {
    'index.ts': pluginSource('later', "async (ctx) => ctx.reply.text((await import('./report.ts')).report())"),
    'report.ts': 'export function report(): string {\n  return [1, 2.join(",")\n}\n',
  })
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stdout)
  assert.match(r.stdout, /^warning: plugins\/later\/report\.ts:2:\d+: SyntaxError: .* \(required inside a function: the plugin starts, and fails when that function runs\)$/m)
  assert.equal((await project.run(['rules', 'check', '--strict'])).code, 1)
})

test('plugins whose code compiles pass, whatever else their folders hold (a broken file nothing imports); the engine loads them too', async () => {
  writePlugin('tidy', {
    'index.ts': [
      "import { definePlugin } from 'wxengine/plugin'",
      // Type-only: sucrase drops it, so the engine never looks for ./types (only types.d.ts is there).
      "import type { Dish } from './types'",
      "import { format } from './lib'",
      "import menu from './menu.json'",
      "export default definePlugin({ name: 'tidy', handle: (ctx) => ctx.reply.text(format((menu as Dish[])[0])) })",
      '',
    ].join('\n'),
    'types.d.ts': 'export interface Dish { name: string }\n',
    'lib/index.ts': "import type { Dish } from '../types'\nexport const format = (d: Dish): string => d.name\n",
    'menu.json': '[{ "name": "noodles" }]\n',
    'drafts/old.ts': 'const = unfinished\n',
  })
  const r = await project.run(['rules', 'check', '--strict'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.equal(r.stdout, 'rules: ok, 2 text rules (2 keywords), 4 type handlers, plugins used: echo\n')
  assert.equal((await project.run(['send', 'hi', '--local'])).code, 0)
})

test("an account's menu file is checked against the rules: a button nothing answers is a warning at its place, which --strict fails", async () => {
  mkdirSync(path.join(project.dir, 'menus'))
  const menu = ['button:', '  - {type: click, name: Hello, key: hello}', '  - name: More', '    sub_button:', '      - {type: scancode_push, name: Scan, key: SCAN_1}', ''].join('\n')
  writeFileSync(path.join(project.dir, 'menus', 'default.yaml'), menu)
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  const warnings = r.stdout.split('\n').filter((l) => l.startsWith('warning: '))
  assert.equal(warnings.length, 1, r.stdout)
  assert.match(warnings[0], /^warning: menus\/default\.yaml:5:\d+: button "More" > "Scan" \(scancode_push, key "SCAN_1"\): nothing answers it/)
  assert.equal((await project.run(['rules', 'check', '--strict'])).code, 1)

  // Without the button nothing answers, --strict passes: the click is answered (rule "hello").
  writeFileSync(path.join(project.dir, 'menus', 'default.yaml'), menu.replace(/  - name: More[\s\S]*/, ''))
  assert.equal((await project.run(['rules', 'check', '--strict'])).code, 0)

  // A personalized menu's buttons are checked as the default's, the warning naming the menu.
  writeFileSync(path.join(project.dir, 'menus', 'default.yaml'), `${menu.replace(/  - name: More[\s\S]*/, '')}conditional:\n  - name: android\n    matchrule: {client_platform_type: '2'}\n    button: [{type: scancode_push, name: Scan, key: SCAN_1}]\n`)
  const conditional = await project.run(['rules', 'check', '--strict'])
  assert.equal(conditional.code, 1)
  assert.match(conditional.stdout, /^warning: menus\/default\.yaml:6:14: conditional menu "android": button "Scan" \(scancode_push, key "SCAN_1"\): nothing answers it/m)
})

test('a menu file with errors: one warning sending to wxengine menu check, not the errors themselves (they are the menu\'s)', async () => {
  mkdirSync(path.join(project.dir, 'menus'))
  writeFileSync(path.join(project.dir, 'menus', 'default.yaml'), 'button:\n  - {type: clik, name: Hello, key: hello}\n')
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^warning: menus\/default\.yaml: 1 error in the menu file, so its buttons were not checked against the rules \(wxengine menu check says where\)$/m)
})

test("the menu file's own warnings, and a menu file no account reads, are rules check's warnings too: --strict fails them as menu check --strict does", async () => {
  mkdirSync(path.join(project.dir, 'menus'))
  writeFileSync(path.join(project.dir, 'menus', 'default.yaml'), 'button:\n  - {type: click, name: Hello, key: hello}\n  - {type: click, name: Hi, key: hello}\n')
  const dup = await project.run(['rules', 'check', '--strict'])
  assert.equal(dup.code, 1, dup.stdout)
  assert.match(dup.stdout, /^warning: menus\/default\.yaml:3:\d+: button "Hi": key "hello" is also the key of button "Hello"/m)
  // A misspelt file name: never pushed, and nothing else would say so.
  rmSync(path.join(project.dir, 'menus', 'default.yaml'))
  writeFileSync(path.join(project.dir, 'menus', 'defualt.yaml'), 'button:\n  - {type: click, name: Hello, key: hello}\n')
  writeFileSync(path.join(project.dir, 'menus', 'default.yml'), 'button:\n  - {type: click, name: Hello, key: hello}\n')
  const stray = await project.run(['rules', 'check', '--strict'])
  assert.equal(stray.code, 1, stray.stdout)
  assert.match(stray.stdout, /^warning: menus\/defualt\.yaml: a menu for account "defualt", which is not configured \(did you mean "default"\?\)/m)
  assert.match(stray.stdout, /^warning: menus\/default\.yml: menu files end in \.yaml/m)
})

test("the repository's example project (plugins/, rules/) passes --strict", async () => {
  const r = await project.run(['rules', 'check', '--strict'], { cwd: REPO, env: { WECHAT_TOKEN: 'exampleowntoken' } })
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^rules: ok, .*plugins used: checkin, echo, location-responder, menu-click, news-demo, order, points, survey\n$/)
})

test('an inline news reply longer than the answer carries: a warning naming what goes out and the setting (an operator from WeEngine)', async () => {
  const news = (titles: string[]) => `{type: news, articles: [${titles.map((t) => `{title: ${t}, url: 'https://example.com/${t}'}`).join(', ')}]}`
  writeFileSync(
    path.join(project.dir, 'rules', 'news.yaml'),
    [
      'rules:',
      '  - name: weekly',
      '    keywords: [weekly]',
      `    reply: ${news(['first', 'second', 'third'])}`,
      '  - name: single',
      '    keywords: [single]',
      `    reply: ${news(['only'])}`,
      'handlers:',
      '  - type: click',
      '    key: MENU_NEWS',
      `    reply: ${news(['a', 'b', 'c'])}`,
      '',
    ].join('\n'),
  )
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  const warnings = r.stdout.split('\n').filter((l) => l.includes('news reply'))
  // A menu click is an event: 3 of the 8 it may carry is no cut; one article, as the platform shows, neither.
  assert.deepEqual(warnings, [
    'warning: rules/news.yaml:2: rule "weekly": its news reply has 3 articles; answering a user\'s message it sends 1 (limits.newsMaxArticlesForUserMessage: the platform shows one), so only "first" goes out; a menu click that matches it gets up to 8 (for a button alone, use a click handler with its key: typed text never reaches it)',
  ])
  assert.equal((await project.run(['rules', 'check', '--strict'])).code, 1)
})

test('a regex with no literal to prefilter on: a note (it runs on every text), which --strict does not count (a plugin author review: a warning in every test file)', async () => {
  writeFileSync(path.join(project.dir, 'rules', 'order.yaml'), "rules:\n  - name: order-number\n    keywords:\n      - regex: '^\\d{8,12}$'\n    plugin: echo\n")
  const r = await project.run(['rules', 'check', '--strict'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^note: rules\/order\.yaml:2: rule "order-number": regex '\^\\d\{8,12\}\$' has no literal text every match must contain, so it runs on every message$/m)
  assert.doesNotMatch(r.stdout, /^warning:/m)
  // Not in what a plugin's test or `send --local` prints (warn level).
  const sent = await project.run(['send', '12345678', '--local'])
  assert.equal(sent.code, 0, sent.stderr)
  assert.doesNotMatch(sent.stderr, /no literal text/)
})

test('users: naming a group no account defines is an error with its place; WECHAT_ADMINS defines admins', async () => {
  writeFileSync(path.join(project.dir, 'rules', 'admin.yaml'), 'rules:\n  - name: broadcast\n    keywords: [{prefix: broadcast}]\n    users: admins\n    plugin: echo\n')
  const refused = await project.run(['rules', 'check'])
  assert.equal(refused.code, 1)
  assert.match(refused.stdout, /^rules\/admin\.yaml:4:12: rule "broadcast": users: no account defines a group "admins" in its userGroups \(engine\.config\.ts; groups: none\)$/m)
  const defined = await project.run(['rules', 'check'], { env: { WECHAT_ADMINS: 'oAdmin1,oAdmin2' } })
  assert.equal(defined.code, 0, defined.stdout + defined.stderr)
})

test('a user group with nobody in it: a warning naming the group and what it leaves unanswered, which --strict fails (a rule for admins that "never matched")', async () => {
  const file = path.join(project.dir, 'engine.config.ts')
  writeFileSync(file, readFileSync(file, 'utf8').replace("mode: 'plaintext' }", "mode: 'plaintext', userGroups: { admins: [], staff: ['oStaff1'] } }").replace("mode: 'safe',", "mode: 'safe',\n      userGroups: { editors: [] },"))
  writeFileSync(path.join(project.dir, 'rules', 'admin.yaml'), 'rules:\n  - name: broadcast\n    keywords: [{prefix: broadcast}]\n    users: admins\n    plugin: echo\n')
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^warning: account "default" has an empty user group "admins": rules and handlers with users: admins answer nobody, and ctx\.user\.inGroup\('admins'\) is false for everyone \(WECHAT_ADMINS for the default account\)$/m)
  assert.match(r.stdout, /^warning: account "safe" has an empty user group "editors": rules and handlers with users: editors answer nobody, and ctx\.user\.inGroup\('editors'\) is false for everyone$/m)
  assert.doesNotMatch(r.stdout, /"staff"/, 'a group with members is not warned about')
  assert.equal((await project.run(['rules', 'check', '--strict'])).code, 1)
  // Filled from the environment, the default account's admins are no longer empty; the safe account's editors still are.
  const filled = await project.run(['rules', 'check'], { env: { WECHAT_ADMINS: 'oAdmin1' } })
  assert.doesNotMatch(filled.stdout, /empty user group "admins"/)
  assert.match(filled.stdout, /empty user group "editors"/)
})

test('an inline reply naming a file: its problems with file:line:col; a good one is checked, not uploaded, with a warning for an account without an appSecret', async () => {
  mkdirSync(path.join(project.dir, 'rules', 'images'), { recursive: true })
  writeFileSync(path.join(project.dir, 'rules', 'images', 'qr.png'), Buffer.from('89504e470d0a1a0a', 'hex'))
  writeFileSync(path.join(project.dir, 'rules', 'media.yaml'), 'rules:\n  - name: group\n    keywords: [group]\n    reply: {type: image, file: images/missing.png}\n')
  writeFileSync(path.join(project.dir, 'rules', 'media2.yaml'), 'rules:\n  - name: both\n    keywords: [both]\n    reply: {type: image, mediaId: x, file: images/qr.png}\n')
  let r = await project.run(['rules', 'check'])
  assert.equal(r.code, 1)
  assert.match(r.stdout, /^rules\/media\.yaml:4:32: file "images\/missing\.png" does not exist \(.*; a file is relative to the rules file's folder\)$/m)
  assert.match(r.stdout, /^rules\/media2\.yaml:4:\d+: rule "both": an image reply has both mediaId and file; choose one$/m)
  rmSync(path.join(project.dir, 'rules', 'media2.yaml'))

  writeFileSync(path.join(project.dir, 'rules', 'media.yaml'), 'rules:\n  - name: group\n    keywords: [group]\n    reply: {type: image, file: images/qr.png}\n')
  r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^warning: rules\/media\.yaml:4:32: image file images\/qr\.png cannot be uploaded: account "default" has no appSecret, so the engine cannot upload it .*; the rule answers as a failing one does$/m)
})

test('a plugin importing a shared folder passes; a rule or settings naming a shared folder: a warning saying it is no plugin, even with an index.ts', async () => {
  writePlugin('_shared', { 'index.ts': pluginSource('_shared'), 'label.ts': 'export const label = (s: string): string => `[${s}]`\n' })
  writePlugin('tagged', { 'index.ts': `import { label } from '../_shared/label.ts'\n${pluginSource('tagged', '(ctx) => ctx.reply.text(label("x"))')}` })
  assert.equal((await project.run(['rules', 'check', '--strict'])).code, 0, 'an import of a shared folder is no problem')
  writeFileSync(path.join(project.dir, 'rules', 'shared.yaml'), 'rules:\n  - name: shared\n    keywords: [shared]\n    plugin: _shared\n')
  const file = path.join(project.dir, 'engine.config.ts')
  writeFileSync(file, readFileSync(file, 'utf8').replace("store: { kind: 'sqlite' },", "store: { kind: 'sqlite' },\n  plugins: { _shared: { timeoutMs: 1000 } },"))
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  const note = '\\(a folder whose name starts with _ holds code plugins share; it is not loaded as a plugin\\)'
  assert.match(r.stdout, new RegExp(`^warning: rules send messages to plugin "_shared" \\(rule "shared" at rules/shared\\.yaml:2\\), which is not in plugins ${note}$`, 'm'))
  assert.match(r.stdout, new RegExp(`^warning: engine\\.config\\.ts has settings for plugin "_shared", which is not in plugins ${note}: they apply to nothing$`, 'm'))
  // The engine agrees: it loads no plugin "_shared", and says so with the same note.
  const sent = await project.run(['send', 'shared', '--local'])
  assert.match(sent.stderr, new RegExp(`rules refer to plugin "_shared" \\(rule "shared" at .*rules/shared\\.yaml:2\\), which is not in .*plugins ${note}`))
})

test('a rule naming a folder the engine skips (.drafts) or one deeper (echo/inner): a warning, even with an index.ts, as the engine warns', async () => {
  writePlugin('.drafts', { 'index.ts': pluginSource('.drafts') })
  writePlugin('echo/inner', { 'index.ts': pluginSource('inner') })
  writeFileSync(path.join(project.dir, 'rules', 'skipped.yaml'), 'rules:\n  - { name: drafts, keywords: [drafts], plugin: .drafts }\n  - { name: deeper, keywords: [deeper], plugin: echo/inner }\n')
  const r = await project.run(['rules', 'check'])
  assert.equal(r.code, 0, r.stderr)
  const note = '\\(plugins are the folders directly in it whose names do not start with \\. or _\\)'
  assert.match(r.stdout, new RegExp(`^warning: rules send messages to plugin "\\.drafts" \\(rule "drafts" at rules/skipped\\.yaml:2\\), which is not in plugins ${note}`, 'm'))
  assert.match(r.stdout, new RegExp(`^warning: rules send messages to plugin "echo/inner" \\(rule "deeper" at rules/skipped\\.yaml:3\\), which is not in plugins ${note}`, 'm'))
  const sent = await project.run(['send', 'drafts', '--local'])
  assert.match(sent.stderr, /rules refer to plugin "\.drafts" \(rule "drafts" at .*rules\/skipped\.yaml:2\), which is not in /)
})
