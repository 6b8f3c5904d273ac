/**
 * The data directory as the stores open it: made when missing, and, when it cannot be written, a message
 * that says whose it is (SQLite's own is a bare "attempt to write a readonly database").
 */
import { accessSync, constants as fsConstants, mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * mkdir -p, except that a directory whose parent exists is made on its own: node 20's recursive mkdir
 * spins for ever, at full CPU, on a path under /proc (DATA_DIR=/proc/nope hung the start with no output,
 * an operator's review); made alone, it fails with ENOENT at once.
 */
export function makeDir(dir: string): void {
  let parentExists = false
  try {
    parentExists = statSync(dirname(dir)).isDirectory()
  } catch {
    // no parent yet: the recursive form makes it
  }
  if (!parentExists) return void mkdirSync(dir, { recursive: true })
  try {
    mkdirSync(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
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
