/**
 * Requests/s of a text message through the whole engine (HTTP, verify, normalize, dedup, route, reply XML,
 * message log) with 10,000 rules versus 10 rules, side by side in one run. The rules are generated YAML with
 * exact, contains, prefix and regex keywords in equal shares; the message ("hello") matches one inline-reply
 * rule in both sets. Matching cost does not grow with the rule count (docs/rules.md "Cost"), so the ratio
 * should be close to 1.
 *
 * Both engines run at once, each in its own process started through the CLI; the load alternates between
 * them for `rounds` rounds so that drift in the machine's load hits both alike. Reported: each round, the
 * median per engine, and the ratio of medians.
 *
 *   npx tsx bench/rules-e2e.bench.ts [--seconds 5] [--rounds 3] [--connections 32] [--rules 10000]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { buildPool, runLoad, startServer, type LoadResult, type PooledRequest, type RunningServer } from './support/load.ts'
import { median } from './support/median.ts'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    rules: { type: 'string', default: '10000' },
  },
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
const manyRules = Number(values.rules)
const root = path.resolve(import.meta.dirname, '..')
const account = { token: 'plaintoken', appId: 'wxplain000000001', mode: 'plaintext' as const }
const WARMUP = 3000

/** `count` rules cycling through the four keyword kinds; the `hello` rule sits in the middle. */
function generateRules(count: number): string {
  const lines = ['rules:']
  const hello = Math.floor(count / 2)
  for (let i = 0; i < count; i++) {
    if (i === hello) {
      lines.push(`  - { name: hello, keywords: [hello], reply: { type: text, content: Hello } }`)
      continue
    }
    const keyword = [`{ exact: 'kw${i}x' }`, `{ contains: 'zq${i}q' }`, `{ prefix: 'pf${i} ' }`, `{ regex: '^rx${i}-(\\d+)$' }`][i % 4]
    lines.push(`  - { name: r${i}, keywords: [${keyword}], reply: { type: text, content: 'rule ${i}' } }`)
  }
  return lines.join('\n') + '\n'
}

function makeProject(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-rules-bench-'))
  mkdirSync(path.join(dir, 'plugins'))
  for (const [name, count] of [['rules-few', 10], ['rules-many', manyRules]] as const) {
    mkdirSync(path.join(dir, name))
    writeFileSync(path.join(dir, name, 'bench.yaml'), generateRules(count))
  }
  writeFileSync(
    path.join(dir, 'engine.config.ts'),
    `export default ${JSON.stringify({ defaultAccount: 'plain', accounts: [{ id: 'plain', ...account }], log: { level: 'warn' } })}\n`,
  )
  return dir
}

interface Target {
  name: string
  server: RunningServer
  pool: PooledRequest[]
  used: number
  results: LoadResult[]
}

async function measure(t: Target, amount?: number): Promise<LoadResult> {
  // A fresh slice each time: every request has its own MsgId, so dedup never answers from its cache.
  const size = amount ?? t.pool.length - t.used
  const r = await runLoad(t.server.port, t.pool.slice(t.used, t.used + size), amount ? 0 : seconds, connections, amount)
  t.used += r.requests
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`${t.name}: ${r.errors} errors, ${r.non2xx} non-2xx`)
  return r
}

const project = makeProject()
const poolSize = WARMUP + rounds * seconds * 12_000
console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}; ${rounds} rounds of ${seconds} s each, ${connections} connections`)
console.log(`building 2 x ${poolSize} signed pushes...`)
const targets: Target[] = []
try {
  for (const [name, rulesDir] of [[`${manyRules} rules`, 'rules-many'], ['10 rules', 'rules-few']] as const) {
    const started = performance.now()
    const t: Target = { name, server: undefined as unknown as RunningServer, pool: [], used: 0, results: [] }
    t.server = await startServer(
      path.join(root, 'core/cli/main.ts'),
      ['start', '-C', project],
      { RULES_DIR: path.join(project, rulesDir), DATA_DIR: path.join(project, `data-${rulesDir}`), LOG_LEVEL: 'warn' },
      '/healthz',
    )
    console.log(`${name}: engine up in ${Math.round(performance.now() - started)} ms`)
    targets.push(t)
    t.pool = buildPool(account, '/wechat/plain', poolSize)
  }
  // The reply is the inline one in both, or the comparison means nothing.
  for (const t of targets) {
    const probe = t.pool[t.used++]
    const res = await fetch(`http://127.0.0.1:${t.server.port}${probe.path}`, { method: 'POST', body: probe.body })
    const body = await res.text()
    if (!body.includes('<Content><![CDATA[Hello]]></Content>')) throw new Error(`${t.name} answered ${body}`)
  }
  for (const t of targets) await measure(t, WARMUP)
  for (let round = 1; round <= rounds; round++) {
    for (const t of round % 2 === 1 ? targets : [...targets].reverse()) {
      const r = await measure(t)
      t.results.push(r)
      console.log(`round ${round}  ${t.name.padEnd(12)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms`)
    }
  }
} finally {
  await Promise.all(targets.map((t) => t.server.stop()))
  rmSync(project, { recursive: true, force: true })
}

const [many, few] = targets.map((t) => median(t.results.map((r) => r.rps)))
const [manyP99, fewP99] = targets.map((t) => median(t.results.map((r) => r.p99)))
console.log(`
| rules | req/s (median of ${rounds}) | p99 ms (median) |
|---|---|---|
| 10 | ${few.toFixed(0)} | ${fewP99} |
| ${manyRules} | ${many.toFixed(0)} | ${manyP99} |
| ratio ${manyRules} / 10 | ${(many / few).toFixed(2)} | |`)
