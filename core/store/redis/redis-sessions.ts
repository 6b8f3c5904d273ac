/**
 * Sessions (a user's conversation locked to a plugin), expiring on the Redis server's clock, and the
 * per-user lock that keeps a fleet's instances from routing one user's messages at the same time.
 */
import type { LineBudget } from '../../log/line-budget.ts'
import type { Logger } from '../../log/logger.ts'
import { UNSUBSCRIBING, type SessionRecord, type SessionStore } from '../store.ts'
import { mayHaveRun, type RedisConnection } from './connect-redis.ts'
import { escapeGlob, type RedisKeys } from './redis-keys.ts'
import { soonestFirst } from '../store-shared.ts'
import { randomBytesFromPool } from '../../verify/random-pool.ts'
import { toPx } from './redis-ttl.ts'
import { keepLockAlive, renewUpTo, takenForMs } from './lock-keep-alive.ts'
import type { LockReleases } from './lock-releases.ts'
import { LOCK_USER_AND_READ, runScript, UNLINK_IF_LOCKED, WRITE_IF_LOCKED, type LockRepair } from './redis-scripts.ts'
import { scanDeleting } from './redis-kv.ts'
import { LockLostError } from '../lock-lost-error.ts'

/** Keys a SCAN step of sessions.list looks at (an operator's listing, not a message's path). */
const LIST_SCAN_COUNT = 500

/** Begins the owner value of a user lock taken by an unsubscribe (lockUser's forUnsubscribe). */
const UNSUBSCRIBE_OWNER_PREFIX = 'unsubscribe:'

/** A write that failed after its command may have reached Redis says so (see mayHaveRun). */
function markOutcome(e: unknown): unknown {
  if (e instanceof Error && mayHaveRun(e)) Object.assign(e, { mayHaveApplied: true })
  return e
}

async function writing(p: Promise<unknown>): Promise<void> {
  try {
    await p
  } catch (e) {
    throw markOutcome(e)
  }
}

/**
 * `releases`: a user lock whose release (or taking) lost its answer is released by it, again until done or lapsed.
 * `lines`: the budget of the 'unreadable session dropped' lines, one per user whose session is damaged (many
 * after a bad hand edit, each met when its user writes); the store closes it.
 */
export function createRedisSessions(conn: RedisConnection, keys: RedisKeys, log: Logger, releases: LockReleases, lines: LineBudget): SessionStore {
  const { client } = conn

  /**
   * A stored session as the live record, or null when there is none, it has expired, or it is not one
   * (edited by hand: not JSON, or JSON of another shape, `null`): that one is logged and removed. Thrown, it
   * dropped every message of the user until it expired, and one with no expiry for ever.
   */
  function liveSession(raw: string | null, account: string, openId: string): SessionRecord | null {
    if (raw === null) return null
    const rec = readSession(raw)
    if (typeof rec === 'string') {
      unreadable(account, openId, rec)
      void client.del(keys.session(account, openId)).catch(() => undefined)
      return null
    }
    // PX is rounded up to whole ms, and instance clocks differ slightly: the record's own time decides.
    if (rec.expiresAt <= Date.now()) return null
    return rec
  }

  function unreadable(account: string, openId: string, reason: string): void {
    lines.error(`unreadable session ${account}`, { code: 'STORE_UNAVAILABLE', account, openId, reason }, 'unreadable session dropped')
  }

  /** The session as stored, and its PX; null when it has expired (then deleted). */
  function stored(session: SessionRecord): { json: string; px: number } | null {
    const left = session.expiresAt - Date.now()
    if (left <= 0) return null
    const { account, openId, plugin, state, expiresAt } = session
    return { json: JSON.stringify({ account, openId, plugin, state, expiresAt }), px: toPx(left) }
  }

  /** A write of the session at `sessionKey` (null: delete) that lands only while `owner` holds `lockKey`. */
  async function writeIfLocked(lockKey: string, owner: string, sessionKey: string, value: { json: string; px: number } | null, what: string): Promise<void> {
    let written: unknown
    try {
      written = await runScript(client, WRITE_IF_LOCKED, [lockKey, sessionKey], [owner, value?.json ?? '', value?.px ?? ''])
    } catch (e) {
      throw markOutcome(e)
    }
    if (written !== 1) throw new LockLostError(what, lockKey)
  }

  return {
    async get(account, openId) {
      return liveSession(await client.get(keys.session(account, openId)), account, openId)
    },
    async put(session) {
      const key = keys.session(session.account, session.openId)
      const value = stored(session)
      if (value === null) return writing(client.del(key))
      return writing(client.set(key, value.json, 'PX', value.px))
    },
    async delete(account, openId) {
      return writing(client.del(keys.session(account, openId)))
    },
    async list({ account, plugin, limit }) {
      const match = `${escapeGlob(keys.sessionsOf(account))}*`
      const live: SessionRecord[] = []
      let cursor = '0'
      do {
        const [next, found] = await client.scan(cursor, 'MATCH', match, 'COUNT', LIST_SCAN_COUNT)
        cursor = next
        if (found.length === 0) continue
        const t = Date.now()
        for (const raw of await client.mget(...found)) {
          if (raw === null) continue // expired between the two commands
          // Not a session (edited by hand): left out here; its user's next message drops it, said (liveSession).
          const rec = readSession(raw)
          if (typeof rec !== 'string' && rec.expiresAt > t && (plugin === undefined || rec.plugin === plugin)) live.push(rec)
        }
      } while (cursor !== '0')
      return soonestFirst(live).slice(0, limit)
    },
    async lockUser(account, openId, ttlMs, forUnsubscribe) {
      const key = keys.userLock(account, openId)
      // From the pool, as the dedup claim's: a randomBytes() call a message was 5 % of a Redis instance's CPU.
      // An unsubscribe's says so (base64url has no ':'), for the user's next message waiting on another instance.
      const owner = `${forUnsubscribe ? UNSUBSCRIBE_OWNER_PREFIX : ''}${randomBytesFromPool(12).toString('base64url')}`
      // Taken for the renewal window, renewed while held up to ttlMs in all: a lock taken for ttlMs at once
      // held a dead instance's user for all of it, and the retry that took over its message (redis-dedup.ts)
      // waited for it past the reply budget (a fleet review).
      const takenMs = takenForMs(conn.commandTimeoutMs, ttlMs)
      const takenAt = Date.now()
      let answer: [0 | 1, string | null, (LockRepair | null)?]
      try {
        answer = (await runScript(client, LOCK_USER_AND_READ, [key, keys.session(account, openId)], [owner, toPx(takenMs)])) as typeof answer
      } catch (e) {
        // Taken maybe, its answer lost (a timeout, a dropped connection): given up, or it would hold the user
        // for its whole TTL (a fleet review). Only our owner's is freed.
        // Its TTL counted from now: the script may run later than it was sent (a stalled server).
        if (mayHaveRun(e)) releases.giveUp({ kind: 'user lock', key, owner, lapsesAt: Date.now() + takenMs })
        throw e
      }
      const repaired = answer[2]
      if (repaired === 'session-type') unreadable(account, openId, 'the session was not a string (no instance writes one so): deleted')
      else if (repaired) {
        const reason = repaired === 'lock-type' ? 'the user lock was not a string (no instance writes one so): replaced' : `the user lock had no expiry (no instance takes one so): it lapses in ${toPx(takenMs)} ms`
        lines.warn(`user lock repaired ${account}`, { code: 'STORE_UNAVAILABLE', account, openId, key, reason }, 'user lock repaired')
      }
      if (answer[0] === 0) return answer[1]?.startsWith(UNSUBSCRIBE_OWNER_PREFIX) ? UNSUBSCRIBING : null
      let lapsesAt = Date.now() + takenMs
      const renewed = (renewedTo: number) => void (lapsesAt = renewedTo)
      let stopRenewing = renewUpTo(conn, { key, owner, lapsesAt }, { at: takenAt, ttlMs }, log, renewed)
      return {
        session: liveSession(answer[1], account, openId),
        // Fenced: a holder paused past the lock's TTL must not write over the next holder's session.
        writes: {
          put: (session) => writeIfLocked(key, owner, keys.session(session.account, session.openId), stored(session), 'session write'),
          delete: (a, o) => writeIfLocked(key, owner, keys.session(a, o), null, 'session delete'),
          // Batch by batch, each checked against the lock in the script that unlinks it.
          deletePrefix: (namespace, prefix) =>
            scanDeleting(
              conn,
              keys,
              namespace,
              prefix,
              async (found) => Number(await runScript(client, UNLINK_IF_LOCKED, [key, ...found], [owner])),
              () => new LockLostError('plugin data purge', key),
            ),
        },
        // Compare-and-delete: a holder whose lock lapsed must not free the next holder's.
        release: () => {
          stopRenewing()
          return releases.release({ kind: 'user lock', key, owner, lapsesAt })
        },
        // A renewal moves the lapse: a failed release is retried until then. No longer bounded by ttlMs.
        keepAlive: () => {
          stopRenewing()
          stopRenewing = keepLockAlive(conn, { key, owner, lapsesAt }, log, renewed)
          return stopRenewing
        },
      }
    },
  }
}

/** A stored session's JSON as the record, or why it is not one (the reason the dropped line gives). */
function readSession(raw: string): SessionRecord | string {
  let rec: unknown
  try {
    rec = JSON.parse(raw)
  } catch (e) {
    return `session is not JSON: ${(e as Error).message}`
  }
  const r = rec as Partial<SessionRecord> | null
  if (typeof r !== 'object' || r === null || Array.isArray(r) || typeof r.plugin !== 'string' || typeof r.expiresAt !== 'number') {
    return `session is not a session record (an object with plugin and expiresAt): ${raw.slice(0, 60)}`
  }
  return r as SessionRecord
}
