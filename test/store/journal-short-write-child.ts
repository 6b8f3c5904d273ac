/**
 * Child process for the short-write test in sqlite-log-writer.test.ts. Opens a log writer whose table is an
 * in-memory database (so the only file it writes is the journal), tells the parent its pid, and waits: the
 * parent caps this process's file size (prlimit --fsize) and says go. Then it writes batches until the
 * journal hits the cap, and reports what happened as one JSON line on stdout.
 */
import path from 'node:path'
import Database from 'better-sqlite3'
import { createLogger } from '../../core/log/logger.ts'
import { SCHEMA_MIGRATIONS } from '../../core/store/sqlite-schema.ts'
import { startLogWriter } from '../../core/store/sqlite-log-writer.ts'

const dir = process.argv[2]
const db = new Database(':memory:')
for (const m of SCHEMA_MIGRATIONS) db.exec(m)
// The thread is pointed at a file that is not a database, so the main connection ingests (the thread
// would write the real file, which the cap would also stop).
const w = startLogWriter({
  db,
  file: path.join(dir, 'capped.db'),
  threadFile: path.join(dir, 'not-a-db'),
  log: createLogger({ level: 'silent' }),
  busyTimeoutMs: 5000,
  walAutocheckpoint: 1000,
})
process.send!('ready')
await new Promise<void>((resolve) => process.once('message', () => resolve()))

const outcomes: string[] = []
for (let i = 0; i < 12; i++) {
  // About 700 bytes a batch: the 4 KiB cap falls inside the sixth.
  const batch = Array.from({ length: 3 }, (_, j) => ({
    at: 1_700_000_000_000, account: 'acct', openId: 'o', kind: 'text', msgKey: `b${i}-${j}`, handledBy: 'rule' as const,
    summary: 'x'.repeat(150), latencyMs: 1, outcome: 'replied' as const,
  }))
  try {
    w.write(batch)
    outcomes.push('ok')
  } catch (e) {
    outcomes.push((e as Error).message)
  }
}
await w.ingested().catch(() => undefined)
const keys = db.prepare('SELECT msg_key FROM message_log ORDER BY id').pluck().all()
process.stdout.write(`${JSON.stringify({ outcomes, keys })}\n`)
process.exit(0)
