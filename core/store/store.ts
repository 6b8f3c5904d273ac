/**
 * The state port. Everything the engine keeps between messages goes through this interface, so the
 * embedded SQLite store, the in-memory store (tests) and the Redis store (fleets) are interchangeable.
 * Every backend passes the one contract suite in test/store/store-contract.ts.
 *
 * All times are epoch milliseconds; all TTLs are milliseconds.
 */
import type { JsonValue } from '../plugin/plugin-api.ts'
import { shortened } from '../shown-text.ts'

/** A user's conversation locked to a plugin (WeEngine "context"). Key: account + openId. */
export interface SessionRecord {
  account: string
  openId: string
  plugin: string
  state: JsonValue | null
  expiresAt: number
}

export interface SessionStore {
  /** The live session, or null if none or expired. */
  get(account: string, openId: string): Promise<SessionRecord | null>
  /**
   * The same lookup answered synchronously, offered by stores that need no network round trip (SQLite,
   * memory). The router uses it so a message answered by an inline rule is handled without an await: about
   * a tenth of the CPU a request over HTTP (BENCHMARKS.md).
   */
  getSync?(account: string, openId: string): SessionRecord | null
  /**
   * put and delete reject when the write failed. A store whose write may still be applied after it gave up
   * (a command timed out, the connection closed after sending it) says so on the error: `mayHaveApplied`.
   */
  put(session: SessionRecord): Promise<void>
  /**
   * Writes a dialogue's new state or end time only while its session is still there, of the same plugin;
   * false, nothing written, when it is gone. Offered by a store another process writes to beside the serving
   * engine (SQLite: `wxengine session end`), where the engine's own user lock does not reach: a session
   * ended while its plugin answered a message stays ended, where `put` made it again. The router uses it for
   * a dialogue's update and refresh (a begin is a new session: put). A shared store (Redis) needs none:
   * `session end` there takes the user's lock.
   */
  update?(session: SessionRecord): Promise<boolean>
  delete(account: string, openId: string): Promise<void>
  /**
   * The live sessions, of one account or all, with one plugin or any, soonest to end first, at most `limit`:
   * for an operator (`wxengine session list`), never on a message's path. Redis scans every session key.
   */
  list(query: { account?: string; plugin?: string; limit: number }): Promise<SessionRecord[]>
  /**
   * Offered by a store several instances share (Redis): holds one user while an instance routes one of their
   * messages, so two messages of a user on two instances do not both read the same session. Returns the
   * held lock, or, while another instance holds it, null, or UNSUBSCRIBING when the holder is the user's
   * unsubscribe (its routing, then its clean-up deleting their data): taken `forUnsubscribe`, the lock says so
   * to whoever waits for it. Held `ttlMs` at most: the store takes it for less and renews it while held, so
   * that a crashed holder's lapses within a few command timeouts.
   */
  lockUser?(account: string, openId: string, ttlMs: number, forUnsubscribe?: boolean): Promise<HeldUserLock | null | typeof UNSUBSCRIBING>
}

/** lockUser's answer while the user's lock is held by their unsubscribe (its routing or its clean-up). */
export const UNSUBSCRIBING = 'unsubscribing'

/** Whether a failed store write may still have been (or be) applied: see SessionStore.put. */
export function mayHaveApplied(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { mayHaveApplied?: unknown }).mayHaveApplied === true
}

/** A user's lock held in the shared store, with the user's session read in the same command. */
export interface HeldUserLock {
  /**
   * The live session (null: none) as it stood when the lock was taken: nobody else can change it while the
   * lock is held, so routing starts from it instead of reading it again (one round trip a message less).
   */
  session: SessionRecord | null
  /**
   * Writes of the user's session fenced by this lock: each checks, in the same atomic step as the write, that
   * the lock is still this holder's, and rejects with a LockLostError, nothing written, when it is not (it
   * lapsed while this instance was paused past its TTL: another instance may hold it and have written newer
   * state). Routing and an unsubscribe's clean-up under the lock write through these, never the plain ones;
   * deletePrefix is the clean-up's purge of the user's plugin data, fenced the same way batch by batch.
   */
  writes: Pick<SessionStore, 'put' | 'delete'> & Pick<KvStore, 'deletePrefix'>
  /** Frees the lock if it is still this holder's (compare-and-delete). */
  release(): Promise<void>
  /**
   * Keeps the lock from lapsing, renewed by the store within bounds of its own command timeouts, until the
   * returned function is called: for work under the lock whose length nothing bounds beforehand (an
   * unsubscribe's clean-up). The lock still lapses soon after if this instance dies.
   */
  keepAlive(): () => void
}

/**
 * Exactly-once bookkeeping. WeChat retries a slow message up to 3 times, 5 s apart (protocol.md §5):
 * the first delivery claims the key, later ones see `pending` (wait) or `done` (replay the same bytes).
 */
export type ClaimResult =
  | { state: 'claimed' }
  | { state: 'pending' }
  | { state: 'done'; reply: StoredReply }

/** The exact HTTP answer given to the first delivery. */
export interface StoredReply {
  status: number
  contentType: string
  body: string
}

export interface DedupStore {
  /** Atomically claim `key` for `pendingTtlMs` (a crashed claimer's claim lapses). */
  claim(key: string, pendingTtlMs: number): Promise<ClaimResult>
  /** Record the answer for replay, kept for `ttlMs` (the reply cache window). */
  complete(key: string, reply: StoredReply, ttlMs: number): Promise<void>
  /**
   * claim and complete answered synchronously, offered together by stores whose dedup state lives in this
   * process (SQLite, memory): see SessionStore.getSync for why.
   */
  claimSync?(key: string, pendingTtlMs: number): ClaimResult
  completeSync?(key: string, reply: StoredReply, ttlMs: number): void
  /** Give up a claim without an answer, so a retry runs again. */
  release(key: string): Promise<void>
  /** Current state without claiming (used by a waiting retry). */
  peek(key: string): Promise<ClaimResult | { state: 'absent' }>
}

/** Namespaced key-value store: plugin storage, tokens, anything small. */
export interface KvStore {
  get(namespace: string, key: string): Promise<JsonValue | undefined>
  set(namespace: string, key: string, value: JsonValue, ttlMs?: number): Promise<void>
  delete(namespace: string, key: string): Promise<void>
  /** Delete every key in `namespace` starting with `prefix` (used to purge a user's data). */
  deletePrefix(namespace: string, prefix: string): Promise<number>
  /**
   * The live keys of `namespace` that start with `prefix`, sorted, at most `limit` of them (`wxengine
   * storage list`). An operator's look, not a plugin's: on Redis it walks the namespace's keys (SCAN).
   */
  keys(namespace: string, prefix: string, limit: number): Promise<string[]>
  /**
   * Writes `next` (undefined deletes the key) only if the live value is still `expected` (undefined:
   * absent), compared as JSON text, in one atomic step against every other writer (other messages, other
   * instances); true when it wrote. `ttlMs` sets a new expiry; without it the key keeps the one it has
   * (none for a new key). Plugin storage's `update` and `increment` are built on it.
   */
  compareAndSet(namespace: string, key: string, expected: JsonValue | undefined, next: JsonValue | undefined, ttlMs?: number): Promise<boolean>
  /**
   * Adds `by` to the number at the key (absent: 0) in one atomic step and resolves with the sum; rejects with
   * a NotANumberError when the value there is not a number, a SumOutOfRangeError (nothing written) when the sum
   * would not be a finite number. `ttlMsIfNew` is the expiry of a counter this
   * call starts; a running counter keeps its own. Plugin storage's `increment`.
   */
  increment(namespace: string, key: string, by: number, ttlMsIfNew?: number): Promise<number>
}

/**
 * kv.increment whose sum would be past the largest number a double holds (±1.8e308): refused, nothing
 * written. Written, it was `null` in SQLite's JSON (read back as null), `inf` in Redis (every later read of
 * the key threw), Infinity in memory: three stores, three answers, none the number.
 */
export class SumOutOfRangeError extends Error {
  constructor(current: number, by: number) {
    super(`past the largest number: ${current} + ${by}`)
    this.name = 'SumOutOfRangeError'
  }
}

/** kv.increment on a value that is not a number: `not a number: <the value's JSON, cut short>`. */
export class NotANumberError extends Error {
  constructor(json: string) {
    super(`not a number: ${shortened(json, 60)}`)
    this.name = 'NotANumberError'
  }
}

/** access_token cache, shared by every instance using the store. */
export interface TokenRecord {
  token: string
  expiresAt: number
}
export interface TokenStore {
  get(appId: string): Promise<TokenRecord | null>
  set(appId: string, record: TokenRecord): Promise<void>
  /** Remove a token the platform rejected (40001/40014/42001), unless it was already replaced. */
  invalidate(appId: string, token: string): Promise<void>
  /** One refresher at a time across instances. Returns the held lock, or null when held elsewhere. */
  lock(appId: string, ttlMs: number): Promise<HeldTokenLock | null>
}

/** The token refresh lock, held by one refresher. */
export interface HeldTokenLock {
  /**
   * Stores the token this holder fetched, only if the lock is still this holder's, checked in the same atomic
   * step as the write: false, nothing written, when it lapsed (a holder paused past its TTL: GC, SIGSTOP) and
   * another refresher may have stored a newer token meanwhile, which a plain set() would overwrite.
   */
  set(record: TokenRecord): Promise<boolean>
  /** Frees the lock if it is still this holder's (compare-and-delete). */
  release(): Promise<void>
}

/** One line of the message log. */
export interface MessageLogEntry {
  at: number
  account: string
  openId: string
  kind: string
  msgKey: string
  /** Which step of the routing answered: `session`, `rule`, `type`, `welcome`, `default`, or `none` (router.ts HandledBy). */
  handledBy: string
  rule?: string
  keyword?: string
  plugin?: string
  replyType?: string
  /** Short text of the inbound message (text content, event key) for reading the log. */
  summary?: string
  latencyMs: number
  outcome: 'replied' | 'no_reply' | 'late' | 'failed' | 'dropped'
  error?: string
}

export interface MessageLogQuery {
  account?: string
  openId?: string
  /**
   * Only entries of this kind (`masssend_job_finish`: `wxengine mass results`). No index has it: the query
   * walks the log newest first until it has `limit` (`since` bounds it), as one for a user does.
   */
  kind?: string
  since?: number
  /** Only entries before this time: with `since`, a window the time index bounds (the log has no per-user index). */
  until?: number
  limit?: number
}

export interface HitCount {
  account: string
  rule: string
  keyword: string | null
  hits: number
}

/**
 * Which followers `log.followers` counts: one account's (all by default); those who followed at or after
 * `since` (users folded into counts: on the day holding `since` or later).
 */
export interface FollowerQuery {
  account?: string
  since?: number
}

/**
 * Followers per account and QR scene (`wxengine followers`), kept from the log's subscribe and unsubscribe
 * entries as they are written: each user counts once, under the scene of their latest follow, and `since`
 * selects on that follow's time. followed = stillFollowing + unfollowed, except for `scene: null`. A user
 * folded into counts (MessageLog.foldFollowers) who follows again is a second user.
 */
export interface FollowerCount {
  account: string
  /**
   * The latest follow's QR scene (EventKey without `qrscene_`), '' for a follow without one. null: users
   * seen only unfollowing (their follow predates the log, or came while it was off), counted in
   * `unfollowed` alone and selected by `since` on the unfollow's time.
   */
  scene: string | null
  followed: number
  stillFollowing: number
  unfollowed: number
}

export interface MessageLog {
  /** The store may hold on to `entry` until it is written: the caller must not change it afterwards. */
  append(entry: MessageLogEntry): void
  query(q: MessageLogQuery): Promise<MessageLogEntry[]>
  hits(account?: string): Promise<HitCount[]>
  /**
   * Followers per (account, scene), most followed first: the users the store knows (one row each) and those
   * folded into counts (foldFollowers), summed. Pruning or folding changes no count.
   */
  followers(q?: FollowerQuery): Promise<FollowerCount[]>
  /** Delete entries older than `before`, and fold the followers who unfollowed before it (foldFollowers); returns how many entries. */
  prune(before: number): Promise<number>
  /**
   * Forget the users who unfollowed before `before`: each is added to anonymous counts per account, scene
   * and UTC day (of their latest follow; of the unfollow for a user never seen following), and their row,
   * OpenID and times, is deleted. Users still following are kept. A folded user who follows again counts as
   * a new follower. `since` takes a folded day whole when it is the day holding `since` or later. Prune
   * folds at its own cut; the engine also calls this at once with log.purgeOnUnsubscribe or the log off.
   * Returns how many users were folded.
   */
  foldFollowers(before: number): Promise<number>
  /** Write out anything buffered. */
  flush(): Promise<void>
  /**
   * Resolves once every entry appended so far is durable, i.e. survives a kill -9 (SQLite: appended to the
   * log's journal; the table may follow a moment later), or its write failed, which is logged. The engine
   * answers a message after this, so an answered message is in the log even after a kill -9. Unlike flush()
   * it never rejects and waits for the store's own batching instead of forcing a write.
   */
  committed(): Promise<void>
  /** Whether appended entries are reaching the disk right now (/healthz shows it). */
  health(): MessageLogHealth
}

/** The message log's write state. Failing writes are retried; the backlog is capped, and what falls off is counted. */
export interface MessageLogHealth {
  writable: boolean
  /** Entries waiting to be written. */
  backlog: number
  /** Entries dropped from a full backlog and not yet reported in a log line. */
  dropped: number
  /** While writes fail: since when (the store's clock, ms) and the last failure's reason. */
  failing?: { since: number; reason: string }
}

/** Late replies that failed or could not be sent are recorded, never lost silently. */
export interface OutboxEntry {
  id?: number
  account: string
  openId: string
  /**
   * The message the reply answers (its dedup key, the message log's msgKey). Kept so that a send taken up
   * by the next run (resumePending) still names its message in its lines and events.
   */
  msgKey?: string
  reply: JsonValue
  attempts: number
  status: 'pending' | 'sent' | 'failed'
  lastError?: string
  at: number
}
export interface Outbox {
  record(entry: OutboxEntry): Promise<number>
  update(id: number, patch: Partial<OutboxEntry>): Promise<void>
  list(status?: OutboxEntry['status']): Promise<OutboxEntry[]>
  /** Deletes the sent and failed entries made before `before` (pending ones stay); returns how many. */
  prune(before: number): Promise<number>
}

export interface Store {
  readonly kind: 'memory' | 'sqlite' | 'redis'
  sessions: SessionStore
  dedup: DedupStore
  kv: KvStore
  tokens: TokenStore
  log: MessageLog
  outbox: Outbox
  /** Reachable and writable right now. */
  healthy(): Promise<boolean>
  /**
   * Whether the store's last write of state (sessions, storage, tokens, outbox) succeeded; when not, since
   * when and why (a full disk). Only a store that cannot try a write cheaply in healthy() has it (SQLite:
   * a probe write may fit in the WAL's free space while a real one does not).
   */
  writes?(): { writable: boolean; failing?: { since: number; reason: string } }
  close(): Promise<void>
}
