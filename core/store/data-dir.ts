/**
 * The data directory as the stores open it: made when missing, and, when it cannot be written, a message
 * that says whose it is (SQLite's own is a bare "attempt to write a readonly database").
 */
import { accessSync, existsSync, constants as fsConstants, mkdirSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

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
  let owner: number
  try {
    owner = statSync(dir).uid
  } catch {
    // missing altogether: mkdir's own error said so
    return ''
  }
  try {
    accessSync(dir, fsConstants.W_OK)
    return ''
  } catch {
    const uid = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : ''
    return `; this user${uid} cannot write ${dir} (it belongs to uid ${owner}), and the store writes there even to read (SQLite's WAL index, the log's journal): run as the user the engine runs as`
  }
}
