/**
 * Opens the project's store for reading the message log (`wxengine log`, `wxengine stats`). SQLite in WAL
 * mode lets this process read while a running engine writes; the engine buffers log lines for at most one
 * event-loop turn, so what it has answered is there to read.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { EngineConfig } from '../config/config-types.ts'
import { createLogger } from '../log/logger.ts'
import { openStore, SQLITE_FILE_NAME } from '../store/open-store.ts'
import type { Store } from '../store/store.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Output } from './cli-context.ts'

export type OpenedStore = { store: Store } | { exitCode: number }

export async function openProjectStore(config: EngineConfig, io: Output): Promise<OpenedStore> {
  if (config.store.kind === 'memory') {
    io.err('wxengine: the memory store keeps no log outside the engine process; set store: { kind: "sqlite" } (or redis) in engine.config.ts')
    return { exitCode: EXIT_USAGE }
  }
  if (config.store.kind === 'sqlite') {
    const file = path.join(config.dataDir, SQLITE_FILE_NAME)
    if (!existsSync(file)) {
      io.err(`no message log yet: ${file} does not exist (the engine creates it when it starts; DATA_DIR sets where)`)
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
