/**
 * Cost of one message through engine.handle in-process (no HTTP): verify, normalize, dedup, route (an inline
 * rule), reply, log. Plaintext and safe mode, with the message log on and off, side by side.
 *
 *   npx tsx bench/engine-handle.bench.ts [--messages 20000]
 */
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { AccountConfig } from '../core/config/config-types.ts'
import { loadConfig } from '../core/config/load-config.ts'
import { createLogger } from '../core/log/logger.ts'
import { startRuntime } from '../core/runtime.ts'
import { createWeChatSimulator, push } from '../core/testkit/wechat-simulator.ts'
import { makeBenchProject } from './support/load.ts'

const { values } = parseArgs({ options: { messages: { type: 'string', default: '20000' } } })
const N = Number(values.messages)
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'

async function measure(mode: 'plaintext' | 'safe', logOn: boolean): Promise<number> {
  const dir = makeBenchProject({}, { prefix: 'wxengine-handle-' })
  const account: AccountConfig = { id: 'a', token: 'benchtoken', appId: 'wxbench000000001', mode, encodingAESKey: mode === 'safe' ? KEY : undefined }
  const loaded = loadConfig({
    root: dir,
    env: {},
    overrides: { dataDir: path.join(dir, 'data'), defaultAccount: 'a', accounts: [account], log: { retentionDays: logOn ? 30 : 0 } },
  })
  if (!loaded.ok) throw new Error(loaded.error.reason)
  // The per-message info line goes to /dev/null-like sink at info level, as in production with stdout redirected.
  const rt = await startRuntime(loaded.value, { listen: false, log: createLogger({ level: 'info', destination: { write: () => true } as never }) })
  const sim = createWeChatSimulator({ account })
  const reqs = Array.from({ length: N + 2000 }, (_, i) => sim.request(push.text(`user-${i % 500}`, 'hello')))
  for (let i = 0; i < 2000; i++) await rt.engine.handle({ method: 'POST', query: reqs[i].query, body: reqs[i].body })
  // 32 messages in flight at once, as under HTTP load (group commit batches their writes).
  const t = performance.now()
  let next = 2000
  const lane = async () => {
    while (next < reqs.length) {
      const r = reqs[next++]
      await rt.engine.handle({ method: 'POST', query: r.query, body: r.body })
    }
  }
  await Promise.all(Array.from({ length: 32 }, lane))
  const us = ((performance.now() - t) * 1000) / N
  await rt.close()
  rmSync(dir, { recursive: true, force: true })
  return us
}

// Each configuration in a process of its own: run one after another in one process, the later ones paid for
// the earlier runtimes' heap (safe mode with the log on, measured last, came out ~9 µs a message slower).
const one = process.env.WXENGINE_BENCH_ONE
if (one) {
  const [mode, log] = one.split(':') as ['plaintext' | 'safe', 'on' | 'off']
  process.stdout.write(String(await measure(mode, log === 'on')))
  process.exit(0)
}

console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}, ${N} messages each, 32 in flight, each in its own process`)
const rows: Array<[string, number]> = []
for (const mode of ['plaintext', 'safe'] as const) {
  for (const logOn of [false, true]) {
    const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, '--messages', String(N)], {
      env: { ...process.env, WXENGINE_BENCH_ONE: `${mode}:${logOn ? 'on' : 'off'}` },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const us = Number(out.trim().split('\n').pop())
    if (!Number.isFinite(us)) throw new Error(`${mode}, log ${logOn ? 'on' : 'off'}: no measurement in ${JSON.stringify(out)}`)
    rows.push([`${mode}, message log ${logOn ? 'on ' : 'off'}`, us])
    console.log(`${mode.padEnd(9)} log ${logOn ? 'on ' : 'off'}  ${us.toFixed(1).padStart(7)} µs/message`)
  }
}
console.log(`\nlog on / log off: plaintext ${(rows[1]![1] / rows[0]![1]).toFixed(2)}x, safe ${(rows[3]![1] / rows[2]![1]).toFixed(2)}x (cost ratio; 1.00 = no slowdown)`)
