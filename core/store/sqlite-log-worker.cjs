'use strict'
/**
 * The message-log writer thread (started by sqlite-log-writer.ts). It owns a second connection to the
 * engine's SQLite file and writes the log batches the main thread posts, so the inserts, their index
 * updates and the WAL checkpoints they trigger never hold up a request. WAL lets both connections work on
 * the one file; the main thread writes every other table.
 *
 *   in:  { id, batch }          -> out: { id } once committed, or { id, error } when the write failed
 *   in:  { close: true }        -> closes the connection and exits (batches posted before it are written)
 *   out: { fatal: reason }      when the connection cannot be opened; the thread then exits
 *
 * workerData: { file, busyTimeoutMs, walAutocheckpoint, addonFile? }. addonFile is given inside the single
 * binary, where better-sqlite3's addon is not next to its JavaScript.
 */
const { parentPort, workerData } = require('node:worker_threads')
const Database = require('better-sqlite3')
const { prepareLogBatch } = require('./sqlite-log-batch.cjs')

let db
let writeBatch
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
  writeBatch = prepareLogBatch(db)
} catch (e) {
  // Said in words: an error thrown out of a thread arrives without its message (SQLite's error class).
  parentPort.postMessage({ fatal: `cannot open ${workerData.file}: ${e && e.message ? e.message : String(e)}` })
  process.exit(1)
}

parentPort.on('message', (m) => {
  if (m.close) {
    db.close()
    parentPort.close()
    return
  }
  try {
    writeBatch(m.batch)
    parentPort.postMessage({ id: m.id })
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) })
  }
})
