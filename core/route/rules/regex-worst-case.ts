/**
 * How long a regex can take, at worst, as a function of the text's length: recheck's automaton checker
 * (makenowjust-labs/recheck, "the trustworthy ReDoS checker") answers linear, polynomial of a degree, or
 * exponential, and which parts of the pattern are to blame. slow-regex.ts turns that into a refusal.
 *
 * Run in-process on recheck's pure JavaScript build, never its default of a helper process (its native
 * binary or the JVM): the same code on every machine, inside the single binary, offline. The automaton
 * checker alone, never the fuzzer, so a verdict does not depend on luck (on the machine's speed only through
 * the bound below); without recheck's "recall" (it would run the regex on its attack string to confirm, on
 * this thread). It cannot read lookarounds or backreferences: those come back `unknown`.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { recheckModule } from './recheck-module.cjs'
import { keepVerdict, readVerdictFile } from './worst-case-file.ts'

export type WorstCase =
  | { kind: 'linear' }
  | { kind: 'polynomial'; degree: number; hot: string[] }
  | { kind: 'exponential'; hot: string[] }
  | { kind: 'unknown'; reason: string }

const PARAMS = {
  checker: 'automaton',
  recallLimit: 0,
  // A regex recheck cannot finish with by then is `unknown` (and loads, as before this check). Most take
  // 10-300 ms; a 200-word alternation before three repetitions ran into recheck's own default, 10 s, at
  // every start. The bound makes that verdict depend on the machine's speed; the refusals do not come near it.
  timeout: 2_000,
} as const

/** recheck's version, pinned in package.json (a test checks they agree): a verdict is its and the parameters'. */
export const RECHECK_VERSION = '4.5.0'
/** What decides a verdict, besides the regex and its flags: the verdicts kept on disk are kept under it. */
const BASIS = `recheck ${RECHECK_VERSION} ${JSON.stringify(PARAMS)}`

/**
 * Verdicts by flags and source: a reload asks again about every regex it reads, and recheck takes 10-300 ms a
 * regex. Bounded, cleared when full. A reload's parse worker is handed them and hands back what it added
 * (read-rules-off-thread.ts), so a reload pays only for regexes it has not seen; and the definite ones are
 * kept on disk between runs (worst-case-file.ts), read on the first question.
 */
const known = new Map<string, WorstCase>()
const KNOWN_MAX = 10_000
let fileRead = false

export type KnownVerdicts = Array<[string, WorstCase]>

export function knownVerdicts(): KnownVerdicts {
  return [...known]
}

export function rememberVerdicts(verdicts: KnownVerdicts): void {
  for (const [key, verdict] of verdicts) remember(key, verdict)
}

function remember(key: string, verdict: WorstCase): void {
  if (known.size >= KNOWN_MAX) known.clear()
  known.set(key, verdict)
}

/**
 * Thrown by worstCaseOf, inside knownVerdictsOnly, for a regex it has no verdict on: asking recheck there would
 * hold the serving thread for 10-300 ms a regex (read-rules-off-thread.ts then parses in its worker instead).
 */
export class VerdictNotKnown extends Error {
  constructor(key: string) {
    super(`no verdict yet on the regex ${JSON.stringify(key)}`)
    this.name = 'VerdictNotKnown'
  }
}

const onlyKnown = new AsyncLocalStorage<true>()

/** Runs `load` so that a regex without a verdict yet throws VerdictNotKnown rather than ask recheck. */
export function knownVerdictsOnly<T>(load: () => Promise<T>): Promise<T> {
  return onlyKnown.run(true, load)
}

export function worstCaseOf(source: string, flags: string): WorstCase {
  if (!fileRead) {
    fileRead = true
    // What this process already knows (handed to a parse worker, say) stays: the file only adds.
    for (const [key, verdict] of readVerdictFile(BASIS)) if (!known.has(key)) known.set(key, verdict)
  }
  const key = `${flags}/${source}`
  let verdict = known.get(key)
  if (verdict === undefined) {
    if (onlyKnown.getStore()) throw new VerdictNotKnown(key)
    verdict = analyse(source, flags)
    remember(key, verdict)
    keepVerdict(BASIS, key, verdict)
  }
  return verdict
}

function analyse(source: string, flags: string): WorstCase {
  const recheck = recheckModule()
  // checkSync picks its backend from this variable on every call; set only for the call (synchronous, so
  // nothing else runs meanwhile) and put back, so nothing else in the process sees it.
  const before = process.env.RECHECK_SYNC_BACKEND
  process.env.RECHECK_SYNC_BACKEND = 'pure'
  let result: ReturnType<typeof recheck.checkSync>
  try {
    result = recheck.checkSync(source, flags, PARAMS)
  } catch (e) {
    // recheck's own failure (its parser overflowed the stack on `^[\s\S]{0,500}(\d+)[\s\S]{0,500}(\d+)[\s\S]*$`):
    // it must not fail the rules load.
    return { kind: 'unknown', reason: `recheck failed: ${(e as Error).message}` }
  } finally {
    if (before === undefined) delete process.env.RECHECK_SYNC_BACKEND
    else process.env.RECHECK_SYNC_BACKEND = before
  }
  if (result.status === 'safe') return { kind: 'linear' }
  if (result.status === 'unknown') {
    const error = result.error
    return { kind: 'unknown', reason: 'message' in error ? `${error.kind}: ${error.message}` : error.kind }
  }
  // The parts recheck marks hot: where the text is taken one way or another. Each quoted once, in order.
  const hot = [...new Set(result.hotspot.filter((h) => h.temperature === 'heat').map((h) => source.slice(h.start, h.end)))]
  return result.complexity.type === 'exponential' ? { kind: 'exponential', hot } : { kind: 'polynomial', degree: result.complexity.degree, hot }
}
