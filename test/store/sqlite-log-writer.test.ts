import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { execFileSync, fork } from 'node:child_process'
import { once } from 'node:events'
import Database from 'better-sqlite3'
import { createLogger } from '../../core/log/logger.ts'
import { SCHEMA_MIGRATIONS } from '../../core/store/sqlite-schema.ts'
import { startLogWriter } from '../../core/store/sqlite-log-writer.ts'
import type { MessageLogEntry } from '../../core/store/store.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-logwriter-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const entry = (msgKey: string, rule?: string): MessageLogEntry => ({
  at: 1_700_000_000_000, account: 'acct', openId: 'o', kind: 'text', msgKey, handledBy: rule ? 'rule' : 'default', rule, latencyMs: 1, outcome: 'replied',
})

function openDb(file: string): Database.Database {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  for (const m of SCHEMA_MIGRATIONS) db.exec(m)
  return db
}

function captureLog() {
  const lines: Array<Record<string, unknown>> = []
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => (lines.push(JSON.parse(s) as Record<string, unknown>), true) } as never })
  return { log, lines }
}

/** A writer on a real database whose thread is pointed at a file that is not one: the thread, once started, dies opening it. */
function writerWithBrokenThread(label: string) {
  const file = path.join(dir, `${label}.db`)
  const db = openDb(file)
  const bogus = path.join(dir, `${label}-not-a-db`)
  writeFileSync(bogus, 'this is not an SQLite file, it is long enough to have a header that fails........')
  const { log, lines } = captureLog()
  const w = startLogWriter({ db, file, log, busyTimeoutMs: 5000, walAutocheckpoint: 1000, threadFile: bogus })
  return { file, db, w, lines }
}

const keys = (db: Database.Database) => db.prepare('SELECT msg_key FROM message_log ORDER BY id').pluck().all()

describe('message log writer', () => {
  it('journals each batch at once; a thread moves them into the table in order, with their rule hits; close retires the journal', async () => {
    const file = path.join(dir, 'thread.db')
    const db = openDb(file)
    const { log } = captureLog()
    const w = startLogWriter({ db, file, log, busyTimeoutMs: 5000, walAutocheckpoint: 1000 })
    assert.equal(w.where, 'thread')
    w.write([entry('a', 'r'), entry('b', 'r')])
    w.write([entry('c', 'r')])
    const journal = readdirSync(`${file}-msglog`)
    assert.equal(journal.length, 1)
    assert.deepEqual(
      readFileSync(path.join(`${file}-msglog`, journal[0]), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as MessageLogEntry[]).map((e) => e.msgKey)),
      [['a', 'b'], ['c']],
      'durable (in the journal, a line a batch) when write() returns',
    )
    await w.ingested()
    assert.deepEqual(keys(db), ['a', 'b', 'c'])
    assert.equal(db.prepare("SELECT hits FROM rule_hits WHERE rule = 'r'").pluck().get(), 3)
    await w.close()
    assert.equal(w.where, 'thread', 'a requested close is not a failure')
    assert.deepEqual(readdirSync(`${file}-msglog`), [])
    assert.deepEqual(db.prepare('SELECT name FROM log_journals').all(), [])
    db.close()
  })

  it('writes on the main connection for an in-memory store', async () => {
    const db = openDb(':memory:')
    const w = startLogWriter({ db, file: null, log: captureLog().log, busyTimeoutMs: 5000, walAutocheckpoint: 1000 })
    assert.equal(w.where, 'main')
    w.write([entry('m')])
    assert.deepEqual(keys(db), ['m'])
    await w.close()
    db.close()
  })

  it('a thread that fails says why, and the main connection takes its journal over: nothing lost, nothing twice', async () => {
    // The thread dies opening its file. The journal sits next to the real one, where the main connection finds it.
    const { file, db, w, lines } = writerWithBrokenThread('takeover')
    w.write([entry('before-failure')])
    await w.ingested()
    assert.equal(w.where, 'main')
    const failure = lines.find((l) => l.msg === 'message log writer thread failed; the main thread writes the log from its journal')
    assert.ok(failure, JSON.stringify(lines))
    assert.equal(failure.code, 'STORE_UNAVAILABLE')
    assert.match(String(failure.reason), /not a database|file is not|exited/, JSON.stringify(failure))
    w.write([entry('after-failure')])
    await w.ingested()
    assert.deepEqual(keys(db), ['before-failure', 'after-failure'])
    await w.close()
    assert.deepEqual(readdirSync(`${file}-msglog`), [])
    db.close()
  })

  it('a table that keeps refusing: the first failure said at once with its reason, the rest of its window in one line with their count, at its end or at close', async () => {
    const file = path.join(dir, 'refusing.db')
    const db = openDb(file)
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON message_log BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    const bogus = path.join(dir, 'refusing-not-a-db')
    writeFileSync(bogus, 'this is not an SQLite file, it is long enough to have a header that fails........')
    const { log, lines } = captureLog()
    const w = startLogWriter({ db, file, log, busyTimeoutMs: 5000, walAutocheckpoint: 1000, threadFile: bogus, failureLineWindowMs: 150 })
    const failed = 'message log not written to the table yet; its entries stay in the journal and are retried'
    const said = () => lines.filter((l) => String(l.msg).endsWith(failed)).map((l) => [l.level, l.code, l.reason ?? null, l.held ?? null, l.lastReason ?? null])
    w.write([entry('a')])
    await assert.rejects(w.ingested(), /disk says no/)
    const tries = () => lines.filter((l) => l.msg === failed).length
    assert.equal(tries(), 1)
    for (let i = 0; i < 3; i++) await assert.rejects(w.ingested(), /disk says no/)
    assert.deepEqual(said(), [[50, 'STORE_UNAVAILABLE', 'disk says no', null, null]], 'one line: the rest are held')
    await new Promise((r) => setTimeout(r, 300))
    assert.deepEqual(said().slice(1), [[50, 'STORE_UNAVAILABLE', null, 3, 'disk says no']], 'said at the window\'s end, with the count')
    // A new window: its first failure is said in full again; what is held at close is said then.
    await assert.rejects(w.ingested(), /disk says no/)
    await assert.rejects(w.ingested(), /disk says no/)
    await w.close()
    assert.deepEqual(said().slice(2), [[50, 'STORE_UNAVAILABLE', 'disk says no', null, null], [50, 'STORE_UNAVAILABLE', null, 2, 'disk says no']], JSON.stringify(lines))
    assert.ok(lines.every((l) => !('suppressed' in l)))
    db.close()
  })

  it('starts no thread and writes no journal until the first write (a store opened to read never does)', async () => {
    // A started thread would fail opening its file and say so.
    const { file, db, w, lines } = writerWithBrokenThread('idle')
    await w.ingested()
    await new Promise((r) => setTimeout(r, 200))
    await w.close()
    assert.deepEqual(lines, [])
    assert.equal(existsSync(`${file}-msglog`), false)
    db.close()
  })

  it('a short write (the file size cap reached) is cut back off: the journal keeps whole lines only, the batch is rejected', async () => {
    const caseDir = mkdtempSync(path.join(dir, 'capped-'))
    writeFileSync(path.join(caseDir, 'not-a-db'), 'not a database, long enough to fail the header check..................')
    const child = fork(path.join(import.meta.dirname, 'journal-short-write-child.ts'), [caseDir], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    })
    let out = ''
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    await once(child, 'message')
    // Files this process writes may not grow past 4 KiB from now on: the journal's write that crosses it
    // comes back short, as on a full disk.
    execFileSync('prlimit', ['--pid', String(child.pid), '--fsize=4096:4096'])
    child.send('go')
    const [code] = (await once(child, 'exit')) as [number | null]
    assert.equal(code, 0)
    const { outcomes, keys: written } = JSON.parse(out) as { outcomes: string[]; keys: string[] }
    const ok = outcomes.filter((o) => o === 'ok').length
    assert.ok(ok >= 3 && ok < 12, JSON.stringify(outcomes))
    assert.deepEqual(outcomes.slice(0, ok), Array(ok).fill('ok'), 'the batches before the cap went in')
    for (const o of outcomes.slice(ok)) assert.match(o, /short write|EFBIG|too large/i)
    // Every journaled batch, and only those, reached the table.
    assert.deepEqual(written, Array.from({ length: ok }, (_, i) => [`b${i}-0`, `b${i}-1`, `b${i}-2`]).flat())
    const journalDir = path.join(caseDir, 'capped.db-msglog')
    const [journal] = readdirSync(journalDir)
    const text = readFileSync(path.join(journalDir, journal), 'utf8')
    assert.ok(text.endsWith('\n'), 'no half line left at the end')
    assert.equal(text.split('\n').filter(Boolean).length, ok)
  })

  it('a batch that cannot be journaled is rejected with the reason; the batches around it are kept', async () => {
    const file = path.join(dir, 'circular.db')
    const db = openDb(file)
    const w = startLogWriter({ db, file, log: captureLog().log, busyTimeoutMs: 5000, walAutocheckpoint: 1000 })
    w.write([entry('ok-1')])
    const circular: Record<string, unknown> = { ...entry('bad') }
    circular.self = circular
    assert.throws(() => w.write([entry('ok-2'), circular as never]), /circular/)
    w.write([entry('ok-3')])
    await w.ingested()
    assert.deepEqual(keys(db), ['ok-1', 'ok-3'])
    await w.close()
    db.close()
  })
})
