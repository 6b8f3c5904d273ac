/**
 * Where the SQLite store's message log goes. For a database file, in two steps:
 *
 * 1. durable: each batch is appended to a journal file next to the database (`<file>-msglog/<name>.jsonl`)
 *    as one line, a JSON array of its entries, with one write() on the calling thread. When write() returns the
 *    entries survive a kill -9 (they are in the OS page cache), which is what the engine waits for before answering.
 * 2. in the table: a worker thread with its own connection (sqlite-log-worker.cjs) moves journaled lines
 *    into message_log (sqlite-log-journal.cjs). A log row costs ~4 µs of inserts, index updates and WAL
 *    checkpoints, and none of that, nor waiting for it, holds up a request.
 *
 * The main thread's own connection does step 2 instead when the thread cannot start and from the moment it
 * fails: it takes over the journals where the thread left them, so a failed thread costs speed, never
 * entries. A journal left by a process that died is recovered when the next store opens on the file.
 * `:memory:` has no journal: batches are written straight into the table.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import type Database from 'better-sqlite3'
import { createLineBudget } from '../log/line-budget.ts'
import type { Logger } from '../log/logger.ts'
import { prepareLogBatch } from './sqlite-log-batch.cjs'
import { heldByAnotherProcess, holdsDataDirLock } from './data-dir-lock.ts'
import { processStartedAt } from './process-start-time.ts'
import { createFollower, JOURNAL_REMOVED, openJournalIngest } from './sqlite-log-journal.cjs'
import type { MessageLogEntry } from './store.ts'

export interface LogWriter {
  /** Makes the batch durable (journaled, or committed for `:memory:`) before it returns; throws the reason when not. */
  write(batch: MessageLogEntry[]): void
  /** Resolves once everything written so far is in message_log (queries see it); rejects with why not. */
  ingested(): Promise<void>
  /** Brings the table up to date, retires the journals and stops the thread; the main connection stays the caller's. */
  close(): Promise<void>
  /** Who moves journaled entries into the table now. */
  readonly where: 'thread' | 'main'
  /**
   * Whether the journal being appended to was removed (its directory deleted under the running engine); if so
   * the next write starts a new one. Without it every entry went to the removed file, never to the table,
   * until the journal rotated at 8 MiB, with nothing said.
   */
  journalRemoved(): boolean
}

export interface LogWriterOptions {
  /** The main thread's connection: recovery, the fallback, and `:memory:`. */
  db: Database.Database
  /** The database file; null for `:memory:`. */
  file: string | null
  log: Logger
  busyTimeoutMs: number
  walAutocheckpoint: number
  /** A journal is closed and a new one started past this size (the old one is retired once ingested). */
  journalRotateBytes?: number
  /** The file the thread opens, when not `file`: tests point it at a broken one to make the thread fail. */
  threadFile?: string
  /** The window of the ingest-failure lines' budget (default 10 s; tests use a short one). */
  failureLineWindowMs?: number
}

const JOURNAL_ROTATE_BYTES = 8 * 1024 * 1024
/** How often, at most, the thread is told that the journal grew. */
const ANNOUNCE_EVERY_MS = 10
const ANNOUNCE_AT_BYTES = 64 * 1024
/** At most one "ingest failed" line per this many ms while the table cannot be written (a full disk would flood). */
const FAILURE_LINE_WINDOW_MS = 10_000

/** Set by the single binary's start-up: the bundled worker program and the path of the extracted addon. */
let embedded: { source: string; addonFile: () => string } | undefined

export function useEmbeddedLogWorker(source: string, addonFile: () => string): void {
  embedded = { source, addonFile }
}

/** A journal file this writer appends to, and how many bytes it holds. */
interface Journal {
  name: string
  file: string
  fd: number
  size: number
}

/** Journals being written by stores open in this process: recovery on another store must leave them alone. */
const liveJournals = new Set<string>()

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Holding the data directory's lock, every journal but ours is a dead engine's: its pid may still exist, a
 * crashed engine not yet reaped (a zombie) or an unrelated process that reused the pid, and its entries then
 * waited for the start after next (a chaos review). A store opened without the lock (`wxengine log` beside
 * a serving engine) leaves every journal alone while another process holds the lock: the engine's pid may be
 * from another PID namespace (a container), where it names no process here, or ours. With the lock free, our
 * own pid on a journal we are not writing is an earlier run of ours (a container restarts as pid 1), and
 * another pid is asked whether it is alive (an engine that has not taken the lock yet, a `send --local`)
 * and, where the system says, whether it started before the journal was made: a process that started after
 * it is not its writer but one given the dead writer's pid, which kept `wxengine log` from the crashed
 * engine's last answers for as long as that process lived.
 */
function journalIsLive(name: string, pid: number, exclusive: boolean, heldElsewhere: () => boolean): boolean {
  if (liveJournals.has(name)) return true
  if (exclusive) return false
  return heldElsewhere() || (pid !== process.pid && processAlive(pid) && !startedAfter(pid, journalMadeAt(name)))
}

/**
 * How much later than the journal a process must have started to be taken for another one: the wall clock
 * may have been stepped since (NTP), which moves every start time /proc gives, and a writer taken for a
 * stranger would have its journal read from under it. A pid given again within a minute is rare.
 */
const CLOCK_STEP_SLACK_MS = 60_000

/** Whether the process `pid` surely started after `madeAt` (undefined: not known, so not). */
function startedAfter(pid: number, madeAt: number | undefined): boolean {
  if (madeAt === undefined) return false
  const started = processStartedAt(pid)
  return started !== undefined && started > madeAt + CLOCK_STEP_SLACK_MS
}

/** When a journal was made, from its name (`<pid>-<epoch ms, base 36>-<random>`, openJournal); undefined for another name. */
function journalMadeAt(name: string): number | undefined {
  const m = /^\d+-([0-9a-z]+)-[0-9a-f]+$/.exec(name)
  const at = m ? parseInt(m[1], 36) : NaN
  return Number.isSafeInteger(at) && at > 0 ? at : undefined
}

export function startLogWriter(opts: LogWriterOptions): LogWriter {
  const { db, log } = opts
  if (opts.file === null) {
    const writeOnMain = prepareLogBatch(db)
    return {
      where: 'main',
      write: writeOnMain,
      ingested: () => Promise.resolve(),
      close: async () => undefined,
      journalRemoved: () => false,
    }
  }
  const dir = `${opts.file}-msglog`
  const rotateBytes = opts.journalRotateBytes ?? JOURNAL_ROTATE_BYTES
  const ingest = openJournalIngest(db)

  // Recovery at open, before anything is written: a journal a crashed process left is in the table before
  // the engine (or `wxengine log` after the crash) reads it.
  try {
    const dataDir = path.dirname(opts.file)
    const exclusive = holdsDataDirLock(dataDir)
    // Asked once, and only when there is a journal to judge (most opens find none).
    let held: boolean | undefined
    const heldElsewhere = () => (held ??= heldByAnotherProcess(dataDir))
    const r = ingest.recover(dir, (name, pid) => journalIsLive(name, pid, exclusive, heldElsewhere))
    if (r.journals > 0) log.warn({ journals: r.journals, entries: r.entries }, 'message log recovered from journals left by a stopped process')
    reportSkipped(r.skipped)
  } catch (e) {
    log.error({ code: 'STORE_UNAVAILABLE', reason: (e as Error).message }, 'message log journals not recovered (retried at the next start)')
  }

  /** The journal being appended to. Opened by the first write: a store opened only to read never writes one. */
  let current: Journal | null = null
  /** The journal the thread was last told about. */
  let announced: Journal | null = null
  let announcedUpTo = 0
  /** A journal whose length the thread is yet to hear, and the timer that will tell it. */
  let toAnnounce: Journal | null = null
  let announceTimer: NodeJS.Timeout | null = null
  /**
   * Every journal not yet retired, oldest first, with how far each is written. The main connection catches
   * up through it when there is no thread, and takes over from it when the thread fails; while the thread
   * works it is only the record (the thread's own follower does the ingesting, and reports retirements).
   */
  const follower = createFollower(ingest)
  let where: 'thread' | 'main' = 'thread'
  let closing = false
  let worker: Worker | null = null
  let exited: Promise<void> = Promise.resolve()
  const syncs = new Map<number, { resolve: () => void; reject: (e: Error) => void }>()
  let nextSync = 1
  // While the table cannot be written (a full disk), every try fails: one line a window, the rest counted in
  // a line at the window's end (log/line-budget.ts).
  const lines = createLineBudget(log, { perKey: 1, windowMs: opts.failureLineWindowMs ?? FAILURE_LINE_WINDOW_MS })

  function reportSkipped(reasons: string[]): void {
    for (const reason of reasons) {
      if (reason.startsWith(JOURNAL_REMOVED)) log.error({ code: 'STORE_UNAVAILABLE', reason }, 'message log entries lost: their journal was removed while the engine runs')
      else log.error({ code: 'INTERNAL', reason }, 'message log entry cannot be written; skipped')
    }
  }

  function reportFailure(reason: string): void {
    lines.error('not ingested', { code: 'STORE_UNAVAILABLE', reason }, 'message log not written to the table yet; its entries stay in the journal and are retried')
  }

  /** The main connection's catch-up (no thread). */
  function catchUpOnMain(retireAll: boolean): string | null {
    const r = follower.catchUp(retireAll)
    reportSkipped(r.skipped)
    for (const name of r.retired) liveJournals.delete(name)
    if (r.behind !== null) reportFailure(r.behind)
    return r.behind
  }

  /** The thread is gone: the main connection takes over from wherever the thread got to. */
  function fail(reason: string): void {
    if (where === 'main') return
    where = 'main'
    log.error({ code: 'STORE_UNAVAILABLE', reason }, 'message log writer thread failed; the main thread writes the log from its journal')
    const behind = closing ? null : catchUpOnMain(false)
    for (const s of syncs.values()) (behind === null ? s.resolve() : s.reject(new Error(behind)))
    syncs.clear()
  }

  function startThread(): Worker | null {
    let w: Worker
    try {
      const workerData = {
        file: opts.threadFile ?? opts.file,
        busyTimeoutMs: opts.busyTimeoutMs,
        walAutocheckpoint: opts.walAutocheckpoint,
        addonFile: embedded?.addonFile(),
      }
      // execArgv [], not the parent's: the program is plain CommonJS and needs no `--import tsx` start-up.
      w = embedded
        ? new Worker(embedded.source, { eval: true, workerData, execArgv: [] })
        : new Worker(new URL('./sqlite-log-worker.cjs', import.meta.url), { workerData, execArgv: [] })
    } catch (e) {
      fail(`did not start: ${(e as Error).message}`)
      return null
    }
    // Not keeping the process alive by itself: the journal already holds what matters, and close() asks for it.
    w.unref()
    exited = new Promise((resolve) => w.once('exit', () => resolve()))
    w.on('message', (m: { id?: number; error?: string; fatal?: string; retired?: string; skipped?: string[]; failed?: string }) => {
      if (m.fatal !== undefined) return fail(m.fatal)
      if (m.retired !== undefined) {
        follower.forget(m.retired)
        liveJournals.delete(m.retired)
        return
      }
      if (m.skipped !== undefined) return reportSkipped(m.skipped)
      if (m.failed !== undefined) return reportFailure(m.failed)
      if (m.id === undefined) return
      const s = syncs.get(m.id)
      if (!s) return
      syncs.delete(m.id)
      if (syncs.size === 0 && !closing) w.unref()
      if (m.error === undefined) s.resolve()
      else s.reject(new Error(m.error))
    })
    // An uncaught error in the thread ends it: 'error', then 'exit'. (SQLite's own error class arrives
    // without its message through the thread boundary: keep what there is.)
    w.on('error', (e: unknown) => fail((e as Error | undefined)?.message ?? describe(e)))
    w.on('exit', (code) => {
      if (!closing) fail(`exited with code ${code}`)
    })
    return w
  }

  function openJournal(): Journal {
    // Private, as the database is (sqlite-store.ts, createPrivate): each line is a user's message.
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    // The time is read back by journalMadeAt: a journal whose pid a later process took is not that process's.
    const name = `${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
    // The row first: a file nobody registered is taken for a retired one and removed by recovery.
    db.prepare('INSERT INTO log_journals (name, pid, committed) VALUES (?, ?, 0)').run(name, process.pid)
    liveJournals.add(name)
    const file = path.join(dir, `${name}.jsonl`)
    const j = { name, file, fd: openSync(file, 'a', 0o600), size: 0 }
    follower.announce(name, file, 0)
    return j
  }

  /**
   * Appends the whole batch, as one JSON line, or nothing: a failed or short write is cut back off, so no
   * half line stays in the file. One stringify and one write a turn, whatever the batch size.
   */
  function append(j: Journal, batch: MessageLogEntry[]): void {
    const line = `${JSON.stringify(batch)}\n`
    const bytes = Buffer.byteLength(line)
    let written = 0
    try {
      written = writeSync(j.fd, line)
      if (written !== bytes) throw new Error(`message log journal: short write (${written} of ${bytes} bytes)`)
    } catch (e) {
      if (written > 0) ftruncateSync(j.fd, j.size)
      throw e
    }
    j.size += bytes
    follower.announce(j.name, j.file, j.size)
  }

  /**
   * Tells whoever ingests how far the journal now goes. The thread hears it at most every
   * ANNOUNCE_EVERY_MS, or at once when ANNOUNCE_AT_BYTES are waiting (a burst): the entries are durable in
   * the journal already, only the table waits, and a message a turn (a clone and a wake-up of the thread)
   * was ~2 % of the main thread's time under load.
   */
  function announce(j: Journal): void {
    if (where === 'thread' && !worker) worker = startThread()
    if (where === 'thread' && worker) {
      // A rotated journal's final length goes out before the next journal's first.
      if (toAnnounce !== null && toAnnounce !== j) postAnnouncement()
      toAnnounce = j
      if (j.size - (j === announced ? announcedUpTo : 0) >= ANNOUNCE_AT_BYTES) postAnnouncement()
      else if (announceTimer === null) {
        announceTimer = setTimeout(postAnnouncement, ANNOUNCE_EVERY_MS)
        announceTimer.unref()
      }
      return
    }
    catchUpOnMain(false)
  }

  /** Posts the pending announcement now (also before a sync or close request, which must come after it). */
  function postAnnouncement(): void {
    if (announceTimer !== null) clearTimeout(announceTimer)
    announceTimer = null
    const j = toAnnounce
    toAnnounce = null
    if (j === null || where !== 'thread' || !worker) return
    // A bare number (how far the journal the thread already knows goes) clones cheapest.
    worker.postMessage(j === announced ? j.size : { name: j.name, file: j.file, upTo: j.size })
    announced = j
    announcedUpTo = j.size
  }

  return {
    get where() {
      return where
    },
    write(batch) {
      if (closing) throw new Error('message log writer is closed')
      current ??= openJournal()
      append(current, batch)
      const j = current
      if (j.size >= rotateBytes) {
        closeSync(j.fd)
        current = null
      }
      announce(j)
    },
    journalRemoved() {
      if (current === null || fstatSync(current.fd).nlink > 0) return false
      closeSync(current.fd)
      current = null
      return true
    },
    ingested() {
      if (follower.pending().length === 0) return Promise.resolve()
      if (where === 'main' || !worker) {
        const behind = catchUpOnMain(false)
        return behind === null ? Promise.resolve() : Promise.reject(new Error(behind))
      }
      postAnnouncement()
      const w = worker
      const id = nextSync++
      if (syncs.size === 0) w.ref()
      return new Promise<void>((resolve, reject) => {
        syncs.set(id, { resolve, reject })
        w.postMessage({ id, sync: true })
      })
    },
    async close() {
      if (closing) return exited
      closing = true
      if (current) closeSync(current.fd)
      current = null
      if (worker && where === 'thread') {
        postAnnouncement()
        worker.ref()
        worker.postMessage({ close: true })
        const w = worker
        const timer = setTimeout(() => void w.terminate(), 10_000)
        await exited
        clearTimeout(timer)
      }
      // What the thread could not finish (or all of it, without a thread). Retiring is idempotent, so journals
      // the thread retired without our hearing of it cost a lookup.
      if (follower.pending().length > 0) catchUpOnMain(true)
      // Whatever is still not retired is no longer written by anyone: the next start recovers it.
      for (const name of follower.pending()) liveJournals.delete(name)
      lines.close()
    },
  }
}

function describe(e: unknown): string {
  try {
    return typeof e === 'object' && e !== null ? JSON.stringify(e) : String(e)
  } catch {
    return String(e)
  }
}
