/**
 * The data directory as the stores open it: made when missing, and, when it cannot be written, a message
 * that says whose it is (SQLite's own is a bare "attempt to write a readonly database") or that its disk is full.
 */
import { accessSync, existsSync, constants as fsConstants, mkdirSync, statSync, statfsSync, type Stats } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { StoreOpenError } from './store-open-error.ts'

/**
 * mkdir -p, one directory at a time from the nearest one that exists: node 20's recursive mkdir spins for
 * ever, at full CPU, on a path under /proc (DATA_DIR=/proc/nope hung the start with no output, an
 * operator's review); made one by one, the first that cannot be made fails at once (ENOENT).
 */
export function makeDir(dir: string): void {
  const missing: string[] = []
  for (let at = resolve(dir); !existsSync(at); at = dirname(at)) {
    missing.unshift(at)
    if (dirname(at) === at) break
  }
  for (const d of missing) {
    try {
      mkdirSync(d)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
  }
}

/**
 * Why a store may fail to open: the user cannot write the directory. The store writes there even to read
 * (SQLite's WAL index, recovering the message log's journals), so both `wxengine start` and `wxengine log`
 * run by another user than the directory's owner ended in SQLite's bare "attempt to write a readonly
 * database". '' when the directory is writable (the failure is something else).
 */
export function unwritableHint(dir: string): string {
  const access = writeAccess(dir)
  if (access === undefined) return '' // missing altogether: mkdir's own error said so
  // DATA_DIR naming a file, or a read-only mount: SQLite says only "unable to open database file", and the
  // owner's hint below (run as another user) would send the operator the wrong way.
  if (!access.stats.isDirectory()) return `; ${dir} is not a directory: DATA_DIR names the directory the database goes in`
  if (access.refused === undefined) return ''
  if (access.refused.code === 'EROFS') return `; ${dir} is on a read-only file system: mount it read-write, or give the engine a DATA_DIR elsewhere`
  return `; ${thisUser()} cannot write ${dir} (it belongs to uid ${access.stats.uid}), and the store writes there even to read (SQLite's WAL index, the log's journal): run as the user the engine runs as`
}

/**
 * What `path` is and why this user may not write it (undefined: it may); undefined when it is not there.
 * `listed`: a directory must also be listed and entered (the journals' folders are read back at start).
 */
function writeAccess(path: string, listed = false): { stats: Stats; refused?: NodeJS.ErrnoException } | undefined {
  let stats: Stats
  try {
    stats = statSync(path)
  } catch {
    return undefined
  }
  try {
    accessSync(path, listed && stats.isDirectory() ? fsConstants.R_OK | fsConstants.W_OK | fsConstants.X_OK : fsConstants.W_OK)
    return { stats }
  } catch (e) {
    return { stats, refused: e as NodeJS.ErrnoException }
  }
}

/** "this user (uid 1000)", as the hints name who the engine runs as. */
function thisUser(): string {
  return `this user${typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : ''}`
}

/** Below this many free bytes a store cannot open: SQLite's WAL index alone is 32 KiB. */
const FULL_BELOW_BYTES = 64 * 1024

/**
 * Why a store may fail to open that passes without a change to the settings: the disk holding the directory
 * (or the nearest existing parent) is full, of bytes or of inodes. SQLite says "database or disk is full",
 * or only "disk I/O error" when the WAL index cannot grow, or "unable to open database file" (SQLITE_CANTOPEN)
 * when no inode is left for a journal; the start exited 2 for each, and systemd's
 * RestartPreventExitStatus=2 then kept the engine down after the disk was freed. '' when `error` is not one a
 * full disk gives, or the disk is not full (a pseudo filesystem such as /proc has no blocks: never full).
 */
export function fullDiskHint(dir: string, error: unknown): string {
  const code = String((error as { code?: unknown } | null)?.code ?? '')
  // SQLITE_CANTOPEN: a disk out of inodes, where SQLite cannot create a journal beside the file (statfs below
  // tells it from a missing folder or a permission).
  if (code !== 'ENOSPC' && !/^SQLITE_(FULL|IOERR|CANTOPEN)/.test(code)) return ''
  let at = resolve(dir)
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at)
  try {
    const fs = statfsSync(at)
    const full = fs.blocks > 0 && (fs.bavail * fs.bsize < FULL_BELOW_BYTES || (fs.files > 0 && fs.ffree === 0))
    return full ? `; the disk holding ${at} is full (${fs.bavail * fs.bsize} bytes, ${fs.ffree} inodes free): free some, and try again` : ''
  } catch {
    return ''
  }
}

/**
 * The database file itself, when it exists and this user cannot write it: a backup restored as root (`mv`,
 * or `cp` to a new file) belongs to root. SQLite opened it and failed at the store's first write, later in
 * the start, with a bare "attempt to write a readonly database" naming no file (an operator's review).
 * Then the files the store keeps beside it (unwritableCompanionHint). '' when all are writable or not there yet.
 */
export function unwritableFileHint(file: string): string {
  const access = writeAccess(file)
  if (access?.refused === undefined) return unwritableCompanionHint(file)
  return `${thisUser()} cannot write ${file} (it belongs to uid ${access.stats.uid}): give it to the user the engine runs as (chown), as a restored backup must be`
}

/**
 * What the store writes beside its database: SQLite's WAL and WAL index, the message log's and the answers'
 * journal folders (sqlite-log-writer.ts, reply-journal.ts), each made private to the user who made it.
 */
const COMPANIONS = ['-wal', '-shm', '-msglog', '-replies']

/**
 * One of the database's companions that this user cannot write: an engine run once as root (a first try with
 * sudo) leaves them root's, and chowning the database and its directory, as the hints above say, leaves
 * them so. A root-owned WAL failed the start with SQLite's bare "unable to open database file" naming the
 * database, which this user can write; a root-owned journal folder let it start, to write neither log
 * entries nor answers, and to skip the answers journaled before a crash unsaid. '' when all can be written.
 */
function unwritableCompanionHint(file: string): string {
  for (const suffix of COMPANIONS) {
    const hint = unwritableLeftoverHint(`${file}${suffix}`)
    if (hint) return hint
  }
  return ''
}

/**
 * A file or folder the store keeps in the data directory (the database's companions, the directory's lock:
 * data-dir-lock.ts), when it exists and this user cannot write it; else ''.
 */
export function unwritableLeftoverHint(path: string): string {
  const access = writeAccess(path, true)
  if (access?.refused === undefined) return ''
  return `${thisUser()} cannot write ${path} (it belongs to uid ${access.stats.uid}), left by an engine run as another user: give it, and everything in ${dirname(path)}, to the user the engine runs as (chown -R)`
}

/**
 * Whether SQLite says the file itself is damaged (`database disk image is malformed`) or not a database at
 * all: nothing a restart or a setting changes.
 */
export function isDamage(error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code ?? '')
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB'
}

/** What to do about a damaged file (deployment.md, Data and backups). */
export const DAMAGE_HINT = 'the file is damaged (a failing disk, a copy taken while it was written): stop the engine and restore it from a backup (deployment.md, Data and backups), or save what it holds with sqlite3\'s .recover'

/**
 * A store's file that would not open, as the start says it: SQLite's reason, then why in words (the disk is
 * full: `transient`, a restart may pass; the file is damaged; else whatever keeps this user from writing `dir`).
 */
export function storeOpenFailure(file: string, dir: string, error: unknown): StoreOpenError {
  const full = fullDiskHint(dir, error)
  const why = full || (isDamage(error) ? `; ${DAMAGE_HINT}` : unwritableHint(dir))
  return new StoreOpenError(file, (error as Error).message + why, { cause: error, transient: full !== '' })
}

/**
 * Whether `file` is still the file `opened` was (same device and inode); false when it is gone. A file the
 * engine holds open may be removed or replaced under it (sqlite-store.ts watches its database, data-dir-lock.ts
 * its lock), and what it writes there then reaches nobody.
 */
export function sameFile(file: string, opened: Stats): boolean {
  try {
    const now = statSync(file)
    return now.ino === opened.ino && now.dev === opened.dev
  } catch {
    return false
  }
}
