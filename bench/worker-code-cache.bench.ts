/**
 * What V8's code cache (core/binary/code-cached-thread.ts) saves a worker thread's start: the rules parser's
 * load of small rules in a worker, three ways, side by side, the kinds alternating round by round:
 *
 *   eval:   the bundle as the worker's eval'd source, compiled from its text (how every worker started before)
 *   first:  through the bootstrap with no cache yet: compiled from its text, and the cache made (a process's
 *           first worker of the program)
 *   cached: through the bootstrap, compiled from the cache the first made (every worker after it)
 *   next:   the first worker of the next run: the cache read from the cache directory, where an earlier
 *           worker kept it (the program's text hashed for the file's name, the file read, then as cached)
 *
 * Each is timed from `new Worker` to its answer, as read-rules-off-thread.ts's parseInWorker waits for it.
 * Then the same for a plugin worker thread (limits.pluginIsolation 'thread'): the example echo plugin's set
 * loaded and its first answer, with the cache emptied before each `first` round, and forgotten (as by a new
 * process) before each `next` one.
 *
 *   npx tsx bench/worker-code-cache.bench.ts [--rounds 7] [--kib 4]
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { CodeCache } from '../core/binary/code-cached-thread.ts'
import { startThread, type WorkerEntry } from '../core/binary/worker-program.ts'
import { createMemoryLogger } from '../core/log/logger.ts'
import { workerEntry } from '../core/plugin/worker-entry.ts'
import { loadRuleSet } from '../core/route/rules/load-rule-set.ts'
import { readRulesOffThread, rulesParseProgram, type ParseAnswer, type ParseRequest } from '../core/route/rules/read-rules-off-thread.ts'
import { knownVerdicts } from '../core/route/rules/regex-worst-case.ts'
import { echoCall, loadEchoAlone } from './support/echo-call.ts'
import { median } from './support/median.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, kib: { type: 'string', default: '4' } } })
const rounds = Number(values.rounds)
const maxBytes = Number(values.kib) * 1024
const ms = (x: number) => `${Math.round(x)} ms`

function generateRules(maxBytes: number): string {
  let text = 'rules:\n'
  for (let i = 0; ; i++) {
    const rule = `  - name: r${i}\n    keywords: [kw${i}a, { contains: 'zq${i}q' }, { regex: '^rx${i}-(\\d+)$' }]\n    reply: { type: text, content: 'rule ${i}' }\n`
    if (Buffer.byteLength(text + rule) > maxBytes) return text
    text += rule
  }
}

/** As a new process has it: nothing in memory, its file not yet looked up. */
function forget(cache: CodeCache): void {
  cache.data = undefined
  cache.file = undefined
}

/** Until the cache that the last `first` made is on disk (it is written after the worker's answer). */
async function keptOnDisk(cache: CodeCache): Promise<void> {
  const file = cache.file
  if (!file) throw new Error('the cache is kept in memory only here (no cache directory?)')
  for (let i = 0; i < 200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 10))
  await new Promise((r) => setTimeout(r, 50))
}

async function timedParse(entry: WorkerEntry, request: ParseRequest): Promise<number> {
  const started = performance.now()
  const worker = startThread(entry, { workerData: request, execArgv: [] })
  const answer = await new Promise<ParseAnswer>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  const took = performance.now() - started
  await worker.terminate()
  if (!answer.ok) throw new Error(`the worker failed: ${answer.reason}`)
  return took
}

function report(title: string, samples: Record<string, number[]>, base: string): void {
  console.log(`\n${title}, medians of ${rounds}:`)
  const baseMs = median(samples[base]!)
  for (const [kind, xs] of Object.entries(samples)) {
    const m = median(xs)
    console.log(`  ${kind.padEnd(7)} ${ms(m).padStart(7)}  (${xs.map((x) => Math.round(x)).join(', ')})${kind === base ? '' : `  ${(baseMs / m).toFixed(2)}x shorter than ${base}`}`)
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-code-cache-'))
try {
  writeFileSync(path.join(dir, 'rules.yaml'), generateRules(maxBytes))
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model}; rules ${values.kib} KiB`)
  const log = createMemoryLogger('info').logger
  // Judges the file's regexes and bundles the program (once a process), neither counted.
  await loadRuleSet(dir, {}, readRulesOffThread(log, { inThreadMaxBytes: 0 }))
  const entry = await rulesParseProgram.entryAsync()
  if (!entry.eval || !entry.codeCache) throw new Error('the rules program is not bundled (no esbuild?): nothing to compare')
  const cache = entry.codeCache
  const request: ParseRequest = { dir, opts: {}, regexVerdicts: knownVerdicts() }
  const kinds: Record<string, () => Promise<number>> = {
    eval: () => timedParse({ source: entry.source, eval: true }, request),
    first: () => {
      cache.data = undefined
      return timedParse(entry, request)
    },
    cached: async () => {
      if (!cache.data) await timedParse(entry, request)
      if (!cache.data) throw new Error('no code cache came back from the first worker')
      return timedParse(entry, request)
    },
    next: async () => {
      await keptOnDisk(cache)
      forget(cache)
      const took = await timedParse(entry, request)
      if (!cache.data) throw new Error('the cache directory held no cache')
      return took
    },
  }
  const rulesSamples: Record<string, number[]> = { eval: [], first: [], cached: [], next: [] }
  for (let round = 0; round < rounds; round++) {
    const order = Object.keys(kinds)
    for (const kind of round % 2 === 0 ? order : order.reverse()) rulesSamples[kind]!.push(await kinds[kind]!())
  }
  console.log(`code cache of the rules parser: ${((cache.data?.byteLength ?? 0) / 1024).toFixed(0)} KiB for a ${(entry.source.length / 1024 / 1024).toFixed(1)} MB bundle`)
  report('a rules parse worker, from its start to its answer', rulesSamples, 'eval')

  const pluginCache = workerEntry()
  if (!pluginCache.eval || !pluginCache.codeCache) throw new Error('the plugin program is not bundled: nothing to compare')
  const startEcho = async (): Promise<number> => {
    const started = performance.now()
    const set = await loadEchoAlone('thread', log)
    const outcome = await set.invoke(echoCall)
    const took = performance.now() - started
    await set.dispose()
    if (outcome.status !== 'reply') throw new Error(`echo did not answer: ${JSON.stringify(outcome)}`)
    return took
  }
  await startEcho()
  const pluginSamples: Record<string, number[]> = { first: [], cached: [], next: [] }
  for (let round = 0; round < rounds; round++) {
    const order = ['first', 'cached', 'next']
    for (const kind of round % 2 === 0 ? order : order.reverse()) {
      if (kind === 'first') pluginCache.codeCache.data = undefined
      else if (!pluginCache.codeCache.data) await startEcho()
      if (kind === 'next') {
        await keptOnDisk(pluginCache.codeCache)
        forget(pluginCache.codeCache)
      }
      pluginSamples[kind]!.push(await startEcho())
    }
  }
  report('a plugin worker thread (echo): its set loaded and its first answer', pluginSamples, 'first')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
