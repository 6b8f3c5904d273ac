'use strict'
/**
 * The message log's journal, read side: moves entries from journal files into the message_log table.
 *
 * The main thread appends each turn's entries to a journal file (one line, a JSON array, one write()) and
 * answers once the write returns: the entries are then in the OS page cache and survive a kill -9, which is
 * what issue #4 asks of an answered message, without waiting for SQLite. Whoever ingests (the log thread,
 * or the main connection when there is no thread) copies the new lines into message_log and records, in the
 * same transaction, how far the file is done (log_journals.committed). So a line is in the table or past
 * its file's committed offset, never both, never neither, whenever the process dies.
 *
 * A journal a process left behind (it crashed) is recovered by the next store opened on the file: its lines
 * past the offset are ingested, then the file is retired (row deleted, file removed).
 *
 * Plain CommonJS, like sqlite-log-batch.cjs: the log thread runs it with no TypeScript loader.
 */
const fs = require('node:fs')
const path = require('node:path')
const { prepareLogBatch } = require('./sqlite-log-batch.cjs')

/** SQLite errors that say the entry itself is wrong (a bug of ours): retrying it can never succeed. */
const ENTRY_ERRORS = new Set(['SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_CONSTRAINT_CHECK', 'SQLITE_MISMATCH', 'SQLITE_CONSTRAINT_DATATYPE'])
/**
 * A failure of one entry, not of the database: SQLite refused it as malformed, or better-sqlite3 could not
 * bind it (a TypeError for a field holding an object, a RangeError for a missing one). Only a corrupted
 * journal holds such an entry; taken for a database failure, it rolled its whole range back at every start.
 * A database failure (SqliteError: busy, full, I/O) still rolls back, for a later try.
 */
const isEntryError = (e) => e instanceof TypeError || e instanceof RangeError || ENTRY_ERRORS.has(e && e.code)

/**
 * How a skipped reason starts when its journal was removed under the engine: a loss from outside, not an
 * entry of ours SQLite refused, so the writer logs it as the store's failure rather than a bug.
 */
const JOURNAL_REMOVED = 'journal removed while in use: '

/** @param {import('better-sqlite3').Database} db */
function openJournalIngest(db) {
  const writeBatch = prepareLogBatch(db)
  const committedOf = db.prepare('SELECT committed FROM log_journals WHERE name = ?').pluck()
  const setCommitted = db.prepare('UPDATE log_journals SET committed = ? WHERE name = ?')
  const remove = db.prepare('DELETE FROM log_journals WHERE name = ?')
  const all = db.prepare('SELECT name, pid FROM log_journals')

  /**
   * One transaction: the entries of [from, to) and the new offset. Taken IMMEDIATE and the offset read again
   * inside it, so when two processes recover the same file only the first writes the range (the second finds
   * the offset moved and writes nothing). An entry SQLite refuses as malformed is skipped (reported); any
   * other failure rolls the whole range back for a later try. Returns false when the offset had moved.
   */
  const ingestRange = db.transaction((name, from, entries, to, skipped) => {
    if (committedOf.get(name) !== from) return false
    try {
      writeBatch(entries)
    } catch (e) {
      if (!isEntryError(e)) throw e
      // Entry by entry (each its own savepoint), to keep every entry but the bad ones.
      for (const entry of entries) {
        try {
          writeBatch([entry])
        } catch (e2) {
          if (!isEntryError(e2)) throw e2
          skipped.push(`${entry && entry.msgKey}: ${e2.message}`)
        }
      }
    }
    setCommitted.run(to, name)
    return true
  })

  /**
   * Ingests the complete lines of `file` past its committed offset, up to `upTo` bytes (its whole length
   * when undefined). Returns { done: offset reached, written: rows added, skipped: reasons of entries left
   * out }. Throws when SQLite cannot take them now (busy, full disk): they stay in the file for the next call.
   */
  function ingest(name, file, upTo) {
    const from = committedOf.get(name)
    // Retired already (by another catch-up): nothing of it is left to do.
    if (from === undefined) return { done: Number.MAX_SAFE_INTEGER, written: 0, skipped: [] }
    const end = upTo === undefined ? fileSize(file) : upTo
    if (end <= from) return { done: from, written: 0, skipped: [] }
    let bytes
    try {
      bytes = readRange(file, from, end)
    } catch (e) {
      if (e.code !== 'ENOENT') throw e
      // Removed under us (the journal directory deleted while the engine runs): nothing past `from` can ever
      // be read. Said once and forgotten (the row too, so later catch-ups find it retired): retried, it failed
      // every catch-up for as long as the engine ran, saying its entries "stay in the journal".
      remove.run(name)
      return { done: Number.MAX_SAFE_INTEGER, written: 0, skipped: [`${JOURNAL_REMOVED}${name}: its entries from byte ${from} on are lost`] }
    }
    // Only whole lines: a line without its newline was never acknowledged (its write did not finish).
    const last = bytes.lastIndexOf(10)
    if (last < 0) return { done: from, written: 0, skipped: [] }
    const skipped = []
    const entries = []
    for (const line of bytes.toString('utf8', 0, last).split('\n')) {
      if (line === '') continue
      try {
        // A line is one batch: an array of entries.
        const batch = JSON.parse(line)
        if (!Array.isArray(batch)) skipped.push('unreadable line: not an array of entries')
        else for (const e of batch) {
          if (e !== null && typeof e === 'object' && !Array.isArray(e)) entries.push(e)
          else skipped.push(`unreadable entry: ${JSON.stringify(e).slice(0, 40)}`)
        }
      } catch (e) {
        skipped.push(`unreadable line: ${e.message}`)
      }
    }
    const to = from + last + 1
    const unreadable = skipped.length
    if (!ingestRange.immediate(name, from, entries, to, skipped)) {
      // Someone else ingested (or retired) it meanwhile: start again from where they left it, next call.
      return { done: committedOf.get(name) ?? Number.MAX_SAFE_INTEGER, written: 0, skipped: [] }
    }
    return { done: to, written: entries.length - (skipped.length - unreadable), skipped }
  }

  /** Forgets a journal that is ingested: its row, then its file (a file without a row is removed on recovery). */
  function retire(name, file) {
    remove.run(name)
    fs.rmSync(file, { force: true })
  }

  /**
   * Ingests and retires every journal of `dir` whose writer is gone (`isLive(name, pid)` false), and removes
   * files no row names (retired, their removal interrupted). Returns what it did, for the log.
   */
  function recover(dir, isLive) {
    const report = { journals: 0, entries: 0, skipped: [] }
    // Files first, rows second: a writer registers its row before it creates the file, so every file listed
    // here that is still in use has a row the query below sees. (The other order could take a journal
    // created in between for an orphan and remove it from under its writer.)
    let files = []
    try {
      files = fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl'))
    } catch {
      // No journal directory yet.
    }
    const named = new Set()
    for (const row of all.all()) {
      named.add(row.name)
      if (isLive(row.name, row.pid)) continue
      const file = path.join(dir, `${row.name}.jsonl`)
      const r = ingest(row.name, file)
      report.entries += r.written
      report.skipped.push(...r.skipped)
      retire(row.name, file)
      report.journals++
    }
    for (const f of files) if (!named.has(f.slice(0, -6))) fs.rmSync(path.join(dir, f), { force: true })
    return report
  }

  return { ingest, retire, recover }
}

/**
 * Keeps the table caught up with a writer's journals, in order: the log thread's loop, and the main
 * connection's when there is no thread. announce() says how far a journal is written (a new name means the
 * one before is complete); catchUp() ingests everything announced and retires the complete journals that
 * are all in the table (every journal, with retireAll, at close).
 * @param {ReturnType<typeof openJournalIngest>} journal
 */
function createFollower(journal) {
  const journals = [] // oldest first; the last is the one still being written

  function announce(name, file, upTo) {
    const last = journals[journals.length - 1]
    if (last && last.name === name) last.upTo = upTo
    else journals.push({ name, file, upTo })
  }

  /** The journal announced last is now written up to `upTo`. */
  function extend(upTo) {
    journals[journals.length - 1].upTo = upTo
  }

  /** Drops a journal retired elsewhere (by the log thread, when this follower is the main thread's record). */
  function forget(name) {
    const i = journals.findIndex((j) => j.name === name)
    if (i >= 0) journals.splice(i, 1)
  }

  /** Names of the journals announced and not yet retired. */
  function pending() {
    return journals.map((j) => j.name)
  }

  /** Returns { behind: why something announced is not in the table yet (null when all is), skipped, retired }. */
  function catchUp(retireAll) {
    const out = { behind: null, skipped: [], retired: [] }
    for (let i = 0; i < journals.length; i++) {
      const j = journals[i]
      try {
        const r = journal.ingest(j.name, j.file, j.upTo)
        out.skipped.push(...r.skipped)
        if (r.done < j.upTo) {
          out.behind ??= `journal ${j.name} ingested to ${r.done} of ${j.upTo} bytes`
          continue
        }
        if (i === journals.length - 1 && !retireAll) continue
        journal.retire(j.name, j.file)
        out.retired.push(j.name)
        journals.splice(i--, 1)
      } catch (e) {
        out.behind = e instanceof Error ? e.message : String(e)
      }
    }
    return out
  }

  return { announce, extend, forget, pending, catchUp }
}

function fileSize(file) {
  try {
    return fs.statSync(file).size
  } catch {
    return 0 // never created (the writer died between registering and writing)
  }
}

function readRange(file, from, to) {
  const fd = fs.openSync(file, 'r')
  try {
    const buf = Buffer.allocUnsafe(to - from)
    let got = 0
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, from + got)
      if (n === 0) break
      got += n
    }
    return buf.subarray(0, got)
  } finally {
    fs.closeSync(fd)
  }
}

module.exports = { openJournalIngest, createFollower, JOURNAL_REMOVED }
