/**
 * The default Store: one embedded SQLite file (better-sqlite3, synchronous, in-process).
 *
 * Every method runs its SQL synchronously before its promise settles, and Node runs one at a time, so a
 * dedup claim or a token lock is one transaction nobody can interleave with. The file is meant to be
 * owned by one engine process; another may read it and end sessions (`wxengine session end`): the session
 * cache (below) remembers only users without one, so a session deleted elsewhere is gone at the next read.
 *
 * Durability (journal_mode=WAL, synchronous=NORMAL):
 * - Sessions, kv, tokens, locks and outbox are committed before their promise resolves. A crash of
 *   the process (kill -9, OOM) loses none of them: a committed WAL frame is in the OS page cache.
 * - Dedup claims and the reply cache live in memory and are saved by close() (see "dedup" below); each
 *   answer is also journaled (reply-journal.ts) before it leaves, so a kill -9 keeps the answers, not the claims.
 * - `log.committed()` resolves once the entries appended so far are durable; the engine answers after it
 *   (log.commitBeforeAnswer), so every answered message's log entry survives a kill -9.
 * - The message log is buffered in memory and handed to its writer (sqlite-log-writer.ts) once per
 *   event-loop turn (setImmediate), at LOG_BATCH_MAX entries, on flush() and on close(). The writer appends
 *   the batch to a journal file (one write(): durable from then on) and a thread with its own connection
 *   moves it into the message_log table, so neither log inserts nor waiting for them hold up a request. A
 *   kill -9 loses exactly the entries of the current turn (never answered); a journal left behind is
 *   recovered into the table by the next open. Queries (log.query, hits, prune, flush) first wait for the
 *   table to hold everything appended.
 * - Only a power loss or OS crash can also roll back transactions committed since the last WAL sync
 *   (NORMAL syncs at checkpoints, not at each commit); the file itself stays consistent.
 */
import Database from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { closeSync, openSync, statSync, type Stats } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { LRUCache } from 'lru-cache'
import { createLineBudget } from '../log/line-budget.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import type { JsonValue } from '../plugin/plugin-api.ts'
import { DAMAGE_HINT, isDamage, makeDir, sameFile, storeOpenFailure, unwritableFileHint, unwritableHint } from './data-dir.ts'
import { ReplyCache } from './reply-cache.ts'
import { openReplyJournal, type JournaledAnswer } from './reply-journal.ts'
import { startLogWriter } from './sqlite-log-writer.ts'
import { holdsDataDirLock } from './data-dir-lock.ts'
import { SCHEMA_MIGRATIONS, SCHEMA_VERSION } from './sqlite-schema.ts'
import { StoreOpenError } from './store-open-error.ts'
import { applyOutboxPatch, compareFollowers, compareHits, DAY_MS, DEFAULT_LOG_LIMIT, prefixUpperBound, sessionKeyOf, utcDayOf } from './store-shared.ts'
import { NotANumberError, SumOutOfRangeError } from './store.ts'
import type {
  ClaimResult,
  FollowerCount,
  HitCount,
  MessageLogEntry,
  MessageLogQuery,
  OutboxEntry,
  SessionRecord,
  Store,
  StoredReply,
} from './store.ts'

export interface SqliteStoreOptions {
  /** Path of the database file; its directory is created if missing. `:memory:` for a throwaway store. */
  file: string
  now?: () => number
  log?: Logger
  /** Users remembered as having no session (the cache of lookups that found none); 0 disables it. */
  sessionCacheSize?: number
  /** Size at which the message log's journal file is rotated (tests use a small one). */
  journalRotateBytes?: number
  /** How often expired rows are deleted. */
  sweepIntervalMs?: number
  /** How often the database file is checked for being still there (removed or replaced under the engine). */
  fileCheckIntervalMs?: number
  /**
   * Journal each answer (reply-journal.ts), so the reply cache survives a kill -9 (default true). The engine
   * turns it off with the message log: replies would otherwise be written to disk with the log turned off.
   */
  journalAnswers?: boolean
  /** Size at which a reply journal file is closed for a new one (tests use a small one). */
  replyJournalRotateBytes?: number
  /** The window of the budget of the message log's failure lines (default 10 s; tests use a short one). */
  failureLineWindowMs?: number
}

const DEFAULT_SESSION_CACHE = 10_000
const DEFAULT_SWEEP_MS = 60_000
/**
 * The file's check (a stat) on a timer, not only when /healthz is asked: with no health checks, a removed
 * database took in 40 s of traffic, all of it to be lost at the next start, before anything said so (a
 * robustness review).
 */
const DEFAULT_FILE_CHECK_MS = 5_000
/** A burst larger than this is written at once instead of waiting for the turn to end. */
const LOG_BATCH_MAX = 500
/** After failed writes, older buffered log entries are dropped (and counted in the log) beyond this. */
const LOG_BACKLOG_MAX = 50_000
/**
 * After a failed journal write the backlog waits this long for its next try (flush() and close() try at once).
 * Every turn's try wrote the whole backlog again: with the disk full, each turn stringified up to 50,000
 * entries for a write that failed, and answers slowed by as much (3,000 messages took 25 s instead of 2).
 */
const LOG_RETRY_MS = 1000
/**
 * At most one "message log write failed" line per this, the rest counted in a line at its end
 * (log/line-budget.ts): a full disk fails every try, and a line each would meet journald's rate limit.
 */
const LOG_FAILURE_LINE_MS = 10_000
/** A writer holding the file (e.g. a backup) is waited for this long before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000
/** Pages of WAL between checkpoints on the main connection (see openDatabase). */
const WAL_AUTOCHECKPOINT = 10_000
/**
 * The log thread commits most pages, so it checkpoints, at SQLite's default interval: small checkpoints keep
 * the WAL short and each pause brief (when answers waited for the thread's commit, this halved their p99).
 * The main connection then rarely reaches its own.
 */
const LOG_THREAD_WAL_AUTOCHECKPOINT = 1_000

interface LogRow {
  at: number
  account: string
  open_id: string
  kind: string
  msg_key: string
  handled_by: string
  rule: string | null
  keyword: string | null
  plugin: string | null
  reply_type: string | null
  summary: string | null
  latency_ms: number
  outcome: MessageLogEntry['outcome']
  error: string | null
}
interface OutboxRow {
  id: number
  account: string
  open_id: string
  reply: string
  attempts: number
  status: OutboxEntry['status']
  last_error: string | null
  at: number
  msg_key: string | null
}

export function openSqliteStore(opts: SqliteStoreOptions): Store {
  const now = opts.now ?? Date.now
  const log = opts.log ?? createLogger({ level: 'silent' })
  const db = openDatabase(opts.file)
  // The file we opened: removed or replaced under us (rm, a restore over it), everything written since
  // goes to an inode no later start will open. healthy() says so.
  const fileOf = opts.file === ':memory:' ? undefined : resolve(opts.file)
  const watched = fileOf === undefined ? [] : watchedFiles(fileOf)
  let replacedSaid = false
  /** The current run of failed state writes (writes()), null while they succeed. */
  let writeFailing: { since: number; reason: string } | null = null
  /**
   * Runs a write of state, keeping track of whether writes succeed (a full disk fails them). Only a write
   * that changed something clears a failure: on a full disk a DELETE that matches nothing (a sweep, most
   * session deletes) still succeeds, and proves nothing.
   */
  function write<T>(fn: () => T): T {
    try {
      const r = fn()
      if (wroteSomething(r)) writeFailing = null
      return r
    } catch (e) {
      // The caller's mistake (an increment of a list, or past the largest number), refused: the disk is fine.
      if (e instanceof NotANumberError || e instanceof SumOutOfRangeError) throw e
      const reason = e instanceof Error ? e.message : String(e)
      writeFailing = writeFailing ? { since: writeFailing.since, reason } : { since: now(), reason }
      noteDamage(e)
      throw e
    }
  }
  /**
   * Set by the first read or write SQLite refuses because the file is damaged (`database disk image is
   * malformed`): the store is unhealthy from then on (/healthz 503), said once naming the file. A damaged
   * sessions table dropped every message, each line saying only "malformed", while /healthz said ok.
   */
  let damaged = false
  function noteDamage(e: unknown): void {
    if (damaged || !isDamage(e)) return
    damaged = true
    log.error({ code: 'STORE_UNAVAILABLE', file: fileOf ?? opts.file, reason: `${(e as Error).message}; ${DAMAGE_HINT}` }, 'database file damaged: restore it from a backup')
  }
  /** Runs a read of state, noting a damaged file (noteDamage). */
  function read<T>(fn: () => T): T {
    try {
      return fn()
    } catch (e) {
      noteDamage(e)
      throw e
    }
  }

  const st = {
    sessionGet: db.prepare<[string, string, number], { plugin: string; state: string; expires_at: number }>(
      'SELECT plugin, state, expires_at FROM sessions WHERE account = ? AND open_id = ? AND expires_at > ?',
    ),
    sessionPut: db.prepare<[string, string, string, string, number]>(
      `INSERT INTO sessions (account, open_id, plugin, state, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account, open_id) DO UPDATE SET plugin = excluded.plugin, state = excluded.state, expires_at = excluded.expires_at`,
    ),
    sessionUpdate: db.prepare<[string, number, string, string, string]>('UPDATE sessions SET state = ?, expires_at = ? WHERE account = ? AND open_id = ? AND plugin = ?'),
    sessionDelete: db.prepare<[string, string]>('DELETE FROM sessions WHERE account = ? AND open_id = ?'),
    sessionList: db.prepare<[number, string | null, string | null, string | null, string | null, number], { account: string; open_id: string; plugin: string; state: string; expires_at: number }>(
      'SELECT account, open_id, plugin, state, expires_at FROM sessions WHERE expires_at > ? AND (? IS NULL OR account = ?) AND (? IS NULL OR plugin = ?) ORDER BY expires_at, account, open_id LIMIT ?',
    ),

    // The claim wins when no row exists or the old one has expired (a crashed claimer's claim lapses).
    dedupComplete: db.prepare<[string, string, number]>(
      `INSERT INTO dedup (key, state, reply, expires_at) VALUES (?, 'done', ?, ?)
       ON CONFLICT (key) DO UPDATE SET state = 'done', reply = excluded.reply, expires_at = excluded.expires_at`,
    ),

    kvGet: db.prepare<[string, string, number], { value: string }>(
      'SELECT value FROM kv WHERE namespace = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)',
    ),
    kvSet: db.prepare<[string, string, string, number | null]>(
      `INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    kvDelete: db.prepare<[string, string]>('DELETE FROM kv WHERE namespace = ? AND key = ?'),
    kvGetWithExpiry: db.prepare<[string, string, number], { value: string; expires_at: number | null }>(
      'SELECT value, expires_at FROM kv WHERE namespace = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)',
    ),
    // A range on the primary key, not LIKE: LIKE would treat % and _ in the prefix as patterns and is
    // case-insensitive for ASCII. Live keys are counted; expired ones in the range go in the same sweep.
    kvDeleteRangeLive: db.prepare<[string, string, string, number]>(
      'DELETE FROM kv WHERE namespace = ? AND key >= ? AND key < ? AND (expires_at IS NULL OR expires_at > ?)',
    ),
    kvDeleteRangeAll: db.prepare<[string, string, string]>('DELETE FROM kv WHERE namespace = ? AND key >= ? AND key < ?'),
    kvDeleteFromLive: db.prepare<[string, string, number]>(
      'DELETE FROM kv WHERE namespace = ? AND key >= ? AND (expires_at IS NULL OR expires_at > ?)',
    ),
    kvDeleteFromAll: db.prepare<[string, string]>('DELETE FROM kv WHERE namespace = ? AND key >= ?'),
    kvKeysRange: db.prepare<[string, string, string, number, number], { key: string }>(
      'SELECT key FROM kv WHERE namespace = ? AND key >= ? AND key < ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?',
    ),
    kvKeysFrom: db.prepare<[string, string, number, number], { key: string }>(
      'SELECT key FROM kv WHERE namespace = ? AND key >= ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?',
    ),

    tokenGet: db.prepare<[string, number], { token: string; expires_at: number }>(
      'SELECT token, expires_at FROM tokens WHERE app_id = ? AND expires_at > ?',
    ),
    tokenSet: db.prepare<[string, string, number]>(
      `INSERT INTO tokens (app_id, token, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (app_id) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at`,
    ),
    tokenInvalidate: db.prepare<[string, string]>('DELETE FROM tokens WHERE app_id = ? AND token = ?'),
    lockTake: db.prepare<[string, string, number, number]>(
      `INSERT INTO locks (name, owner, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE locks.expires_at <= ?`,
    ),
    lockRelease: db.prepare<[string, string]>('DELETE FROM locks WHERE name = ? AND owner = ?'),
    // The token written only while its refresher still holds the lock (name, owner, not yet lapsed at now).
    tokenSetIfLocked: db.prepare<[string, string, number, string, string, number]>(
      `INSERT INTO tokens (app_id, token, expires_at)
       SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM locks WHERE name = ? AND owner = ? AND expires_at > ?)
       ON CONFLICT (app_id) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at`,
    ),

    hitsAll: db.prepare<[], { account: string; rule: string; keyword: string; hits: number }>(
      'SELECT account, rule, keyword, hits FROM rule_hits',
    ),
    hitsOf: db.prepare<[string], { account: string; rule: string; keyword: string; hits: number }>(
      'SELECT account, rule, keyword, hits FROM rule_hits WHERE account = ?',
    ),
    // Users seen only unfollowing (no follow time) form their own group, scene NULL, selected by the
    // unfollow's time; everyone else by their latest follow's. The users folded into follower_days are
    // added in (GROUP BY puts NULL scenes together), a day selected whole from the day holding `since` on
    // (@sinceDay, store-shared.ts utcDayOf): their times are gone.
    followers: db.prepare<[{ account: string | null; since: number | null; sinceDay: number | null }], FollowerCount>(
      `SELECT account, scene, sum(followed) AS followed, sum(stillFollowing) AS stillFollowing, sum(unfollowed) AS unfollowed
       FROM (
         SELECT account, CASE WHEN followed_at IS NULL THEN NULL ELSE scene END AS scene,
           count(followed_at) AS followed, sum(following) AS stillFollowing, sum(1 - following) AS unfollowed
         FROM followers
         WHERE (@account IS NULL OR account = @account) AND (@since IS NULL OR coalesce(followed_at, unfollowed_at) >= @since)
         GROUP BY 1, 2
         UNION ALL
         SELECT account, CASE WHEN unknown = 1 THEN NULL ELSE scene END, sum(followed), 0, sum(unfollowed)
         FROM follower_days
         WHERE (@account IS NULL OR account = @account) AND (@sinceDay IS NULL OR day >= @sinceDay)
         GROUP BY 1, 2
       )
       GROUP BY 1, 2`,
    ),
    // The fold (sqlite-schema.ts, follower_days): the users who unfollowed before the cut, added to their
    // day's counts (the day cut as utcDayOf does), then deleted under the same condition (foldTx). INDEXED
    // BY: without it SQLite scans every follower to get the GROUP BY's account order for free; the index
    // reads only the users who left since the last fold.
    followersFold: db.prepare<[{ before: number }]>(
      `INSERT INTO follower_days (account, unknown, scene, day, followed, unfollowed)
       SELECT account, followed_at IS NULL, CASE WHEN followed_at IS NULL THEN '' ELSE scene END,
         CAST(coalesce(followed_at, unfollowed_at) / ${DAY_MS} AS INTEGER) * ${DAY_MS}, count(followed_at), count(*)
       FROM followers INDEXED BY followers_unfollowed
       WHERE following = 0 AND unfollowed_at < @before
       GROUP BY 1, 2, 3, 4
       ON CONFLICT (account, unknown, scene, day) DO UPDATE SET followed = followed + excluded.followed, unfollowed = unfollowed + excluded.unfollowed`,
    ),
    followersFolded: db.prepare<[{ before: number }]>('DELETE FROM followers WHERE following = 0 AND unfollowed_at < @before'),
    logPrune: db.prepare<[number]>('DELETE FROM message_log WHERE at < ?'),
    // The keys that make a message's follow apply once (sqlite-schema.ts); the followers themselves stay.
    followEventsPrune: db.prepare<[number]>('DELETE FROM follow_events WHERE at < ?'),

    outboxInsert: db.prepare<[string, string, string, number, string, string | null, number, string | null]>(
      'INSERT INTO outbox (account, open_id, reply, attempts, status, last_error, at, msg_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    outboxGet: db.prepare<[number], OutboxRow>('SELECT * FROM outbox WHERE id = ?'),
    outboxWrite: db.prepare<[string, string, string, number, string, string | null, number, string | null, number]>(
      'UPDATE outbox SET account = ?, open_id = ?, reply = ?, attempts = ?, status = ?, last_error = ?, at = ?, msg_key = ? WHERE id = ?',
    ),
    outboxAll: db.prepare<[], OutboxRow>('SELECT * FROM outbox ORDER BY id'),
    outboxByStatus: db.prepare<[string], OutboxRow>('SELECT * FROM outbox WHERE status = ? ORDER BY id'),
    outboxPrune: db.prepare<[number]>("DELETE FROM outbox WHERE status IN ('sent', 'failed') AND at < ?"),
    outboxSetAside: db.prepare<[string, number]>("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?"),

    sweepKv: db.prepare<[number]>('DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?'),
    sweepSessions: db.prepare<[number]>('DELETE FROM sessions WHERE expires_at <= ?'),
    sweepTokens: db.prepare<[number]>('DELETE FROM tokens WHERE expires_at <= ?'),
    sweepLocks: db.prepare<[number]>('DELETE FROM locks WHERE expires_at <= ?'),
    ping: db.prepare<[], { one: number }>('SELECT 1 AS one'),
  }

  /** One statement per filter combination, prepared the first time that combination is asked for. */
  const logQueries = new Map<string, Database.Statement<unknown[], LogRow>>()
  function prepareLogQuery(q: MessageLogQuery): Database.Statement<unknown[], LogRow> {
    const shape = `${q.account !== undefined ? 'a' : ''}${q.openId !== undefined ? 'o' : ''}${q.kind !== undefined ? 'k' : ''}${q.since !== undefined ? 's' : ''}${q.until !== undefined ? 'u' : ''}`
    let stmt = logQueries.get(shape)
    if (!stmt) {
      const where: string[] = []
      if (q.account !== undefined) where.push('account = @account')
      if (q.openId !== undefined) where.push('open_id = @openId')
      if (q.kind !== undefined) where.push('kind = @kind')
      if (q.since !== undefined) where.push('at >= @since')
      if (q.until !== undefined) where.push('at < @until')
      stmt = db.prepare<unknown[], LogRow>(
        `SELECT * FROM message_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT @limit`,
      )
      logQueries.set(shape, stmt)
    }
    return stmt
  }

  const cacheSize = opts.sessionCacheSize ?? DEFAULT_SESSION_CACHE
  // Only "no session" is cached: most messages come from users without one, so most lookups end here. A
  // live session is read from the table each time (a user in a dialogue waits on a plugin call anyway), so a
  // session ended by another process (`wxengine session end`) is not served again from memory; nothing
  // outside the engine starts one, which would make a cached "none" wrong.
  const noSession = cacheSize > 0 ? new LRUCache<string, true>({ max: cacheSize }) : null

  // --- dedup: in memory, saved at close ----------------------------------------------------------
  // Writing each claim and each reply to disk was most of a message's cost. One process owns this file, so
  // claims and the reply cache (a 30 s window) live in memory, atomic by construction (one thread), and off
  // the heap (reply-cache.ts says why). close() saves the live replies and open loads them, so a retry that
  // arrives across a graceful restart (a deploy) still gets the same bytes. Each answer is also journaled,
  // written with the turn's log entries (before the engine answers, as they are), so after a kill -9 open
  // loads it from the files the dead process left: a retry arriving within its window gets the same bytes
  // then too, instead of running the message again.
  const replyCache = new ReplyCache()
  // Whether this store takes over what the last engine left (below): only one holding the data directory's
  // lock, an engine about to serve. One opened beside it (`wxengine log`, `stats`) serves no message.
  const exclusive = fileOf !== undefined && holdsDataDirLock(dirname(fileOf))
  const journalOnDisk = fileOf === undefined ? null : openReplyJournal({ dir: `${fileOf}-replies`, now, log, exclusive, rotateBytes: opts.replyJournalRotateBytes })
  // Off (the message log off), new answers are not journaled, but what an earlier run left (with it on) is
  // still read below and its files removed: its answers are as good, and nothing else would remove them.
  const replyJournal = opts.journalAnswers === false ? null : journalOnDisk
  // Group commit: log.committed() resolves once the entries appended so far are durable (journaled). The
  // engine waits for it before answering, so every answered message is in the log even after a kill -9, for
  // at most one turn of latency and one write() per turn. Every caller of a turn shares one promise.
  let durableTurn: { promise: Promise<void>; resolve: () => void } | null = null

  // Replies saved by the last close(), and answers journaled by a process that died, still inside their
  // window, are loaded once, so a claim never reads the disk: memory is the whole truth for this process.
  // All of them are journaled again, so a crash of this process keeps them too: the saved ones as well (a
  // kill -9 soon after a deploy's clean restart ran their messages' retries again, the table rows being
  // deleted below), and at once, not with the first turn (the dead process's files are removed already,
  // and an engine dying before its first turn, at start-up, lost them).
  {
    const openedAt = now()
    let saved: JournaledAnswer[]
    try {
      saved = db
        .prepare<[number], { key: string; reply: string; expires_at: number }>("SELECT key, reply, expires_at FROM dedup WHERE state = 'done' AND reply IS NOT NULL AND expires_at > ?")
        .all(openedAt)
        .map((row): JournaledAnswer => ({ key: row.key, reply: JSON.parse(row.reply) as StoredReply, expiresAt: row.expires_at }))
    } catch (e) {
      // The first table the open reads: a damaged one said as openDatabase says its failures, naming the file.
      db.close()
      throw fileOf === undefined ? e : storeOpenFailure(fileOf, dirname(fileOf), e)
    }
    const recovered = (journalOnDisk?.recover() ?? []).filter((a) => a.expiresAt > openedAt)
    // In expiry order: the cache expires records from the front of its claim order, and a journal file is
    // closed once its first answer has expired.
    const loaded = [...saved, ...recovered].sort((x, y) => x.expiresAt - y.expiresAt)
    for (const a of loaded) replyCache.load(a.key, a.reply, a.expiresAt, openedAt)
    // A store without the lock reads the saved replies and leaves them to the engine: `wxengine stats` run
    // during a deploy, between the stop and the start, deleted them, and the new engine ran their messages'
    // retries again.
    if (exclusive) {
      if (replyJournal === null) {
        // Answers not journaled (journalAnswers: false): the files a run with it on left are read, then
        // removed; the cache is saved to the table at the close.
        journalOnDisk?.discard()
        db.exec('DELETE FROM dedup')
      } else {
        for (const a of loaded) replyJournal.add(a)
        // Emptied only once the answers are in the new journal file (which also removes the files they were
        // recovered from): with that write failed, the table and the old files still hold them for the next start.
        if (replyJournal.write()) db.exec('DELETE FROM dedup')
      }
    }
  }

  const saveDedupTx = db.transaction((t: number): void => {
    for (const { key, reply, expiresAt } of replyCache.replies(t)) st.dedupComplete.run(key, JSON.stringify(reply), expiresAt)
  })

  function getSession(account: string, openId: string): SessionRecord | null {
    const key = sessionKeyOf(account, openId)
    // get, not has: a hit keeps the user among the recently seen (has leaves the LRU order as it is).
    if (noSession?.get(key) === true) return null
    // Not through read(): a closure a lookup on every message's path (a miss, past the cache's size).
    let row
    try {
      row = st.sessionGet.get(account, openId, now())
    } catch (e) {
      noteDamage(e)
      throw e
    }
    if (!row) {
      noSession?.set(key, true)
      return null
    }
    let state: JsonValue | null
    try {
      state = JSON.parse(row.state) as JsonValue | null
    } catch (e) {
      // Not JSON (edited by hand, cut short on a failing disk): no session, and gone, so the user starts
      // afresh. Thrown, it dropped every message of theirs until the session expired.
      // Budgeted per account: a damaged table holds many, each met when its user writes, a line each.
      sessionLines.error(`unreadable session ${account}`, { code: 'STORE_UNAVAILABLE', account, openId, plugin: row.plugin, reason: `session state is not JSON: ${(e as Error).message}` }, 'unreadable session dropped')
      noSession?.set(key, true)
      write(() => st.sessionDelete.run(account, openId))
      return null
    }
    return { account, openId, plugin: row.plugin, state, expiresAt: row.expires_at }
  }

  function claimDedup(key: string, pendingTtlMs: number): ClaimResult {
    return replyCache.claim(key, pendingTtlMs, now())
  }

  function completeDedup(key: string, reply: StoredReply, ttlMs: number): void {
    const t = now()
    replyCache.complete(key, reply, ttlMs, t)
    // Written with the turn's log entries (the engine waits for that before it answers, log.committed()).
    if (replyJournal !== null) {
      replyJournal.add({ key, reply, expiresAt: t + ttlMs })
      scheduleFlush()
    }
  }

  const deletePrefixTx = db.transaction((namespace: string, prefix: string): number => {
    const upper = prefixUpperBound(prefix)
    const t = now()
    if (upper === null) {
      const live = st.kvDeleteFromLive.run(namespace, prefix, t).changes
      st.kvDeleteFromAll.run(namespace, prefix)
      return live
    }
    const live = st.kvDeleteRangeLive.run(namespace, prefix, upper, t).changes
    st.kvDeleteRangeAll.run(namespace, prefix, upper)
    return live
  })

  const incrementTx = db.transaction((namespace: string, key: string, by: number, ttlMsIfNew: number | undefined, t: number): number => {
    const row = st.kvGetWithExpiry.get(namespace, key, t)
    const current: unknown = row === undefined ? 0 : JSON.parse(row.value)
    if (typeof current !== 'number') throw new NotANumberError(row!.value)
    const sum = current + by
    if (!Number.isFinite(sum)) throw new SumOutOfRangeError(current, by)
    st.kvSet.run(namespace, key, JSON.stringify(sum), row ? row.expires_at : ttlMsIfNew !== undefined ? t + ttlMsIfNew : null)
    return sum
  })

  // IMMEDIATE (taken by the caller): the read and the write hold the write lock together, so a `send --local`
  // or recovery on the same file cannot land between them.
  const compareAndSetTx = db.transaction(
    (namespace: string, key: string, expectedJson: string | undefined, nextJson: string | undefined, ttlMs: number | undefined, t: number): boolean => {
      const row = st.kvGetWithExpiry.get(namespace, key, t)
      if (row?.value !== expectedJson) return false
      if (nextJson === undefined) st.kvDelete.run(namespace, key)
      else st.kvSet.run(namespace, key, nextJson, ttlMs !== undefined ? t + ttlMs : (row?.expires_at ?? null))
      return true
    },
  )

  // Read-then-write transactions run as BEGIN IMMEDIATE (`.immediate(...)` below): a deferred one that has
  // read cannot wait for the log thread's write lock (SQLite skips the busy handler on that upgrade) and
  // failed with SQLITE_BUSY at once. An outbox update lost that way left a sent late reply pending, and the
  // next start sent it again.
  const outboxUpdateTx = db.transaction((id: number, patch: Partial<OutboxEntry>): Database.RunResult | undefined => {
    const row = st.outboxGet.get(id)
    if (!row) return undefined
    const e = applyOutboxPatch(outboxEntryOf(row), patch)
    return st.outboxWrite.run(e.account, e.openId, JSON.stringify(e.reply), e.attempts, e.status, e.lastError ?? null, e.at, e.msgKey ?? null, id)
  })

  // IMMEDIATE (taken by the caller): the log thread commits follows and unfollows on its own connection, and
  // holding the write lock from the count to the delete is what keeps one of them from landing between the
  // two: a user who unfollowed meanwhile is in both or in neither, and one who followed again in neither.
  const foldTx = db.transaction((before: number): number => {
    st.followersFold.run({ before })
    return st.followersFolded.run({ before }).changes
  })

  // --- message log buffer -------------------------------------------------------------------------
  let buffer: MessageLogEntry[] = []
  let flushScheduled: NodeJS.Immediate | null = null
  const failureLineWindowMs = opts.failureLineWindowMs ?? LOG_FAILURE_LINE_MS
  const logWriter = startLogWriter({
    db,
    file: fileOf ?? null,
    log,
    busyTimeoutMs: BUSY_TIMEOUT_MS,
    walAutocheckpoint: LOG_THREAD_WAL_AUTOCHECKPOINT,
    journalRotateBytes: opts.journalRotateBytes,
    failureLineWindowMs,
  })

  /**
   * The current run of failed writes, null while writes succeed: since when, the last reason (health()),
   * when the backlog is tried again, and how many tries failed.
   */
  let failing: { since: number; reason: string; retryAt: number; tries: number } | null = null
  let retryTimer: NodeJS.Timeout | null = null
  let droppedUnlogged = 0
  const failureLines = createLineBudget(log, { perKey: 1, windowMs: failureLineWindowMs })
  // The 'unreadable session dropped' lines (readSession): one per user whose session is damaged.
  const sessionLines = createLineBudget(log)

  /**
   * Hands the buffer to the writer, which has it durable when it returns. Waiters (log.committed() calls)
   * are released whether or not the write succeeded: a failed write is logged and retried (LOG_RETRY_MS
   * later, or at once with `tryNow`: flush, close and queries), and a reply must not wait on the disk forever.
   * Never throws.
   */
  function flushLog(tryNow = false): void {
    if (flushScheduled) {
      clearImmediate(flushScheduled)
      flushScheduled = null
    }
    const turn = durableTurn
    durableTurn = null
    replyJournal?.write()
    if (buffer.length > 0 && (tryNow || failing === null || now() >= failing.retryAt)) {
      const batch = buffer
      buffer = []
      try {
        logWriter.write(batch)
        if (failing !== null) reportRecovered(batch.length)
      } catch (e) {
        buffer = batch.concat(buffer)
        reportWriteFailure((e as Error).message)
      }
    }
    if (failing !== null && buffer.length > 0) retryLater()
    // A batch's worth past the cap at a time, not one entry per append (a copy of the backlog each).
    if (failing !== null && buffer.length >= LOG_BACKLOG_MAX + LOG_BATCH_MAX) {
      droppedUnlogged += buffer.length - LOG_BACKLOG_MAX
      buffer = buffer.slice(buffer.length - LOG_BACKLOG_MAX)
    }
    turn?.resolve()
  }

  /**
   * The backlog's next try when no message comes to make it (the same spacing, LOG_RETRY_MS). Without it, a
   * full disk that emptied at night kept the backlog in memory, where a crash loses it, and /healthz degraded,
   * until the next message arrived.
   */
  function retryLater(): void {
    if (retryTimer !== null || closed) return
    retryTimer = setTimeout(() => {
      retryTimer = null
      if (buffer.length > 0) flushLog(true)
    }, LOG_RETRY_MS)
    retryTimer.unref()
  }

  /**
   * The run's failure lines held back and the entries dropped meanwhile are said now (the next failure line,
   * which would say the drops, may never come), and the window ends: a new run's first failure is said at once.
   */
  function reportRecovered(written: number): void {
    const failedTries = failing?.tries ?? 0
    failureLines.close()
    reportDropped()
    log.warn({ written, failedTries }, 'message log written again; its backlog is journaled')
    failing = null
  }

  function reportDropped(): void {
    if (droppedUnlogged > 0) log.error({ code: 'STORE_UNAVAILABLE', reason: 'message log backlog full', dropped: droppedUnlogged }, 'message log entries dropped')
    droppedUnlogged = 0
  }

  function reportWriteFailure(reason: string): void {
    const t = now()
    failing = { since: failing?.since ?? t, reason, retryAt: t + LOG_RETRY_MS, tries: (failing?.tries ?? 0) + 1 }
    // The entries dropped since are said with each failure line written (one a window).
    if (failureLines.error('write failed', { code: 'STORE_UNAVAILABLE', reason, buffered: buffer.length }, 'message log write failed')) reportDropped()
  }

  /**
   * Everything appended so far handed over and in the table, for a query to see. Not there yet (the table
   * cannot be written just now) reads what is there: the rest is safe in the journal, and the failure logged.
   */
  async function inTable(): Promise<void> {
    flushLog(true)
    await logWriter.ingested().catch(() => undefined)
  }

  function scheduleFlush(): void {
    if (!flushScheduled) flushScheduled = setImmediate(flushLog)
  }

  // --- sweeper ------------------------------------------------------------------------------------
  function sweep(): void {
    try {
      const t = now()
      const removed =
        replyCache.sweep(t) +
        write(() => st.sweepKv.run(t).changes + st.sweepSessions.run(t).changes + st.sweepTokens.run(t).changes + st.sweepLocks.run(t).changes)
      if (removed > 0) log.debug({ removed }, 'expired store rows deleted')
    } catch (e) {
      noteDamage(e)
      log.warn({ code: 'STORE_UNAVAILABLE', reason: (e as Error).message }, 'store sweep failed')
    }
  }
  const sweeper = setInterval(sweep, opts.sweepIntervalMs ?? DEFAULT_SWEEP_MS)
  sweeper.unref()

  /** False, said once in an error line, when the database file or its WAL was removed or replaced while open. */
  function fileStillThere(): boolean {
    const gone = watched.find((w) => !sameFile(w.file, w.openedAs))
    if (gone === undefined) return true
    if (!replacedSaid) {
      replacedSaid = true
      log.error(
        { code: 'STORE_UNAVAILABLE', reason: `${gone.file} was removed or replaced while the engine runs` },
        'database file gone: what is written now is lost at the next start; restart the engine',
      )
    }
    return false
  }
  /** Said at each removal: the entries of the removed journal not yet in the table are lost (said by the ingester). */
  function journalStillThere(): void {
    try {
      if (logWriter.journalRemoved()) {
        log.error(
          { code: 'STORE_UNAVAILABLE', reason: `the message log journal in ${fileOf}-msglog was removed while the engine runs` },
          'message log journal removed while the engine runs; a new one is started',
        )
      }
    } catch (e) {
      log.warn({ code: 'STORE_UNAVAILABLE', reason: (e as Error).message }, 'message log journal not checked')
    }
  }
  const fileCheck = setInterval(() => {
    fileStillThere()
    journalStillThere()
  }, opts.fileCheckIntervalMs ?? DEFAULT_FILE_CHECK_MS)
  fileCheck.unref()

  let closed = false

  return {
    kind: 'sqlite',

    sessions: {
      async get(account, openId) {
        return getSession(account, openId)
      },
      getSync: getSession,
      async put(s: SessionRecord) {
        const stateJson = JSON.stringify(s.state)
        write(() => st.sessionPut.run(s.account, s.openId, s.plugin, stateJson, s.expiresAt))
        noSession?.delete(sessionKeyOf(s.account, s.openId))
      },
      async update(s: SessionRecord) {
        const stateJson = JSON.stringify(s.state)
        // A live session is never in the "no session" cache: nothing to forget there.
        return write(() => st.sessionUpdate.run(stateJson, s.expiresAt, s.account, s.openId, s.plugin)).changes === 1
      },
      async delete(account, openId) {
        write(() => st.sessionDelete.run(account, openId))
        noSession?.set(sessionKeyOf(account, openId), true)
      },
      async list({ account, plugin, limit }) {
        const rows = read(() => st.sessionList.all(now(), account ?? null, account ?? null, plugin ?? null, plugin ?? null, limit))
        // A state that is not JSON (edited by hand) is left out here; its user's next message drops it, said.
        const live: SessionRecord[] = []
        for (const r of rows) {
          try {
            live.push({ account: r.account, openId: r.open_id, plugin: r.plugin, state: JSON.parse(r.state) as JsonValue | null, expiresAt: r.expires_at })
          } catch {
            // left out
          }
        }
        return live
      },
    },

    dedup: {
      async claim(key, pendingTtlMs) {
        return claimDedup(key, pendingTtlMs)
      },
      async complete(key, reply, ttlMs) {
        completeDedup(key, reply, ttlMs)
      },
      claimSync: claimDedup,
      completeSync: completeDedup,
      async release(key) {
        replyCache.release(key, now())
      },
      async peek(key) {
        return replyCache.peek(key, now())
      },
    },

    kv: {
      async get(namespace, key) {
        const row = read(() => st.kvGet.get(namespace, key, now()))
        return row === undefined ? undefined : (JSON.parse(row.value) as JsonValue)
      },
      async set(namespace, key, value, ttlMs) {
        const json = JSON.stringify(value)
        write(() => st.kvSet.run(namespace, key, json, ttlMs === undefined ? null : now() + ttlMs))
      },
      async delete(namespace, key) {
        write(() => st.kvDelete.run(namespace, key))
      },
      async deletePrefix(namespace, prefix) {
        return write(() => deletePrefixTx.immediate(namespace, prefix))
      },
      async keys(namespace, prefix, limit) {
        const upper = prefixUpperBound(prefix)
        const rows = read(() => (upper === null ? st.kvKeysFrom.all(namespace, prefix, now(), limit) : st.kvKeysRange.all(namespace, prefix, upper, now(), limit)))
        return rows.map((r) => r.key)
      },
      async increment(namespace, key, by, ttlMsIfNew) {
        return write(() => incrementTx.immediate(namespace, key, by, ttlMsIfNew, now()))
      },
      async compareAndSet(namespace, key, expected, next, ttlMs) {
        const expectedJson = expected === undefined ? undefined : JSON.stringify(expected)
        const nextJson = next === undefined ? undefined : JSON.stringify(next)
        return write(() => compareAndSetTx.immediate(namespace, key, expectedJson, nextJson, ttlMs, now()))
      },
    },

    tokens: {
      async get(appId) {
        const row = read(() => st.tokenGet.get(appId, now()))
        return row ? { token: row.token, expiresAt: row.expires_at } : null
      },
      async set(appId, record) {
        write(() => st.tokenSet.run(appId, record.token, record.expiresAt))
      },
      async invalidate(appId, token) {
        write(() => st.tokenInvalidate.run(appId, token))
      },
      async lock(appId, ttlMs) {
        const owner = randomUUID()
        const t = now()
        if (write(() => st.lockTake.run(`token:${appId}`, owner, t + ttlMs, t)).changes !== 1) return null
        return {
          async set(record) {
            return write(() => st.tokenSetIfLocked.run(appId, record.token, record.expiresAt, `token:${appId}`, owner, now())).changes === 1
          },
          async release() {
            // Deleting by owner: after expiry another refresher may hold the lock, and keeps it.
            st.lockRelease.run(`token:${appId}`, owner)
          },
        }
      },
    },

    log: {
      append(entry) {
        if (closed) {
          log.warn({ msgKey: entry.msgKey }, 'message log append after close ignored')
          return
        }
        buffer.push(entry)
        if (buffer.length >= LOG_BATCH_MAX) flushLog()
        else scheduleFlush()
      },
      async query(q) {
        await inTable()
        const rows = prepareLogQuery(q).all({
          account: q.account,
          openId: q.openId,
          kind: q.kind,
          since: q.since,
          until: q.until,
          limit: q.limit ?? DEFAULT_LOG_LIMIT,
        })
        return rows.map(logEntryOf)
      },
      async hits(account) {
        await inTable()
        const rows = account === undefined ? st.hitsAll.all() : st.hitsOf.all(account)
        const out: HitCount[] = rows.map((r) => ({ account: r.account, rule: r.rule, keyword: r.keyword === '' ? null : r.keyword, hits: r.hits }))
        return out.sort(compareHits)
      },
      async followers(q = {}) {
        await inTable()
        const since = q.since ?? null
        return st.followers.all({ account: q.account ?? null, since, sinceDay: since === null ? null : utcDayOf(since) }).sort(compareFollowers)
      },
      async prune(before) {
        await inTable()
        st.followEventsPrune.run(before)
        foldTx.immediate(before)
        return st.logPrune.run(before).changes
      },
      async foldFollowers(before) {
        await inTable()
        return foldTx.immediate(before)
      },
      async flush() {
        flushLog(true)
        if (buffer.length > 0) throw new Error(`message log: ${buffer.length} entries not written (see the log)`)
        try {
          await logWriter.ingested()
        } catch (e) {
          throw new Error(`message log: journaled entries not yet in the table: ${(e as Error).message}`)
        }
      },
      health() {
        const health = { writable: failing === null, backlog: buffer.length, dropped: droppedUnlogged }
        return failing === null ? health : { ...health, failing: { since: failing.since, reason: failing.reason } }
      },
      async committed() {
        // Entries handed to the writer are durable already; only the buffered ones (this turn) are waited for.
        if (buffer.length === 0 && !replyJournal?.pending()) return
        if (!durableTurn) {
          let resolve!: () => void
          const promise = new Promise<void>((r) => (resolve = r))
          durableTurn = { promise, resolve }
          scheduleFlush()
        }
        await durableTurn.promise
      },
    },

    outbox: {
      async record(e) {
        const json = JSON.stringify(e.reply)
        const r = write(() => st.outboxInsert.run(e.account, e.openId, json, e.attempts, e.status, e.lastError ?? null, e.at, e.msgKey ?? null))
        return Number(r.lastInsertRowid)
      },
      async update(id, patch) {
        write(() => outboxUpdateTx.immediate(id, patch))
      },
      async list(status) {
        const rows = read(() => (status === undefined ? st.outboxAll.all() : st.outboxByStatus.all(status)))
        const entries: OutboxEntry[] = []
        for (const row of rows) {
          let entry: OutboxEntry
          try {
            entry = outboxEntryOf(row)
          } catch (e) {
            // Not JSON (edited by hand, cut short on a failing disk): that one entry is set aside as failed,
            // saying why. Thrown, it stopped the start-up from taking up every other pending late reply.
            const reason = `outbox entry ${row.id}: reply is not JSON: ${(e as Error).message}`
            log.error({ code: 'STORE_UNAVAILABLE', account: row.account, openId: row.open_id, outboxId: row.id, reason }, 'unreadable outbox entry set aside')
            write(() => st.outboxSetAside.run(`UNREADABLE: ${reason}`, row.id))
            continue
          }
          entries.push(entry)
        }
        return entries
      },
      async prune(before) {
        return st.outboxPrune.run(before).changes
      },
    },

    async healthy() {
      if (closed || damaged) return false
      if (!fileStillThere()) return false
      try {
        return st.ping.get()?.one === 1
      } catch {
        return false
      }
    },

    writes() {
      return writeFailing === null ? { writable: true } : { writable: false, failing: { ...writeFailing } }
    },

    async close() {
      if (closed) return
      closed = true
      clearInterval(sweeper)
      clearInterval(fileCheck)
      if (retryTimer !== null) clearTimeout(retryTimer)
      flushLog(true)
      failureLines.close()
      sessionLines.close()
      if (buffer.length > 0 || droppedUnlogged > 0) log.error({ code: 'STORE_UNAVAILABLE', reason: 'the journal cannot be written', lost: buffer.length + droppedUnlogged }, 'message log not written at close')
      await logWriter.close()
      try {
        saveDedupTx.immediate(now())
        // Saved: the journaled copy is not needed any more.
        replyJournal?.discard()
      } catch (e) {
        log.warn({ code: 'STORE_UNAVAILABLE', reason: (e as Error).message }, 'reply cache not saved at close (its journal is kept for the next start)')
        replyJournal?.close()
      }
      noSession?.clear()
      db.close()
    },
  }
}

/** A statement's result (or a transaction's count of rows) that shows rows were written. */
function wroteSomething(r: unknown): boolean {
  if (typeof r === 'number') return r > 0
  if (typeof r === 'object' && r !== null && 'changes' in r) return (r as { changes: number }).changes > 0
  return false
}

/**
 * The files whose removal loses what the engine writes: the database, and its WAL and WAL index while this
 * connection holds them (SQLite removes them only when the last connection closes). A removed -wal held
 * every commit since the last checkpoint: a kill -9 then lost them all, answered messages' log rows and the
 * journals that held them (their rows went with the WAL, so the next start removed the files as retired),
 * while /healthz said ok. A removed -shm lets the next connection (the log thread, `wxengine log`) build
 * another index of the WAL than ours.
 */
function watchedFiles(file: string): { file: string; openedAs: Stats }[] {
  const out: { file: string; openedAs: Stats }[] = []
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      out.push({ file: f, openedAs: statSync(f) })
    } catch {
      // Not there at open (the database always is): nothing to watch.
    }
  }
  return out
}


/** Opens, configures and migrates the file; any failure names the file. */
function openDatabase(file: string): Database.Database {
  const inMemory = file === ':memory:'
  const where = inMemory ? file : resolve(file)
  let db: Database.Database | undefined
  try {
    if (!inMemory) makeDir(dirname(where))
    // A directory this user cannot write is the first thing to fix (its hint below); then the file.
    const fileProblem = inMemory || unwritableHint(dirname(where)) ? '' : unwritableFileHint(where)
    if (fileProblem) throw new StoreOpenError(where, fileProblem)
    if (!inMemory) createPrivate(where)
    db = new Database(where)
    // The first statement that reads the header is where "file is not a database" surfaces.
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    // Checkpoints are where NORMAL syncs to disk; at the default (every 1,000 pages) they cost about half of
    // a busy log's write time. A larger WAL between checkpoints keeps the same guarantees.
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT}`)
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    migrate(db, where)
    return db
  } catch (e) {
    db?.close()
    if (e instanceof StoreOpenError) throw e
    throw inMemory ? new StoreOpenError(where, (e as Error).message, { cause: e }) : storeOpenFailure(where, dirname(where), e)
  }
}

/**
 * The file holds users' OpenIDs and what they wrote, plugin storage and access tokens: made readable by its
 * owner only, whatever the umask (systemd's default, 0022, made it and its -wal and -shm world-readable, an
 * operator's review). SQLite gives the -wal and -shm the database file's mode. A file that exists is left as
 * it is: its mode is the operator's choice.
 */
function createPrivate(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
  }
}

function migrate(db: Database.Database, where: string): void {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > SCHEMA_VERSION) {
    // Migrations only go forward, so a downgrade lands here: say the way back (deployment.md, Upgrading).
    throw new StoreOpenError(
      where,
      `schema version ${version} is newer than this wxengine understands (${SCHEMA_VERSION}): a newer wxengine has opened this file; run that version, or restore the backup taken before the upgrade`,
    )
  }
  if (version === SCHEMA_VERSION) return
  db.transaction(() => {
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(SCHEMA_MIGRATIONS[v])
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
  }).immediate()
}

function logEntryOf(r: LogRow): MessageLogEntry {
  const e: MessageLogEntry = {
    at: r.at,
    account: r.account,
    openId: r.open_id,
    kind: r.kind,
    msgKey: r.msg_key,
    handledBy: r.handled_by,
    latencyMs: r.latency_ms,
    outcome: r.outcome,
  }
  if (r.rule !== null) e.rule = r.rule
  if (r.keyword !== null) e.keyword = r.keyword
  if (r.plugin !== null) e.plugin = r.plugin
  if (r.reply_type !== null) e.replyType = r.reply_type
  if (r.summary !== null) e.summary = r.summary
  if (r.error !== null) e.error = r.error
  return e
}

function outboxEntryOf(r: OutboxRow): OutboxEntry {
  const e: OutboxEntry = {
    id: r.id,
    account: r.account,
    openId: r.open_id,
    reply: JSON.parse(r.reply) as JsonValue,
    attempts: r.attempts,
    status: r.status,
    at: r.at,
  }
  if (r.last_error !== null) e.lastError = r.last_error
  if (r.msg_key !== null) e.msgKey = r.msg_key
  return e
}
