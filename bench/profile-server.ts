/**
 * Profiles the engine under load: starts `wxengine start` with --cpu-prof, drives it with wrk (plaintext or
 * safe, inline-rule reply), stops it, and prints the functions with the most self time and the share of
 * each area (ours by folder, Koa, node's HTTP and sockets, pino, GC, ...), as shares of busy time under load.
 *
 *   npx tsx bench/profile-server.ts [--mode plaintext|safe] [--seconds 5] [--target wxengine|koa|http-only|floor]
 *                                   [--log-off] [--env LOG_LEVEL=warn ...] [--keep] [--fill 40]
 *
 * `--target koa` profiles the bare Koa baseline under the same load, `http-only` our HTTP layer in front of
 * an engine that answers at once, `floor` the wire work alone (bench/servers/wire-floor.ts), to compare area
 * by area: each area is printed as a share of busy time and in µs a request. TOP=N prints N functions.
 * `--log-off` turns the message log off, `--env` sets the engine's environment, `--keep` keeps the
 * .cpuprofile (for Chrome's DevTools). Only the samples taken while wrk ran are counted; the kept file covers
 * start-up and close too. `--fill N` drives the server N s before the profiled window, so that the engine is
 * profiled at steady state (its 30 s reply cache full).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { buildPool, FILL_POOL_SIZE, FILL_WRAP_MS, makeBenchProject, runWrk, startServer, WRK_POOL_PER_SECOND } from './support/load.ts'

const { values } = parseArgs({ options: { mode: { type: 'string', default: 'plaintext' }, seconds: { type: 'string', default: '5' }, target: { type: 'string', default: 'wxengine' }, env: { type: 'string', multiple: true }, 'log-off': { type: 'boolean', default: false }, keep: { type: 'boolean', default: false }, fill: { type: 'string', default: '0' } } })
const root = path.resolve(import.meta.dirname, '..')
const BASELINES: Record<string, string> = { koa: 'bare-koa', 'http-only': 'wxengine-http-only', floor: 'wire-floor' }
if (values.target !== 'wxengine' && !BASELINES[values.target]) throw new Error(`--target: wxengine, koa, http-only or floor, not ${values.target}`)
const safe = values.mode === 'safe'
const account = safe
  ? { id: 'a', token: 'safetoken', appId: 'wxsafe0000000001', mode: 'safe' as const, encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' }
  : { id: 'a', token: 'plaintoken', appId: 'wxplain000000001', mode: 'plaintext' as const }
const dir = makeBenchProject({ defaultAccount: 'a', accounts: [account], log: { retentionDays: values['log-off'] ? 0 : 30 } }, { prefix: 'wxengine-prof-' })
const profDir = path.join(dir, 'prof')
// Split at the first '=' only: a value may hold one (NODE_OPTIONS=--max-old-space-size=4096).
const extraEnv = Object.fromEntries(
  (values.env ?? []).map((kv) => {
    const at = kv.indexOf('=')
    if (at < 1) throw new Error(`--env takes NAME=value, not ${kv}`)
    return [kv.slice(0, at), kv.slice(at + 1)]
  }),
)
const profile = ['--cpu-prof', `--cpu-prof-dir=${profDir}`]
// The baselines say 'ready' over IPC; the engine is ready when /healthz answers.
const server =
  values.target === 'wxengine'
    ? await startServer(path.join(root, 'core/cli/main.ts'), ['start', '-C', dir], { DATA_DIR: path.join(dir, 'data'), ...extraEnv }, '/healthz', { nodeFlags: profile })
    : await startServer(path.join(root, `bench/servers/${BASELINES[values.target]}.ts`), [], { MODE: values.mode, ...extraEnv }, undefined, { nodeFlags: profile })
const seconds = Number(values.seconds)
const fillSeconds = Number(values.fill)
const pool = buildPool(account, '/wechat', fillSeconds > 0 ? Math.max(seconds * WRK_POOL_PER_SECOND, FILL_POOL_SIZE) : seconds * WRK_POOL_PER_SECOND)
// Every target profiled here may dedup (the engine does): with a fill, no push comes back sooner than FILL_WRAP_MS.
const wrapAfterMs = fillSeconds > 0 ? FILL_WRAP_MS : undefined
const fill = fillSeconds > 0 ? runWrk(server.port, pool, fillSeconds, 32, { wrapAfterMs }) : undefined
// V8 stamps samples with CLOCK_MONOTONIC in µs, the clock hrtime reads in every process, so the load's
// window taken here selects the samples taken under load: start-up and the save at close are left out.
const loadFrom = Number(process.hrtime.bigint() / 1000n)
const r = runWrk(server.port, pool, seconds, 32, { startAt: fill ? fill.requests % pool.length : 0, wrapAfterMs })
const loadTo = Number(process.hrtime.bigint() / 1000n)
console.log(`${values.target} ${values.mode}: ${r.rps.toFixed(0)} req/s`)
await server.stop()
// One profile per thread (the message log's thread writes its own): CPU.<date>.<time>.<pid>.<thread>.<seq>, the main thread is 0.
const mainProfile = readdirSync(profDir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f))
if (!mainProfile) throw new Error(`no main-thread profile in ${profDir}: ${readdirSync(profDir).join(', ')}`)
const file = path.join(profDir, mainProfile)
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>; samples: number[]; timeDeltas: number[]; startTime: number }
const byNode = new Map<number, number>()
let at = prof.startTime
let underLoad = 0
prof.samples.forEach((id, i) => {
  const delta = prof.timeDeltas[i] ?? 0
  at += delta
  if (at < loadFrom || at > loadTo) return
  underLoad++
  byNode.set(id, (byNode.get(id) ?? 0) + delta)
})
if (underLoad === 0) throw new Error('no sample fell inside the load window: the profile clock is not CLOCK_MONOTONIC here')
const self = new Map<string, number>()
for (const n of prof.nodes) {
  const where = n.callFrame.url.replace(/.*node_modules\//, '').replace(`file://${root}/`, '')
  const key = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`
  self.set(key, (self.get(key) ?? 0) + (byNode.get(n.id) ?? 0))
}
// Shares of busy time: the profile also covers start-up and waiting, which would dilute every line.
const idle = self.get('(idle) :0') ?? 0
self.delete('(idle) :0')
const busy = [...self.values()].reduce((a, b) => a + b, 0)
console.log(`main thread under load: busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s (start-up and close left out)\n`)
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 35))) console.log(`${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}`)

/** Coarse areas, to see where a request's time goes at a glance. */
function areaOf(key: string): string {
  if (key.startsWith('(garbage collector)')) return 'garbage collection'
  if (key.startsWith('(program)')) return '(program: V8 and native, unattributed)'
  const at = key.slice(key.lastIndexOf(' ') + 1)
  if (at.startsWith('core/')) return `wxengine ${at.split('/').slice(0, 2).join('/').replace(/:.*/, '').replace(/\.ts$/, '')}`
  if (/^(pino|sonic-boom)/.test(at)) return 'pino (log lines)'
  if (at.startsWith('prom-client')) return 'prom-client'
  if (/^(koa|@koa|delegates|on-finished|ee-first|statuses|parseurl|vary|only|encodeurl|escape-html|content-type|type-is|accepts|fresh)/.test(at)) return 'koa and its helpers'
  if (/^(raw-body|iconv-lite|bytes|http-errors|unpipe)/.test(at)) return 'raw-body'
  if (at.startsWith('better-sqlite3')) return 'better-sqlite3 (main thread)'
  if (at.startsWith('lru-cache')) return 'lru-cache'
  if (/node:internal\/(modules|main)|esm|cjs\/loader|tsx/.test(at)) return 'module loading (start-up)'
  if (/node:_http|node:http/.test(at)) return 'node http'
  if (/stream|node:net|^:0$/.test(at) && /writev|write|read|stream/i.test(key)) return 'node sockets and streams'
  if (/crypto/.test(key)) return 'crypto'
  if (/timers/.test(at)) return 'timers'
  if (/task_queues|runMicrotasks/.test(key)) return 'promise and tick queues'
  if (at.startsWith('node:')) return 'node internals (other)'
  if (at === ':0') return 'V8 builtins and natives (other)'
  return 'other packages'
}
const areas = new Map<string, number>()
for (const [k, v] of self) areas.set(areaOf(k), (areas.get(areaOf(k)) ?? 0) + v)
console.log('\nby area:')
// µs a request as well as shares: two targets' profiles compare area by area in absolute terms.
const requests = r.requests
for (const [k, v] of [...areas].sort((a, b) => b[1] - a[1])) console.log(`${((v / busy) * 100).toFixed(1).padStart(5)}%  ${(v / requests).toFixed(1).padStart(6)} µs/req  ${k}`)
if (values.keep) console.log(`\nprofile kept: ${file}`)
else rmSync(dir, { recursive: true, force: true })
