/**
 * What a reload costs when only rules/ changed, now that it keeps the plugins' workers, and when one plugin
 * changed, now that it starts that one alone, against a reload that starts them all again (SIGHUP's, and
 * every reload's before), side by side in one run on the example project (its rules and its eight plugins,
 * copied to a temporary folder), rounds alternating:
 *
 *   rules-only  a rules file rewritten, the watcher's reload (plugins kept)
 *   one-plugin  the echo plugin's entry rewritten, the watcher's reload (echo started again, the others kept)
 *   everything  runtime.reload(), as SIGHUP does (every plugin's worker started again)
 *
 * For each: the reload's own time (its line's `ms`), and how long the first message a plugin (echo) answers
 * takes after it (a new worker answers its first call cold). Medians of the rounds, and their ratios.
 *
 *   npx tsx bench/reload-keeps-plugins.bench.ts [--rounds 5]
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadConfig } from '../core/config/load-config.ts'
import { createMemoryLogger } from '../core/log/logger.ts'
import { startRuntime } from '../core/runtime.ts'
import { createWeChatSimulator, push } from '../core/testkit/wechat-simulator.ts'
import { median } from './support/median.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } })
const rounds = Number(values.rounds)
const REPO = fileURLToPath(new URL('..', import.meta.url))

const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-reload-bench-'))
cpSync(path.join(REPO, 'rules'), path.join(dir, 'rules'), { recursive: true })
cpSync(path.join(REPO, 'plugins'), path.join(dir, 'plugins'), { recursive: true })
const extraRules = path.join(dir, 'rules', 'zz-bench.yaml')
writeFileSync(extraRules, 'rules: []\n')
const echoEntry = path.join(dir, 'plugins', 'echo', 'index.ts')
const echoSource = readFileSync(echoEntry, 'utf8')

const loaded = loadConfig({ root: REPO, env: {}, overrides: { rulesDir: path.join(dir, 'rules'), pluginsDir: path.join(dir, 'plugins'), dataDir: path.join(dir, 'data'), watch: true } })
if (!loaded.ok) throw new Error(loaded.error.reason)
const { logger, lines } = createMemoryLogger('info')
const runtime = await startRuntime(loaded.value, { listen: false, log: logger })
const account = loaded.value.accounts.find((a) => a.id === loaded.value.defaultAccount)!
const sim = createWeChatSimulator({ account })

/** The time the echo plugin takes to answer one text, in ms. */
async function pluginAnswerMs(): Promise<number> {
  const req = sim.request(push.text('bench-user', 'echo good morning'))
  const started = performance.now()
  const res = await runtime.engine.handle({ method: 'POST', accountId: account.id, query: req.query, body: req.body })
  const took = performance.now() - started
  if (!res.body.includes('good morning')) throw new Error(`the echo plugin did not answer: ${res.body}`)
  return took
}

const reloadLines = () => lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('reloaded rules'))

async function waitForReload(n: number): Promise<{ ms: number; msg: string }> {
  const deadline = Date.now() + 30_000
  while (reloadLines().length < n) {
    if (Date.now() > deadline) throw new Error('no reload line in 30 s')
    await new Promise((r) => setTimeout(r, 5))
  }
  const line = reloadLines()[n - 1]!
  return { ms: Number(line.ms), msg: String(line.msg) }
}

/** Lets a retired set's workers go before the next reload. */
const settle = () => new Promise((r) => setTimeout(r, Number(process.env.SETTLE_MS ?? 500)))

const pluginCount = runtime.generations.current().plugins.names().length
const samples = { rulesOnly: { reload: [] as number[], first: [] as number[] }, onePlugin: { reload: [] as number[], first: [] as number[] }, everything: { reload: [] as number[], first: [] as number[] } }
try {
  await pluginAnswerMs()
  for (let round = 1; round <= rounds; round++) {
    // rules-only: a rules file rewritten, seen by the watcher.
    let n = reloadLines().length + 1
    writeFileSync(extraRules, `rules: []\n# round ${round}\n`)
    const kept = await waitForReload(n)
    if (!kept.msg.includes('plugins kept running')) throw new Error(`expected the plugins kept: ${kept.msg}`)
    samples.rulesOnly.reload.push(kept.ms)
    samples.rulesOnly.first.push(await pluginAnswerMs())
    // one-plugin: the echo plugin's code rewritten (a comment added), seen by the watcher.
    n = reloadLines().length + 1
    writeFileSync(echoEntry, `${echoSource}\n// round ${round}\n`)
    const one = await waitForReload(n)
    if (!one.msg.includes('started again: echo;')) throw new Error(`expected echo alone started again: ${one.msg}`)
    samples.onePlugin.reload.push(one.ms)
    samples.onePlugin.first.push(await pluginAnswerMs())
    await settle()
    // everything: as SIGHUP.
    n = reloadLines().length + 1
    if (!(await runtime.reload())) throw new Error('the full reload was refused')
    const full = await waitForReload(n)
    samples.everything.reload.push(full.ms)
    samples.everything.first.push(await pluginAnswerMs())
    console.log(`round ${round}: rules-only reload ${kept.ms} ms, first plugin answer ${samples.rulesOnly.first.at(-1)!.toFixed(1)} ms | one-plugin ${one.ms} ms, ${samples.onePlugin.first.at(-1)!.toFixed(1)} ms | everything ${full.ms} ms, ${samples.everything.first.at(-1)!.toFixed(1)} ms`)
    await settle()
  }
} finally {
  await runtime.close()
  rmSync(dir, { recursive: true, force: true })
}

const m = (xs: number[]) => median(xs)
console.log(`\nnode ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${rounds} rounds, plugins: ${pluginCount}`)
const ratio = (x: number[]) => (m(samples.everything.reload) / m(x)).toFixed(1)
console.log(`reload             rules-only ${m(samples.rulesOnly.reload).toFixed(0)} ms (${ratio(samples.rulesOnly.reload)}× shorter)   one-plugin ${m(samples.onePlugin.reload).toFixed(0)} ms (${ratio(samples.onePlugin.reload)}× shorter)   everything ${m(samples.everything.reload).toFixed(0)} ms`)
console.log(`first plugin reply rules-only ${m(samples.rulesOnly.first).toFixed(1)} ms   one-plugin ${m(samples.onePlugin.first).toFixed(1)} ms   everything ${m(samples.everything.first).toFixed(1)} ms`)
