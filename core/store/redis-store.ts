/**
 * The Store for a fleet: several engine instances behind a load balancer sharing one Redis
 * (docs/scaling.md).
 *
 * Shared through Redis: sessions, dedup claims + the reply cache, the access_token and its refresh lock,
 * plugin storage (kv). Any instance may get any try of a message (protocol.md §5), so these must be common.
 *
 * Kept per instance in a local SQLite file under dataDir: the message log and the outbox. The log is
 * append-only, written for every message and read only by an operator, so it stays off the shared
 * server; the outbox is drained by the instance that wrote it. Hit counts are therefore per instance.
 *
 * When Redis goes away while running, every shared operation fails fast (no queueing, no resend, a
 * command timeout; see redis/connect-redis.ts), `healthy()` turns false, one line is logged, and the
 * client reconnects by itself with a bounded backoff.
 */
import { join } from 'node:path'
import { createLineBudget } from '../log/line-budget.ts'
import type { Logger } from '../log/logger.ts'
import { SQLITE_FILE_NAME } from './open-store.ts'
import { connectRedis, redactRedisUrl, refusalMayPass } from './redis/connect-redis.ts'
import { createLockReleases } from './redis/lock-releases.ts'
import { createRedisDedup } from './redis/redis-dedup.ts'
import { createRedisKeys } from './redis/redis-keys.ts'
import { createRedisKv } from './redis/redis-kv.ts'
import { createRedisSessions } from './redis/redis-sessions.ts'
import { HEALTH_PROBE, runScript } from './redis/redis-scripts.ts'
import { createRedisTokens } from './redis/redis-tokens.ts'
import { StoreOpenError } from './store-open-error.ts'
import { openSqliteStore } from './sqlite-store.ts'
import type { Store } from './store.ts'

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db] or rediss:// for TLS. */
  url: string
  /** This instance's own directory: holds the local SQLite file with the message log and outbox. */
  dataDir: string
  log: Logger
  /** Prepended to every key, so several deployments (or tests) can share one Redis. */
  keyPrefix?: string
  /** A command not answered within this fails; well under WeChat's 5 s (protocol.md §5). */
  commandTimeoutMs?: number
  /** Reconnect backoff doubles from 50 ms up to this. */
  maxReconnectDelayMs?: number
  /** Bound on connecting at start-up. */
  connectTimeoutMs?: number
  /**
   * How long close() tries to send the settlements still pending (see settleBeforeClose); default: one
   * reconnect attempt's backoff plus a command's timeout.
   */
  closeSettleMs?: number
}

const DEFAULT_KEY_PREFIX = 'wx:'
const DEFAULT_COMMAND_TIMEOUT_MS = 1000
const DEFAULT_MAX_RECONNECT_DELAY_MS = 2000
const DEFAULT_CONNECT_TIMEOUT_MS = 3000
/** The health probe key lapses by itself. */
const HEALTH_KEY_TTL_MS = 10_000

/** Rejects with a StoreOpenError naming the URL and the cause when Redis cannot be reached at start. */
export async function openRedisStore(opts: RedisStoreOptions): Promise<Store> {
  const commandTimeoutMs = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
  const maxReconnectDelayMs = opts.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS
  const conn = await connectRedis({
    url: opts.url,
    log: opts.log,
    commandTimeoutMs,
    maxReconnectDelayMs,
    connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  })
  const closeSettleMs = opts.closeSettleMs ?? maxReconnectDelayMs + commandTimeoutMs

  const keys = createRedisKeys(opts.keyPrefix ?? DEFAULT_KEY_PREFIX)
  const probe = () => runScript(conn.client, HEALTH_PROBE, [keys.health()], [String(Date.now()), HEALTH_KEY_TTL_MS])
  // What every message does (a scripted write under the prefix), once before serving: an ACL that refuses
  // scripts or the prefix stops the start (exit 2) instead of dropping every message; a read-only replica
  // or a full Redis may pass (exit 1, restarted).
  try {
    await probe()
  } catch (err) {
    await conn.close()
    const reason = err instanceof Error ? err.message : String(err)
    throw new StoreOpenError(redactRedisUrl(opts.url), `Redis refused a scripted write under ${keys.health()}: ${reason}`, { cause: err, transient: refusalMayPass(err) })
  }

  let local: Store
  try {
    local = openSqliteStore({ file: join(opts.dataDir, SQLITE_FILE_NAME), log: opts.log })
  } catch (err) {
    await conn.close()
    throw err
  }

  const dedup = createRedisDedup(conn, keys, opts.log)
  const releases = createLockReleases(conn, opts.log)
  const sessionLines = createLineBudget(opts.log)
  const sessions = createRedisSessions(conn, keys, opts.log, releases, sessionLines)
  conn.onRecovered(() => {
    void dedup.settle()
    void releases.retryNow()
  })
  let closed = false

  /**
   * Settlements still pending at close (a claim's release, an answer's record, a user lock's release whose
   * outcome a lost connection or a refusing Redis hid, the token refresh lock's too): a SIGTERM just after an outage used to drop them
   * silently, leaving a claim `pending` (retries answered `success`), an answer unrecorded (a retry after the
   * claim lapses runs the message again) or a user locked until the lock lapses. So they are sent once more,
   * waiting for the connection if it is coming back, all within `closeSettleMs`; each one still unsent is
   * logged with what its loss means.
   */
  async function settleBeforeClose(): Promise<void> {
    if (dedup.pending().length === 0 && releases.pending().length === 0) return
    let timer: NodeJS.Timeout | undefined
    const outOfTime = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, closeSettleMs)
    })
    try {
      await Promise.race([
        (async () => {
          if (!(await conn.whenReady(closeSettleMs))) return
          await Promise.all([dedup.flush(), releases.retryNow()])
        })(),
        outOfTime,
      ])
    } finally {
      clearTimeout(timer)
    }
    const reason = conn.isReady() ? `not settled within ${closeSettleMs} ms of closing` : `Redis unreachable while closing (waited ${closeSettleMs} ms)`
    for (const { key, action } of dedup.pending()) {
      const loss = action === 'release' ? 'its claim stays pending until it lapses: retries meanwhile are answered success' : 'its answer is not recorded: a retry after its claim lapses runs the message again'
      opts.log.warn({ code: 'STORE_UNAVAILABLE', key, action, reason }, `dedup settlement dropped at close: ${loss}`)
    }
    for (const { kind, key, lapsesAt } of releases.pending()) {
      const loss = kind === 'user lock' ? "the user's messages wait for it until it lapses" : "other instances' token refreshes wait for it until it lapses"
      opts.log.warn({ code: 'STORE_UNAVAILABLE', key, reason, lapsesInMs: Math.max(0, lapsesAt - Date.now()) }, `${kind} release dropped at close: ${loss}`)
    }
  }

  return {
    kind: 'redis',
    sessions,
    dedup,
    kv: createRedisKv(conn, keys),
    tokens: createRedisTokens(conn, keys, opts.log, releases),
    log: local.log,
    outbox: local.outbox,

    /**
     * A scripted write, not a PING: a Redis that answers but refuses writes (OOM, read-only replica) or
     * scripts (an ACL) is not healthy.
     */
    async healthy() {
      if (closed || !conn.isReady()) return false
      try {
        await probe()
      } catch {
        return false
      }
      return local.healthy()
    },

    /** The local file's writes (the outbox); Redis's own are proved by healthy()'s write. */
    writes() {
      return local.writes?.() ?? { writable: true }
    },

    async close() {
      if (closed) return
      closed = true
      await settleBeforeClose()
      releases.stop()
      dedup.stop()
      sessionLines.close()
      await conn.close()
      await local.close()
    },
  }
}
