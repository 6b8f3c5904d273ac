/**
 * better-sqlite3's native addon inside the single binary. A SEA can `require` only built-in modules and
 * `dlopen` only a real file, so the .node file travels as an asset and is written out once per user.
 *
 * Where: WXENGINE_CACHE_DIR, else $XDG_CACHE_HOME/wxengine, else ~/.cache/wxengine. Not a fixed path under
 * /tmp, where another user could plant a library before us; a noexec mount (dlopen fails there) is fixed by
 * pointing WXENGINE_CACHE_DIR elsewhere. The directory is 0700 and must be ours; the file name carries the
 * Node ABI and the content hash, and is written to a temporary name then renamed, so concurrent first
 * starts never see half a file.
 */
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SQLITE_ADDON_ASSET } from './asset-names.ts'
import { readBinaryAsset } from './sea-assets.ts'

export function addonCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WXENGINE_CACHE_DIR) return path.resolve(env.WXENGINE_CACHE_DIR)
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache')
  return path.join(base, 'wxengine')
}

/** Writes `bytes` into `dir` once (if not already there, intact) and returns the file's path. */
export function materializeAddon(bytes: Buffer, dir: string): string {
  const hash = createHash('sha256').update(bytes).digest('hex')
  const file = path.join(dir, `better_sqlite3-abi${process.versions.modules}-${process.platform}-${process.arch}-${hash.slice(0, 16)}.node`)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  checkPrivateDir(dir)
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

function checkPrivateDir(dir: string): void {
  const st = statSync(dir)
  const uid = process.getuid?.()
  if (uid !== undefined && st.uid !== uid) {
    throw new Error(`${dir} belongs to another user; set WXENGINE_CACHE_DIR to a private directory`)
  }
  // Ours but open to others (e.g. created by hand): tighten it rather than load a library others could swap.
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700)
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
  const dir = addonCacheDir()
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
