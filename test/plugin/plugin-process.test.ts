/**
 * limits.pluginIsolation 'process' (core/plugin/plugin-process.ts): each plugin's worker program in a child
 * process. Everything a thread does works the same through the process channel (calls, setup and dispose,
 * storage and API requests, timeouts, the memory watch), and what a thread cannot do: a heap limit reached
 * with a large allocation (on Node 20 and 22 the end of the whole process in a thread) ends only the plugin's
 * process, which is restarted; and the plugin's process has none of the engine's environment. Every test here
 * names its isolation, so they hold whatever the default (core/plugin/plugin-isolation.ts).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, linkSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { resolvePluginIsolation } from '../../core/plugin/plugin-isolation.ts'
import { writeProgramFile } from '../../core/plugin/plugin-process.ts'
import { pluginProcesses } from '../support/plugin-processes.ts'
import { errorOf, loadPlugins, text, textOf, type Harness } from './plugin-test-kit.ts'

const ISOLATION_FIXTURES = path.join(import.meta.dirname, '../fixtures/isolation-plugins')
const SURVIVE = path.join(ISOLATION_FIXTURES, 'survive-heap-limit.ts')

test("'auto' is a process before Node 24 and a thread from 24 on; 'thread' and 'process' are what they say", () => {
  assert.equal(resolvePluginIsolation('auto', '20.20.2'), 'process')
  assert.equal(resolvePluginIsolation('auto', '22.12.0'), 'process')
  assert.equal(resolvePluginIsolation('auto', '24.0.0'), 'thread')
  assert.equal(resolvePluginIsolation('auto', '25.1.0'), 'thread')
  assert.equal(resolvePluginIsolation('thread', '20.20.2'), 'thread')
  assert.equal(resolvePluginIsolation('process', '24.0.0'), 'process')
})

/** Runs survive-heap-limit.ts in a process of its own; its stdout lines as JSON, its exit. */
function runSurvivor(isolation: string, orphan = false): Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: Array<Record<string, unknown>>; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SURVIVE, isolation, ...(orphan ? ['orphan'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c))
    child.stderr.on('data', (c: Buffer) => (err += c))
    child.on('close', (code, signal) => resolve({ code, signal, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), stderr: err }))
  })
}

describe('a plugin reaching its V8 heap limit', () => {
  test('in a process: the engine lives on, the call fails as a crash, the plugin is restarted and answers again; another plugin answers meanwhile', { timeout: 60_000 }, async () => {
    const r = await runSurvivor('process')
    assert.equal(r.code, 0, `the engine's process ended (${r.signal ?? r.code}): ${r.stderr.slice(-2000)}`)
    const seen = r.lines[0]!
    assert.deepEqual(seen.errors, [])
    for (const bomb of ['array', 'map']) {
      const b = seen[bomb] as { outcome: { status: string; error: { code: string; reason: string } }; other: unknown; after: unknown }
      assert.equal(b.outcome.status, 'error', bomb)
      assert.equal(b.outcome.error.code, 'PLUGIN_ERROR', bomb)
      assert.match(b.outcome.error.reason, /^the plugin's worker crashed \(FATAL ERROR: .*heap out of memory \(signal SIGABRT\)\) and was restarted$/, bomb)
      assert.deepEqual(b.other, { status: 'reply', reply: { type: 'text', content: `js: DURING ${bomb.toUpperCase()}` }, sessionOps: [] })
      // A fresh process: the plugin's call count starts over.
      assert.deepEqual(b.after, { status: 'reply', reply: { type: 'text', content: 'ok 1' }, sessionOps: [] })
    }
    // The child's own words, in the engine's log under the plugin's name.
    assert.equal(seen.stderrLogged, 2)
  })

  test('a plugin process ends when the engine is killed', { timeout: 60_000 }, async () => {
    const r = await runSurvivor('process', true)
    assert.equal(r.signal, 'SIGKILL')
    const children = (r.lines[1] as { children: string[] }).children.map(Number)
    assert.ok(children.length >= 2, `plugin processes: ${children.join(', ')}`)
    const alive = (pid: number): boolean => {
      try {
        // A zombie has ended; only its parent's wait is missing.
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
      } catch {
        return false
      }
    }
    const deadline = Date.now() + 10_000
    while (children.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    assert.deepEqual(children.filter(alive), [], 'still running after their engine was killed')
  })
})

/** Whether `pid` still runs (a zombie has ended; only its parent's wait is missing). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

describe('a plugin process in a loop when the engine ends', { skip: !existsSync('/proc/self/stat') && 'no /proc' }, () => {
  const named = { throw: 'an uncaught error: the engine kills it on its way out', exit: 'process.exit(): the engine kills it on its way out', kill: 'SIGKILL (no way out): it ends itself, its loop notwithstanding' }
  for (const how of ['throw', 'exit', 'kill'] as const) {
    test(named[how], { timeout: 60_000 }, async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ISOLATION_FIXTURES, 'engine-dies.ts'), how], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (c: Buffer) => (out += c))
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])))
      const children = out ? (JSON.parse(out.split('\n')[0]!) as { children: string[] }).children.map(Number) : []
      try {
        assert.ok(children.length >= 1, `plugin processes: ${out}`)
        if (how === 'kill') assert.equal(signal, 'SIGKILL')
        else assert.equal(code, how === 'throw' ? 1 : 3)
        // A process killed outright leaves its children to init, which may not reap them (a container's):
        // gone is ended, a zombie included (alive()), not ESRCH.
        const deadline = Date.now() + 5_000
        while (children.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
        assert.deepEqual(children.filter(alive), [], 'still running after their engine ended')
      } finally {
        // Not left spinning a core after the test, whatever failed.
        for (const pid of children.filter(alive)) process.kill(pid, 'SIGKILL')
      }
    })
  }
})

test("a stop signal to the engine's whole group (Ctrl-C in a terminal, systemctl stop) is left to the engine: the plugin's call running finishes", { skip: process.platform === 'win32' && 'POSIX signals' }, async () => {
  const before = pluginProcesses()
  const s = await loadPlugins({ only: ['slow'], isolation: 'process' })
  try {
    assert.deepEqual(s.errors, [])
    const mine = pluginProcesses().filter((pid) => !before.includes(pid))
    assert.equal(mine.length, 1)
    const call = s.call('slow', text('500'))
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.kill(mine[0]!, signal)
    assert.equal(textOf(await call), 'done after 500')
    assert.ok(alive(mine[0]!))
  } finally {
    await s.dispose()
  }
})

test('a core dump of a plugin process (its heap limit reached: SIGABRT) holds none of its memory', { skip: !existsSync('/proc/self/coredump_filter') && 'no /proc/self/coredump_filter' }, async () => {
  const before = pluginProcesses()
  const s = await loadPlugins({ only: ['js-plain'], isolation: 'process' })
  try {
    assert.deepEqual(s.errors, [])
    const mine = pluginProcesses().filter((pid) => !before.includes(pid))
    assert.equal(mine.length, 1)
    assert.equal(Number.parseInt(readFileSync(`/proc/${mine[0]}/coredump_filter`, 'utf8'), 16), 0)
  } finally {
    await s.dispose()
  }
})

describe('in a process', () => {
  let h: Harness
  before(async () => {
    h = await loadPlugins({
      only: ['js-plain', 'storage', 'api-user', 'timers', 'sync-loop', 'crasher'],
      isolation: 'process',
      timeoutMs: 1000,
      settings: { timers: {} },
    })
    assert.deepEqual(h.errors, [])
  })
  after(() => h.dispose())

  test('a call and its reply make the round trip', async () => {
    assert.equal(textOf(await h.call('js-plain', text('hello'))), 'js: HELLO')
  })

  test('storage and the platform API are reached through the process channel', async () => {
    assert.equal(textOf(await h.call('storage', text('set k v1'))), 'stored')
    assert.equal(textOf(await h.call('storage', text('get k'))), JSON.stringify({ v: 'v1', n: [1, 2] }))
    assert.equal(textOf(await h.call('api-user', text('get'))), JSON.stringify({ errcode: 0, path: '/cgi-bin/info' }))
    assert.deepEqual(h.apiCalls.map((c) => c.method), ['get'])
  })

  test("setup's timers run in the process, and dispose undoes them", async () => {
    await h.log.waitFor((l) => l.msg === 'after fired')
    await h.log.waitFor((l) => l.msg === 'tick')
    assert.match(textOf(await h.call('timers', text('ticks'))), /^ticks [1-9]\d*$/)
  })

  test('a hung call is cut at its deadline, its process killed and a new one started', async () => {
    assert.equal(textOf(await h.call('sync-loop', text('hi'))), 'ok 1')
    const e = errorOf(await h.call('sync-loop', text('loop')))
    assert.equal(e.code, 'PLUGIN_TIMEOUT')
    await h.log.waitFor((l) => l.msg === 'plugin sync-loop restarted')
    assert.equal(textOf(await h.call('sync-loop', text('hi'))), 'ok 1')
  })

  test("an uncaught error in the plugin's process is a crash with its message, and the plugin is restarted", async () => {
    const stalled = h.call('crasher', text('stall'))
    assert.equal(textOf(await h.call('crasher', text('crash'))), 'crashing soon')
    const e = errorOf(await stalled)
    assert.equal(e.code, 'PLUGIN_ERROR')
    // Said as a failed call says it: the error's name and the line it was thrown at (only its message, before).
    assert.match(e.reason, /^the plugin's worker crashed \(Error: crash from a timer \(at test\/fixtures\/plugins\/crasher\/index\.ts:12:15\) \(exit code 1\)\) and was restarted$/)
    await h.log.waitFor((l) => l.msg === 'plugin crasher restarted')
    assert.equal(textOf(await h.call('crasher', text('hi'))), 'ok 1')
  })
})

test('after dispose, the timers of setup are gone and onDispose ran', async () => {
  const t = await loadPlugins({ only: ['timers'], isolation: 'process' })
  assert.deepEqual(t.errors, [])
  await t.log.waitFor((l) => l.msg === 'after fired')
  await t.dispose()
  assert.equal(await t.store.kv.get('plugin:timers', 'g:onDispose'), 'ran')
})

test("the plugin's process has none of the engine's environment; process.env in the sandbox is {}", { skip: !existsSync('/proc/self/environ') && 'no /proc' }, async () => {
  const e = await loadPlugins({ dir: ISOLATION_FIXTURES, only: ['env-reader'], isolation: 'process', settings: { 'env-reader': { allow: ['fs'] } } })
  try {
    assert.deepEqual(e.errors, [])
    const names = JSON.parse(textOf(await e.call('env-reader', text('environ')))) as string[]
    // What node adds for the IPC channel, and the locale and time zone if the engine has them.
    const allowed = new Set(['NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE', 'TZ', 'LANG', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'LC_NUMERIC', 'LC_TIME', 'LC_COLLATE', 'LC_MONETARY'])
    assert.ok(names.includes('NODE_CHANNEL_FD'), `a process of its own: ${names.join(' ')}`)
    assert.deepEqual(names.filter((n) => !allowed.has(n)), [])
    assert.equal(textOf(await e.call('env-reader', text('sandbox-env'))), '{}')
  } finally {
    await e.dispose()
  }
})

describe("the child's program file", { skip: process.platform === 'win32' && 'POSIX modes and links' }, () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-program-file-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('one already there with the same text is not trusted when others could still write it (open to them, or linked elsewhere): it is replaced', () => {
    const file = path.join(dir, 'plugin-worker-a.cjs')
    const elsewhere = path.join(dir, 'kept-by-another')
    // Left by someone while the cache directory was open to others, with a hard link they keep.
    writeFileSync(file, 'program')
    chmodSync(file, 0o666)
    linkSync(file, elsewhere)
    writeProgramFile(file, 'program')
    // Their link no longer reaches what the engine runs.
    writeFileSync(elsewhere, 'their code')
    assert.equal(readFileSync(file, 'utf8'), 'program')
    const st = statSync(file)
    assert.equal(st.mode & 0o777, 0o600)
    assert.equal(st.nlink, 1)
  })

  test('a link planted at its temporary name is not followed', () => {
    const file = path.join(dir, 'plugin-worker-b.cjs')
    const target = path.join(dir, 'victim')
    writeFileSync(target, 'untouched')
    symlinkSync(target, `${file}.${process.pid}.tmp`)
    writeProgramFile(file, 'program')
    assert.equal(readFileSync(target, 'utf8'), 'untouched')
    assert.equal(readFileSync(file, 'utf8'), 'program')
  })

  test('one of ours, private, with the same text, is used as it is', () => {
    const file = path.join(dir, 'plugin-worker-c.cjs')
    writeProgramFile(file, 'program')
    const ino = statSync(file).ino
    writeProgramFile(file, 'program')
    assert.equal(statSync(file).ino, ino)
  })
})
