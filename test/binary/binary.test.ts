/**
 * The single binary, end to end: build it, copy it ALONE into an empty directory (no node_modules anywhere
 * up the tree) with a project (rules/, a TypeScript plugin, engine.config.ts), start it, and talk to it as
 * WeChat does. Set WXENGINE_BINARY to a built binary to skip the build (e.g. after `npm run build:binary`).
 * Prints the build time, the size and the start-to-first-reply time.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'
import { IN_THREAD_MAX_BYTES } from '../../core/route/rules/read-rules-off-thread.ts'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'
import { FIXTURE_PROJECT, REPO, runCommand } from '../cli/cli-harness.ts'
import { until } from '../support/until.ts'
import { childExited } from '../support/child-end.ts'

const BUILD_TIMEOUT_MS = 600_000

let dir: string
let exe: string
let env: NodeJS.ProcessEnv
const numbers: Record<string, string> = {}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-bin-'))
  const prebuilt = process.env.WXENGINE_BINARY
  let built = prebuilt ? path.resolve(prebuilt) : undefined
  if (!built) {
    // Through the CLI, as a user would: `wxengine build --out ...` (the same as `npm run build:binary`).
    const buildDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-build-out-'))
    built = path.join(buildDir, 'wxengine')
    const started = performance.now()
    const r = await runCommand(process.execPath, ['--import', 'tsx', path.join(REPO, 'core/cli/main.ts'), 'build', '--out', built], { cwd: REPO, env: process.env })
    numbers.build = `${((performance.now() - started) / 1000).toFixed(1)} s`
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^built ${built.replace(/[.]/g, '\\.')}: \\d+\\.\\d MB in \\d+\\.\\d s \\(embeds node ${process.version.replace(/[.]/g, '\\.')}`))
  }
  numbers.size = `${(statSync(built).size / 1e6).toFixed(1)} MB`
  exe = path.join(dir, 'wxengine')
  copyFileSync(built, exe)
  statSync(exe)
  if (!prebuilt) rmSync(path.dirname(built), { recursive: true, force: true })
  for (const part of ['rules', 'plugins', 'engine.config.ts']) cpSync(path.join(FIXTURE_PROJECT, part), path.join(dir, part), { recursive: true })
  env = { PATH: '/usr/bin:/bin', HOME: dir, DATA_DIR: path.join(dir, 'data'), WXENGINE_CACHE_DIR: path.join(dir, 'cache') }
}, { timeout: BUILD_TIMEOUT_MS })

after(() => {
  rmSync(dir, { recursive: true, force: true })
  console.log(`binary: ${Object.entries(numbers).map(([k, v]) => `${k} ${v}`).join(', ')}`)
})

const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runCommand(exe, args, { cwd: dir, env: { ...env, ...extraEnv } })

test('it stands alone: nothing but the binary and the project, no node_modules up the tree', () => {
  assert.deepEqual(readdirSync(dir).sort(), ['engine.config.ts', 'plugins', 'rules', 'wxengine'])
  for (let d = dir; ; d = path.dirname(d)) {
    assert.equal(existsSync(path.join(d, 'node_modules')), false, `${d}/node_modules`)
    if (d === path.dirname(d)) break
  }
})

test('--help and rules check', async () => {
  const help = await run(['--help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /^Usage: wxengine \[options\] \[command\]/)
  assert.match(help.stdout, /rules\s+work with rules\//)
  // `build` works only from a source checkout: not offered here (it still explains itself, below).
  assert.doesNotMatch(help.stdout, /^ {2}build\b/m)
  const version = await run(['--version'])
  assert.equal(version.code, 0)
  assert.match(version.stdout, /^\d+\.\d+\.\d+ \(node v\d+\.\d+\.\d+\)\n$/)

  const check = await run(['rules', 'check'])
  assert.equal(check.code, 0, check.stderr)
  assert.equal(check.stdout, 'rules: ok, 2 text rules (2 keywords), 4 type handlers, plugins used: echo\n')

  writeFileSync(path.join(dir, 'rules', 'zz-broken.yaml'), 'rules:\n  - name: x\n    keywords: []\n    plugin: echo\n')
  try {
    const bad = await run(['rules', 'check'])
    assert.equal(bad.code, 1)
    assert.match(bad.stdout, /^rules\/zz-broken\.yaml:3:\d+: /)
  } finally {
    rmSync(path.join(dir, 'rules', 'zz-broken.yaml'))
  }

  // engine.config.ts importing a TypeScript file of the project: read by the engine itself (the binary's
  // require reads no TypeScript). Its empty group shows the imported value was read.
  const configFile = path.join(dir, 'engine.config.ts')
  const original = readFileSync(configFile, 'utf8')
  writeFileSync(path.join(dir, 'groups.ts'), 'export const staff: string[] = []\n')
  writeFileSync(configFile, `import { staff } from './groups.ts'\n${original.replace("mode: 'plaintext' }", "mode: 'plaintext', userGroups: { staff } }")}`)
  try {
    const imported = await run(['rules', 'check'])
    assert.equal(imported.code, 0, imported.stderr)
    assert.match(imported.stdout + imported.stderr, /account "default" has an empty user group "staff"/)
  } finally {
    writeFileSync(configFile, original)
    rmSync(path.join(dir, 'groups.ts'))
  }

  // The slow-regex check asks recheck (loaded on first use, from the bundle: no node_modules here) about a
  // regex with three repetitions.
  writeFileSync(path.join(dir, 'rules', 'zz-cubic.yaml'), "rules:\n  - name: x\n    keywords:\n      - regex: '^(.*)\\s+(.*)$'\n    plugin: echo\n")
  try {
    const slow = await run(['rules', 'check'])
    assert.equal(slow.code, 1, slow.stderr)
    assert.match(slow.stdout, /^rules\/zz-cubic\.yaml:4:\d+: rule "x": regex .* has 3 repetitions in a row .* grows with the cube/)
  } finally {
    rmSync(path.join(dir, 'rules', 'zz-cubic.yaml'))
  }
})

describe('wxengine start', () => {
  let server: ChildProcess
  let url: string
  let startedAt: number
  let listeningAt: number
  let serverOutput = ''
  const config = loadConfig({ root: FIXTURE_PROJECT, env: {} })
  assert.ok(config.ok)
  const account = (id: string) => config.value.accounts.find((a) => a.id === id)!

  before(async () => {
    startedAt = performance.now()
    server = spawn(exe, ['start'], { cwd: dir, env: { ...env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    // Asked for now: the tests below wait for its exit after awaits of their own, when it may have ended.
    void childExited(server)
    let stderr = ''
    server.stderr!.setEncoding('utf8').on('data', (d: string) => ((stderr += d), (serverOutput += d)))
    url = await new Promise<string>((resolve, reject) => {
      let out = ''
      server.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d
        serverOutput += d
        const line = out.split('\n').find((l) => l.includes('"wxengine listening"'))
        if (line) resolve((JSON.parse(line) as { url: string }).url)
      })
      server.once('exit', (code) => reject(new Error(`the binary exited ${code} before listening:\n${out}\n${stderr}`)))
    })
    listeningAt = performance.now()
  })

  after(async () => {
    // A server killed by a signal has exitCode null too: childExited knows it has ended all the same.
    server.kill('SIGTERM')
    await childExited(server)
  })

  async function post(accountId: string, fields: ReturnType<typeof push.text>) {
    const sim = createWeChatSimulator({ account: account(accountId) })
    const req = sim.request(fields)
    const res = await fetch(`${url}/wechat/${accountId}?${req.search}`, { method: 'POST', body: req.body })
    assert.equal(res.status, 200)
    return sim.openReply(await res.text())
  }

  test('a signed text message is answered by the TypeScript plugin', async () => {
    const opened = await post('default', push.text('u1', 'echo from the binary'))
    numbers['start to listening'] = `${Math.round(listeningAt - startedAt)} ms`
    numbers['start to first reply'] = `${Math.round(performance.now() - startedAt)} ms`
    assert.equal(opened.error, undefined)
    assert.equal(opened.encrypted, false)
    assert.equal(opened.fields?.MsgType, 'text')
    assert.equal(opened.fields?.Content, 'from the binary')
  })

  test('a safe-mode message: encrypted push, encrypted and signed reply', async () => {
    const opened = await post('safe', push.text('u2', 'echo secret'))
    assert.equal(opened.error, undefined)
    assert.equal(opened.encrypted, true)
    assert.equal(opened.fields?.Content, 'secret')
  })

  test('the binary plays WeChat against itself: wxengine send --url', async () => {
    const r = await run(['send', 'hello', '--account', 'safe', '--url', url])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'text reply (encrypted, decrypted and verified)\n  Content: Hi there\n')
  })

  test('SQLite works in the binary: log and stats read what the server wrote', async () => {
    const log = await run(['log', '--json'])
    assert.equal(log.code, 0, log.stderr)
    const summaries = log.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { summary: string }).summary)
    assert.deepEqual(summaries, ['echo from the binary', 'echo secret', 'hello'])
    const stats = await run(['stats', '--json'])
    assert.deepEqual(
      (JSON.parse(stats.stdout) as { account: string; rule: string; hits: number }[]).map((h) => `${h.account}/${h.rule}=${h.hits}`).sort(),
      ['default/echo=1', 'safe/echo=1', 'safe/hello=1'],
    )
  })

  test('SIGHUP reloads rules/, parsed by the embedded rules worker, with the binary moved away meanwhile', async () => {
    // Over IN_THREAD_MAX_BYTES: rules this large go to the worker (small ones are parsed on the serving thread).
    writeFileSync(path.join(dir, 'rules', 'zz-added.yaml'), `# ${'x'.repeat(IN_THREAD_MAX_BYTES)}\nrules:\n  - name: added\n    keywords: [added]\n    reply: { type: text, content: added }\n`)
    // A deploy that puts the new binary in place before the restart: the plugins' processes, started again
    // by the reload, were spawned from the path the engine was started from, and failed with ENOENT (a review).
    const moved = `${exe}.moved`
    renameSync(exe, moved)
    try {
      server.kill('SIGHUP')
      const line = await until('the reload', () => serverOutput.split('\n').find((l) => l.includes('"reloaded rules and plugins"') || l.includes('reload refused')))
      assert.match(line, /"reloaded rules and plugins"/, serverOutput.slice(-2000))
      assert.equal((JSON.parse(line) as { textRules: number }).textRules, 3)
      // A worker that could not start (its program not embedded) falls back to this thread, and says so.
      assert.doesNotMatch(serverOutput, /parse worker failed|ENOENT/)
      // The TypeScript plugin, in the process the reload started, answers.
      const opened = await post('default', push.text('u-moved', 'echo after the move'))
      assert.equal(opened.fields?.Content, 'after the move')
    } finally {
      renameSync(moved, exe)
      rmSync(path.join(dir, 'rules', 'zz-added.yaml'))
    }
  })

  test('SIGTERM: a graceful stop, exit 0', async () => {
    server.kill('SIGTERM')
    assert.deepEqual(await childExited(server), { code: 0, signal: null })
    // Every line is out now. The log rows above were written by the message-log thread (its own bundle and
    // the extracted addon), not by the main-thread fallback, which would have said so.
    assert.match(serverOutput, /"messages":4,.*"msg":"messages handled"/)
    assert.doesNotMatch(serverOutput, /message log writer thread/)
  })
})

test('the addon was written once into a private cache directory', () => {
  const cache = path.join(dir, 'cache')
  assert.equal(statSync(cache).mode & 0o777, 0o700)
  // Beside it, regexes' verdicts (rules check asked recheck about one above), and V8's code cache of the
  // embedded worker programs (the SIGHUP above started the rules parser's), each named for its program's text.
  const codeCaches = readdirSync(cache).filter((f) => f.endsWith('.v8cache'))
  for (const f of codeCaches) assert.match(f, new RegExp(`^(rules-parse-worker|plugin-worker)-[0-9a-f]{16}-node${process.versions.node}-${process.arch}\\.v8cache$`))
  const files = readdirSync(cache).filter((f) => f !== 'regex-verdicts.json' && !codeCaches.includes(f))
  assert.equal(files.length, 1, files.join(', '))
  assert.match(files[0], new RegExp(`^better_sqlite3-abi${process.versions.modules}-${process.platform}-${process.arch}-[0-9a-f]{16}\\.node$`))
})

test('a cache directory the addon cannot be written to: exit 2, pointing at WXENGINE_CACHE_DIR, not at DATA_DIR', async () => {
  // A path under a file: no user, root included, can make it. The failure surfaces as the data directory's
  // lock opens its database, and was told as the data directory's (an operator's review).
  const start = await run(['start', '--port', '0'], { WXENGINE_CACHE_DIR: path.join(dir, 'engine.config.ts', 'cache'), DATA_DIR: path.join(dir, 'data-nocache') })
  assert.equal(start.code, 2, start.stderr)
  assert.match(start.stderr, /cannot write the SQLite addon to .*engine\.config\.ts\/cache: .*\(set WXENGINE_CACHE_DIR to a writable, private directory\)/)
  assert.doesNotMatch(start.stderr, /the data directory: DATA_DIR/)
})

test('plugin new from the binary (embedded templates), then the new plugin answers', async () => {
  const created = await run(['plugin', 'new', 'greet'])
  assert.equal(created.code, 0, created.stderr)
  // Its "Try it:" line as it can be typed there: the binary by its path in its own folder, by name when the PATH has it.
  assert.match(created.stdout, /^Try it: {2}\.\/wxengine send "greet hello" --local$/m)
  const onPath = await runCommand('wxengine', ['plugin', 'new', 'on-path'], { cwd: dir, env: { ...env, PATH: `${dir}:${env.PATH}` } })
  assert.equal(onPath.code, 0, onPath.stderr)
  assert.match(onPath.stdout, /^Try it: {2}wxengine send "on-path hello" --local$/m)
  for (const f of ['plugins/on-path', 'rules/on-path.yaml', 'test/plugins/on-path.test.ts']) rmSync(path.join(dir, f), { recursive: true })
  const r = await run(['send', 'greet hi', '--local'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'text reply\n  Content: greet: hi\n')

  // Its test runs from the binary too, with no node, node_modules or TypeScript anywhere.
  const tested = await run(['test'])
  assert.equal(tested.code, 0, tested.stdout + tested.stderr)
  assert.match(tested.stdout, /^(#|ℹ) pass 4$/m)
  // And fails when the plugin stops doing what its test says.
  const source = path.join(dir, 'plugins/greet/index.ts')
  const original = readFileSync(source, 'utf8')
  writeFileSync(source, original.replace('`greet: ', '`greeting: '))
  try {
    const failing = await run(['test'])
    assert.equal(failing.code, 1, failing.stdout + failing.stderr)
    assert.match(failing.stdout, /^(#|ℹ) fail 1$/m)
    assert.match(failing.stdout, /greeting: good morning/)
  } finally {
    writeFileSync(source, original)
  }
})

test("a plugin importing plugins/_shared runs from the binary, and rules check follows the import", async () => {
  const source = path.join(dir, 'plugins/greet/index.ts')
  const original = readFileSync(source, 'utf8')
  const shared = path.join(dir, 'plugins/_shared')
  mkdirSync(shared)
  writeFileSync(path.join(shared, 'label.ts'), "export const label = (name: string): string => `${name.toUpperCase()}: `\n")
  writeFileSync(source, `import { label } from '../_shared/label.ts'\n${original.replace('`greet: ${rest}`', "label('greet') + rest")}`)
  try {
    const r = await run(['send', 'greet hi', '--local'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'text reply\n  Content: GREET: hi\n')
    writeFileSync(path.join(shared, 'label.ts'), 'export const label = (name: string): string => name +\n')
    const check = await run(['rules', 'check'])
    assert.equal(check.code, 1, check.stdout)
    assert.match(check.stdout, /^error: plugins\/_shared\/label\.ts:\d+:\d+: SyntaxError/m)
  } finally {
    writeFileSync(source, original)
    rmSync(shared, { recursive: true })
  }
})

test('init from the binary: a new project next to it serves, tests its plugin, and type-checks with the carried types', async () => {
  const fresh = path.join(dir, 'fresh')
  const inFresh = (args: string[]) => runCommand(exe, args, { cwd: fresh, env: { ...env, DATA_DIR: path.join(fresh, 'data') } })
  const created = await run(['init', 'fresh'])
  assert.equal(created.code, 0, created.stderr)
  assert.match(created.stdout, /^wrote fresh\/\.wxengine\/types \(\d+ declaration files, for your editor\)$/m)
  // The docs the new files point at (`.wxengine/docs/rules.md`), carried inside the binary: there is no docs/ here.
  assert.match(created.stdout, /^wrote fresh\/\.wxengine\/docs \(\d+ pages of docs; start at fresh\/\.wxengine\/docs\/README\.md\)$/m)
  assert.match(readFileSync(path.join(fresh, 'rules', 'default.yaml'), 'utf8'), /\(\.wxengine\/docs\/rules\.md\)/)
  assert.equal(readFileSync(path.join(fresh, '.wxengine', 'docs', 'rules.md'), 'utf8'), readFileSync(path.join(REPO, 'docs', 'rules.md'), 'utf8'))
  try {
    // The "Next:" lines run as printed: the binary is on no PATH, and they run after `cd fresh`, away from it
    // (they said `wxengine send hello --local`: command not found).
    assert.match(created.stdout, /^ {2}cd fresh$/m)
    const next = created.stdout.split('\n').find((l) => l.includes('send hello --local'))
    assert.equal(next?.replace(/\s+#.*$/, ''), `  ${exe} send hello --local`)
    assert.equal((await inFresh(['send', 'hello', '--local'])).stdout, 'text reply\n  Content: Hello! This account runs on wxengine.\n')
    assert.equal((await inFresh(['plugin', 'new', 'menu'])).code, 0)
    assert.match(readFileSync(path.join(fresh, 'plugins', 'menu', 'index.ts'), 'utf8'), /The plugin API: \.wxengine\/docs\/plugins\.md\./)
    const tested = await inFresh(['test'])
    assert.equal(tested.code, 0, tested.stdout + tested.stderr)
    // What an editor sees: the repository's TypeScript over the project, with only what init wrote.
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    const checked = spawnSync(process.execPath, [tsc, '-p', fresh, '--pretty', 'false'], { encoding: 'utf8' })
    assert.equal(checked.stdout + checked.stderr, '')
    assert.equal(checked.status, 0)
  } finally {
    rmSync(fresh, { recursive: true, force: true })
  }
})

test('build is refused inside the binary with a pointer to the source tree', async () => {
  const r = await run(['build'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /run it from a wxengine source checkout \(npm run build:binary\)/)
})
