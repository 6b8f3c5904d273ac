/**
 * A flood of forged pushes (a bad signature, as anyone can send to /wechat) against `wxengine start`, with
 * its stdout going to a file as under journald or docker: how fast they are refused, and how many log lines
 * they cost. `--baseline DIR` runs another checkout of wxengine (its node_modules installed or linked) in
 * the same rounds, e.g. the build before the line budget (core/log/line-budget.ts), and prints the ratios.
 *
 *   npx tsx bench/log-floods.bench.ts [--seconds 8] [--rounds 2] [--baseline /tmp/wxengine-before]
 */
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { hasWrk, makeBenchProject, startServer } from './support/load.ts'
import { median } from './support/median.ts'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, rounds: { type: 'string', default: '2' }, baseline: { type: 'string' } } })
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const here = path.resolve(import.meta.dirname, '..')
const trees: Array<[string, string]> = [['this build', here]]
if (values.baseline) trees.push(['baseline', path.resolve(values.baseline)])

const scratch = mkdtempSync(path.join(os.tmpdir(), 'wxengine-floods-bench-'))
const lua = path.join(scratch, 'forged.lua')
writeFileSync(lua, 'wrk.method = "POST"\nwrk.body = "<xml/>"\n')

interface FloodResult {
  rps: number
  refused: number
  lines: number
  bytes: number
}

async function flood(tree: string): Promise<FloodResult> {
  const dir = makeBenchProject({ defaultAccount: 'a', accounts: [{ id: 'a', token: 'floodtoken', appId: 'wxflood000000001', mode: 'plaintext' }] }, { prefix: 'wxengine-flood-' })
  const out = path.join(dir, 'stdout.log')
  const stdout = openSync(out, 'w')
  const server = await startServer(path.join(tree, 'core/cli/main.ts'), ['start', '-C', dir], { DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'info' }, '/healthz', { stdout })
  closeSync(stdout)
  try {
    const before = readFileSync(out)
    const ts = Math.floor(Date.now() / 1000)
    const url = `http://127.0.0.1:${server.port}/wechat?signature=${'f'.repeat(40)}&timestamp=${ts}&nonce=flood`
    const report = execFileSync('wrk', ['-t1', '-c32', `-d${seconds}s`, '-s', lua, url], { encoding: 'utf8' })
    // The lines of the flood's last moments reach the file within a second (the log's batch).
    await new Promise((r) => setTimeout(r, 1_500))
    const written = readFileSync(out).subarray(before.length)
    let lines = 0
    for (const c of written) if (c === 10) lines++
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(report)?.[1])
    const refused = Number(/Non-2xx or 3xx responses: (\d+)/.exec(report)?.[1] ?? 0)
    return { rps, refused, lines, bytes: written.length }
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (!hasWrk()) throw new Error('this bench needs wrk (apt-get install wrk)')

console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, forged pushes, wrk 32 connections, ${seconds} s, ${rounds} rounds`)
const results = new Map<string, FloodResult[]>(trees.map(([name]) => [name, []]))
for (let round = 1; round <= rounds; round++) {
  for (const [name, tree] of trees) {
    const r = await flood(tree)
    results.get(name)!.push(r)
    console.log(
      `round ${round} ${name.padEnd(10)} ${r.rps.toFixed(0).padStart(6)} req/s, ${r.refused} refused, ${r.lines} stdout lines (${(r.bytes / 1e6).toFixed(1)} MB), ${((1000 * r.lines) / Math.max(1, r.refused)).toFixed(2)} lines per 1000 refusals`,
    )
  }
}
if (values.baseline) {
  const a = results.get('this build')!
  const b = results.get('baseline')!
  console.log(`\nthis build / baseline: req/s ${(median(a.map((r) => r.rps)) / median(b.map((r) => r.rps))).toFixed(2)}, stdout lines ${median(a.map((r) => r.lines))} against ${median(b.map((r) => r.lines))} (medians)`)
}
rmSync(scratch, { recursive: true, force: true })
