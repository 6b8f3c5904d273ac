import type Database from 'better-sqlite3'

export interface IngestResult {
  /** The file's offset now committed (everything before it is in message_log). */
  done: number
  /** Rows added to message_log by this call. */
  written: number
  /** Entries left out because they can never be written (unreadable, or refused by SQLite as malformed). */
  skipped: string[]
}

export interface JournalIngest {
  /** Moves the complete lines past the committed offset (up to `upTo` bytes) into message_log. */
  ingest(name: string, file: string, upTo?: number): IngestResult
  /** Deletes the journal's row, then its file. */
  retire(name: string, file: string): void
  /** Ingests and retires every journal in `dir` whose writer is gone; removes files no row names. */
  recover(dir: string, isLive: (name: string, pid: number) => boolean): { journals: number; entries: number; skipped: string[] }
}

export declare function openJournalIngest(db: Database.Database): JournalIngest

/** How a skipped reason starts when its journal was removed under the running engine. */
export declare const JOURNAL_REMOVED: string

export interface CatchUp {
  /** Why something announced is not in the table yet; null when everything is. */
  behind: string | null
  skipped: string[]
  /** Journals retired by this call. */
  retired: string[]
}

export interface JournalFollower {
  announce(name: string, file: string, upTo: number): void
  /** The journal announced last is now written up to `upTo`. */
  extend(upTo: number): void
  /** Drops a journal retired elsewhere. */
  forget(name: string): void
  /** Names of the journals announced and not yet retired. */
  pending(): string[]
  catchUp(retireAll: boolean): CatchUp
}

export declare function createFollower(journal: JournalIngest): JournalFollower
