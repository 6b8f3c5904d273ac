/**
 * close() and the settlements still pending (a real redis-server on 127.0.0.1): writes whose outcome a
 * refusing or lost Redis hid, kept to be sent again (redis-dedup.ts, redis-sessions.ts). A SIGTERM right
 * after such a hiccup used to drop them without a word: the answer never recorded (a retry after the claim
 * lapsed ran the message again), the user's lock held until it lapsed.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import { startRedisServer } from '../support/redis-server.ts'
import { lockOf } from '../support/held-user-lock.ts'
import { until } from '../support/until.ts'

const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'wx-close-'))
  dirs.push(d)
  return d
}
const reply = { status: 200, contentType: 'application/xml', body: '<xml>answer</xml>' }

describe('Redis store close(): settlements still pending', () => {
  it('an answer Redis refused a moment ago (OOM) is recorded by close(), not dropped with the retry timer', async () => {
    const server = await startRedisServer()
    const memory = createMemoryLogger()
    const store = await openRedisStore({ url: server.url, dataDir: await tempDir(), log: memory.logger })
    const admin = new Redis(server.url)
    try {
      assert.deepEqual(await store.dedup.claim('msg', 60_000), { state: 'claimed' })
      await admin.config('SET', 'maxmemory-policy', 'noeviction')
      await admin.config('SET', 'maxmemory', '1') // full: every write is refused with OOM
      await assert.rejects(store.dedup.complete('msg', reply, 60_000), /OOM/)
      // Its settlement, sent at once, is refused too; the next try is 250 ms later.
      await until('the first settlement refused', () => memory.lines.some((l) => l.msg === 'dedup settle deferred'))
      await admin.config('SET', 'maxmemory', '0')
      // SIGTERM now, before the settlement's retry (250 ms) came due.
      await store.close()
      const raw = await admin.get('wx:dedup:msg')
      assert.ok(raw !== null && !raw.startsWith('pending:'), `the answer is recorded, not left ${raw}`)
      assert.equal(JSON.parse(raw).body, reply.body)
    } finally {
      await admin.config('SET', 'maxmemory', '0').catch(() => undefined)
      admin.disconnect()
      await store.close()
      await server.stop()
    }
  })

  it('close() waits, within its bound, for a Redis coming back, and settles then', async () => {
    const server = await startRedisServer()
    const store = await openRedisStore({ url: server.url, dataDir: await tempDir(), log: createMemoryLogger().logger, maxReconnectDelayMs: 1000, closeSettleMs: 5000 })
    try {
      assert.deepEqual(await store.dedup.claim('msg', 60_000), { state: 'claimed' })
      // The claim is kept across the restart, as with appendonly persistence.
      const admin = new Redis(server.url)
      await admin.save()
      admin.disconnect()
      await server.kill()
      await assert.rejects(store.dedup.complete('msg', reply, 60_000))
      await server.restart()
      await store.close()
      const check = new Redis(server.url)
      try {
        assert.equal(JSON.parse((await check.get('wx:dedup:msg')) ?? 'null')?.body, reply.body, 'recorded once the connection came back')
      } finally {
        check.disconnect()
      }
    } finally {
      await store.close()
      await server.stop()
    }
  })

  it('what close() cannot send (Redis away) is logged, each with what its loss means, and close() ends within its bound', async () => {
    const server = await startRedisServer()
    const memory = createMemoryLogger()
    const store = await openRedisStore({ url: server.url, dataDir: await tempDir(), log: memory.logger, maxReconnectDelayMs: 100, closeSettleMs: 500 })
    try {
      assert.deepEqual(await store.dedup.claim('answered', 60_000), { state: 'claimed' })
      const held = lockOf(await store.sessions.lockUser!('acct', 'user-1', 60_000))
      assert.ok(held)
      await server.kill()
      await assert.rejects(store.dedup.complete('answered', reply, 60_000))
      await assert.rejects(store.dedup.claim('unknown', 60_000))
      await assert.rejects(held.release())
      const started = Date.now()
      await store.close()
      assert.ok(Date.now() - started < 3000, `close() took ${Date.now() - started} ms`)
      const dropped = memory.lines.filter((l) => l.code === 'STORE_UNAVAILABLE' && typeof l.msg === 'string' && /dropped at close/.test(l.msg))
      assert.deepEqual(
        dropped.map((l) => [l.key, l.action ?? 'unlock']).sort(),
        [['answered', 'complete'], ['unknown', 'release'], ['wx:user-lock:acct:user-1', 'unlock']],
      )
      for (const l of dropped) assert.match(String(l.reason), /Redis unreachable while closing/)
    } finally {
      await store.close()
      await server.stop()
    }
  })
})
