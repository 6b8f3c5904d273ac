/**
 * readRuleFiles in a worker thread, so that a reload does not hold every account's answers while YAML is
 * parsed and validated (a 2 MB file, ~15,000 rules, takes 1.4-1.6 s; WeChat waits 5 s for an answer).
 * The compile (Aho-Corasick, ~5-10 % of a load) stays with the caller: the rule set it makes holds functions,
 * which cannot cross threads, while what the worker sends back is plain data. What is left on the serving
 * thread for a 2 MB file is ~0.2 s, against ~1.4 s in-thread (bench/rules-reload-stall.bench.ts).
 *
 * One worker per load, ended when it answers: reloads are rare, and a worker kept between them would hold
 * its parser's memory and need its own care at close. A worker that cannot start, fails or dies costs speed,
 * never the load: the files are then parsed here, with one warn line saying why.
 *
 * Small rules are parsed here outright (IN_THREAD_MAX_BYTES), as long as every regex in them has a verdict
 * already: a worker's load of even 4 KiB takes ~110 ms on these machines (~280 ms when it compiles its 6 MB
 * program from text, with no V8 code cache of it in memory or the cache directory yet:
 * core/binary/code-cached-thread.ts), most of a `wxengine dev` save's reload, for a parse that holds the
 * thread 25-75 ms. A regex never judged
 * would ask recheck here (10-300 ms a regex), so such a load stops at it and goes to the worker after all.
 */
import { stat } from 'node:fs/promises'
import type { Logger } from '../../log/logger.ts'
import { startThread, workerProgram } from '../../binary/worker-program.ts'
import { readRuleFiles, type LoadRuleSetOptions, type ReadRuleFilesResult, type RuleFilesReader } from './load-rule-set.ts'
import { listRuleFiles } from './list-rule-files.ts'
import { knownVerdicts, knownVerdictsOnly, rememberVerdicts, VerdictNotKnown, type KnownVerdicts } from './regex-worst-case.ts'

/** workerData of parse-worker-main.ts. */
export interface ParseRequest {
  dir: string
  opts: LoadRuleSetOptions
  /** What this thread knows of regexes' worst cases, so the worker does not ask recheck again (slow-regex.ts). */
  regexVerdicts: KnownVerdicts
}

export type ParseAnswer = { ok: true; result: ReadRuleFilesResult; threadId: number; regexVerdicts: KnownVerdicts } | { ok: false; reason: string }

/** The worker's program; the binary's start-up embeds it (core/binary/binary-main.ts). */
export const rulesParseProgram = workerProgram({ name: 'rules-parse-worker', main: () => new URL('./parse-worker-main.ts', import.meta.url) })

/**
 * A worker that has not answered by then is ended and the files parsed here. A 2 MB file takes ~1.6 s in a
 * worker; without a bound a worker that hung held its reload, and every reload and the shutdown after it
 * (the watcher waits for a reload in progress before it closes).
 */
export const PARSE_WORKER_TIMEOUT_MS = 60_000

/**
 * Rule files up to this many bytes in all are parsed on the serving thread when their regexes are judged
 * already. 16 KiB (~120 rules of three keywords) held it 30-75 ms, 4 KiB 25-30 ms, against 110-190 ms of a
 * worker's load with the code cache, 280-360 ms without (bench/rules-reload-stall.bench.ts --kib 16).
 * WeChat waits 5 s; reloads are rare.
 */
export const IN_THREAD_MAX_BYTES = 16 * 1024

export interface OffThreadOptions {
  /** PARSE_WORKER_TIMEOUT_MS unless said. */
  timeoutMs?: number
  /** IN_THREAD_MAX_BYTES unless said; 0: always the worker. */
  inThreadMaxBytes?: number
}

/** A reader for loadRuleSet that parses in a worker (small rules here), logging where and how long at debug. */
export function readRulesOffThread(log: Logger, { timeoutMs = PARSE_WORKER_TIMEOUT_MS, inThreadMaxBytes = IN_THREAD_MAX_BYTES }: OffThreadOptions = {}): RuleFilesReader {
  return async (dir, opts) => {
    const started = performance.now()
    if (inThreadMaxBytes > 0 && (await totalAtMost(dir, inThreadMaxBytes))) {
      try {
        const result = await knownVerdictsOnly(() => readRuleFiles(dir, opts))
        log.debug({ ms: Math.round(performance.now() - started) }, 'rules parsed on the serving thread (small, and every regex in them judged already)')
        return result
      } catch (e) {
        if (!(e instanceof VerdictNotKnown)) throw e
        log.debug({ reason: e.message }, 'rules parsed in a worker thread: a regex in them is new (recheck would hold the serving thread)')
      }
    }
    let answer: ParseAnswer
    try {
      answer = await parseInWorker({ dir, opts, regexVerdicts: knownVerdicts() }, timeoutMs)
    } catch (e) {
      answer = { ok: false, reason: (e as Error).message }
    }
    if (!answer.ok) {
      log.warn({ reason: answer.reason }, `rules parsed on the serving thread (answers wait meanwhile): the parse worker failed: ${answer.reason}`)
      return readRuleFiles(dir, opts)
    }
    log.debug({ threadId: answer.threadId, ms: Math.round(performance.now() - started) }, 'rules parsed in a worker thread')
    rememberVerdicts(answer.regexVerdicts)
    // Taking the answer in (structured clone, ~70 ms for 2 MB of rules) and the compile that follows (~100 ms)
    // would be one stall: requests that came meanwhile are let through between the two. One setImmediate is
    // not enough: queued from the poll phase (where the answer arrived) it runs before the loop polls again.
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    return answer.result
  }
}

/** Whether the rule files under dir come to maxBytes at most (a listing that fails is small: it is said at once). */
async function totalAtMost(dir: string, maxBytes: number): Promise<boolean> {
  const listed = await listRuleFiles(dir)
  if ('error' in listed) return true
  let bytes = 0
  for (const file of listed.files) {
    try {
      bytes += (await stat(file.path)).size
    } catch {
      // Gone meanwhile, or unreadable: readRuleFiles says which and why, wherever it runs.
    }
    if (bytes > maxBytes) return false
  }
  return true
}

async function parseInWorker(request: ParseRequest, timeoutMs: number): Promise<ParseAnswer> {
  const entry = await rulesParseProgram.entryAsync()
  // No inherited --import tsx: the bundle needs none, and tsx's file entry registers it itself.
  const worker = startThread(entry, { workerData: request, execArgv: [] })
  let timer: NodeJS.Timeout | undefined
  try {
    return await new Promise<ParseAnswer>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('messageerror', reject)
      worker.once('error', reject)
      worker.once('exit', (code) => reject(new Error(`the worker exited (code ${code}) before it answered`)))
      timer = setTimeout(() => reject(new Error(`the worker did not answer within ${timeoutMs} ms`)), timeoutMs)
    })
  } finally {
    clearTimeout(timer)
    // Not awaited: the answer is in, and the thread's end must not hold the load (nor the process: unref).
    worker.unref()
    void worker.terminate()
  }
}
