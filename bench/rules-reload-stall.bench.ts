/**
 * How long does loading a ~2 MB rules file (MAX_RULES_FILE_BYTES, ~15,000 rules) hold the serving thread?
 * And, with `--kib 16`, rules of IN_THREAD_MAX_BYTES, which a reload parses here: what the worker's start
 * that this saves costs against the stall it brings.
 * The same load two ways, side by side in one run, rounds alternating so that drift in the machine's load
 * hits both alike:
 *
 *   in-thread:  loadRuleSet(dir), as the start-up load does (and a reload whose worker failed)
 *   off-thread: loadRuleSet(dir, {}, readRulesOffThread(log, { inThreadMaxBytes: 0 })), as a reload of large
 *               rules does: parse in a worker, compile here
 *
 * The stall is the longest time this thread did not get to run: a 1 ms timer ping records the longest gap
 * between its ticks, and perf_hooks' monitorEventLoopDelay its maximum. Reported per round and as the
 * median, with the ratio in-thread / off-thread of the medians, and the load's own duration.
 *
 *   npx tsx bench/rules-reload-stall.bench.ts [--rounds 5] [--kib 2048]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { createMemoryLogger } from '../core/log/logger.ts'
import { loadRuleSet, MAX_RULES_FILE_BYTES } from '../core/route/rules/load-rule-set.ts'
import { readRulesOffThread } from '../core/route/rules/read-rules-off-thread.ts'
import { median } from './support/median.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, kib: { type: 'string', default: String(MAX_RULES_FILE_BYTES / 1024) } } })
const rounds = Number(values.rounds)
const maxBytes = Number(values.kib) * 1024

/** Rules of three keywords each (exact, contains, regex with a literal), as many as fit under the limit. */
function generateRules(maxBytes: number): { text: string; count: number } {
  let text = 'rules:\n'
  let count = 0
  for (;;) {
    const rule =
      `  - name: r${count}\n` +
      `    keywords: [kw${count}a, { contains: 'zq${count}q' }, { regex: '^rx${count}-(\\d+)$' }]\n` +
      `    reply: { type: text, content: 'rule ${count}' }\n`
    if (Buffer.byteLength(text + rule) > maxBytes) return { text, count }
    text += rule
    count++
  }
}

interface Sample {
  stallMs: number
  monitorMaxMs: number
  loadMs: number
}

async function measure(load: () => Promise<{ ok: boolean }>): Promise<Sample> {
  const monitor = monitorEventLoopDelay({ resolution: 1 })
  let last = performance.now()
  let longest = 0
  let pinging = true
  const ping = () => {
    const t = performance.now()
    longest = Math.max(longest, t - last)
    last = t
    if (pinging) setTimeout(ping, 1)
  }
  setTimeout(ping, 1)
  monitor.enable()
  const started = performance.now()
  const result = await load()
  const loadMs = performance.now() - started
  // One more tick: a stall right at the end is counted too.
  await new Promise((r) => setTimeout(r, 5))
  pinging = false
  monitor.disable()
  if (!result.ok) throw new Error('the generated rules did not load')
  return { stallMs: longest, monitorMaxMs: monitor.max / 1e6, loadMs }
}

const ms = (x: number) => `${Math.round(x)} ms`

const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-reload-stall-'))
try {
  const { text, count } = generateRules(maxBytes)
  writeFileSync(path.join(dir, 'big.yaml'), text)
  console.log(`rules file: ${(statSync(path.join(dir, 'big.yaml')).size / 1024).toFixed(1)} KiB, ${count} rules of 3 keywords; node ${process.version}, ${os.cpus().length} CPUs`)
  const log = createMemoryLogger('info').logger
  const modes = {
    'in-thread': () => loadRuleSet(dir),
    'off-thread': () => loadRuleSet(dir, {}, readRulesOffThread(log, { inThreadMaxBytes: 0 })),
  }
  // Warm-up, not counted: JIT on this thread, and the worker's bundle (made once per process).
  for (const load of Object.values(modes)) await load()
  const samples: Record<string, Sample[]> = { 'in-thread': [], 'off-thread': [] }
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? (['in-thread', 'off-thread'] as const) : (['off-thread', 'in-thread'] as const)
    const line: string[] = []
    for (const mode of order) {
      const s = await measure(modes[mode])
      samples[mode]!.push(s)
      line.push(`${mode}: stall ${ms(s.stallMs)} (monitor max ${ms(s.monitorMaxMs)}), load ${ms(s.loadMs)}`)
    }
    console.log(`round ${round}: ${line.join('; ')}`)
  }
  const med = (mode: string, key: keyof Sample) => median(samples[mode]!.map((s) => s[key]))
  for (const mode of ['in-thread', 'off-thread']) {
    console.log(`median ${mode}: stall ${ms(med(mode, 'stallMs'))} (monitor max ${ms(med(mode, 'monitorMaxMs'))}), load ${ms(med(mode, 'loadMs'))}`)
  }
  console.log(`longest stall, in-thread / off-thread: ${(med('in-thread', 'stallMs') / med('off-thread', 'stallMs')).toFixed(1)}x`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
