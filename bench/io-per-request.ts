/**
 * What a server costs the system a request under load: read and write calls and bytes written (the whole
 * process, threads included, from /proc/<pid>/io), CPU (main thread and all threads) and minor page faults.
 * For the costs a CPU profile folds into "node internals": a journal write a turn shows here as write calls.
 *
 *   npx tsx bench/io-per-request.ts [--mode plaintext|safe] [--target wxengine|koa|floor] [--log-off] [--seconds 5]
 *
 * One run, wrk with 32 connections, after a 1 s warm-up; Linux only (/proc).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { buildPool, makeBenchProject, processCpu, runWrk, startServer, WRK_POOL_PER_SECOND } from './support/load.ts'

const { values } = parseArgs({ options: { mode: { type: 'string', default: 'plaintext' }, target: { type: 'string', default: 'wxengine' }, 'log-off': { type: 'boolean', default: false }, seconds: { type: 'string', default: '5' } } })
const BASELINES: Record<string, string> = { koa: 'bare-koa', floor: 'wire-floor' }
if (values.target !== 'wxengine' && !BASELINES[values.target]) throw new Error(`--target: wxengine, koa or floor, not ${values.target}`)
const root = path.resolve(import.meta.dirname, '..')
const account =
  values.mode === 'safe'
    ? { id: 'a', token: 'safetoken', appId: 'wxsafe0000000001', mode: 'safe' as const, encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' }
    : { id: 'a', token: 'plaintoken', appId: 'wxplain000000001', mode: 'plaintext' as const }
const server =
  values.target === 'wxengine'
    ? await (() => {
        const dir = makeBenchProject({ defaultAccount: 'a', accounts: [account], log: { retentionDays: values['log-off'] ? 0 : 30 } }, { prefix: 'wxengine-io-' })
        return startServer(path.join(root, 'core/cli/main.ts'), ['start', '-C', dir], { DATA_DIR: path.join(dir, 'data') }, '/healthz')
      })()
    : await startServer(path.join(root, `bench/servers/${BASELINES[values.target]}.ts`), [], { MODE: values.mode })
const seconds = Number(values.seconds)
const WARM_UP = 40_000
const pool = buildPool(account, '/wechat', WARM_UP + seconds * WRK_POOL_PER_SECOND)
const pid = server.child.pid!
runWrk(server.port, pool.slice(0, WARM_UP), 1, 32)

/** /proc/<pid>/io: rchar, wchar, syscr, syscw, read_bytes, write_bytes, cancelled_write_bytes. */
const io = () => Object.fromEntries(readFileSync(`/proc/${pid}/io`, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf(':')), Number(l.slice(l.indexOf(':') + 1))]))
const ioBefore = io()
const cpuBefore = processCpu(pid)!
const r = runWrk(server.port, pool, seconds, 32, { startAt: WARM_UP })
const ioAfter = io()
const cpuAfter = processCpu(pid)!
await server.stop()

const n = r.requests
const per = (a: number, b: number, digits: number, scale = 1) => (((b - a) * scale) / n).toFixed(digits)
console.log(`${values.target} ${values.mode}${values['log-off'] ? ', message log off' : ''}: ${r.rps.toFixed(0)} req/s over ${seconds} s`)
console.log(`a request: read calls ${per(ioBefore.syscr!, ioAfter.syscr!, 2)}, write calls ${per(ioBefore.syscw!, ioAfter.syscw!, 2)}, bytes written ${per(ioBefore.wchar!, ioAfter.wchar!, 0)}`)
console.log(`           CPU µs: main thread ${per(cpuBefore.main, cpuAfter.main, 1, 1e6)}, all threads ${per(cpuBefore.all, cpuAfter.all, 1, 1e6)}; minor page faults ${per(cpuBefore.minorFaults, cpuAfter.minorFaults, 3)}`)
