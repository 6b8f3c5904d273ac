import type Database from 'better-sqlite3'
import type { MessageLogEntry } from './store.ts'

/**
 * One transaction: every entry's row and, for a follow or an unfollow, its followers row, in order; then one
 * rule_hits UPSERT per distinct (account, rule, keyword).
 */
export declare function prepareLogBatch(db: Database.Database): (batch: MessageLogEntry[]) => void
