/**
 * What a plugin's console costs inside its sandbox, against ctx.log in the same run (the baseline: a host
 * function called across vm2's bridge, as the console's write now is). The plugin times N calls of each
 * itself and answers the numbers; a line below the engine's level (console.debug at info) is measured too.
 *
 *   npx tsx bench/plugin-console.bench.ts        (QUICK=1 for a smoke run)
 *
 * vm2's `console: 'redirect'` took about 45 µs a call, kept or dropped (20,000 console.log: 896 ms, against
 * ctx.log.info's 45 ms); sandbox-console.ts's console is the comparison this prints.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createMemoryLogger } from '../core/log/logger.ts'
import { createTestClient } from '../core/testkit/plugin-test-client.ts'
import { median } from './support/median.ts'

const QUICK = process.env.QUICK === '1'
const N = QUICK ? 2_000 : 20_000
const ROUNDS = QUICK ? 2 : 5

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-console-bench-'))
mkdirSync(path.join(root, 'plugins', 'talker'), { recursive: true })
mkdirSync(path.join(root, 'rules'))
writeFileSync(
  path.join(root, 'plugins', 'talker', 'index.ts'),
  `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'talker',
  handle(ctx) {
    const time = (f: (i: number) => void) => { const s = Date.now(); for (let i = 0; i < ${N}; i++) f(i); return Date.now() - s }
    const r = {
      ctxLog: time((i) => ctx.log.info('line ' + i)),
      consoleLog: time((i) => console.log('line ' + i)),
      consoleDebugDropped: time((i) => console.debug('line ' + i)),
    }
    return JSON.stringify(r)
  },
})
`,
)
writeFileSync(path.join(root, 'rules', 'main.yaml'), 'rules:\n  - name: talk\n    keywords: [talk]\n    plugin: talker\n')

// At info: console.debug is below it. The plugin may log 100 lines a second; the rest are dropped in the worker.
const client = await createTestClient({ root, log: createMemoryLogger('info').logger })
try {
  const rounds: Record<string, number[]> = { ctxLog: [], consoleLog: [], consoleDebugDropped: [] }
  for (let round = 0; round < ROUNDS; round++) {
    // Past the plugin's line rate (100 a second), so a round starts with the same budget as the last.
    await new Promise((r) => setTimeout(r, 1100))
    const reply = await client.send('talk')
    const got = JSON.parse(String(reply.content)) as Record<string, number>
    for (const k of Object.keys(rounds)) rounds[k]!.push(got[k]!)
  }
  const usPerCall = (k: string) => (median(rounds[k]!) * 1000) / N
  const base = usPerCall('ctxLog')
  console.log(`${N} calls a round, median of ${ROUNDS} rounds, µs per call (ratio to ctx.log.info):`)
  for (const k of Object.keys(rounds)) console.log(`  ${k.padEnd(20)} ${usPerCall(k).toFixed(2).padStart(7)}  (${(usPerCall(k) / base).toFixed(2)})`)
} finally {
  await client.close()
  rmSync(root, { recursive: true, force: true })
}
