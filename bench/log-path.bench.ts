/**
 * The costs behind three changes to the per-message bookkeeping, each beside the way it was done before, in
 * the same run (BENCHMARKS.md, "History"):
 *
 *   npx tsx bench/log-path.bench.ts [--entries 1000000]      (about a minute)
 *
 * 1. stdout lines: pino-shaped lines to /dev/null through sonic-boom alone (asynchronous, minLength 4096, as
 *    the logger was) against through LineBatch in front of a synchronous one (as core/log/logger.ts does
 *    now). A turn every 32 lines.
 * 2. message-log ingest: 300k entries in batches of 150 into a fresh file with this version's schema,
 *    against the same with the per-user index (account, open_id, at) that migration 3 dropped.
 *    CPU and wall time an entry (wall includes the checkpoints' fsyncs).
 * 3. a query for one user over --entries log entries, now that it walks the time index.
 * The reply cache, measured here once (a 4th part), has its own bench now: bench/reply-cache.bench.ts.
 * Rounds alternate between a thing and its baseline; medians of 3.
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { LineBatch } from '../core/log/line-batch.ts'
import type { MessageLogEntry } from '../core/store/store.ts'
import { prepareLogBatch } from '../core/store/sqlite-log-batch.cjs'
import { SCHEMA_MIGRATIONS } from '../core/store/sqlite-schema.ts'
import { openSqliteStore } from '../core/store/sqlite-store.ts'
import { median } from './support/median.ts'

const { values } = parseArgs({ options: { entries: { type: 'string', default: '1000000' } } })
const ROUNDS = 3
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'wxengine-log-path-'))

function entry(n: number, users: number): MessageLogEntry {
  return {
    at: 1_764_500_000_000 + n,
    account: 'a',
    openId: `oUser${(n * 7919) % users}abcdefghijklmnop`,
    kind: 'text',
    msgKey: `a:${23456789012345 + n}`,
    handledBy: 'rule',
    rule: 'hello',
    keyword: 'hi',
    replyType: 'text',
    summary: `hi there ${n}`,
    latencyMs: 0.123,
    outcome: 'replied',
  }
}

console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}, medians of ${ROUNDS} alternating rounds\n`)

// --- 1. stdout lines ------------------------------------------------------------------------------
{
  const LINES = 300_000
  const line = `${JSON.stringify({ level: 30, time: 1764543000000, ...entry(1, 1000), msg: 'message' })}\n`
  const direct = pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 })
  const batch = new LineBatch(pino.destination({ dest: '/dev/null', sync: true, minLength: 0 }), 4096) // as the logger
  const run = async (write: (s: string) => void): Promise<number> => {
    const t = process.hrtime.bigint()
    for (let i = 0; i < LINES; i++) {
      write(line)
      if ((i & 31) === 31) await new Promise(setImmediate)
    }
    return Number(process.hrtime.bigint() - t) / LINES
  }
  const a: number[] = []
  const b: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    a.push(await run((s) => direct.write(s)))
    b.push(await run((s) => batch.write(s)))
  }
  const [ma, mb] = [median(a), median(b)]
  console.log(`1. stdout lines (${LINES} of ${line.length} bytes, ns a line): sonic-boom alone ${ma.toFixed(0)}, LineBatch + sonic-boom ${mb.toFixed(0)}: ${(ma / mb).toFixed(1)}x`)
}

// --- 2. message-log ingest ------------------------------------------------------------------------
{
  const TOTAL = 300_000
  const BATCH = 150
  const run = (withUserIndex: boolean): { cpu: number; wall: number } => {
    const dir = tmp()
    const db = new Database(path.join(dir, 'log.db'))
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('wal_autocheckpoint = 1000') // as the log thread
    for (const m of SCHEMA_MIGRATIONS) db.exec(m)
    if (withUserIndex) db.exec('CREATE INDEX message_log_user_at ON message_log (account, open_id, at)')
    const write = prepareLogBatch(db)
    let n = 0
    const batchOf = (): MessageLogEntry[] => Array.from({ length: BATCH }, () => entry(n++, 1000))
    for (let i = 0; i < 30_000 / BATCH; i++) write(batchOf()) // a table that is not empty
    // The thread parses journal lines: the same JSON.parse per batch here.
    const lines = Array.from({ length: TOTAL / BATCH }, () => JSON.stringify(batchOf()))
    const cpu0 = process.cpuUsage()
    const t = process.hrtime.bigint()
    for (const l of lines) write(JSON.parse(l) as MessageLogEntry[])
    const wall = Number(process.hrtime.bigint() - t) / TOTAL
    const used = process.cpuUsage(cpu0)
    db.close()
    rmSync(dir, { recursive: true, force: true })
    return { cpu: ((used.user + used.system) * 1000) / TOTAL, wall }
  }
  const now: Array<{ cpu: number; wall: number }> = []
  const before: Array<{ cpu: number; wall: number }> = []
  for (let r = 0; r < ROUNDS; r++) {
    before.push(run(true))
    now.push(run(false))
  }
  const [bc, bw, nc, nw] = [median(before.map((x) => x.cpu)), median(before.map((x) => x.wall)), median(now.map((x) => x.cpu)), median(now.map((x) => x.wall))]
  console.log(
    `2. log ingest (ns an entry, CPU / wall): with the per-user index ${bc.toFixed(0)} / ${bw.toFixed(0)}, without ${nc.toFixed(0)} / ${nw.toFixed(0)}: ${(bc / nc).toFixed(1)}x CPU, ${(bw / nw).toFixed(1)}x wall`,
  )
}

// --- 3. a query for one user ----------------------------------------------------------------------
{
  const ENTRIES = Number(values.entries)
  const dir = tmp()
  const store = openSqliteStore({ file: path.join(dir, 'store.db') })
  for (let i = 0; i < ENTRIES; i++) store.log.append({ ...entry(i, 5000), openId: `oUser${i % 5000}` })
  await store.log.query({ limit: 1 }) // everything ingested
  const time = async (openId: string): Promise<{ ms: number; rows: number }> => {
    const ms: number[] = []
    let rows = 0
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now()
      rows = (await store.log.query({ account: 'a', openId, limit: 50 })).length
      ms.push(performance.now() - t)
    }
    return { ms: median(ms), rows }
  }
  const absent = await time('nobody')
  const active = await time('oUser42')
  console.log(
    `3. one user's latest 50 over ${ENTRIES} entries: a user with none ${absent.ms.toFixed(0)} ms (${absent.rows} rows), one in 5000 users ${active.ms.toFixed(0)} ms (${active.rows} rows)`,
  )
  await store.close()
  rmSync(dir, { recursive: true, force: true })
}
