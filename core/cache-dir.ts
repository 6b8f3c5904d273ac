/**
 * wxengine's per-user cache directory: what is worth keeping between runs and can always be made again (the
 * single binary's SQLite addon, regexes' worst-case verdicts, the plugin processes' program, V8's code cache
 * of the worker threads' programs). WXENGINE_CACHE_DIR, else
 * $XDG_CACHE_HOME/wxengine, else ~/.cache/wxengine. Not a fixed path under /tmp, where another user could
 * plant a file before us: the directory is 0700 and must be ours.
 */
import { chmodSync, mkdirSync, statSync, type Stats } from 'node:fs'
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
