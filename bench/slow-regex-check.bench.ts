/**
 * What the slow-regex check costs a rules load, each load in a process of its own (as a start, `rules check`
 * or a test file is), timed inside it:
 *
 *   trusted:     every regex marked `trusted: true`, which skips the check (the baseline)
 *   first run:   checked, nothing known yet (an empty cache directory): recheck asked about each regex
 *   second run:  checked again, with the verdicts the first run kept (core/route/rules/worst-case-file.ts)
 *
 * Two rule sets of `--rules` rules each: `simple` (`^rx12-(\d+)$`, one repetition: never asked of recheck,
 * the common case) and `commands` (`^cmd12\s+(\S+)\s+(.*)$`, three repetitions: each asked, quadratic,
 * accepted). Rounds alternate the three; every round uses regexes no other round used.
 *
 *   npx tsx bench/slow-regex-check.bench.ts [--rules 50] [--rounds 3]
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { median } from './support/median.ts'

const { values } = parseArgs({ options: { rules: { type: 'string', default: '50' }, rounds: { type: 'string', default: '3' } } })
const count = Number(values.rules)
const rounds = Number(values.rounds)

const KINDS = {
  simple: (i: number) => `^rx${i}-(\\d+)$`,
  commands: (i: number) => `^cmd${i}\\s+(\\S+)\\s+(.*)$`,
} as const

const LOAD = `
import { loadRuleSet } from ${JSON.stringify(path.resolve('core/route/rules/load-rule-set.ts'))}
const started = performance.now()
const loaded = await loadRuleSet(process.env.RULES)
if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors[0]))
console.log(performance.now() - started)
`

function loadMs(rulesDir: string, cacheDir: string): number {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', LOAD], {
    env: { ...process.env, RULES: rulesDir, WXENGINE_CACHE_DIR: cacheDir },
    encoding: 'utf8',
  })
  return Number(out.trim())
}

let serial = 0
function rulesDir(kind: keyof typeof KINDS, trusted: boolean): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-regex-check-'))
  let text = 'rules:\n'
  for (let i = 0; i < count; i++) {
    text += `  - name: r${i}\n    keywords: [{ regex: '${KINDS[kind](serial++)}'${trusted ? ', trusted: true' : ''} }]\n    reply: { type: text, content: 'rule ${i}' }\n`
  }
  writeFileSync(path.join(dir, 'main.yaml'), text)
  return dir
}

console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}; ${count} rules a load, ${rounds} rounds, each load in its own process`)
for (const kind of Object.keys(KINDS) as Array<keyof typeof KINDS>) {
  const trusted: number[] = []
  const first: number[] = []
  const second: number[] = []
  for (let r = 0; r < rounds; r++) {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'wxengine-regex-cache-'))
    const skipped = rulesDir(kind, true)
    const checked = rulesDir(kind, false)
    trusted.push(loadMs(skipped, cache))
    first.push(loadMs(checked, cache))
    second.push(loadMs(checked, cache))
    for (const d of [cache, skipped, checked]) rmSync(d, { recursive: true, force: true })
  }
  const [t, f, s] = [median(trusted), median(first), median(second)]
  const rounded = (xs: number[]) => xs.map((x) => x.toFixed(0)).join('/')
  console.log(
    `${kind.padEnd(9)} trusted ${t.toFixed(0).padStart(5)} ms | first run ${f.toFixed(0).padStart(5)} ms (${(f / t).toFixed(1)}x, ${((f - t) / count).toFixed(1)} ms a regex) | ` +
      `second run ${s.toFixed(0).padStart(5)} ms (${(s / t).toFixed(2)}x) | rounds ${rounded(trusted)} ; ${rounded(first)} ; ${rounded(second)}`,
  )
}
