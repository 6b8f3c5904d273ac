/**
 * The journal's read side (core/store/sqlite-log-journal.cjs) when two processes recover the same journal at
 * once: only one of them may write its range into the table.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { SCHEMA_MIGRATIONS } from '../../core/store/sqlite-schema.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-journal-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const entry = (msgKey: string) => ({ at: 1, account: 'acct', openId: 'o', kind: 'text', msgKey, handledBy: 'rule', latencyMs: 1, outcome: 'replied' })

describe('message log journal ingest', () => {
  it('a second ingester that read the offset before the first committed writes nothing: no entry twice', async () => {
    const file = path.join(dir, 'race.db')
    const db = new Database(file)
    db.pragma('journal_mode = WAL')
    for (const m of SCHEMA_MIGRATIONS) db.exec(m)
    const journal = path.join(`${file}-msglog`, 'j.jsonl')
    mkdirSync(path.dirname(journal))
    writeFileSync(journal, `${JSON.stringify([entry('a'), entry('b')])}\n`)
    db.prepare("INSERT INTO log_journals (name, pid, committed) VALUES ('j', 1, 0)").run()

    // This connection holds the write lock, so the other ingester reads offset 0 and then waits for the lock.
    db.exec('BEGIN IMMEDIATE')
    const other = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads')
       const Database = require('better-sqlite3')
       const { openJournalIngest } = require(workerData.module)
       const db = new Database(workerData.file)
       db.pragma('busy_timeout = 10000')
       const ingest = openJournalIngest(db)
       parentPort.postMessage('reading')
       const r = ingest.ingest('j', workerData.journal)
       parentPort.postMessage(r)`,
      { eval: true, workerData: { file, journal, module: path.join(import.meta.dirname, '../../core/store/sqlite-log-journal.cjs') } },
    )
    const result = new Promise<{ written: number }>((resolve, reject) => {
      other.on('message', (m) => m !== 'reading' && resolve(m))
      other.on('error', reject)
    })
    await new Promise<void>((resolve) => other.once('message', () => resolve()))
    await new Promise((r) => setTimeout(r, 150))
    // Meanwhile the first ingester does the whole range and moves the offset (what ingest itself does).
    const insert = db.prepare("INSERT INTO message_log (at, account, open_id, kind, msg_key, handled_by, latency_ms, outcome) VALUES (1, 'acct', 'o', 'text', ?, 'rule', 1, 'replied')")
    insert.run('a')
    insert.run('b')
    db.prepare("UPDATE log_journals SET committed = ? WHERE name = 'j'").run(Buffer.byteLength(`${JSON.stringify([entry('a'), entry('b')])}\n`))
    db.exec('COMMIT')
    assert.equal((await result).written, 0)
    await other.terminate()
    assert.deepEqual(db.prepare('SELECT msg_key FROM message_log ORDER BY id').pluck().all(), ['a', 'b'])
    db.close()
  })
})
