/**
 * The SQLite store's reply cache, copied to disk as it fills, so a kill -9 does not lose it.
 *
 * The cache (reply-cache.ts) is memory, saved into the dedup table at a clean close. Without this copy, a
 * WeChat retry of a message answered just before a crash (the answer lost on the way, systemd starting the
 * engine again within seconds) ran the message a second time. Each answer given is queued here and written
 * with the turn's message-log entries (the store's flushLog), before the engine answers (log.committed()):
 * one append a turn to a file of its own in `<database>-replies/`. When write() returns the answers are in
 * the OS page cache, which survives a kill -9.
 *
 * A file starts with its format line, `wxengine reply journal 1`, then its records. A record is a header line,
 * `<expiresAt> <status> <content type length> <key length> <body length>` (decimal integers, no sign, no
 * leading zero, one space between), then the content type, key and body as they are, then a newline; lengths
 * in UTF-16 units, which reading the file back as UTF-8 keeps (a lone surrogate comes back as U+FFFD, one unit
 * too). Not JSON: escaping every reply took three times as long (0.83 µs an answer against 0.25), on the
 * thread that answers. A reader takes a header only as this writes it, and a file of another format (another
 * format line: an older or newer engine's) not at all: each said in a line. A file of records without the
 * format line is one written before the line was added, and is read.
 *
 * Not in the message log's journal: that one is read back by the log thread, which then had to read and
 * parse every reply too, for nothing (the answers cost 7-8 % of requests a second there, 2-3 % here;
 * BENCHMARKS.md).
 *
 * A file is closed when it is past ROTATE_BYTES or when the first answer in it has expired, and removed once
 * its last one has: the directory holds about two windows of answers (`limits.replyCacheMs` each). A clean
 * close removes every file of this store, the cache being saved in the dedup table then.
 *
 * Recovery (`recover`) is done by a store that holds the data directory's lock (an engine about to serve):
 * every file there is a dead process's then. A store opened beside a running engine (`wxengine log`) leaves
 * them alone: they may be that engine's.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'
import { createLineBudget } from '../log/line-budget.ts'
import type { Logger } from '../log/logger.ts'
import type { StoredReply } from './store.ts'

/** An answer given: the dedup key it answers, the reply's bytes, and until when it is replayed. */
export interface JournaledAnswer {
  key: string
  reply: StoredReply
  expiresAt: number
}

export interface ReplyJournal {
  /** Queues an answer for the next write(). */
  add(answer: JournaledAnswer): void
  /** Whether answers are queued. */
  pending(): boolean
  /**
   * Appends the queued answers (one write). Never throws: a failure is logged (one line per 10 s, the rest
   * counted in a line at the window's end) and the answers are dropped, as they are still in the cache in
   * memory and only a crash would need them. True when they are on disk (or there were none): then the
   * files recover() read answers from are removed, their answers re-added by the caller being in the new one.
   */
  write(): boolean
  /**
   * The answers in the files a dead process left (expired ones included). A file that gave none is removed
   * at once; one that gave some stays until the next write() succeeds, and the caller adds to that write the
   * answers it keeps: a crash (or a failed write) between the two left the answers in neither, and the
   * retry of a message answered before the first crash ran it again after the second.
   */
  recover(): JournaledAnswer[]
  /** Closes the file being written and removes every file of this journal (the cache is saved elsewhere). */
  discard(): void
  /** Closes the file being written, stops the removal timers and leaves the files for the next start. */
  close(): void
}

export interface ReplyJournalOptions {
  /** The directory of the files, `<database>-replies`. */
  dir: string
  /** The store's clock, that of the answers' expiries. */
  now: () => number
  log: Logger
  /** Only a store holding the data directory's lock recovers (see the header). */
  exclusive: boolean
  rotateBytes?: number
}

const ROTATE_BYTES = 8 * 1024 * 1024
/** The first line of every file; its number changes with the format of the records. */
const FORMAT = 1
const FORMAT_PREFIX = 'wxengine reply journal '
const FORMAT_LINE = `${FORMAT_PREFIX}${FORMAT}\n`
/** A record's header as written: five decimal integers (a status of three digits) without sign or leading zero. */
const HEADER = /^(0|[1-9][0-9]*) ([1-5][0-9][0-9]) (0|[1-9][0-9]*) (0|[1-9][0-9]*) (0|[1-9][0-9]*)$/

interface ReplyFile {
  file: string
  fd: number
  size: number
  /** The first answer's expiry: once passed, the next write starts a new file. */
  firstExpiry: number
  /** The last answer's expiry: the file is removed after it. */
  lastExpiry: number
}

export function openReplyJournal(opts: ReplyJournalOptions): ReplyJournal {
  const { dir, now, log } = opts
  const rotateBytes = opts.rotateBytes ?? ROTATE_BYTES
  let queued: JournaledAnswer[] = []
  let current: ReplyFile | null = null
  /** Closed files of this journal waiting for their last answer to expire. */
  const closed = new Map<string, NodeJS.Timeout>()
  // While writes fail (a full disk), one line a turn would flood: one per window, the rest counted.
  const lines = createLineBudget(log, { perKey: 1 })
  /** Files recover() read answers from: removed once a write has the answers (see recover). */
  let recoveredFiles: string[] = []

  function dropRecovered(): void {
    for (const file of recoveredFiles) remove(file)
    recoveredFiles = []
  }

  function open(firstExpiry: number): ReplyFile {
    // Private, as the database is: each line holds replies to users.
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const file = path.join(dir, `${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.jsonl`)
    return { file, fd: openSync(file, 'a', 0o600), size: 0, firstExpiry, lastExpiry: 0 }
  }

  /** Closes the file being written; it goes once its last answer has expired. */
  function rotate(): void {
    if (current === null) return
    const { file, fd, lastExpiry } = current
    current = null
    closeSync(fd)
    const timer = setTimeout(() => {
      closed.delete(file)
      remove(file)
    }, Math.max(0, lastExpiry - now()))
    timer.unref()
    closed.set(file, timer)
  }

  function remove(file: string): void {
    try {
      rmSync(file, { force: true })
    } catch (e) {
      log.warn({ code: 'STORE_UNAVAILABLE', reason: (e as Error).message, file }, 'reply journal file not removed (the next start removes it)')
    }
  }

  return {
    add(answer) {
      queued.push(answer)
    },

    pending: () => queued.length > 0,

    write() {
      if (queued.length === 0) {
        dropRecovered()
        return true
      }
      const answers = queued
      queued = []
      let written = 0
      try {
        if (current !== null && (current.size >= rotateBytes || now() >= current.firstExpiry)) rotate()
        current ??= open(answers[0]!.expiresAt)
        // The format line goes with the file's first records, in the same write (and again with the next
        // try if that write failed whole: the file is still empty then).
        let text = current.size === 0 ? FORMAT_LINE : ''
        let lastExpiry = current.lastExpiry
        for (const { key, reply, expiresAt } of answers) {
          text += `${expiresAt} ${reply.status} ${reply.contentType.length} ${key.length} ${reply.body.length}\n${reply.contentType}${key}${reply.body}\n`
          if (expiresAt > lastExpiry) lastExpiry = expiresAt
        }
        // The string itself to writeSync, encoded on node's native side: a Buffer.from of it first was half
        // of this write's cost in safe mode (encrypted replies are the longest), ~0.8 µs an answer.
        const bytes = Buffer.byteLength(text)
        written = writeSync(current.fd, text)
        if (written !== bytes) throw new Error(`short write (${written} of ${bytes} bytes)`)
        current.size += bytes
        current.lastExpiry = lastExpiry
        dropRecovered()
        return true
      } catch (e) {
        // A record cut short is where reading the file stops: start a new file rather than append after it.
        if (written > 0 && current !== null) rotate()
        lines.error(
          'answers not journaled',
          { code: 'STORE_UNAVAILABLE', reason: (e as Error).message, lost: answers.length },
          'answers not journaled: a retry after a crash would run their messages again (the reply cache in memory still has them)',
        )
        return false
      }
    },

    recover() {
      const found: JournaledAnswer[] = []
      if (!opts.exclusive) return found
      let names: string[]
      try {
        names = readdirSync(dir)
      } catch {
        return found // no directory: nothing was ever journaled
      }
      for (const name of names) {
        if (!name.endsWith('.jsonl')) continue
        const file = path.join(dir, name)
        const before = found.length
        const notWhole = answersIn(file, found)
        // Removed in any case, once what it gave is written again (see recover): read again at every start it
        // would say the same, and its answers are of no use past their window (`limits.replyCacheMs`)
        // anyway. What is lost is said.
        if (notWhole !== null) {
          const fields = { code: 'STORE_UNAVAILABLE', file, reason: notWhole.reason, recovered: found.length - before }
          if (notWhole.cut) log.warn(fields, 'reply journal file cut short by a crash: the answers before the cut are recovered (the one cut was being written, and is given only once written)')
          else log.warn(fields, 'reply journal file not wholly readable; removed: a retry of an answer past what was recovered runs its message again')
        }
        if (found.length > before) recoveredFiles.push(file)
        else remove(file)
      }
      return found
    },

    discard() {
      lines.close()
      dropRecovered()
      const file = current?.file
      if (current !== null) closeSync(current.fd)
      current = null
      if (file !== undefined) remove(file)
      for (const [f, timer] of closed) {
        clearTimeout(timer)
        remove(f)
      }
      closed.clear()
    },

    close() {
      lines.close()
      if (current !== null) closeSync(current.fd)
      current = null
      for (const timer of closed.values()) clearTimeout(timer)
      closed.clear()
    },
  }
}

/** Why a file was not read to its end, and whether that is what a crash leaves (its last write cut short). */
interface NotWhole {
  reason: string
  cut: boolean
}

/**
 * Appends the answers of every whole record of `file` to `out`, up to the first that is cut short or does not
 * read; says why it stopped before the end (null: read whole). A crash leaves at most its last record cut
 * short (a record is written before its answer is given, with log.commitBeforeAnswer, so that one was not
 * given, unless it was one re-journaled at start-up, given by a process before). Anything else is a
 * damaged or foreign file: what it holds past the damage cannot be trusted, and is not read.
 */
function answersIn(file: string, out: JournaledAnswer[]): NotWhole | null {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    return { reason: `not read: ${(e as Error).message}`, cut: false }
  }
  // Empty: a crash between the file's creation and its first write.
  if (text === '') return null
  if (FORMAT_LINE.startsWith(text)) return { reason: 'cut short in its format line (the write the crash interrupted)', cut: true }
  let at = 0
  if (text.startsWith(FORMAT_PREFIX)) {
    const eol = text.indexOf('\n')
    const line = text.slice(0, eol < 0 ? undefined : eol)
    if (`${line}\n` !== FORMAT_LINE) {
      return { reason: `written in format ${JSON.stringify(line.slice(FORMAT_PREFIX.length, FORMAT_PREFIX.length + 40))} (another version of the engine); this engine reads format ${FORMAT}`, cut: false }
    }
    at = FORMAT_LINE.length
  } else if (!/^[0-9]/.test(text)) {
    // Not even a record written before the format line: something else.
    return { reason: `not a reply journal: it starts ${JSON.stringify(text.slice(0, 40))}, not "${FORMAT_LINE.trim()}"`, cut: false }
  }
  for (let record = 1; at < text.length; record++) {
    const eol = text.indexOf('\n', at)
    if (eol < 0) {
      // A header the crash cut short is the start of one as written; anything else is damage.
      if (/^[0-9 ]*$/.test(text.slice(at)) && text.length - at < 100) return { reason: `record ${record} is cut short in its header (the write the crash interrupted)`, cut: true }
      return { reason: `record ${record}: its header ${JSON.stringify(text.slice(at, at + 80))} has no end`, cut: false }
    }
    const header = HEADER.exec(text.slice(at, eol))
    const [expiresAt, status, typeLength, keyLength, bodyLength] = (header ?? []).slice(1).map(Number)
    if (header === null || ![expiresAt, typeLength, keyLength, bodyLength].every((n) => Number.isSafeInteger(n))) {
      return { reason: `record ${record}: its header ${JSON.stringify(text.slice(at, Math.min(eol, at + 80)))} is not "<expiresAt> <status> <content type length> <key length> <body length>" as this engine writes it`, cut: false }
    }
    const typeAt = eol + 1
    const keyAt = typeAt + typeLength!
    const bodyAt = keyAt + keyLength!
    const end = bodyAt + bodyLength!
    if (end >= text.length) return { reason: `record ${record} is cut short (the write the crash interrupted)`, cut: true }
    if (text.charCodeAt(end) !== 10) return { reason: `record ${record} does not end where its header says`, cut: false }
    out.push({ key: text.slice(keyAt, bodyAt), reply: { status: status!, contentType: text.slice(typeAt, keyAt), body: text.slice(bodyAt, end) }, expiresAt: expiresAt! })
    at = end + 1
  }
  return null
}
