/**
 * Opens the project's store for reading the message log (`wxengine log`, `stats`, `followers`) and for plugins'
 * storage (`wxengine storage`). SQLite in WAL mode lets this process read while a running engine writes; the engine buffers log lines for at most one
 * event-loop turn, so what it has answered is there to read.
 */
import { statSync } from 'node:fs'
import path from 'node:path'
import { createLogger } from '../log/logger.ts'
import { DAMAGE_HINT, isDamage } from '../store/data-dir.ts'
import { openStore, SQLITE_FILE_NAME } from '../store/open-store.ts'
import type { Store } from '../store/store.ts'
import type { EngineConfig } from '../config/config-types.ts'
import { accountNamed, EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectConfig, type GlobalFlags, type Output } from './cli-context.ts'

type OpenedStore = { store: Store } | { exitCode: number }

export interface ProjectStoreOptions {
  /**
   * Make a SQLite store that is not there yet (a write before the engine's first start), instead of answering
   * `nothingYet` (default "no message log yet") with `nothingYetExit` (default 0).
   */
  create?: boolean
  nothingYet?: string
  nothingYetExit?: number
  /** The project's, when the command has read it already (it is not read twice). */
  config?: EngineConfig
}

/**
 * Runs `use` on the store of the project `flags` name, for `command`, and closes it: `use`'s exit code, or the
 * refusal's when the store could not be opened (each said on stderr by openProjectStore). A read or write that
 * fails inside `use` is said as storeFailed says it, exit 1: every store command the same, never a stack trace.
 */
export async function withProjectStore(
  flags: GlobalFlags & { account?: string },
  command: string,
  io: Output,
  opts: ProjectStoreOptions,
  use: (store: Store) => Promise<number>,
): Promise<number> {
  const opened = await openProjectStore(flags, command, io, opts)
  if ('exitCode' in opened) return opened.exitCode
  try {
    return await use(opened.store)
  } catch (e) {
    return storeFailed(command, e, io)
  } finally {
    await opened.store.close()
  }
}

/**
 * The store of the project `flags` name, for `command`: its configuration read, `--account` checked against
 * it (a mistyped account matched nothing and said "no messages match", as if the account were quiet), then
 * opened. Each refusal is said on stderr, with its exit code.
 */
async function openProjectStore(flags: GlobalFlags & { account?: string }, command: string, io: Output, opts: ProjectStoreOptions): Promise<OpenedStore> {
  const config = opts.config ?? loadProjectConfig(flags, io)
  if (!config) return { exitCode: EXIT_USAGE }
  if (flags.account !== undefined && !accountNamed(config.accounts, flags.account, command, io)) return { exitCode: EXIT_USAGE }
  if (config.store.kind === 'memory') {
    io.err('wxengine: the memory store keeps nothing outside the engine process; set store: { kind: "sqlite" } (or redis) in engine.config.ts')
    return { exitCode: EXIT_USAGE }
  }
  if (config.store.kind === 'sqlite') {
    // A DATA_DIR that is a file was "does not exist (the engine creates it when it starts)", exit 0, though
    // no start can; one mistyped made `storage set` create it with its parents, and write where no engine reads.
    const dir = statSync(config.dataDir, { throwIfNoEntry: false })
    if (dir !== undefined && !dir.isDirectory()) {
      io.err(`wxengine ${command}: the data directory ${config.dataDir} is not a directory (DATA_DIR sets it)`)
      return { exitCode: EXIT_FAILED }
    }
    // A project's data/ not made yet (no start so far) is made, as the engine would; one whose parent is
    // missing too is a path mistyped.
    if (dir === undefined && opts.create && statSync(path.dirname(config.dataDir), { throwIfNoEntry: false })?.isDirectory() !== true) {
      io.err(`wxengine ${command}: neither the data directory ${config.dataDir} nor the directory it would be in exists: nothing was written (DATA_DIR sets it)`)
      return { exitCode: EXIT_FAILED }
    }
    const file = path.join(config.dataDir, SQLITE_FILE_NAME)
    const db = dir === undefined ? undefined : statSync(file, { throwIfNoEntry: false })
    if (!opts.create && db === undefined) {
      io.err(`${opts.nothingYet ?? 'no message log yet'}: ${file} does not exist (the engine creates it when it starts; DATA_DIR sets where)`)
      return { exitCode: opts.nothingYetExit ?? EXIT_OK }
    }
    // Opened, an empty file got the store's tables, and a database cut to nothing looked like a new one for good.
    if (!opts.create && db !== undefined && db.isFile() && db.size === 0) {
      io.err(`wxengine ${command}: ${file} is empty (0 bytes): no engine has written it, or it was cut to nothing; left as it is`)
      return { exitCode: EXIT_FAILED }
    }
  }
  try {
    return { store: await openStore(config.store, config.dataDir, createLogger({ level: 'silent' })) }
  } catch (e) {
    io.err(`wxengine: cannot open the ${config.store.kind} store: ${(e as Error).message}`)
    return { exitCode: EXIT_FAILED }
  }
}

/**
 * A command's store read or write that failed after the store opened: said as `wxengine <command>: the store
 * failed: <why>`, with what to do when SQLite says the file is damaged (the open checks only its header:
 * a damaged table is found by the read that reaches it). Exit 1, never a stack trace.
 */
function storeFailed(command: string, error: unknown, io: Output): number {
  io.err(`wxengine ${command}: the store failed: ${error instanceof Error ? error.message : String(error)}${isDamage(error) ? `; ${DAMAGE_HINT}` : ''}`)
  return EXIT_FAILED
}
