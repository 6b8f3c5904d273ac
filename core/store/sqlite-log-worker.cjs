'use strict'
/**
 * The message-log thread (started by sqlite-log-writer.ts). It owns a second connection to the engine's
 * SQLite file and moves the entries the main thread has journaled into message_log
 * (sqlite-log-journal.cjs), so the inserts, their index updates and the WAL checkpoints they trigger never
 * hold up a request. WAL lets both connections work on the one file; the main thread writes every other table.
 *
 *   in:  { name, file, upTo }  the journal `name` (at path `file`) is written up to `upTo` bytes: ingest it.
 *                              A new name means the previous journal is complete: it is retired.
 *   in:  upTo                  (a number) the same journal as last time, now written up to upTo bytes
 *   in:  { id, sync: true }    -> out: { id } once everything announced before it is in the table,
 *                                 or { id, error } when it is not (it stays in its journal)
 *   in:  { close: true }       ingests what is left, retires the journal, closes the connection and exits
 *   out: { retired: name }     that journal is in the table and gone
 *   out: { skipped: reasons }  entries that can never be written (the main thread logs them)
 *   out: { failed: reason }    an ingest failed (busy, full disk); its lines stay and are retried with the next
 *   out: { fatal: reason }     when the connection cannot be opened; the thread then exits
 *
 * workerData: { file, busyTimeoutMs, walAutocheckpoint, addonFile? }. addonFile is given inside the single
 * binary, where better-sqlite3's addon is not next to its JavaScript.
 */
const { parentPort, workerData } = require('node:worker_threads')
const Database = require('better-sqlite3')
const { createFollower, openJournalIngest } = require('./sqlite-log-journal.cjs')

let db
let journal
try {
  let nativeBinding
  if (workerData.addonFile) {
    const m = { exports: {} }
    process.dlopen(m, workerData.addonFile)
    nativeBinding = m.exports
  }
  db = new Database(workerData.file, nativeBinding ? { nativeBinding } : {})
  db.pragma(`busy_timeout = ${workerData.busyTimeoutMs}`)
  db.pragma('synchronous = NORMAL')
  db.pragma(`wal_autocheckpoint = ${workerData.walAutocheckpoint}`)
  journal = openJournalIngest(db)
} catch (e) {
  // Said in words: an error thrown out of a thread arrives without its message (SQLite's error class).
  parentPort.postMessage({ fatal: `cannot open ${workerData.file}: ${e && e.message ? e.message : String(e)}` })
  process.exit(1)
}

const follower = createFollower(journal)

/** Runs a catch-up and reports what the main thread must know. Returns why something is behind, or null. */
function catchUp(retireAll) {
  const r = follower.catchUp(retireAll)
  if (r.skipped.length > 0) parentPort.postMessage({ skipped: r.skipped })
  for (const name of r.retired) parentPort.postMessage({ retired: name })
  if (r.behind !== null) parentPort.postMessage({ failed: r.behind })
  return r.behind
}

parentPort.on('message', (m) => {
  if (m.close) {
    // A journal that is not all in the table stays, for the next start to recover.
    catchUp(true)
    db.close()
    parentPort.close()
    return
  }
  if (m.sync) {
    const behind = catchUp(false)
    parentPort.postMessage(behind === null ? { id: m.id } : { id: m.id, error: behind })
    return
  }
  if (typeof m === 'number') follower.extend(m)
  else follower.announce(m.name, m.file, m.upTo)
  catchUp(false)
})
