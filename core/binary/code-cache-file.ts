/**
 * A worker program's V8 code cache kept between runs, in wxengine's cache directory (core/cache-dir.ts), so
 * that a process's first worker of the program starts from it too (code-cached-thread.ts keeps it in memory
 * within a run).
 *
 * Named by a hash of the program's text, the Node version and the architecture. The name must carry the
 * text's hash: V8 checks a cache against its source's length, not its content, and would take the cache of
 * another program of the same length, running the wrong code. Read only when the file is ours, not a
 * symbolic link, alone (one link) and writable by us alone: code is run from it, so a file someone else could
 * have put there or changed is left alone and made again. A file that cannot be read or written costs the
 * speed only. A read marks the file used (its mtime), so an engine of another version, removing the stale
 * caches of the program when it keeps its own (cache-dir.ts removeStaleCacheFiles), leaves it.
 */
import { createHash } from 'node:crypto'
import { closeSync, constants, fstatSync, futimesSync, openSync, readFileSync } from 'node:fs'
import { rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { cacheDir, isOnlyOurs, makePrivateDir, removeStaleCacheFiles } from '../cache-dir.ts'

const SUFFIX = '.v8cache'

/** Where `name`'s cache for this `source` is kept. */
export function codeCacheFileOf(name: string, source: string, dir: string = cacheDir()): string {
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16)
  return path.join(dir, `${name}-${hash}-node${process.versions.node}-${process.arch}${SUFFIX}`)
}

/** The kept cache, or undefined: none, unreadable, or a file that is not ours alone. */
export function readCodeCacheFile(file: string): Uint8Array | undefined {
  let fd: number | undefined
  try {
    // The file opened is the file checked and read (not a link, nor one swapped in between).
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
    if (!isOnlyOurs(fstatSync(fd))) return undefined
    const data = readFileSync(fd)
    // Used now: another version's removal of stale caches (removeStaleCacheFiles) keeps it.
    const now = new Date()
    futimesSync(fd, now, now)
    return data
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * Keeps `data` as `file`, whole or not at all (a new file under another name, renamed: another engine may
 * read it meanwhile), and removes stale caches of other versions of the program. Never rejects.
 */
export async function keepCodeCacheFile(file: string, name: string, data: Uint8Array): Promise<void> {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    makePrivateDir(path.dirname(file))
    // 'wx': a link planted at the temporary name is not followed.
    await writeFile(temp, data, { mode: 0o600, flag: 'wx' })
    await rename(temp, file)
    // Each edit of the engine's source makes a new bundle, so a new cache: the old ones would pile up.
    removeStaleCacheFiles(path.dirname(file), `${name}-`, SUFFIX, file)
  } catch {
    await rm(temp, { force: true }).catch(() => {})
  }
}
