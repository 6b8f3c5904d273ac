/**
 * `wxengine start` as a process (core/cli/commands/start.ts, core/runtime.ts): which port it takes, that a
 * taken port ends it at once with exit 1 (nothing left open to keep it alive), and SIGTERM exits 0.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { makeProject, REPO, type Project } from '../cli/cli-harness.ts'
import { until } from '../support/until.ts'
import { childClosed, type ChildEnd } from '../support/child-end.ts'
import { publicAdminWarning } from '../../core/cli/commands/start.ts'

// A test's own timeout covers the sum of its waits (each `until` gives up alone, with the output to read) and
// the processes it spawns: on a loaded CI machine a timeout shorter than that cancels the test without a reason.
const TSX = import.meta.resolve('tsx')
const MAIN = path.join(REPO, 'core/cli/main.ts')

let project: Project
let blocker: net.Server
let takenPort: number
/** Engines still running when a test fails: stopped in `after`, or they would keep the test process alive. */
const running = new Set<ChildProcess>()
/** Process groups (a shell and the engine it started) to stop in `after` if a test fails. */
const groups = new Set<number>()

before(async () => {
  project = makeProject()
  blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  takenPort = (blocker.address() as net.AddressInfo).port
})
after(async () => {
  for (const child of running) child.kill('SIGKILL')
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  // The project first: the blocker's close waits for the connection the Redis test's client left on it, which
  // never ends, and the process ended before it, with the project left in the temporary folder (every run).
  project.remove()
  await new Promise<void>((resolve) => blocker.close(() => resolve()))
})

/**
 * SIGTERM, and the child's end within `ms`: exit 0, or it throws. It throws too with the test's own failure
 * (`failed`, caught by the caller), and either way with what the engine printed. A dev engine once said
 * "stopped" and never ended (chokidar reopened its watcher: watch-sources.ts): the test, awaiting the end
 * in its `finally`, hung to its timeout saying neither that nor anything the engine had said.
 */
async function stopWithin(child: ChildProcess, closed: Promise<ChildEnd>, output: () => string, failed: unknown, ms = 20_000): Promise<void> {
  child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const end = await Promise.race([closed, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)))])
  clearTimeout(timer)
  if (!end) child.kill('SIGKILL')
  await closed
  const problems = [
    failed === undefined ? '' : String((failed as Error)?.stack ?? failed),
    end ? '' : `the engine did not end within ${ms / 1000} s of SIGTERM`,
    end && end.code !== 0 ? `the engine ended with ${end.code ?? end.signal} on SIGTERM, not 0` : '',
  ].filter(Boolean)
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\n--- what the engine printed ---\n${output()}`)
}

/** Starts `wxengine start <args>`; resolves the URL from its "listening" log line, or its exit if it ends first. */
function startEngine(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'start', ...args], {
    cwd: project.dir,
    env: { ...project.env, HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  running.add(child)
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => {
      running.delete(child)
      resolve({ code, stdout, stderr })
    })
  })
  const listening = new Promise<string | null>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      const url = /"url":"(http:\/\/[^"]+)".*"msg":"wxengine listening"/.exec(stdout)
      if (url) resolve(url[1])
    })
    void exited.then(() => resolve(null))
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  return { child, listening, exited, stdout: () => stdout }
}

test('a port in use: exit 1 at once (a restart may find it free), saying which port', { timeout: 30_000 }, async () => {
  const engine = startEngine([], { PORT: String(takenPort) })
  const { code, stderr } = await engine.exited
  assert.equal(code, 1)
  assert.match(stderr, new RegExp(`port ${takenPort} is in use; set PORT or --port to another one`))
})

test('--port wins over PORT; SIGTERM stops it cleanly with exit 0', { timeout: 30_000 }, async () => {
  const engine = startEngine(['--port', '0'], { PORT: String(takenPort) })
  const url = await engine.listening
  assert.ok(url, 'the engine started')
  assert.notEqual(new URL(url).port, String(takenPort))
  // What it is bound to, beside a URL to try: HOST is 127.0.0.1 here.
  assert.match(engine.stdout(), new RegExp(`"address":"127\\.0\\.0\\.1:${new URL(url).port}"`))
  // Each account's mode as resolved, in the same line (an operator review: it was nowhere).
  assert.match(engine.stdout(), /"modes":\{"default":"plaintext","safe":"safe"\}.*"msg":"wxengine listening"/)
  const health = await fetch(`${url}/healthz`)
  assert.equal(health.status, 200)
  await health.text()
  engine.child.kill('SIGTERM')
  const { code, stdout } = await engine.exited
  assert.equal(code, 0)
  assert.match(stdout, /"signal":"SIGTERM".*"msg":"shutting down: finishing in-flight messages"/)
  assert.match(stdout, /"msg":"stopped"/)
})

test('SIGHUP reloads rules and plugins and keeps serving; a broken set is refused; SIGUSR2 stops it cleanly', { timeout: 60_000 }, async () => {
  const extra = path.join(project.dir, 'rules', 'hup.yaml')
  const engine = startEngine(['--port', '0'], {})
  const url = await engine.listening
  assert.ok(url, 'the engine started')
  const say = async (text: string) => (await project.run(['send', text, '--url', url])).stdout
  try {
    assert.doesNotMatch(await say('hup-check'), /after HUP/)
    // Not watched (start does not watch): only the signal makes the engine read the new file.
    writeFileSync(extra, 'rules:\n  - name: hup\n    keywords: [hup-check]\n    reply: { type: text, content: after HUP }\n')
    engine.child.kill('SIGHUP')
    await until('the reload', () => /"msg":"reloaded rules and plugins"/.test(engine.stdout()))
    assert.match(await say('hup-check'), /after HUP/)
    writeFileSync(extra, 'rules:\n  - name: hup\n    keywords: [hup-check\n')
    engine.child.kill('SIGHUP')
    await until('the refusal', () => /"msg":"reload refused, keeping the last good set/.test(engine.stdout()))
    assert.match(await say('hup-check'), /after HUP/, 'the last good set still answers')
    assert.match(engine.stdout(), /"signal":"SIGHUP".*"msg":"reloading rules and plugins"/)
    assert.equal(engine.child.exitCode, null, 'still running')
  } finally {
    rmSync(extra, { force: true })
  }
  engine.child.kill('SIGUSR2')
  const { code, stdout } = await engine.exited
  assert.equal(code, 0)
  assert.match(stdout, /"signal":"SIGUSR2".*"msg":"shutting down: finishing in-flight messages"/)
  assert.match(stdout, /"msg":"stopped"/)
})

test('SIGHUP applies a change to userGroups in engine.config.ts: an OpenID added to admins triggers an admin rule, no restart', { timeout: 60_000 }, async () => {
  const ADMIN = 'oAdmin0000000000000000000001'
  const NEWCOMER = 'oNewcomer00000000000000000001'
  const configFile = path.join(project.dir, 'engine.config.ts')
  const rule = path.join(project.dir, 'rules', 'admins.yaml')
  const original = readFileSync(configFile, 'utf8')
  const withAdmins = (ids: string[]) => original.replace(`mode: 'plaintext' }`, `mode: 'plaintext', userGroups: { admins: ${JSON.stringify(ids)} } }`)
  assert.notEqual(withAdmins([]), original, 'the fixture has the account to give groups to')
  writeFileSync(configFile, withAdmins([ADMIN]))
  writeFileSync(rule, 'rules:\n  - name: stats\n    keywords: [stats]\n    users: admins\n    reply: { type: text, content: 42 followers }\n')
  try {
    const engine = startEngine(['--port', '0'], {})
    const url = await engine.listening
    assert.ok(url, 'the engine started')
    const say = async (openId: string) => (await project.run(['send', 'stats', '--url', url, '-u', openId])).stdout
    assert.match(await say(ADMIN), /42 followers/)
    assert.doesNotMatch(await say(NEWCOMER), /42 followers/)
    writeFileSync(configFile, withAdmins([ADMIN, NEWCOMER]))
    engine.child.kill('SIGHUP')
    await until('the reload', () => /"msg":"reloaded rules and plugins"/.test(engine.stdout()))
    assert.match(await say(NEWCOMER), /42 followers/)
    assert.doesNotMatch(engine.stdout(), /a restart applies/, 'nothing else changed')
    engine.child.kill('SIGTERM')
    assert.equal((await engine.exited).code, 0)
  } finally {
    writeFileSync(configFile, original)
    rmSync(rule, { force: true })
  }
})

test('under npm, when its parent goes away without passing a signal on (npm 11 on SIGTERM), it shuts down cleanly', { timeout: 30_000 }, async () => {
  // A shell between us and the engine, as npm's `sh -c` is; killing the shell orphans the engine.
  // Its own process group, so that if this test fails, `after` can still stop the engine behind the shell.
  const shell = spawn('sh', ['-c', `"${process.execPath}" --import "${TSX}" "${MAIN}" start --port 0; exit 0`], {
    cwd: project.dir,
    // As npm sets it for the scripts it runs: only then is a parent that leaves taken for a stop.
    env: { ...project.env, HOST: '127.0.0.1', npm_lifecycle_event: 'start' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  groups.add(shell.pid!)
  let stdout = ''
  const listening = new Promise<void>((resolve) => {
    shell.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      if (/"msg":"wxengine listening"/.test(stdout)) resolve()
    })
  })
  // The engine's stdout is the pipe we hold: it closes when the engine itself has exited.
  const engineGone = new Promise<void>((resolve) => shell.stdout.on('close', () => resolve()))
  await listening
  shell.kill('SIGKILL')
  await engineGone
  groups.delete(shell.pid!)
  assert.match(stdout, /"signal":"npm exited".*"msg":"shutting down: finishing in-flight messages"/)
  assert.match(stdout, /"msg":"stopped"/)
})

test('started in the background by a shell that then exits (nohup … &, a start script): it keeps serving (an operator review)', { timeout: 60_000 }, async () => {
  const out = path.join(project.dir, 'background.log')
  const pidFile = path.join(project.dir, 'background.pid')
  const shell = spawn('sh', ['-c', `"${process.execPath}" --import "${TSX}" "${MAIN}" start --port 0 > "${out}" 2>&1 & echo $! > "${pidFile}"`], {
    cwd: project.dir,
    env: { ...project.env, HOST: '127.0.0.1' },
    stdio: 'ignore',
    detached: true,
  })
  groups.add(shell.pid!)
  await new Promise((resolve) => shell.once('exit', resolve))
  // The background engine's redirect may not have made the file yet when the shell has exited.
  const read = () => (existsSync(out) ? readFileSync(out, 'utf8') : '')
  const pid = Number(readFileSync(pidFile, 'utf8'))
  let stopped = false
  try {
    const listening = await until('the listening line', () => read().split('\n').find((l) => l.includes('"msg":"wxengine listening"')), 20_000)
    const url = (JSON.parse(listening) as { url: string }).url
    // The parent watch looked every 500 ms: long enough to have stopped it, as it used to.
    await new Promise((r) => setTimeout(r, 1500))
    assert.doesNotMatch(read(), /shutting down/)
    assert.equal((await fetch(`${url}/healthz`)).status, 200)
    process.kill(pid, 'SIGTERM')
    await until('the stop', () => /"msg":"stopped"/.test(read()))
    stopped = true
  } finally {
    // Not left running for the next tests, which share its data directory, if this one failed.
    if (!stopped) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone already
      }
    }
  }
  groups.delete(shell.pid!)
})

/**
 * An engine caught mid-start: a project whose plugin's setup takes its time and says when it begins, so a
 * signal sent then lands inside the start. The caller removes `slow` when done.
 */
async function startingEngine() {
  const slow = makeProject()
  mkdirSync(path.join(slow.dir, 'plugins', 'slowsetup'), { recursive: true })
  writeFileSync(
    path.join(slow.dir, 'plugins', 'slowsetup', 'index.ts'),
    "import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({\n  name: 'slowsetup',\n  async setup(api) {\n    api.log.info('slowsetup: setting up')\n    await new Promise((r) => setTimeout(r, 1500))\n  },\n  handle: (ctx) => ctx.pass(),\n})\n",
  )
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'start', '--port', '0'], { cwd: slow.dir, env: { ...slow.env, HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  await until('the slow setup', () => stdout.includes('slowsetup: setting up'), 20_000)
  assert.doesNotMatch(stdout, /wxengine listening/, 'still starting')
  return { slow, child, exited, stdout: () => stdout }
}

test('a SIGHUP while starting (systemctl reload right after a restart) is done once started, not the end of the process', { timeout: 90_000 }, async () => {
  const { slow, child, exited, stdout } = await startingEngine()
  try {
    child.kill('SIGHUP')
    await until('the reload after the start', () => /"msg":"reloading rules and plugins \(asked for while starting\)"/.test(stdout()), 20_000)
    assert.match(stdout(), /"msg":"wxengine listening"/)
    await until('the reload done', () => /"msg":"reloaded/.test(stdout()), 20_000)
    assert.equal(child.exitCode, null, 'still running')
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
    running.delete(child)
  } finally {
    slow.remove()
  }
})

test('a SIGTERM while starting is a graceful stop once started: exit 0 and a line, not exit 143 in silence (an operator review)', { timeout: 60_000 }, async () => {
  const { slow, child, exited, stdout } = await startingEngine()
  try {
    child.kill('SIGTERM')
    assert.equal(await exited, 0, stdout())
    running.delete(child)
    assert.match(stdout(), /"signal":"SIGTERM \(while starting\)".*"msg":"shutting down: finishing in-flight messages"/)
    assert.match(stdout(), /"msg":"stopped"/)
  } finally {
    slow.remove()
  }
})

test('a store that may come later (Redis not reachable) exits 1, to be restarted; a data directory that cannot be one exits 2', { timeout: 30_000 }, async () => {
  const redisDown = await startEngine(['--port', '0'], { STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${takenPort}/0` }).exited
  assert.equal(redisDown.code, 1, redisDown.stderr)
  assert.match(redisDown.stderr, /cannot open the redis store: .* \(the Redis server: REDIS_URL, or store\.url in engine\.config\.ts\)/)
  const file = path.join(project.dir, 'not-a-dir')
  writeFileSync(file, 'x')
  const notADir = await startEngine(['--port', '0'], { DATA_DIR: file }).exited
  assert.equal(notADir.code, 2, notADir.stderr)
  assert.match(notADir.stderr, /\(the data directory: DATA_DIR, or dataDir in engine\.config\.ts\)/)
})

test('a WECHAT_ variable set but empty stops the start naming it; the example token, and an account without an appSecret, are served with a warning (an operator review)', { timeout: 30_000 }, async () => {
  const empty = await startEngine(['--port', '0'], { WECHAT_TOKEN: '' }).exited
  assert.equal(empty.code, 2)
  assert.match(empty.stderr, /WECHAT_TOKEN: is set but empty; give it a value, or unset it to use engine\.config\.ts/)
  const example = startEngine(['--port', '0'], { WECHAT_TOKEN: 'wxenginedev', WECHAT_APPID: 'wx12345', WECHAT_PAGE_DOMAINS: 'h5.example.com', PUBLIC_URL: 'http://127.0.0.1:8080' })
  assert.ok(await example.listening, 'the engine started')
  await until('the warning', () => example.stdout().includes('serves with the example token'))
  assert.match(example.stdout(), /"level":40.*"msg":"account \\"default\\" serves with the example token \\"wxenginedev\\", which anyone can sign pushes with/)
  // The account warnings `rules check` gives (test/cli/rules-check.test.ts), logged at start too.
  assert.match(example.stdout(), /"level":40.*"msg":"account \\"default\\" has appId \\"wx12345\\", which is not an AppID/)
  // Pages to log in to, and a publicUrl WeChat will not send a login back to (publicUrlWarning).
  assert.match(example.stdout(), /"level":40.*"msg":"publicUrl is an IP address \(127\.0\.0\.1\): web logins tell WeChat to come back there/)
  // HOST is loopback here (behind a proxy): the admin endpoints on the public port are not public.
  assert.doesNotMatch(example.stdout(), /\/healthz and \/metrics are served on the public port/)
  // The fixture's accounts have no appSecret: said at start, naming what to set (a plugin author review).
  assert.match(example.stdout(), /"level":40.*"msg":"account \\"default\\" has no appSecret: .*replies that miss the reply budget cannot go out late.*set WECHAT_APPSECRET/)
  example.child.kill('SIGTERM')
  assert.equal((await example.exited).code, 0)
})

test('a stopped engine that something still holds (a timer engine.config.ts set) exits all the same, saying what held it', { timeout: 60_000 }, async () => {
  const configFile = path.join(project.dir, 'engine.config.ts')
  const original = readFileSync(configFile, 'utf8')
  // A timer of the configuration's own (one that polls a secrets file, say): nothing in the engine can clear it.
  writeFileSync(configFile, `${original}\nsetInterval(() => {}, 60_000)\n`)
  try {
    const engine = startEngine(['--port', '0'], {})
    assert.ok(await engine.listening, 'the engine started')
    await stopWithin(engine.child, childClosed(engine.child), engine.stdout, undefined)
    const { stdout } = await engine.exited
    assert.match(stdout, /"msg":"stopped"/)
    assert.match(stdout, /"level":40,"time":\d+,"held":\[[^\]]*"Timeout"[^\]]*\],"msg":"still running 2 s after it stopped, held by [^"]*Timeout[^"]*: exiting"/)
  } finally {
    writeFileSync(configFile, original)
  }
})

test('engine.config.ts that never finishes: a reload is refused at the deadline, the engine serving before and after; a start exits 2 naming the file', { timeout: 90_000 }, async () => {
  const configFile = path.join(project.dir, 'engine.config.ts')
  const original = readFileSync(configFile, 'utf8')
  const extra = path.join(project.dir, 'rules', 'deadline.yaml')
  writeFileSync(extra, 'rules:\n  - name: alive\n    keywords: [alive-check]\n    reply: { type: text, content: still here }\n')
  try {
    const engine = startEngine(['--port', '0'], {})
    const url = await engine.listening
    assert.ok(url, 'the engine started')
    const say = async (text: string) => (await project.run(['send', text, '--url', url])).stdout
    assert.match(await say('alive-check'), /still here/)
    // Before the deadline, a reload with this file hung the serving engine for good (and a start, deaf to SIGTERM).
    writeFileSync(configFile, `${original}\nwhile (true) {}\n`)
    engine.child.kill('SIGHUP')
    // A reload's deadline is 2 s (messages wait while it runs), a start's 10 s.
    await until('the refusal', () => /"msg":"reload refused, keeping the last good set:[^"]*engine\.config\.ts: still running after 2 s, and stopped/.test(engine.stdout()), 30_000)
    // Reloaded again with nothing changed (a rules file saved, another SIGHUP): refused at once, not run for 2 s more.
    engine.child.kill('SIGHUP')
    await until('the second refusal', () => /\(not run again: its files are unchanged since\)/.test(engine.stdout()), 30_000)
    // `send` reads the project's configuration too: put back before it signs the message (the engine reads it only at a reload).
    writeFileSync(configFile, original)
    assert.match(await say('alive-check'), /still here/, 'serving after the refused reload')
    await stopWithin(engine.child, childClosed(engine.child), engine.stdout, undefined)
    writeFileSync(configFile, `${original}\nwhile (true) {}\n`)
    const stuck = startEngine(['--port', '0'], {})
    const { code, stderr } = await stuck.exited
    assert.equal(code, 2, stderr)
    assert.match(stderr, /engine\.config\.ts: still running after 10 s, and stopped \(a loop that never ends, or a wait\?\): the configuration runs synchronously/)
  } finally {
    writeFileSync(configFile, original)
    rmSync(extra, { force: true })
  }
})

test('HOST that is not an address of this machine: exit 2, saying which setting', { timeout: 30_000 }, async () => {
  // 192.0.2.1 is TEST-NET-1 (RFC 5737): on no machine, and no network is asked.
  const engine = startEngine(['--port', '0'], { HOST: '192.0.2.1' })
  const { code, stderr } = await engine.exited
  assert.equal(code, 2, stderr)
  assert.equal(stderr, 'wxengine: cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine; set HOST to one of its addresses (0.0.0.0 for every interface)\n')
})

test('dev: listens on 127.0.0.1 without HOST; a save of engine.config.ts reloads, and a change a reload cannot apply is named for a restart, without its value', { timeout: 90_000 }, async () => {
  // No HOST: dev's own default (it served the example token on 0.0.0.0; a plugin author's review).
  const env = { ...project.env }
  delete env.HOST
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'dev', '--port', '0'], {
    cwd: project.dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Asked for now: a 'close' listener attached in the finally, once the child had ended, waited forever.
  const closed = childClosed(child)
  running.add(child)
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
  const waitFor = async (re: RegExp, what: string) => {
    const deadline = Date.now() + 20_000
    while (!re.test(output)) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}:\n${output}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const configFile = path.join(project.dir, 'engine.config.ts')
  const original = readFileSync(configFile, 'utf8')
  let failed: unknown
  try {
    await waitFor(/wxengine listening/, 'the engine to listen')
    assert.match(output, /address(\x1b\[\d+m)?: "127\.0\.0\.1:\d+"/)
    // --port wins over the file's port: a change there would change nothing at a restart either.
    writeFileSync(configFile, original.replace('port: 8080', 'port: 8081').replace("token: 'plaintoken'", "token: 'changedtoken'"))
    await waitFor(/accounts\[0\]\.token: changed in engine\.config\.ts; a restart applies them/, 'the warning')
    // Nothing the plugins' workers start with changed: they are kept.
    await waitFor(/reloaded rules; plugins kept running/, 'the reload')
    assert.doesNotMatch(output, /changedtoken/)
    const warning = output.split('\n').find((l) => l.includes('a restart applies'))!
    assert.doesNotMatch(warning, /port/, 'the port given on the command line is the one served at a restart too')
  } catch (e) {
    failed = e
  } finally {
    writeFileSync(configFile, original)
    await stopWithin(child, closed, () => output, failed)
    running.delete(child)
  }
})

test("dev: a save of a file engine.config.ts imports reloads too, and the reload reads it again (node's require kept the first read)", { timeout: 90_000 }, async () => {
  const ADMIN = 'oAdmin0000000000000000000001'
  const NEWCOMER = 'oNewcomer00000000000000000001'
  const configFile = path.join(project.dir, 'engine.config.ts')
  const adminsFile = path.join(project.dir, 'admins.ts')
  const rule = path.join(project.dir, 'rules', 'admins.yaml')
  const original = readFileSync(configFile, 'utf8')
  const importing = `import { admins } from './admins.ts'\n${original.replace(`mode: 'plaintext' }`, `mode: 'plaintext', userGroups: { admins } }`)}`
  assert.notEqual(importing.replace(/^import .*\n/, ''), original, 'the fixture has the account to give groups to')
  const writeAdmins = (ids: string[]) => writeFileSync(adminsFile, `export const admins: string[] = ${JSON.stringify(ids)}\n`)
  writeFileSync(configFile, importing)
  writeAdmins([ADMIN])
  writeFileSync(rule, 'rules:\n  - name: stats\n    keywords: [stats]\n    users: admins\n    reply: { type: text, content: 42 followers }\n')
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'dev', '--port', '0'], { cwd: project.dir, env: project.env, stdio: ['ignore', 'pipe', 'pipe'] })
  const closed = childClosed(child)
  running.add(child)
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
  let failed: unknown
  try {
    await until('the engine to listen', () => /wxengine listening/.test(output), 20_000)
    const address = /address(?:\x1b\[\d+m)?: "(127\.0\.0\.1:\d+)"/.exec(output)
    assert.ok(address, output)
    const url = `http://${address[1]}`
    const say = async (openId: string) => (await project.run(['send', 'stats', '--url', url, '-u', openId])).stdout
    assert.match(await say(ADMIN), /42 followers/)
    assert.doesNotMatch(await say(NEWCOMER), /42 followers/)
    // A change of user groups (the imported file) keeps the plugins' workers.
    const reloads = () => output.split('reloaded rules; plugins kept running').length - 1
    const before = reloads()
    writeAdmins([ADMIN, NEWCOMER])
    await until('the reload', () => reloads() > before, 20_000)
    assert.match(await say(NEWCOMER), /42 followers/)
    assert.doesNotMatch(output, /a restart applies/, 'nothing else changed')
  } catch (e) {
    failed = e
  } finally {
    writeFileSync(configFile, original)
    rmSync(adminsFile, { force: true })
    rmSync(rule, { force: true })
    await stopWithin(child, closed, () => output, failed)
    running.delete(child)
  }
})

test('the admin endpoints on a public port without a token: a start-up warning; not with a token, their own port, or a loopback HOST (an operator review)', () => {
  const admin = { enabled: true as boolean, port: undefined as number | undefined, token: undefined as string | undefined }
  assert.match(publicAdminWarning({ host: '0.0.0.0', admin })!, /^\/healthz and \/metrics are served on the public port \(0\.0\.0\.0\) without a token: anyone who reaches it can read rule names and traffic; set ADMIN_TOKEN/)
  assert.ok(publicAdminWarning({ host: '10.0.0.5', admin }))
  assert.equal(publicAdminWarning({ host: '0.0.0.0', admin: { ...admin, token: 'b7f3c0de5a91e2d4' } }), undefined)
  assert.equal(publicAdminWarning({ host: '0.0.0.0', admin: { ...admin, port: 9090 } }), undefined)
  assert.equal(publicAdminWarning({ host: '0.0.0.0', admin: { ...admin, enabled: false } }), undefined)
  for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) assert.equal(publicAdminWarning({ host, admin }), undefined, host)
})
