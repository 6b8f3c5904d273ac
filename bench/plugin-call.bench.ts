/**
 * What one plugin call costs: the echo plugin through PluginSet.invoke (main thread -> worker -> vm2
 * sandbox -> back, with reply validation), against two baselines in the same run:
 *
 *   direct   the echo plugin's handle called in-process with a ctx (no worker, no sandbox)
 *   bare     a bare worker that posts the same call message straight back (the floor for any
 *            worker-per-plugin design: two structured clones and two thread hops)
 *   process  the same through limits.pluginIsolation 'process' (a child process per plugin)
 *
 *   npx tsx bench/plugin-call.bench.ts           (QUICK=1 for a smoke run)
 *
 * Each is measured for N sequential calls (latency) and N calls in flight at once (throughput),
 * interleaved over several rounds; the median round is reported in µs per call.
 */
import { Worker } from 'node:worker_threads'
import { createLogger } from '../core/log/logger.ts'
import { execFileSync } from 'node:child_process'
import type { PluginIsolation } from '../core/plugin/plugin-isolation.ts'
import { workerEntry } from '../core/plugin/worker-entry.ts'
import type { PluginCall, PluginSet } from '../core/plugin/plugin-host-types.ts'
import type { PluginDefinition } from '../core/plugin/plugin-api.ts'
import { buildContext } from '../core/plugin/sandbox/build-context.ts'
import type { RpcClient } from '../core/plugin/sandbox/rpc-client.ts'
import echo from '../plugins/echo/index.ts'
import { echoCall, loadEchoAlone } from './support/echo-call.ts'
import { median } from './support/median.ts'

const QUICK = process.env.QUICK === '1'
const N = QUICK ? 1_000 : 10_000
const ROUNDS = QUICK ? 2 : 5

const call: PluginCall = echoCall

type Runner = { name: string; one: () => Promise<unknown> }

async function sequential(r: Runner): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < N; i++) await r.one()
  return ((performance.now() - t0) * 1000) / N
}

async function concurrent(r: Runner): Promise<number> {
  const t0 = performance.now()
  await Promise.all(Array.from({ length: N }, () => r.one()))
  return ((performance.now() - t0) * 1000) / N
}

function directRunner(): Runner {
  const def = echo as PluginDefinition
  const noRpc: RpcClient = { request: async () => undefined, settle: () => {} }
  const quiet = { debug() {}, info() {}, warn() {}, error() {} }
  const log = { ...quiet, about: () => quiet }
  return {
    name: 'direct',
    one: async () => {
      const { ctx } = buildContext({ t: 'call', id: 0, deadline: Date.now() + 1000, ...call }, {}, noRpc, log, { publicUrl: undefined, accounts: [] }, [])
      return def.handle(ctx)
    },
  }
}

function bareRunner(): { runner: Runner; close: () => Promise<number> } {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (m) => parentPort.postMessage({ t: 'result', id: m.id, result: { kind: 'reply', reply: { type: 'text', content: m.message.content } }, sessionOps: [] }));`,
    { eval: true },
  )
  const waiting = new Map<number, (v: unknown) => void>()
  worker.on('message', (m: { id: number }) => {
    waiting.get(m.id)?.(m)
    waiting.delete(m.id)
  })
  let id = 0
  return {
    runner: {
      name: 'bare',
      one: () =>
        new Promise((resolve) => {
          const i = id++
          waiting.set(i, resolve)
          worker.postMessage({ t: 'call', id: i, deadline: Date.now() + 1000, ...call })
        }),
    },
    close: () => worker.terminate(),
  }
}

async function pluginRunner(isolation: PluginIsolation = 'thread'): Promise<{ runner: Runner; set: PluginSet; startMs: number }> {
  const log = createLogger({ level: 'silent' })
  const t0 = performance.now()
  const set = await loadEchoAlone(isolation, log)
  const check = await set.invoke(call)
  if (check.status !== 'reply') throw new Error(`echo did not answer: ${JSON.stringify(check)}`)
  const startMs = performance.now() - t0
  return { runner: { name: isolation === 'thread' ? 'invoke' : 'process', one: () => set.invoke(call) }, set, startMs }
}

/** Resident memory of this process's children (the plugin processes), MB each. */
function childRssMb(): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'rss=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    return out.split('\n').map((l) => l.trim()).filter(Boolean).map((kb) => Math.round(Number(kb) / 1024))
  } catch {
    return []
  }
}

async function main(): Promise<void> {
  const direct = directRunner()
  const bare = bareRunner()
  // The worker program's bundle is made once a process (esbuild): not counted in either start.
  workerEntry()
  const plugin = await pluginRunner()
  const rssBefore = process.memoryUsage().rss
  const proc = await pluginRunner('process')
  const runners = [direct, bare.runner, plugin.runner, proc.runner]
  const results = new Map<string, { seq: number[]; conc: number[] }>(runners.map((r) => [r.name, { seq: [], conc: [] }]))

  // Warm-up: JIT on both sides of every boundary.
  for (const r of runners) for (let i = 0; i < 2000; i++) await r.one()

  for (let round = 0; round < ROUNDS; round++) {
    for (const r of runners) {
      results.get(r.name)!.seq.push(await sequential(r))
      results.get(r.name)!.conc.push(await concurrent(r))
    }
  }

  console.log(`node ${process.version}, ${N} calls per measurement, median of ${ROUNDS} rounds, µs per call`)
  console.log('runner      sequential   concurrent')
  const m = (name: string, k: 'seq' | 'conc') => median(results.get(name)![k])
  for (const r of runners) console.log(`${r.name.padEnd(10)}  ${m(r.name, 'seq').toFixed(2).padStart(10)}   ${m(r.name, 'conc').toFixed(2).padStart(10)}`)
  console.log(`invoke/bare  sequential ${(m('invoke', 'seq') / m('bare', 'seq')).toFixed(2)}x, concurrent ${(m('invoke', 'conc') / m('bare', 'conc')).toFixed(2)}x`)
  console.log(`process/invoke sequential ${(m('process', 'seq') / m('invoke', 'seq')).toFixed(2)}x, concurrent ${(m('process', 'conc') / m('invoke', 'conc')).toFixed(2)}x (limits.pluginIsolation 'process' against 'thread')`)
  console.log(`calls/s: thread ${Math.round(1e6 / m('invoke', 'conc'))} concurrent, ${Math.round(1e6 / m('invoke', 'seq'))} sequential; process ${Math.round(1e6 / m('process', 'conc'))} concurrent, ${Math.round(1e6 / m('process', 'seq'))} sequential`)
  console.log(`start (load + setup of the example plugins): thread ${plugin.startMs.toFixed(0)} ms, process ${proc.startMs.toFixed(0)} ms`)
  console.log(`memory: the engine's RSS with a thread worker ${Math.round(rssBefore / 1_048_576)} MB; its children's RSS (the plugin's process, and esbuild's) ${childRssMb().join(', ')} MB`)
  console.log(`invoke/direct sequential ${(m('invoke', 'seq') / m('direct', 'seq')).toFixed(1)}x, concurrent ${(m('invoke', 'conc') / m('direct', 'conc')).toFixed(1)}x`)

  await bare.close()
  await plugin.set.dispose()
  await proc.set.dispose()
}

await main()
