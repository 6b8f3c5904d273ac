/**
 * What `wxengine build --reproducible` costs each command of the binary: it leaves out V8's code cache of
 * the CLI (which V8 does not make the same twice), so the CLI's bundle is compiled from its text at every
 * start. Builds both binaries from this checkout, then times the same commands of each, the two alternating
 * round by round, and prints the medians and their ratio.
 *
 *   npx tsx bench/binary-start.bench.ts [--rounds 5] [--runs 10]
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { median } from './support/median.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, runs: { type: 'string', default: '10' } } })
const rounds = Number(values.rounds)
const runs = Number(values.runs)
const root = path.resolve(import.meta.dirname, '..')
const work = mkdtempSync(path.join(os.tmpdir(), 'wxengine-binary-start-'))

const builds = { 'code cache (default)': [] as string[], 'no code cache (--reproducible)': ['--reproducible'] }
const binaries: Record<string, string> = {}
try {
  for (const [name, flags] of Object.entries(builds)) {
    const out = path.join(work, String(Object.keys(binaries).length), 'wxengine')
    execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'core/cli/main.ts'), 'build', ...flags, '--out', out], { cwd: root, stdio: 'pipe' })
    binaries[name] = out
  }
  const commands: Record<string, string[]> = { '--version': ['--version'], 'rules check (the example rules)': ['rules', 'check', '-C', root] }
  console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, ${rounds} rounds of ${runs} runs each, ms a run (median of the rounds)\n`)
  console.log('| command | code cache (default) | no code cache (--reproducible) | ratio |')
  console.log('|---|---|---|---|')
  for (const [label, args] of Object.entries(commands)) {
    const times: Record<string, number[]> = {}
    for (let r = 0; r < rounds; r++) {
      for (const [name, exe] of Object.entries(binaries)) {
        const started = performance.now()
        for (let i = 0; i < runs; i++) {
          const run = spawnSync(exe, args, { cwd: work, env: { PATH: '/usr/bin:/bin', HOME: work }, stdio: 'pipe' })
          if (run.status !== 0) throw new Error(`${name} ${args.join(' ')}: exit ${run.status}\n${run.stderr}`)
        }
        ;(times[name] ??= []).push((performance.now() - started) / runs)
      }
    }
    const [withCache, without] = Object.keys(builds).map((name) => median(times[name]!))
    console.log(`| ${label} | ${withCache!.toFixed(0)} | ${without!.toFixed(0)} | ${(without! / withCache!).toFixed(2)} |`)
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
