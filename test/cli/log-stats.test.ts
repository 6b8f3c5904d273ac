import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, cpSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { MAIN, makeProject, pushThroughEngine, runCommand, TSX, type Project } from './cli-harness.ts'

let project: Project
/** What was sent, oldest first: [openid, text, account]. */
const SENT: [string, string, string][] = [
  ['alice', 'echo one', 'default'],
  ['bob', 'hello', 'default'],
  ['alice', 'echo two', 'default'],
  ['carol', 'what?', 'default'],
  ['bob', 'hello', 'safe'],
]

before(async () => {
  project = makeProject()
  await pushThroughEngine(project, SENT.map(([openId, text, accountId]) => ({ accountId, fields: push.text(openId, text) })))
})
after(() => project.remove())

test('log: every message, oldest first, with how it was handled', async () => {
  const r = await project.run(['log'])
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  assert.equal(lines.length, SENT.length, r.stdout)
  SENT.forEach(([openId, text, account], i) => {
    assert.match(lines[i], new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  ${account}  ${openId}  text ${JSON.stringify(text).replace(/[?]/g, '\\$&')} -> `))
  })
  assert.match(lines[0], /-> rule echo, keyword "echo ", plugin echo: replied text in \d+ ms$/)
  assert.match(lines[3], /-> default: replied text in \d+ ms$/)
})

test('log: filters by user, account and limit; --json gives entries', async () => {
  const alice = await project.run(['log', '--user', 'alice', '--json'])
  assert.equal(alice.code, 0, alice.stderr)
  const entries = alice.stdout.trim().split('\n').map((l) => JSON.parse(l) as { openId: string; summary: string; rule: string; replyType: string })
  assert.deepEqual(entries.map((e) => [e.openId, e.summary, e.rule, e.replyType]), [['alice', 'echo one', 'echo', 'text'], ['alice', 'echo two', 'echo', 'text']])

  const safe = await project.run(['log', '--account', 'safe'])
  assert.equal(safe.stdout.trim().split('\n').length, 1)
  assert.match(safe.stdout, /  safe  bob  text "hello"/)

  // A mistyped account is said to be one, not taken for a quiet account (an operator review).
  const typo = await project.run(['log', '--account', 'sfae'])
  assert.equal(typo.code, 2)
  assert.equal(typo.stderr, 'wxengine log: no account "sfae" in the configuration (did you mean "safe"?); accounts: default, safe\n')
  // stats took it for an account with no hits.
  const statsTypo = await project.run(['stats', '--account', 'sfae'])
  assert.equal(statsTypo.code, 2)
  assert.equal(statsTypo.stderr, 'wxengine stats: no account "sfae" in the configuration (did you mean "safe"?); accounts: default, safe\n')
  assert.equal(statsTypo.stdout, '')

  const latest = await project.run(['log', '-n', '2'])
  assert.deepEqual(latest.stdout.trim().split('\n').map((l) => l.split('  ')[2]), ['carol', 'bob'])

  const future = await project.run(['log', '--since', '2999-01-01'])
  assert.equal(future.code, 0)
  assert.equal(future.stdout, '')
  // Which file was read: an engine started with another DATA_DIR logs elsewhere (a plugin author's walkthrough).
  assert.equal(future.stderr, `no messages match in ${path.join('data', 'wxengine.db')} (DATA_DIR sets which data directory is read)\n`)

  const recent = await project.run(['log', '--since', '1h'])
  assert.equal(recent.stdout.trim().split('\n').length, SENT.length)
})

test('log: bad flags exit 2', async () => {
  const since = await project.run(['log', '--since', 'yesterday'])
  assert.equal(since.code, 2)
  assert.match(since.stderr, /--since takes a duration \(30s, 10m, 2h, 7d\) or a date/)
  const limit = await project.run(['log', '--limit', '0'])
  assert.equal(limit.code, 2)
  assert.match(limit.stderr, /a whole number of 1 or more/)
  // Past SQLite's integers a stack trace (SQLITE_MISMATCH) came out; 1e3 and 0x10 were taken as numbers.
  for (const n of ['99999999999999999999', '1e20', '1e3', '0x10', '']) {
    const r = await project.run(['log', '-n', n])
    assert.equal(r.code, 2, n)
    assert.match(r.stderr, /a whole number of 1 or more \(up to 2147483647\), in digits/, n)
    assert.doesNotMatch(r.stderr, /SqliteError|\n\s+at /, n)
  }
  // And a port as PORT is read: `--port ""` was 0, a random port; 0x46A6 was 18086.
  for (const p of ['', '0x46A6', '65536', '-3']) {
    const r = await project.run(['send', 'hi', '--port', p])
    assert.equal(r.code, 2, p)
    assert.match(r.stderr, /a port is a whole number from 0 to 65535, in digits/, p)
  }
})

test('stats: hits per rule and keyword, most first', async () => {
  const r = await project.run(['stats'])
  assert.equal(r.code, 0, r.stderr)
  const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/))
  assert.deepEqual(rows[0], ['HITS', 'ACCOUNT', 'RULE', 'KEYWORD'])
  assert.deepEqual(rows.slice(1).map((row) => row.join(' ')), [
    '2 default echo "echo "',
    // Ties: by account, then rule. The default reply counts too (it has no keyword).
    '1 default default -',
    '1 default hello "hello"',
    '1 safe hello "hello"',
  ])

  const json = await project.run(['stats', '--account', 'safe', '--json'])
  assert.deepEqual(JSON.parse(json.stdout), [{ account: 'safe', rule: 'hello', keyword: 'hello', hits: 1 }])
})

test('a project that has not run yet has no log: said plainly, exit 0', async () => {
  const r = await project.run(['log'], { env: { DATA_DIR: `${project.dataDir}-never` } })
  assert.equal(r.code, 0)
  assert.match(r.stderr, /no message log yet: .*wxengine\.db does not exist/)
})

test("a user who cannot write the data directory is told so, and whose it is (not SQLite's bare 'readonly database')", async () => {
  // A copy of the data directory, made read-only. root ignores file modes, so as root the CLI runs as
  // nobody (setpriv), who can read the copy but not write it, as an operator's own account could not.
  const copy = `${project.dataDir}-readonly`
  cpSync(project.dataDir, copy, { recursive: true })
  for (const name of readdirSync(copy, { recursive: true }) as string[]) chmodSync(path.join(copy, name), 0o555)
  chmodSync(copy, 0o555)
  chmodSync(project.dir, 0o755) // mkdtemp made it 0700
  const asRoot = process.getuid?.() === 0
  const command = asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath]
  const r = await runCommand(command[0], [...command.slice(1), '--import', TSX, MAIN, 'log'], {
    cwd: project.dir,
    env: { ...project.env, DATA_DIR: copy, HOME: '/tmp' },
  })
  chmodSync(copy, 0o755)
  assert.equal(r.code, 1, r.stderr)
  const uid = asRoot ? 65534 : process.getuid!()
  assert.match(r.stderr, new RegExp(`cannot open the sqlite store: .*this user \\(uid ${uid}\\) cannot write ${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(it belongs to uid \\d+\\).*run as the user the engine runs as`))
})

test('the memory store has nothing to read: exit 2', async () => {
  const r = await project.run(['stats'], { env: { STORE: 'memory' } })
  assert.equal(r.code, 2)
  assert.match(r.stderr, /the memory store keeps nothing outside the engine process/)
})

test('output into a pipe closed early (| head): exit quietly, as a Unix tool does', async () => {
  for (const args of [['log', '--json'], ['stats']]) {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: project.dir, env: project.env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.destroy() // the reader is gone before the first line is written
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    assert.equal(stderr, '', args.join(' '))
    assert.equal(code, 0, args.join(' '))
  }
})
