/**
 * The access_token cache and its refresh lock, shared by the fleet: protocol.md §6 wants one refresher
 * for all instances (each refresh invalidates the previous token after a grace period).
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from '../../log/logger.ts'
import type { TokenRecord, TokenStore } from '../store.ts'
import { mayHaveRun, type RedisConnection } from './connect-redis.ts'
import type { LockReleases } from './lock-releases.ts'
import type { RedisKeys } from './redis-keys.ts'
import { INVALIDATE_TOKEN, runScript, WRITE_IF_LOCKED } from './redis-scripts.ts'
import { toPx } from './redis-ttl.ts'

/** `releases`: a refresh lock whose release (or taking) lost its answer is released by it, again until done or lapsed. */
export function createRedisTokens(conn: RedisConnection, keys: RedisKeys, log: Logger, releases: LockReleases): TokenStore {
  const { client } = conn
  return {
    async get(appId) {
      const raw = await client.get(keys.token(appId))
      if (raw === null) return null
      const rec = tokenRecordOf(raw)
      if (rec === undefined) {
        // Written by hand or by something else: thrown, every getToken failed until the key expired (up to
        // 2 h, never for one set without a TTL). Taken as absent, the next refresh writes over it.
        log.error({ code: 'STORE_UNAVAILABLE', appId, reason: `the stored access_token is not {"token","expiresAt"} JSON: ${JSON.stringify(raw.slice(0, 40))}` }, 'unreadable access_token record ignored; a refresh replaces it')
        return null
      }
      if (rec.expiresAt <= Date.now()) return null
      return rec
    },
    async set(appId, record) {
      const left = record.expiresAt - Date.now()
      if (left <= 0) {
        await client.del(keys.token(appId))
        return
      }
      await client.set(keys.token(appId), jsonOf(record), 'PX', toPx(left))
    },
    async invalidate(appId, token) {
      await runScript(client, INVALIDATE_TOKEN, [keys.token(appId)], [token])
    },
    async lock(appId, ttlMs) {
      const key = keys.tokenLock(appId)
      const owner = randomBytes(16).toString('base64url')
      let got: string | null
      try {
        got = await client.set(key, owner, 'PX', toPx(ttlMs), 'NX')
      } catch (e) {
        // Taken maybe, its answer lost (a command timeout): left there, the lock of nobody kept every
        // instance from refreshing for its whole TTL (30 s) while the token may have expired. Given up right
        // behind it, and again until done or lapsed: sent once, one more blip left it there all the same.
        // Its TTL counted from now: the SET may run later than it was sent (a stalled server).
        if (mayHaveRun(e)) releases.giveUp({ kind: 'token refresh lock', key, owner, lapsesAt: Date.now() + ttlMs })
        throw e
      }
      if (got !== 'OK') return null
      const lapsesAt = Date.now() + ttlMs
      return {
        async set(record) {
          const left = record.expiresAt - Date.now()
          const written = await runScript(client, WRITE_IF_LOCKED, [key, keys.token(appId)], [owner, left > 0 ? jsonOf(record) : '', left > 0 ? toPx(left) : ''])
          // Refused: the manager says so, with the reason (access-token-manager.ts).
          return written === 1
        },
        // A release that fails is sent again too (the refresher logs the failure and goes on).
        release: () => releases.release({ kind: 'token refresh lock', key, owner, lapsesAt }),
      }
    },
  }
}

/** A record as stored: its two fields, nothing else the caller's object carries. */
function jsonOf(record: TokenRecord): string {
  return JSON.stringify({ token: record.token, expiresAt: record.expiresAt })
}

/** The record as set() writes it, or undefined for anything else. */
function tokenRecordOf(raw: string): TokenRecord | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const { token, expiresAt } = parsed as Record<string, unknown>
  if (typeof token !== 'string' || token === '' || typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return undefined
  return { token, expiresAt }
}
