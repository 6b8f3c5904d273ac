/**
 * Child process for the kill -9 test in sqlite-store.test.ts: writes, flushes part of the message log (in the
 * table), makes two more entries durable (journaled, as before an answer, maybe not yet in the table), appends
 * two more, then kills itself before the next event-loop turn can write those.
 */
import { openSqliteStore } from '../../core/store/sqlite-store.ts'

const file = process.argv[2]
const at = Number(process.argv[3])
const store = openSqliteStore({ file, now: () => at })
const entry = (msgKey: string) => ({
  at,
  account: 'acct',
  openId: 'o',
  kind: 'text',
  msgKey,
  handledBy: 'rule',
  rule: 'r',
  latencyMs: 1,
  outcome: 'replied' as const,
})

await store.sessions.put({ account: 'acct', openId: 'o', plugin: 'quiz', state: { q: 7 }, expiresAt: at + 60_000 })
await store.kv.set('plugin:quiz', 'score:o', 42)
await store.dedup.claim('msg-1', 5000)
await store.dedup.complete('msg-1', { status: 200, contentType: 'application/xml', body: '<xml/>' }, 60_000)
store.log.append(entry('flushed-1'))
store.log.append(entry('flushed-2'))
await store.log.flush()
store.log.append(entry('durable-1'))
store.log.append(entry('durable-2'))
await store.log.committed()
store.log.append(entry('buffered-1'))
store.log.append(entry('buffered-2'))
process.kill(process.pid, 'SIGKILL')
