/**
 * Requests/s of a text message -> text reply, side by side in one run:
 *   bare Koa answering a fixed XML (the ceiling), wxengine, and co-wechat (the peer), in plaintext and safe mode.
 * Each server runs in its own process; autocannon drives it from this one. Targets (issue #2):
 *   wxengine plaintext >= 0.8x bare Koa, safe >= 0.7x, both >= 2x co-wechat.
 *
 *   npx tsx bench/http-throughput.bench.ts [--seconds 8] [--connections 32] [--rounds 3] [--only key,key] [--fill 40]
 * --only runs just the named targets (keys below, e.g. koaPlain,wxPlain) and the ratios between them.
 * --fill N drives each target for N s before its measured window (wrk only; the default warms up with 3000
 * requests). The engine remembers every reply for 30 s (limits.replyCacheMs) to replay it to WeChat's
 * retries, so a run shorter than that measures an engine whose memory is still growing: `--fill 40` measures
 * one at steady state, as it runs after its first minute. The pushes then wrap round, never sooner than 40 s.
 * Targets run in turn, round after round, and each reports its median: a busy moment hits every target alike.
 * --baseline DIR adds wxPlainBase and wxSafeBase: the engine of another checkout (a `git worktree` of an
 * earlier commit, with node_modules linked), on the same projects and pushes, in the same rounds. A change
 * is measured against it as a ratio, with the machine's moods shared.
 */
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import v8 from 'node:v8'
import { buildPool, FILL_POOL_SIZE, FILL_WRAP_MS, hasWrk, makeBenchProject, processCpu, runLoad, runWrk, startServer, WRK_POOL_PER_SECOND, type LoadResult, type PooledRequest } from './support/load.ts'

// A full run holds four pools of up to 720,000 pushes (a safe one ~1 KB): past node's default heap, which
// ended such a run out of memory. Run again with room, once (the child has it, so it goes on below).
const HEAP_MB = 12_000
if (v8.getHeapStatistics().heap_size_limit < (HEAP_MB / 2) * 1024 * 1024) {
  const options = `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_MB}`.trim()
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: options } })
  process.exit(child.status ?? 1)
}

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, connections: { type: 'string', default: '32' }, rounds: { type: 'string', default: '3' }, only: { type: 'string' }, fill: { type: 'string', default: '0' }, baseline: { type: 'string' } } })
const seconds = Number(values.seconds)
const fillSeconds = Number(values.fill)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
const root = path.resolve(import.meta.dirname, '..')
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const BENCH_TIMESTAMP_WINDOW_S = 3 * 3600
const plainAccount = { token: 'plaintoken', appId: 'wxplain000000001', mode: 'plaintext' as const }
const safeAccount = { token: 'safetoken', appId: 'wxsafe0000000001', mode: 'safe' as const, encodingAESKey: KEY }

function makeProject(logOn: boolean): string {
  return makeBenchProject({
    defaultAccount: 'plain',
    accounts: [{ id: 'plain', ...plainAccount }, { id: 'safe', ...safeAccount }],
    log: { level: 'info', retentionDays: logOn ? 30 : 0 },
    // The pushes are signed once, before the first round, and a full run takes longer than the default
    // 10 min replay window: the last round's were refused (401). The window's size costs nothing a request.
    limits: { timestampWindowSeconds: BENCH_TIMESTAMP_WINDOW_S },
  })
}

/** A load run plus the server's CPU per request (µs), its main thread and all its threads together, and its minor page faults per request. */
type Measured = LoadResult & { cpuMainUs?: number; cpuAllUs?: number; faults?: number }

async function measure(start: () => ReturnType<typeof startServer>, pool: PooledRequest[], dedups: boolean): Promise<Measured> {
  const server = await start()
  try {
    // With a fill the pool wraps round: freely for a server without dedup, no sooner than FILL_WRAP_MS for the engine.
    const wrapAfterMs = fillSeconds > 0 ? (dedups ? FILL_WRAP_MS : 0) : undefined
    let startAt = 3000
    if (fillSeconds > 0) {
      const fill = runWrk(server.port, pool, fillSeconds, connections, { wrapAfterMs })
      if (fill.non2xx > 0) throw new Error(`${fill.non2xx} answers during the fill were not 2xx`)
      startAt = fill.requests % pool.length
    } else {
      await runLoad(server.port, pool.slice(0, 3000), 0, connections, 3000) // warm-up: JIT, caches, SQLite pages
    }
    const pid = server.child.pid!
    const before = processCpu(pid)
    const r = useWrk ? runWrk(server.port, pool, seconds, connections, { startAt, wrapAfterMs }) : await runLoad(server.port, pool.slice(3000), seconds, connections)
    const after = processCpu(pid)
    if (!before || !after || r.requests === 0) return r
    return {
      ...r,
      cpuMainUs: ((after.main - before.main) * 1e6) / r.requests,
      cpuAllUs: ((after.all - before.all) * 1e6) / r.requests,
      faults: (after.minorFaults - before.minorFaults) / r.requests,
    }
  } finally {
    await server.stop()
  }
}

const useWrk = hasWrk()
if (fillSeconds > 0 && !useWrk) throw new Error('--fill needs wrk (apt-get install wrk)')
const poolSize = Math.max(60_000, seconds * (useWrk ? WRK_POOL_PER_SECOND : 15_000))
const wxPoolSize = fillSeconds > 0 ? Math.max(poolSize, FILL_POOL_SIZE) : poolSize
console.log(`${poolSize} distinct signed pushes per target (safe ones AES-encrypted), built when a target first runs`)
const projects = { logOn: makeProject(true), logOff: makeProject(false) }
// Built when a target first needs one: `--only` builds just its targets' pools.
const poolSpecs = {
  barePlain: () => buildPool(plainAccount, '/wechat', poolSize),
  bareSafe: () => buildPool(safeAccount, '/wechat', poolSize),
  wxPlain: () => buildPool(plainAccount, '/wechat/plain', wxPoolSize),
  wxSafe: () => buildPool(safeAccount, '/wechat/safe', wxPoolSize),
}
type PoolName = keyof typeof poolSpecs
const builtPools = new Map<PoolName, PooledRequest[]>()
function poolOf(name: PoolName): PooledRequest[] {
  let pool = builtPools.get(name)
  if (!pool) builtPools.set(name, (pool = poolSpecs[name]()))
  return pool
}
console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}, ${fillSeconds > 0 ? `${fillSeconds} s fill, then ` : ''}${seconds} s per run, ${rounds} rounds (median), ${connections} connections, load from ${useWrk ? 'wrk (1 thread)' : 'autocannon'}\n`)
let dataSeq = 0
// A fresh data directory per run: a reused one would replay the previous run's replies to the same MsgIds.
// LOG_LEVEL info, as deployed: a `messages handled` line a minute; debug adds a process-log line per message.
const engine = (project: string, level = 'info', checkout = root) => () =>
  startServer(path.join(checkout, 'core/cli/main.ts'), ['start', '-C', project], { DATA_DIR: path.join(project, `data-${++dataSeq}`), LOG_LEVEL: level }, '/healthz')
const baseline = values.baseline ? path.resolve(values.baseline) : undefined
const koa = () => startServer(path.join(root, 'bench/servers/bare-koa.ts'), [], {})
const httpOnly = () => startServer(path.join(root, 'bench/servers/wxengine-http-only.ts'), [], {})
const floor = (mode: string) => () => startServer(path.join(root, 'bench/servers/wire-floor.ts'), [], { MODE: mode, TIMESTAMP_WINDOW_S: String(BENCH_TIMESTAMP_WINDOW_S) })
const co = (mode: string) => () => startServer(path.join(root, 'bench/servers/co-wechat.ts'), [], { MODE: mode })

type Target = { key: string; name: string; start: () => ReturnType<typeof startServer>; pool: PoolName }
const allTargets: Target[] = [
  { key: 'koaPlain', name: 'bare Koa (plaintext body)', start: koa, pool: 'barePlain' },
  { key: 'wxHttpOnly', name: 'wxengine HTTP layer only', start: httpOnly, pool: 'barePlain' },
  { key: 'wxPlain', name: 'wxengine plaintext', start: engine(projects.logOn), pool: 'wxPlain' },
  { key: 'wxPlainNoLog', name: 'wxengine plaintext, log off', start: engine(projects.logOff), pool: 'wxPlain' },
  { key: 'wxPlainDebug', name: 'wxengine plaintext, debug lines', start: engine(projects.logOn, 'debug'), pool: 'wxPlain' },
  { key: 'floorPlain', name: 'wire work only, plaintext', start: floor('plaintext'), pool: 'barePlain' },
  { key: 'coPlain', name: 'co-wechat plaintext', start: co('plaintext'), pool: 'barePlain' },
  { key: 'koaSafe', name: 'bare Koa (safe body)', start: koa, pool: 'bareSafe' },
  { key: 'wxSafe', name: 'wxengine safe', start: engine(projects.logOn), pool: 'wxSafe' },
  { key: 'wxSafeNoLog', name: 'wxengine safe, log off', start: engine(projects.logOff), pool: 'wxSafe' },
  { key: 'floorSafe', name: 'wire work only, safe', start: floor('safe'), pool: 'bareSafe' },
  { key: 'coSafe', name: 'co-wechat safe', start: co('safe'), pool: 'bareSafe' },
  ...(baseline
    ? ([
        { key: 'wxPlainBase', name: 'baseline plaintext', start: engine(projects.logOn, 'info', baseline), pool: 'wxPlain' },
        { key: 'wxSafeBase', name: 'baseline safe', start: engine(projects.logOn, 'info', baseline), pool: 'wxSafe' },
      ] satisfies Target[])
    : []),
]
const targets = allTargets.filter((t) => !values.only || values.only.split(',').includes(t.key))
const runs = new Map<string, Measured[]>()
const cpu = (r: Measured) => (r.cpuMainUs === undefined ? '' : `  cpu µs/req: main ${r.cpuMainUs.toFixed(1)}, all threads ${r.cpuAllUs!.toFixed(1)}  page faults/req ${r.faults!.toFixed(3)}`)
for (let round = 1; round <= rounds; round++) {
  for (const t of targets) {
    const r = await measure(t.start, poolOf(t.pool), t.pool === 'wxPlain' || t.pool === 'wxSafe')
    runs.set(t.key, [...(runs.get(t.key) ?? []), r])
    console.log(`round ${round}  ${t.name.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}  non-2xx ${r.non2xx}${cpu(r)}`)
    // A refused request (a stale signature, a wrong route) is answered faster than a real one: such a run would flatter.
    if (r.non2xx > 0) throw new Error(`${t.name}: ${r.non2xx} answers were not 2xx; this run does not count`)
  }
}
const median = (key: string): Measured => {
  const sorted = [...runs.get(key)!].sort((a, b) => a.rps - b.rps)
  return sorted[Math.floor(sorted.length / 2)]
}
const results = Object.fromEntries(targets.map((t) => [t.key, median(t.key)])) as Partial<Record<string, Measured>>
const us = (v?: number) => (v === undefined ? '-' : v.toFixed(1))
console.log('\n| target | req/s (median) | p50 ms | p99 ms | server CPU µs/req, main thread | all threads | minor page faults/req |\n|---|---|---|---|---|---|---|')
for (const t of targets) {
  const r = results[t.key]!
  console.log(`| ${t.name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${us(r.cpuMainUs)} | ${us(r.cpuAllUs)} | ${r.faults === undefined ? '-' : r.faults.toFixed(3)} |`)
}

// [a, b, label, target]: a over b by req/s, and by main-thread CPU a request (b's over a's: steadier when the
// machine is shared). A row is printed when both its targets ran (--only may leave some out).
const ratios: Array<[string, string, string, string]> = [
  ['wxPlain', 'koaPlain', 'wxengine plaintext / bare Koa', '>= 0.80'],
  ['wxSafe', 'koaSafe', 'wxengine safe / bare Koa', '>= 0.70'],
  ['wxPlain', 'coPlain', 'wxengine plaintext / co-wechat plaintext', '>= 2.00'],
  ['wxSafe', 'coSafe', 'wxengine safe / co-wechat safe', '>= 2.00'],
  ['floorPlain', 'koaPlain', 'wire work only / bare Koa, plaintext', '(the floor: verify, read, reply XML; nothing else)'],
  ['floorSafe', 'koaSafe', 'wire work only / bare Koa, safe', '(the floor, with AES both ways)'],
  ['wxHttpOnly', 'koaPlain', 'wxengine HTTP layer only / bare Koa', '(our HTTP layer, engine answering at once)'],
  ['wxPlain', 'wxPlainNoLog', 'wxengine plaintext, log on / log off', '(the cost of the log, waiting for its journal write)'],
  ['wxPlain', 'wxPlainDebug', 'wxengine plaintext, info / debug (a process-log line per message)', '(the cost of a line per message)'],
  ['wxSafe', 'wxSafeNoLog', 'wxengine safe, log on / log off', ''],
  ['coPlain', 'koaPlain', 'co-wechat plaintext / bare Koa', '(about 0.35 reported)'],
  ['coSafe', 'koaSafe', 'co-wechat safe / bare Koa', '(about 0.2 reported)'],
  ['wxPlain', 'wxPlainBase', 'wxengine plaintext / baseline', '(this checkout against --baseline)'],
  ['wxSafe', 'wxSafeBase', 'wxengine safe / baseline', ''],
]
const rows = ratios.filter(([a, b]) => results[a] && results[b])
if (rows.length > 0) {
  console.log('\n| ratio | by req/s | by main-thread CPU a request | target |\n|---|---|---|---|')
  for (const [a, b, label, target] of rows) {
    const x = results[a]!
    const y = results[b]!
    const byCpu = x.cpuMainUs && y.cpuMainUs ? (y.cpuMainUs / x.cpuMainUs).toFixed(2) : '-'
    console.log(`| ${label} | ${(x.rps / y.rps).toFixed(2)} | ${byCpu} | ${target} |`)
  }
}
for (const p of Object.values(projects)) rmSync(p, { recursive: true, force: true })
