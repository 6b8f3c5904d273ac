/**
 * wxengine's per-user cache directory: what is worth keeping between runs and can always be made again (the
 * single binary's SQLite addon, regexes' worst-case verdicts, the plugin processes' program, V8's code cache
 * of the worker threads' programs). WXENGINE_CACHE_DIR, else
 * $XDG_CACHE_HOME/wxengine, else ~/.cache/wxengine. Not a fixed path under /tmp, where another user could
 * plant a file before us: the directory is 0700 and must be ours.
 */
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, type Stats } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WXENGINE_CACHE_DIR) return path.resolve(env.WXENGINE_CACHE_DIR)
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache')
  return path.join(base, 'wxengine')
}

/** Makes `dir` (0700) if missing; throws when it belongs to another user; tightens one of ours open to others. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const st = statSync(dir)
  const uid = process.getuid?.()
  if (uid !== undefined && st.uid !== uid) {
    throw new Error(`${dir} belongs to another user; set WXENGINE_CACHE_DIR to a private directory`)
  }
  // Ours but open to others (e.g. created by hand): tighten it rather than trust what others could swap.
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700)
}

/**
 * Whether a file in the cache directory is one only this user could have written: a regular file (not a
 * link), ours, with no other link to it and no write bit for others. Code is run from some of its files; one
 * left by someone while the directory was open to others (makePrivateDir closes it, but keeps what is in it),
 * still writable through its mode or a hard link they keep elsewhere, is made again, not trusted.
 */
export function isOnlyOurs(st: Stats): boolean {
  const uid = process.getuid?.()
  return st.isFile() && st.nlink === 1 && (st.mode & 0o022) === 0 && (uid === undefined || st.uid === uid)
}

/** A file of another version of the engine or of a program, untouched this long, is removed when a new one is written. */
const STALE_CACHE_MS = 24 * 60 * 60 * 1000

/**
 * Each edit or upgrade of the engine makes new program files and code caches, under new names: without this
 * the directory kept every old one (1.9 MB a plugin program, 1.5 MB a code cache) for good. Removes the files
 * named `<prefix>...<suffix>` in `dir` but `kept`, untouched for STALE_CACHE_MS. A file in use is touched
 * when used (touchCacheFile), and one removed under an engine that still runs is made again when it next needs it.
 */
export function removeStaleCacheFiles(dir: string, prefix: string, suffix: string, kept: string): void {
  const now = Date.now()
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith(suffix)) continue
    const file = path.join(dir, entry)
    if (file === kept) continue
    try {
      if (now - statSync(file).mtimeMs > STALE_CACHE_MS) rmSync(file, { force: true })
    } catch {
      // Gone meanwhile.
    }
  }
}

/** Marks a cache file used now (its mtime), so another version's removeStaleCacheFiles keeps it; false when it is gone. */
export function touchCacheFile(file: string): boolean {
  try {
    const now = new Date()
    utimesSync(file, now, now)
    return true
  } catch {
    return false
  }
}
