/** Plugin storage and other small values, one Redis key per (namespace, key). */
import type { JsonValue } from '../../plugin/plugin-api.ts'
import { NotANumberError, SumOutOfRangeError, type KvStore } from '../store.ts'
import type { RedisConnection } from './connect-redis.ts'
import { escapeGlob, type RedisKeys } from './redis-keys.ts'
import { KV_COMPARE_AND_SET, KV_INCREMENT, runScript } from './redis-scripts.ts'
import { toPx } from './redis-ttl.ts'

/** Keys per SCAN step: small enough that one step never blocks Redis noticeably. */
const SCAN_COUNT = 500

/**
 * Walks the keys of `namespace` starting with `prefix` (SCAN) and hands each batch found to `unlink`; the sum
 * of what it removed. A batch `unlink` refuses (a negative answer) stops the walk: it throws `refused()`.
 */
export async function scanDeleting(
  conn: RedisConnection,
  keys: RedisKeys,
  namespace: string,
  prefix: string,
  unlink: (found: string[]) => Promise<number>,
  refused?: () => Error,
): Promise<number> {
  const match = `${escapeGlob(keys.kv(namespace, prefix))}*`
  let cursor = '0'
  let deleted = 0
  do {
    const [next, found] = await conn.client.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT)
    if (found.length > 0) {
      const n = await unlink(found)
      if (n < 0) throw refused?.() ?? new Error('delete refused')
      deleted += n
    }
    cursor = next
  } while (cursor !== '0')
  return deleted
}

export function createRedisKv(conn: RedisConnection, keys: RedisKeys): KvStore {
  const { client } = conn
  return {
    async get(namespace, key) {
      const raw = await client.get(keys.kv(namespace, key))
      return raw === null ? undefined : (JSON.parse(raw) as JsonValue)
    },
    async set(namespace, key, value, ttlMs) {
      const k = keys.kv(namespace, key)
      const json = JSON.stringify(value)
      // A plain SET drops an earlier TTL, as the port requires.
      if (ttlMs === undefined) await client.set(k, json)
      else if (ttlMs <= 0) await client.del(k)
      else await client.set(k, json, 'PX', toPx(ttlMs))
    },
    async delete(namespace, key) {
      await client.del(keys.kv(namespace, key))
    },
    async increment(namespace, key, by, ttlMsIfNew) {
      try {
        const sum = await runScript(client, KV_INCREMENT, [keys.kv(namespace, key)], [String(by), ttlMsIfNew === undefined ? '' : toPx(ttlMsIfNew)])
        return Number(sum)
      } catch (e) {
        const m = /^NOT_A_NUMBER (.*)$/s.exec((e as Error).message)
        if (m) throw new NotANumberError(m[1])
        const range = /^OUT_OF_RANGE (.*)$/s.exec((e as Error).message)
        if (range) throw new SumOutOfRangeError(Number(range[1]), by)
        throw e
      }
    },
    async compareAndSet(namespace, key, expected, next, ttlMs) {
      const args = [
        expected === undefined ? '0' : '1',
        expected === undefined ? '' : JSON.stringify(expected),
        next === undefined ? '0' : '1',
        next === undefined ? '' : JSON.stringify(next),
        ttlMs === undefined ? '' : toPx(ttlMs),
      ]
      return (await runScript(client, KV_COMPARE_AND_SET, [keys.kv(namespace, key)], args)) === 1
    },
    /**
     * SCAN walks the keyspace in steps instead of KEYS, which would block every instance's commands.
     * The prefix is escaped so that `*`, `?`, `[` in a plugin's key match only themselves.
     * SCAN may return a key twice; UNLINK counts only keys it actually removed. Single Redis only: on a
     * cluster SCAN sees one node.
     */
    async deletePrefix(namespace, prefix) {
      return scanDeleting(conn, keys, namespace, prefix, (found) => client.unlink(...found))
    },
    /** SCAN as deletePrefix does, every match collected (SCAN may give one twice), then sorted and cut. */
    async keys(namespace, prefix, limit) {
      const head = keys.kv(namespace, '')
      const match = `${escapeGlob(keys.kv(namespace, prefix))}*`
      const found = new Set<string>()
      let cursor = '0'
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT)
        for (const k of batch) found.add(k.slice(head.length))
        cursor = next
      } while (cursor !== '0')
      return [...found].sort().slice(0, limit)
    },
  }
}
