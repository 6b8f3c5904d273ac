/**
 * The access_token cache and its refresh lock, shared by the fleet: protocol.md §6 wants one refresher
 * for all instances (each refresh invalidates the previous token after a grace period).
 */
import { randomBytes } from 'node:crypto'
import type { TokenRecord, TokenStore } from '../store.ts'
import type { RedisConnection } from './connect-redis.ts'
import type { RedisKeys } from './redis-keys.ts'
import { INVALIDATE_TOKEN, runScript, UNLOCK } from './redis-scripts.ts'
import { toPx } from './redis-ttl.ts'

export function createRedisTokens(conn: RedisConnection, keys: RedisKeys): TokenStore {
  const { client } = conn
  return {
    async get(appId) {
      const raw = await client.get(keys.token(appId))
      if (raw === null) return null
      const rec = JSON.parse(raw) as TokenRecord
      if (rec.expiresAt <= Date.now()) return null
      return { token: rec.token, expiresAt: rec.expiresAt }
    },
    async set(appId, record) {
      const left = record.expiresAt - Date.now()
      if (left <= 0) {
        await client.del(keys.token(appId))
        return
      }
      const json = JSON.stringify({ token: record.token, expiresAt: record.expiresAt })
      await client.set(keys.token(appId), json, 'PX', toPx(left))
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
        // behind it on the same connection, so a slow server runs it after the SET; only our owner's is freed.
        // In full text: a timed-out EVALSHA later answered NOSCRIPT would do nothing.
        void runScript(client, UNLOCK, [key], [owner], { fullText: true }).catch(() => undefined)
        throw e
      }
      if (got !== 'OK') return null
      return async () => {
        await runScript(client, UNLOCK, [key], [owner])
      }
    },
  }
}
