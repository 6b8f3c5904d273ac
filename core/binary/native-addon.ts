/**
 * better-sqlite3's native addon inside the single binary. A SEA can `require` only built-in modules and
 * `dlopen` only a real file, so the .node file travels as an asset and is written out once per user.
 *
 * Where: wxengine's cache directory (core/cache-dir.ts), private to its user; a noexec mount (dlopen fails
 * there) is fixed by pointing WXENGINE_CACHE_DIR elsewhere. The file name carries the
 * Node ABI and the content hash, and is written to a temporary name then renamed, so concurrent first
 * starts never see half a file.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { cacheDir, makePrivateDir } from '../cache-dir.ts'
import { SQLITE_ADDON_ASSET } from './asset-names.ts'
import { readBinaryAsset } from './sea-assets.ts'

/** Writes `bytes` into `dir` once (if not already there, intact) and returns the file's path. */
export function materializeAddon(bytes: Buffer, dir: string): string {
  const hash = createHash('sha256').update(bytes).digest('hex')
  const file = path.join(dir, `better_sqlite3-abi${process.versions.modules}-${process.platform}-${process.arch}-${hash.slice(0, 16)}.node`)
  makePrivateDir(dir)
  if (existsSync(file) && createHash('sha256').update(readFileSync(file)).digest('hex') === hash) return file
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    writeFileSync(temp, bytes, { mode: 0o700 })
    renameSync(temp, file)
  } finally {
    rmSync(temp, { force: true })
  }
  return file
}

/**
 * The addon could not be written out: the cache directory's fault, not the data directory's, though it
 * surfaces where the first database is opened (the data directory's lock), so the start must not send the
 * operator to DATA_DIR (an operator's review).
 */
export class AddonCacheError extends Error {
  override readonly name = 'AddonCacheError'
}

let addon: object | undefined
let addonFile: string | undefined

/** The addon's path on disk, written out on first use; the message-log thread loads it from there too. */
export function embeddedSqliteAddonFile(): string {
  if (addonFile) return addonFile
  const dir = cacheDir()
  try {
    addonFile = materializeAddon(readBinaryAsset(SQLITE_ADDON_ASSET), dir)
  } catch (e) {
    throw new AddonCacheError(`cannot write the SQLite addon to ${dir}: ${(e as Error).message} (set WXENGINE_CACHE_DIR to a writable, private directory)`)
  }
  return addonFile
}

/** The addon object better-sqlite3 expects from `require('bindings')('better_sqlite3.node')`. */
export function embeddedSqliteAddon(): object {
  if (addon) return addon
  const file = embeddedSqliteAddonFile()
  const m = { exports: {} as object }
  try {
    process.dlopen(m, file)
  } catch (e) {
    throw new Error(`cannot load ${file}: ${(e as Error).message} (a noexec mount? set WXENGINE_CACHE_DIR to a directory on an exec-capable filesystem)`)
  }
  addon = m.exports
  return addon
}
