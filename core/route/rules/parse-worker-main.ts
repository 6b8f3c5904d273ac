/**
 * The rules parser's worker program: readRuleFiles for one load, answered once, then the thread ends.
 * Started by read-rules-off-thread.ts (from its bundle: core/binary/worker-program.ts).
 */
import { parentPort, threadId, workerData } from 'node:worker_threads'
import { readRuleFiles } from './load-rule-set.ts'
import type { ParseRequest, ParseAnswer } from './read-rules-off-thread.ts'
import { knownVerdicts, rememberVerdicts } from './regex-worst-case.ts'

const { dir, opts, regexVerdicts } = workerData as ParseRequest
rememberVerdicts(regexVerdicts)
const answer = (a: ParseAnswer) => parentPort!.postMessage(a)
readRuleFiles(dir, opts).then(
  (result) => answer({ ok: true, result, threadId, regexVerdicts: knownVerdicts() }),
  (e: unknown) => answer({ ok: false, reason: e instanceof Error ? e.message : String(e) }),
)
