/**
 * Picks the Store backend named in the configuration. The Redis store is imported only when chosen,
 * so a single-binary build without Redis needs never load ioredis.
 */
import { join } from 'node:path'
import type { Logger } from '../log/logger.ts'
import { createMemoryStore } from './memory-store.ts'
import { openSqliteStore } from './sqlite-store.ts'
import { StoreOpenError } from './store-open-error.ts'
import type { Store } from './store.ts'

export interface StoreChoice {
  kind: 'sqlite' | 'memory' | 'redis'
  url?: string
  keyPrefix?: string
  commandTimeoutMs?: number
}

/** The SQLite file's name inside DATA_DIR. */
export const SQLITE_FILE_NAME = 'wxengine.db'

export interface OpenStoreOptions {
  /** The clock of expiries (sessions, storage TTLs, the reply cache); a test's fake one. Redis keeps its own. */
  now?: () => number
  /** SQLite: journal answers so the reply cache survives a kill -9 (off when the message log is off). */
  journalAnswers?: boolean
}

export async function openStore(config: StoreChoice, dataDir: string, log: Logger, opts: OpenStoreOptions = {}): Promise<Store> {
  const { now } = opts
  switch (config.kind) {
    case 'sqlite':
      return openSqliteStore({ file: join(dataDir, SQLITE_FILE_NAME), log, now, journalAnswers: opts.journalAnswers })
    case 'memory':
      log.warn('memory store: sessions, dedup and the message log are lost on restart')
      return createMemoryStore({ now })
    case 'redis': {
      if (!config.url) throw new StoreOpenError('redis', 'store.url is required for the redis store')
      const { openRedisStore } = await import('./redis-store.ts')
      return openRedisStore({ url: config.url, dataDir, log, keyPrefix: config.keyPrefix, commandTimeoutMs: config.commandTimeoutMs })
    }
    default: {
      const never: never = config.kind
      throw new StoreOpenError(String(never), 'unknown store kind')
    }
  }
}
