/**
 * A process log whose reader stops reading: a hung journald, docker's log pipe behind, a `| tee` on a stuck
 * disk, a terminal paused with Ctrl-S. stdout then cannot take a line (EAGAIN on a pipe, a blocking write on
 * a terminal), and the log writer used to sleep 100 ms and try again (or block), on the thread that answers
 * messages, for as long as the reader stayed stalled: the engine stopped answering everyone. Now the lines
 * wait in memory and the engine answers on; once the reader reads again, the lines come out in order; a
 * stall that lasted is said on stderr, and its end on stdout.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { after, it } from 'node:test'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'
import { freePort, makeProject, REPO, spawnEngine } from '../support/engine-process.ts'
import { until } from '../support/until.ts'

const account = { id: 'default', token: 'stalltoken', appId: 'wxstall000000001', mode: 'plaintext' as const }
const sim = createWeChatSimulator({ account })
const projects: string[] = []
/**
 * Engines to kill if a test fails midway: one left running with its stdout paused kept this file's process,
 * and so the whole run, waiting for ever.
 */
const children: ChildProcess[] = []
after(() => {
  for (const c of children) c.kill('SIGKILL')
  // Under script(1) the engine is not our child: found by its project.
  for (const p of projects) {
    const pid = enginePid(p)
    if (pid !== undefined) process.kill(pid, 'SIGKILL')
  }
  projects.forEach((p) => rmSync(p, { recursive: true, force: true }))
})

const MESSAGES = 1500

/**
 * Sends MESSAGES echo messages one after another; each must be answered within 4 s, and 99 in 100 within a
 * second. Sleeping 100 ms a write (or blocking) for as long as the reader is stalled made every answer after
 * the pipe filled wait for ever. The slowest single answer is not the measure: on a loaded 2-core machine one
 * answer in 1500 took 1077 ms, the engine not waiting on stdout at all.
 */
async function answersAtOnce(url: string, user: string): Promise<void> {
  const took: number[] = []
  for (let i = 0; i < MESSAGES; i++) {
    const req = sim.request(push.text(`${user}-${i}`, `echo ${i}`))
    const t = Date.now()
    const res = await fetch(`${url}/wechat?${req.search}`, { method: 'POST', body: req.body, signal: AbortSignal.timeout(4_000) })
    assert.equal(sim.openReply(await res.text()).fields?.Content, `${i}`)
    took.push(Date.now() - t)
  }
  took.sort((a, b) => a - b)
  const p99 = took[Math.floor(MESSAGES * 0.99)]!
  assert.ok(p99 < 1_000, `99th percentile answer ${p99} ms (slowest ${took.at(-1)} ms)`)
}

/**
 * The JSON lines of `out` (a terminal turns \n into \r\n). Only whole lines: `out` is read while the engine
 * writes, and its end can be half a line.
 */
function linesOf(out: string): Array<Record<string, unknown>> {
  return out
    .slice(0, out.lastIndexOf('\n') + 1)
    .split(/\r?\n/)
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** linesOf(out), in which every message's line must be there, in order. */
function linesInOrder(out: string, user: string): Array<Record<string, unknown>> {
  const lines = linesOf(out)
  assert.deepEqual(
    lines.filter((l) => l.msg === 'message').map((l) => l.openId),
    Array.from({ length: MESSAGES }, (_, i) => `${user}-${i}`),
    'every message line, in order',
  )
  return lines
}

it('stdout nobody reads: messages are still answered at once; the lines come out, in order, once it is read', async () => {
  const project = makeProject({ accounts: [account] })
  projects.push(project)
  // LOG_LEVEL=debug: a line per message, so the pipe (64 KiB) fills within a few hundred messages.
  const engine = await spawnEngine(project, { LOG_LEVEL: 'debug', DATA_DIR: path.join(project, 'data') })
  children.push(engine.child)
  // Not read from here on. output() has stdout and stderr; stdout's part stops growing while paused.
  engine.child.stdout!.pause()
  await answersAtOnce(engine.url, 'stall')
  // A stall that lasts is said on stderr (a reader a moment behind is not: 5 s).
  const said = await until('a LOG_UNWRITABLE line on stderr', () => linesOf(engine.output()).find((l) => l.code === 'LOG_UNWRITABLE' && l.level === 50), 10_000)
  assert.match(String(said.reason), /^EAGAIN: the reader of stdout is not reading/)

  // Read again: everything logged meanwhile comes out, in order, and the engine stops cleanly.
  engine.child.stdout!.resume()
  // Waited for, not a fixed pause: on a loaded machine the lines that waited can take seconds to come out.
  await until('the lines that waited, and the line saying stdout is written again', () => linesOf(engine.output()).some((l) => l.code === 'LOG_UNWRITABLE' && l.level === 40), 30_000)
  engine.child.kill('SIGTERM')
  assert.equal(await engine.exited, 0, engine.output())
  const lines = linesInOrder(engine.output(), 'stall')
  const lastMessage = lines.map((l) => l.msg).lastIndexOf('message')
  const again = lines.find((l) => l.code === 'LOG_UNWRITABLE' && l.level === 40)
  assert.ok(again, 'a line on stdout says it can be written again')
  assert.equal(again.dropped, 0)
  assert.ok(lines.indexOf(again) > lastMessage, 'after the lines that waited')
  assert.equal(lines.at(-1)?.msg, 'stopped')
})

/** The pid of the engine started for `project` (under `script` it is not our child). */
function enginePid(project: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      if (cmd.includes('start') && cmd.includes(project) && cmd.some((a) => a.endsWith('main.ts'))) return Number(entry)
    } catch {}
  }
  return undefined
}

const haveScript = process.platform === 'linux' && spawnSync('script', ['--version']).status === 0

it('a terminal nobody reads (stdout a tty): answered at once all the same, lines out in order once it is read', { skip: !haveScript && 'needs Linux and script(1)' }, async () => {
  const project = makeProject({ accounts: [account] })
  projects.push(project)
  const port = await freePort()
  const command = [process.execPath, '--import', 'tsx', path.join(REPO, 'core/cli/main.ts'), 'start', '-C', project].join(' ')
  // script(1) runs the engine on a pseudo-terminal and copies what it writes to script's stdout; while we do
  // not read that, script stops reading the terminal and the terminal fills, as one paused with Ctrl-S.
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    cwd: REPO,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'debug', DATA_DIR: path.join(project, 'data') },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  children.push(child)
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  child.stdout.pause()
  const url = `http://127.0.0.1:${port}`
  await until('the engine under script(1) to start', async () => (await fetch(`${url}/healthz`).catch(() => null))?.ok, 30_000)
  await answersAtOnce(url, 'tty')

  let out = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (d: string) => (out += d))
  child.stdout.resume()
  // Waited for, not a fixed pause: on a loaded machine the lines that waited can take seconds to come out.
  const lastOpenId = `tty-${MESSAGES - 1}`
  await until('the last message line', () => linesOf(out).some((l) => l.msg === 'message' && l.openId === lastOpenId), 30_000)
  const pid = enginePid(project)
  assert.ok(pid, 'the engine process')
  process.kill(pid, 'SIGTERM')
  assert.equal(await exited, 0, out.slice(-2000))
  const lines = linesInOrder(out, 'tty')
  assert.equal(lines.at(-1)?.msg, 'stopped')
})
