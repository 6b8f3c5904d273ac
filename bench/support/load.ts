/**
 * Shared pieces of the HTTP benchmarks: start a server in its own process, build a pool of distinct signed
 * (and encrypted) WeChat pushes, and drive a server with autocannon. Each request in a pool has its own
 * MsgId, so the engine's dedup never turns a benchmark into a cache test.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'
// One free-port helper for tests and benchmarks.
import { freePort } from '../../test/support/engine-process.ts'

export { freePort }

/** The one rule the HTTP benchmarks answer with: `hello` -> an inline text reply. */
export const HELLO_RULE = 'rules:\n  - name: hello\n    keywords: [{ exact: hello }]\n    reply: { type: text, content: Hello }\n'

/**
 * A throw-away engine project: engine.config.ts from `config`, an empty plugins/, and `rules/bench.yaml`
 * (HELLO_RULE unless given). Remove it with rmSync(dir, { recursive: true }).
 */
export function makeBenchProject(config: Record<string, unknown>, opts: { prefix?: string; rules?: string } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), opts.prefix ?? 'wxengine-bench-'))
  mkdirSync(path.join(dir, 'rules'))
  mkdirSync(path.join(dir, 'plugins'))
  writeFileSync(path.join(dir, 'rules', 'bench.yaml'), opts.rules ?? HELLO_RULE)
  writeFileSync(path.join(dir, 'engine.config.ts'), `export default ${JSON.stringify(config)}\n`)
  return dir
}

export interface PooledRequest {
  path: string
  body: string
}

/**
 * Distinct requests to build for each second wrk drives a server: above what the fastest target here answers
 * (our HTTP layer alone: ~38k/s on a busy day, 55k on a quiet one; bare Koa over 62k/s on a quiet 2 × Xeon),
 * so no run wraps round to a MsgId it already sent. The run refuses to go on when the pool runs out.
 */
export const WRK_POOL_PER_SECOND = 90_000

/**
 * With a long fill (`--fill`) wrk wraps round its pool. A push must not come back to the engine sooner than
 * this, its reply cache's 30 s and a margin, so that every one is still new to it (see runWrk's wrapAfterMs).
 */
export const FILL_WRAP_MS = 40_000
/** Pushes in a pool a fill may wrap round: none comes back within FILL_WRAP_MS below 35k/s (the engine's fastest seen: ~27k, a quiet 2 × Xeon). */
export const FILL_POOL_SIZE = (FILL_WRAP_MS / 1000) * 35_000

export function buildPool(account: Pick<AccountConfig, 'token' | 'appId' | 'encodingAESKey' | 'mode'>, basePath: string, size: number, content = 'hello'): PooledRequest[] {
  const sim = createWeChatSimulator({ account })
  const pool: PooledRequest[] = []
  for (let i = 0; i < size; i++) {
    const req = sim.request(push.text(`bench-user-${i % 1000}`, content))
    pool.push({ path: `${basePath}?${req.search}`, body: req.body })
  }
  return pool
}


export interface RunningServer {
  port: number
  child: ChildProcess
  stop(): Promise<void>
}

/**
 * Forks `script` (TypeScript through tsx) with PORT set; ready when `readyPath` answers 200 (or the child sends
 * 'ready'). `nodeFlags` go before tsx (a profiler's, say); `stdout` is a file descriptor for the server's
 * stdout (default: discarded).
 */
export async function startServer(
  script: string,
  args: string[],
  env: Record<string, string>,
  readyPath?: string,
  opts: { nodeFlags?: string[]; stdout?: number } = {},
): Promise<RunningServer> {
  const port = await freePort()
  const child = fork(script, args, {
    execArgv: [...(opts.nodeFlags ?? []), '--import', 'tsx'],
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', opts.stdout ?? 'ignore', 'inherit', 'ipc'],
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 30_000)
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)))
    child.on('message', (m) => m === 'ready' && (clearTimeout(timer), resolve()))
    if (readyPath) {
      const poll = async () => {
        try {
          const r = await fetch(`http://127.0.0.1:${port}${readyPath}`)
          if (r.status === 200) return clearTimeout(timer), resolve()
        } catch {}
        setTimeout(poll, 100)
      }
      void poll()
    }
  })
  return {
    port,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
      }),
  }
}

export interface LoadResult {
  requests: number
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
}

/** Drive for `seconds`, or for exactly `amount` requests when given (warm-ups). */
export async function runLoad(port: number, pool: PooledRequest[], seconds: number, connections: number, amount?: number): Promise<LoadResult> {
  let i = 0
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    ...(amount ? { amount } : { duration: seconds }),
    requests: [
      {
        method: 'POST',
        setupRequest: (req: Record<string, unknown>) => {
          const next = pool[i++ % pool.length]
          return { ...req, path: next.path, body: next.body, headers: { 'content-type': 'text/xml' } }
        },
      },
    ],
  })
  if (i > pool.length) throw new Error(`pool of ${pool.length} exhausted (${i} requests): enlarge it, or duplicates skew the run`)
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
}

/** True when wrk (C, one thread) is installed: it leaves more of the 2 cores to the server than autocannon. */
export function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (e) {
    return (e as { status?: number }).status === 1 // wrk --version exits 1 after printing its usage
  }
}

/** The file wrk reads a pool from (path<TAB>body a line), written once per pool and removed at exit. */
const poolFiles = new WeakMap<PooledRequest[], string>()
let poolDir: string | undefined
let poolsWritten = 0

function poolFile(pool: PooledRequest[]): string {
  let file = poolFiles.get(pool)
  if (file) return file
  if (!poolDir) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-wrk-'))
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    poolDir = dir
  }
  file = path.join(poolDir, `pool-${poolsWritten++}.txt`)
  // In pieces: a long fill's pool of safe pushes is past the longest string V8 can make.
  const fd = openSync(file, 'w')
  try {
    for (let i = 0; i < pool.length; i += 10_000) writeSync(fd, pool.slice(i, i + 10_000).map((r) => `${r.path}\t${r.body}\n`).join(''))
  } finally {
    closeSync(fd)
  }
  poolFiles.set(pool, file)
  return file
}

/**
 * Drive with wrk for `seconds`; requests are taken from `pool` in order, from `startAt`. Unless `wrapAfterMs`
 * is given, none is sent twice: the run refuses when the pool runs out. With it, the pool may wrap round, as
 * long as a push comes back no sooner than that many ms (what an engine's reply cache remembers): each one
 * is still new to it. That is how a long fill reaches steady state without a pool of millions.
 */
export function runWrk(port: number, pool: PooledRequest[], seconds: number, connections: number, opts: { startAt?: number; wrapAfterMs?: number } = {}): LoadResult {
  const startAt = opts.startAt ?? 0
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', path.join(import.meta.dirname, 'wrk.lua'), `http://127.0.0.1:${port}`, '--', poolFile(pool), String(startAt)]
  const out = execFileSync('wrk', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
  const m = /WRK_RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+) (\d+)/.exec(out)
  if (!m) throw new Error(`unexpected wrk output:\n${out}`)
  const [requests, durationUs, p50, p99, non2xx, errors] = m.slice(1).map(Number)
  const rps = requests / (durationUs / 1e6)
  const misuse = poolMisuse(pool.length, startAt, requests, rps, opts.wrapAfterMs)
  if (misuse) throw new Error(misuse)
  return { requests, rps, p50: p50 / 1000, p99: p99 / 1000, errors, non2xx }
}

/**
 * Why a run that sent `requests` from index `startAt` of a pool, at `rps`, does not count; null when it does.
 * Without `wrapAfterMs` it must not have run past the pool's end; with it, it may wrap round, but a push
 * must not have come back sooner than `wrapAfterMs`.
 */
export function poolMisuse(poolLength: number, startAt: number, requests: number, rps: number, wrapAfterMs?: number): string | null {
  if (startAt + requests <= poolLength) return null
  if (wrapAfterMs === undefined) return `pool of ${poolLength} exhausted (${startAt + requests} requests): enlarge it, or duplicates skew the run`
  const periodMs = (poolLength / rps) * 1000
  if (periodMs >= wrapAfterMs) return null
  return `pool of ${poolLength} wraps round every ${periodMs.toFixed(0)} ms at ${rps.toFixed(0)} req/s, sooner than ${wrapAfterMs} ms: enlarge it, or repeats are answered from the reply cache`
}

/**
 * CPU seconds a process has used so far, its main thread apart from the rest (log thread, V8's GC helpers,
 * libuv's pool), read from /proc (Linux; null elsewhere). CPU per request is steadier than requests/s on a
 * shared machine: it does not move when a neighbour takes a core for a moment.
 *
 * Also its minor page faults, all threads: memory touched for the first time. On the virtual machines this
 * runs on one costs ~16 µs (a 4 KiB page; 0.1 µs is usual on bare metal), so a server still growing its
 * memory pays for it in every request, and one at steady state does not (BENCHMARKS.md).
 */
export function processCpu(pid: number): { main: number; all: number; minorFaults: number } | null {
  const ticks = 100 // USER_HZ, 100 on every Linux this runs on
  try {
    let main = 0
    let all = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let stat: string
      try {
        stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      } catch {
        continue // the thread ended between the listing and the read
      }
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const seconds = (Number(f[11]) + Number(f[12])) / ticks
      all += seconds
      if (Number(tid) === pid) main = seconds
    }
    // The process's own stat counts every thread's faults, those of threads that ended too; minflt is the 8th field.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const minorFaults = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7])
    return { main, all, minorFaults }
  } catch {
    return null
  }
}
