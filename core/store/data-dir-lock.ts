/**
 * One serving engine per data directory. The SQLite store keeps its reply cache, session cache and outbox
 * sending in the process that owns the file (sqlite-store.ts), and a fleet instance keeps its own message log
 * and outbox there (redis-store.ts): a second engine started on the same directory (a copied unit file, a
 * forgotten `npm start`) ran each WeChat retry that reached it a second time, routed dialogues on stale
 * sessions, and sent the other's pending late replies again. So a serving engine holds the directory, and
 * another one is refused at start with a message saying so.
 *
 * The hold is an exclusive SQLite lock on a small file of its own (`wxengine.lock`), held by a connection
 * kept open until close: the OS's file lock, which a process loses when it dies, kill -9 included. No stale
 * pid file to clean up after a crash, and no pid reused by another process to be fooled by. Readers (`wxengine
 * log`, `stats`, `send --local`) do not take it: they open the database itself, which they may share.
 */
import Database from 'better-sqlite3'
import { statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Logger } from '../log/logger.ts'
import { isDamage, makeDir, sameFile, storeOpenFailure, unwritableHint, unwritableLeftoverHint } from './data-dir.ts'
import { StoreOpenError } from './store-open-error.ts'

export const LOCK_FILE_NAME = 'wxengine.lock'
/** How long a start waits for the lock before it is refused as held. */
const LOCK_WAIT_MS = 1000

/** What a start refused for a held directory says (`send --local` recognizes it to say what to do instead). */
export const DATA_DIR_HELD = 'another wxengine is serving from this data directory'

export interface DataDirLock {
  release(): void
  /**
   * Undefined while the lock file is the one held; else whether it was taken again on a new file, and what
   * happened. Run every LOCK_CHECK_MS when lockDataDir was given a log.
   */
  recheck(): { retaken: boolean; reason: string } | undefined
}

/** Data directories (resolved) this process holds the lock of. */
const heldHere = new Set<string>()

/**
 * Whether this process holds `dataDir`'s lock: then no other engine writes there, and anything another pid
 * left (a message-log journal) is a dead engine's, whether or not a process of that pid still exists.
 */
export function holdsDataDirLock(dataDir: string): boolean {
  return heldHere.has(resolve(dataDir))
}

/**
 * Whether another process holds `dataDir`'s lock now: an engine serves from it. Asked by a store opened
 * without the lock (`wxengine log`) before it takes a journal for a dead engine's. A pid alone cannot say:
 * an engine in a container writes its pid there, which means nothing (or another process) outside it. The
 * holder's exclusive lock answers a read with SQLITE_BUSY whatever namespace either side is in.
 */
export function heldByAnotherProcess(dataDir: string): boolean {
  const dir = resolve(dataDir)
  if (heldHere.has(dir)) return false
  let db: Database.Database | undefined
  try {
    db = new Database(join(dir, LOCK_FILE_NAME), { readonly: true, fileMustExist: true })
    db.pragma('busy_timeout = 0')
    db.prepare('SELECT count(*) FROM holder').get()
    return false
  } catch (e) {
    // No lock file: no engine ever served here. Anything else but busy (a file that is not ours) says nothing.
    return (e as { code?: string }).code === 'SQLITE_BUSY'
  } finally {
    db?.close()
  }
}

/** How often a held lock's file is looked at (`recheck`). */
export const LOCK_CHECK_MS = 5_000

/**
 * Takes the directory for this process; throws a StoreOpenError naming it when another engine holds it.
 * With `log`, the lock file is looked at every `checkEveryMs` while held (recheck).
 */
export function lockDataDir(dataDir: string, opts: { log?: Pick<Logger, 'warn' | 'error'>; checkEveryMs?: number } = {}): DataDirLock {
  const dir = resolve(dataDir)
  const file = join(dir, LOCK_FILE_NAME)
  let db: Database.Database | undefined
  try {
    makeDir(dir)
    // SQLite says only "attempt to write a readonly database" for a lock file another user left, and "disk
    // I/O error" for its journal (kept, emptied, between transactions in exclusive mode).
    const problem = unwritableHint(dir) ? '' : unwritableLeftoverHint(file) || unwritableLeftoverHint(`${file}-journal`)
    if (problem) throw new StoreOpenError(file, problem)
    db = holdLockFile(file, LOCK_WAIT_MS)
  } catch (e) {
    if (e instanceof StoreOpenError) throw e
    // Nothing of value is in it: restoring a backup, as for a damaged database, is not the way.
    if (isDamage(e)) throw new StoreOpenError(file, `${(e as Error).message}: not a lock file wxengine made; remove it (no engine serves from ${dir} while this one cannot start)`, { cause: e })
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StoreOpenError(dir, `${DATA_DIR_HELD}; stop it first, or give this one its own DATA_DIR`, { transient: true })
    }
    throw storeOpenFailure(file, dir, e)
  }
  let held = db
  let heldAs = statSync(file)
  /** What recheck last said, so that a state is logged once, not every few seconds. */
  let lastSaid: string | undefined
  heldHere.add(dir)

  /**
   * The lock is on the file the start opened. Removed or replaced (a clean-up of *.lock, `rm -rf` of the
   * directory), that file is one no other start sees: a second engine started on the directory, ran the same
   * WeChat retries again and took this one's live journals for a dead engine's (a review of disk trouble).
   * So the file is looked at while held, and taken again on a new file at once; when another engine was
   * quicker, that is said as an error, every time it changes.
   */
  function recheck(): { retaken: boolean; reason: string } | undefined {
    if (sameFile(file, heldAs)) return undefined
    try {
      const next = holdLockFile(file, 0)
      held.close()
      held = next
      heldAs = statSync(file)
      return { retaken: true, reason: `the data directory's lock file ${file} was removed or replaced while this engine ran; taken again on a new one` }
    } catch (e) {
      const busy = (e as { code?: string }).code === 'SQLITE_BUSY'
      const reason = busy
        ? `${DATA_DIR_HELD} besides this one: the lock file ${file} was removed while this engine ran, and another took the directory; stop one of them`
        : `the data directory's lock file ${file} was removed while this engine ran and cannot be made again (${(e as Error).message}): another engine could start on ${dir}`
      return { retaken: false, reason }
    }
  }
  const timer =
    opts.log === undefined
      ? undefined
      : setInterval(() => {
          const r = recheck()
          if (r === undefined || r.reason === lastSaid) return
          lastSaid = r.retaken ? undefined : r.reason
          if (r.retaken) opts.log!.warn({ code: 'DATA_DIR_LOCK', reason: r.reason }, 'data directory lock taken again')
          else opts.log!.error({ code: 'DATA_DIR_LOCK', reason: r.reason }, 'data directory lock lost')
        }, opts.checkEveryMs ?? LOCK_CHECK_MS)
  timer?.unref()
  return {
    recheck,
    release: () => {
      if (timer) clearInterval(timer)
      heldHere.delete(dir)
      if (held.open) held.close()
    },
  }
}

/**
 * An exclusive SQLite lock on `file`, held by the connection returned until it closes; waits `waitMs` for a
 * reader's look. Throws SQLite's error (SQLITE_BUSY: held by another engine).
 */
function holdLockFile(file: string, waitMs: number): Database.Database {
  const db = new Database(file)
  try {
    // Never released until the connection closes; a write takes the exclusive lock. A holder is a running
    // engine, which will not let go, so the wait is short: it is for a reader's look (heldByAnotherProcess,
    // one read under a shared lock), which must not get a start refused.
    db.pragma('locking_mode = EXCLUSIVE')
    db.pragma(`busy_timeout = ${waitMs}`)
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL)')
    db.transaction(() => {
      db.exec('DELETE FROM holder')
      db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid)
    }).exclusive()
    return db
  } catch (e) {
    db.close()
    throw e
  }
}

