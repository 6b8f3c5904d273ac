/**
 * Sessions (a user's conversation locked to a plugin), expiring on the Redis server's clock, and the
 * per-user lock that keeps a fleet's instances from routing one user's messages at the same time.
 */
import type { Logger } from '../../log/logger.ts'
import type { SessionRecord, SessionStore } from '../store.ts'
import type { RedisConnection } from './connect-redis.ts'
import type { RedisKeys } from './redis-keys.ts'
import { randomBytesFromPool } from '../../verify/random-pool.ts'
import { toPx } from './redis-ttl.ts'
import { LOCK_USER_AND_READ, runScript, UNLOCK } from './redis-scripts.ts'

/**
 * A write that failed after its command may have reached Redis: the client stopped waiting (the command
 * timeout), or the connection closed with it sent (ioredis then gives up on it: "max retries per request",
 * with retries off). One refused, or never sent (the connection was already down), is not marked: it
 * surely did nothing.
 */
function markOutcome(e: unknown): unknown {
  if (e instanceof Error && /Command timed out|Connection is closed|max retries per request/.test(e.message)) Object.assign(e, { mayHaveApplied: true })
  return e
}

async function writing(p: Promise<unknown>): Promise<void> {
  try {
    await p
  } catch (e) {
    throw markOutcome(e)
  }
}

/** How soon a lock whose release failed is released again (and again, until done or lapsed). */
const RELEASE_RETRY_MS = 250

export interface RedisSessions extends SessionStore {
  /** Releases again the locks whose release failed; the store calls it when the connection is back. */
  releaseLeftLocks(): Promise<void>
  /** The user locks whose release is still to be sent (not lapsed yet): what close() names when it gives up. */
  pendingReleases(): Array<{ key: string; lapsesAt: number }>
  /** Stops retrying (the store is closing). */
  stop(): void
}

export function createRedisSessions(conn: RedisConnection, keys: RedisKeys, log: Logger): RedisSessions {
  const { client } = conn

  /**
   * A stored session as the live record, or null when there is none, it has expired, or it is not JSON
   * (edited by hand): that one is logged and removed. Thrown, it dropped every message of the user until it expired.
   */
  function liveSession(raw: string | null, account: string, openId: string): SessionRecord | null {
    if (raw === null) return null
    let rec: SessionRecord
    try {
      rec = JSON.parse(raw) as SessionRecord
    } catch (e) {
      log.error({ code: 'STORE_UNAVAILABLE', account, openId, reason: `session is not JSON: ${(e as Error).message}` }, 'unreadable session dropped')
      void client.del(keys.session(account, openId)).catch(() => undefined)
      return null
    }
    // PX is rounded up to whole ms, and instance clocks differ slightly: the record's own time decides.
    if (rec.expiresAt <= Date.now()) return null
    return rec
  }

  // A release lost to a dropped connection or a timed-out command left the lock held until its TTL (the
  // budget plus the plugin timeout, ~35 s): every message of that user waited for it until the reply
  // budget, and then ran unlocked (a fleet review). So a failed release is tried again until it is done or
  // the lock has lapsed. The compare-and-delete makes a late release harmless: it frees only our own lock.
  const unreleased = new Set<{ key: string; owner: string; lapsesAt: number }>()
  let retry: NodeJS.Timeout | null = null
  let stopped = false
  /**
   * A round of releases in progress: another one would send every UNLOCK again while Redis stalls. Its
   * promise, so that close() waits for the round under way instead of returning at once.
   */
  let releasing: Promise<void> | undefined
  const unlock = async (key: string, owner: string): Promise<void> => void (await runScript(client, UNLOCK, [key], [owner]))
  function releaseLeftLocks(): Promise<void> {
    releasing ??= releaseRound().finally(() => {
      releasing = undefined
    })
    return releasing
  }
  async function releaseRound(): Promise<void> {
    for (const lock of [...unreleased]) {
      if (Date.now() >= lock.lapsesAt) {
        unreleased.delete(lock)
        continue
      }
      try {
        await unlock(lock.key, lock.owner)
        unreleased.delete(lock)
      } catch {
        // Still away: the next round.
      }
    }
    if (unreleased.size > 0) scheduleRetry()
  }
  /** A lock whose taking or release lost its answer: released by the retries (and on reconnect). */
  function releaseLater(key: string, owner: string, lapsesAt: number): void {
    unreleased.add({ key, owner, lapsesAt })
    scheduleRetry()
  }
  function scheduleRetry(): void {
    if (retry || stopped) return
    retry = setTimeout(() => {
      retry = null
      void releaseLeftLocks()
    }, RELEASE_RETRY_MS)
    retry.unref()
  }
  return {
    releaseLeftLocks,
    pendingReleases() {
      const t = Date.now()
      return [...unreleased].filter((l) => t < l.lapsesAt).map(({ key, lapsesAt }) => ({ key, lapsesAt }))
    },
    stop() {
      stopped = true
      if (retry) clearTimeout(retry)
      retry = null
    },
    async get(account, openId) {
      return liveSession(await client.get(keys.session(account, openId)), account, openId)
    },
    async put(session) {
      const key = keys.session(session.account, session.openId)
      const left = session.expiresAt - Date.now()
      if (left <= 0) return writing(client.del(key))
      const { account, openId, plugin, state, expiresAt } = session
      return writing(client.set(key, JSON.stringify({ account, openId, plugin, state, expiresAt }), 'PX', toPx(left)))
    },
    async delete(account, openId) {
      return writing(client.del(keys.session(account, openId)))
    },
    async lockUser(account, openId, ttlMs) {
      const key = keys.userLock(account, openId)
      // From the pool, as the dedup claim's: a randomBytes() call a message was 5 % of a Redis instance's CPU.
      const owner = randomBytesFromPool(12).toString('base64url')
      const lapsesAt = Date.now() + ttlMs
      let held: [1, string | null] | null
      try {
        held = (await runScript(client, LOCK_USER_AND_READ, [key, keys.session(account, openId)], [owner, toPx(ttlMs)])) as [1, string | null] | null
      } catch (e) {
        // Taken maybe, its answer lost (a timeout, a dropped connection): released like a lost release, or
        // it would hold the user for its whole TTL (a review of the fix above). Only our owner's is freed.
        releaseLater(key, owner, lapsesAt)
        throw e
      }
      if (held === null) return null
      return {
        session: liveSession(held[1], account, openId),
        // Compare-and-delete: a holder whose lock lapsed must not free the next holder's.
        release: async () => {
          try {
            await unlock(key, owner)
          } catch (e) {
            releaseLater(key, owner, lapsesAt)
            throw e
          }
        },
      }
    },
  }
}
