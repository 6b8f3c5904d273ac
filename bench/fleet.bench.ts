/**
 * Requests/s of a fleet versus one instance, side by side in one run (issue: scale-out on one Redis).
 * A plaintext text message answered by an inline rule, so the numbers are the engine and its store, not
 * a plugin:
 *
 *   1 x SQLite   one instance with the default embedded store (the baseline)
 *   1 x Redis    one instance with STORE=redis (what the shared store costs alone)
 *   2 x Redis    two instances, one redis-server, each its own DATA_DIR; the load is split evenly across the
 *                two ports (half the connections each, at the same time); the sum is the fleet's rate
 *
 * Every server is the real CLI (`wxengine start`) in its own process; autocannon drives from this one.
 * CPU seconds used during the measured window are shown per process: on a small machine the instances,
 * redis-server and the load generator all compete for the same cores.
 *
 *   npx tsx bench/fleet.bench.ts [--seconds 10] [--connections 32] [--rounds 1]
 *
 * With --rounds N the three run N times in turn and the medians are compared: other work on the machine
 * then hits every configuration alike.
 */
import { readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { startRedisServer } from '../test/support/redis-server.ts'
import { buildPool, makeBenchProject, runLoad, startServer, type LoadResult, type PooledRequest, type RunningServer } from './support/load.ts'

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' }, rounds: { type: 'string', default: '1' } },
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
const root = path.resolve(import.meta.dirname, '..')
const account = { token: 'fleettoken', appId: 'wxfleet000000001', mode: 'plaintext' as const }
const WARM_UP = 3000

function makeProject(): string {
  return makeBenchProject({ accounts: [{ id: 'default', ...account }], log: { level: 'info' } }, { prefix: 'wxengine-fleet-bench-' })
}

/** utime + stime of a Linux process in seconds; NaN elsewhere. */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return NaN
  }
}

/** Busy CPU seconds of the whole machine (all processes, all cores); NaN off Linux. */
function machineBusySeconds(): number {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number)
    const idle = ticks[3] + ticks[4] // idle + iowait
    return (ticks.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / 100
  } catch {
    return NaN
  }
}

async function redisCpuSeconds(client: Redis | undefined): Promise<number> {
  if (!client) return NaN
  const info = await client.info('cpu')
  const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN)
  return read('used_cpu_user') + read('used_cpu_sys')
}

interface Measured {
  rps: number
  requests: number
  p50: number
  p99: number
  errors: number
  non2xx: number
  cpu: string
}

/** Warms every server up, then drives them all at once for `seconds`, connections split evenly. */
async function measure(name: string, servers: RunningServer[], pools: PooledRequest[][], redis?: Redis): Promise<Measured> {
  const perServer = Math.max(1, Math.floor(connections / servers.length))
  // Warm-up: JIT, caches, SQLite pages, Redis scripts.
  await Promise.all(servers.map((s, i) => runLoad(s.port, pools[i].slice(0, WARM_UP), 0, perServer, WARM_UP)))
  const cpu0 = { engines: servers.map((s) => cpuSecondsOf(s.child.pid)), self: process.cpuUsage(), redis: await redisCpuSeconds(redis), machine: machineBusySeconds() }
  const started = performance.now()
  const results: LoadResult[] = await Promise.all(servers.map((s, i) => runLoad(s.port, pools[i].slice(WARM_UP), seconds, perServer)))
  const wall = (performance.now() - started) / 1000
  const self = process.cpuUsage(cpu0.self)
  const share = (cpuS: number) => `${((cpuS / wall) * 100).toFixed(0)}%`
  const machine = machineBusySeconds() - cpu0.machine
  const engines = servers.map((s, i) => cpuSecondsOf(s.child.pid) - cpu0.engines[i])
  const redisCpu = redis ? (await redisCpuSeconds(redis)) - cpu0.redis : 0
  const selfCpu = (self.user + self.system) / 1e6
  const parts = engines.map((e, i) => `engine${servers.length > 1 ? i + 1 : ''} ${share(e)}`)
  if (redis) parts.push(`redis ${share(redisCpu)}`)
  parts.push(`autocannon ${share(selfCpu)}`)
  // Anything else on the machine (other jobs, the kernel's share not charged to these processes).
  parts.push(`other ${share(machine - engines.reduce((a, b) => a + b, 0) - redisCpu - selfCpu)}`)
  parts.push(`idle ${share(os.cpus().length * wall - machine)}`)
  const m: Measured = {
    rps: results.reduce((a, r) => a + r.rps, 0),
    requests: results.reduce((a, r) => a + r.requests, 0),
    // Per-port latencies differ little; the worst of them is shown.
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    errors: results.reduce((a, r) => a + r.errors, 0),
    non2xx: results.reduce((a, r) => a + r.non2xx, 0),
    cpu: parts.join(', '),
  }
  const split = results.length > 1 ? `  (${results.map((r) => r.rps.toFixed(0)).join(' + ')})` : ''
  console.log(`${name.padEnd(12)} ${m.rps.toFixed(0).padStart(7)} req/s${split}  p50 ${m.p50} ms  p99 ${m.p99} ms  errors ${m.errors}  non-2xx ${m.non2xx}`)
  console.log(`${''.padEnd(12)} CPU of one core during the run: ${m.cpu}`)
  return m
}

const project = makeProject()
const redisServer = await startRedisServer()
const redis = new Redis(redisServer.url)
const running: RunningServer[] = []
const engine = async (dataDir: string, env: Record<string, string> = {}) => {
  const s = await startServer(path.join(root, 'core/cli/main.ts'), ['start', '-C', project], { DATA_DIR: path.join(project, dataDir), LOG_LEVEL: 'info', ...env }, '/healthz')
  running.push(s)
  return s
}
const stopAll = async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()))
}

try {
  // Room for 30k a second: one SQLite instance passed 16k (the previous size) and exhausted the pool.
  const poolSize = WARM_UP + Math.max(100_000, seconds * 30_000)
  console.log(`building 3 pools of ${poolSize} distinct signed pushes...`)
  const pools = [buildPool(account, '/wechat', poolSize), buildPool(account, '/wechat', poolSize), buildPool(account, '/wechat', poolSize)]
  console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}, ${seconds} s, ${connections} connections in all, ${rounds} round(s)\n`)
  const runs: Record<'sqlite' | 'redisOne' | 'fleet', Measured[]> = { sqlite: [], redisOne: [], fleet: [] }
  const withRedis = { STORE: 'redis', REDIS_URL: redisServer.url }

  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) console.log(`round ${round}`)
    // A fresh DATA_DIR and an empty Redis each time, so the pools' MsgIds are new to every store.
    runs.sqlite.push(await measure('1 x SQLite', [await engine(`data-sqlite-${round}`)], [pools[0]]))
    await stopAll()
    await redis.flushall()
    runs.redisOne.push(await measure('1 x Redis', [await engine(`data-redis-${round}`, withRedis)], [pools[1]], redis))
    await stopAll()
    await redis.flushall()
    const fleet = [await engine(`data-fleet-a-${round}`, withRedis), await engine(`data-fleet-b-${round}`, withRedis)]
    runs.fleet.push(await measure('2 x Redis', fleet, [pools[0], pools[2]], redis))
    await stopAll()
  }

  const median = (ms: Measured[]) => {
    const sorted = ms.map((m) => m.rps).sort((a, b) => a - b)
    const mid = Math.floor(sorted.length / 2)
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  }
  const [sqlite, redisOne, two] = [median(runs.sqlite), median(runs.redisOne), median(runs.fleet)]
  console.log(`
| configuration | req/s${rounds > 1 ? ` (median of ${rounds})` : ''} |
|---|---|
| 1 x SQLite | ${sqlite.toFixed(0)} |
| 1 x Redis | ${redisOne.toFixed(0)} |
| 2 x Redis (sum of both ports) | ${two.toFixed(0)} |

| ratio | measured |
|---|---|
| 2 x Redis / 1 x SQLite | ${(two / sqlite).toFixed(2)} |
| 2 x Redis / 1 x Redis | ${(two / redisOne).toFixed(2)} |
| 1 x Redis / 1 x SQLite | ${(redisOne / sqlite).toFixed(2)} |`)
} finally {
  await stopAll()
  redis.disconnect()
  await redisServer.stop()
  rmSync(project, { recursive: true, force: true })
}
