export type {
  ClaimResult,
  DedupStore,
  HitCount,
  KvStore,
  MessageLog,
  MessageLogEntry,
  MessageLogQuery,
  Outbox,
  OutboxEntry,
  SessionRecord,
  SessionStore,
  Store,
  StoredReply,
  TokenRecord,
  TokenStore,
} from './store.ts'
export { openStore, SQLITE_FILE_NAME, type StoreChoice } from './open-store.ts'
export { createMemoryStore, type MemoryStoreOptions } from './memory-store.ts'
export { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.ts'
export { StoreOpenError } from './store-open-error.ts'
