/**
 * Opens the project's store for reading the message log (`wxengine log`, `stats`, `followers`) and for plugins'
 * storage (`wxengine storage`). SQLite in WAL mode lets this process read while a running engine writes; the engine buffers log lines for at most one
 * event-loop turn, so what it has answered is there to read.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { createLogger } from '../log/logger.ts'
import { openStore, SQLITE_FILE_NAME } from '../store/open-store.ts'
import type { Store } from '../store/store.ts'
import type { EngineConfig } from '../config/config-types.ts'
import { accountNamed, EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectConfig, type GlobalFlags, type Output } from './cli-context.ts'

export type OpenedStore = { store: Store } | { exitCode: number }

/**
 * The store of the project `flags` name, for `command`: its configuration read, `--account` checked against
 * it (a mistyped account matched nothing and said "no messages match", as if the account were quiet), then
 * opened. Each refusal is said on stderr, with its exit code.
 */
export async function openProjectStore(
  flags: GlobalFlags & { account?: string },
  command: string,
  io: Output,
  /**
   * `create`: make a SQLite store that is not there yet (a write before the engine's first start), instead of
   * answering `nothingYet` (default "no message log yet") with exit 0. `config`: the project's, when the
   * command has read it already (it is not read twice).
   */
  opts: { create?: boolean; nothingYet?: string; config?: EngineConfig } = {},
): Promise<OpenedStore> {
  const config = opts.config ?? loadProjectConfig(flags, io)
  if (!config) return { exitCode: EXIT_USAGE }
  if (flags.account !== undefined && !accountNamed(config.accounts, flags.account, command, io)) return { exitCode: EXIT_USAGE }
  if (config.store.kind === 'memory') {
    io.err('wxengine: the memory store keeps nothing outside the engine process; set store: { kind: "sqlite" } (or redis) in engine.config.ts')
    return { exitCode: EXIT_USAGE }
  }
  if (config.store.kind === 'sqlite' && !opts.create) {
    const file = path.join(config.dataDir, SQLITE_FILE_NAME)
    if (!existsSync(file)) {
      io.err(`${opts.nothingYet ?? 'no message log yet'}: ${file} does not exist (the engine creates it when it starts; DATA_DIR sets where)`)
      return { exitCode: EXIT_OK }
    }
  }
  try {
    return { store: await openStore(config.store, config.dataDir, createLogger({ level: 'silent' })) }
  } catch (e) {
    io.err(`wxengine: cannot open the ${config.store.kind} store: ${(e as Error).message}`)
    return { exitCode: EXIT_FAILED }
  }
}
