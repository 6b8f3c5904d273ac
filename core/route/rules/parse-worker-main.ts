/**
 * The rules parser's worker program: readRuleFiles for one load, answered once, then the thread ends.
 * Started by read-rules-off-thread.ts (from its bundle: core/binary/worker-program.ts).
 */
import { parentPort, threadId, workerData } from 'node:worker_threads'
import { readRuleFiles } from './load-rule-set.ts'
import type { ParseRequest, ParseAnswer } from './read-rules-off-thread.ts'

const { dir, opts } = workerData as ParseRequest
const answer = (a: ParseAnswer) => parentPort!.postMessage(a)
readRuleFiles(dir, opts).then(
  (result) => answer({ ok: true, result, threadId }),
  (e: unknown) => answer({ ok: false, reason: e instanceof Error ? e.message : String(e) }),
)
