/**
 * A user's session is written under their lock in the shared store only while the lock is still the writer's
 * (HeldUserLock.writes): an instance paused past the lock's TTL (a GC pause, SIGSTOP) wrote the session its
 * message had built over the one the next holder wrote meanwhile. A real Redis; the lock lapses by itself or
 * is taken by a second client, then the old holder writes.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { LockLostError } from '../../core/store/lock-lost-error.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import { UNSUBSCRIBING, type Store } from '../../core/store/store.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startEnginesOnRedis, type EnginesOnRedis } from '../support/engines-on-redis.ts'
import { keyOfPush } from '../support/message-key.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'
import { SESSION_RACE } from '../support/session-race.ts'
import { until } from '../support/until.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("session writes fenced by the user's lock (real Redis)", () => {
  let redis: RedisServer
  let admin: Redis
  let store: Store
  let other: Store
  const dirs = [mkdtempSync(path.join(os.tmpdir(), 'wx-fence-a-')), mkdtempSync(path.join(os.tmpdir(), 'wx-fence-b-'))]
  before(async () => {
    redis = await startRedisServer()
    admin = new Redis(redis.url)
    const log = createMemoryLogger().logger
    store = await openRedisStore({ url: redis.url, dataDir: dirs[0], log })
    other = await openRedisStore({ url: redis.url, dataDir: dirs[1], log })
  })
  after(async () => {
    admin?.disconnect()
    await Promise.allSettled([store?.close(), other?.close()])
    await redis?.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })
  const session = (plugin: string, state: string) => ({ account: 'acct', openId: 'u1', plugin, state, expiresAt: Date.now() + 60_000 })

  it('writes while the lock is held; refuses, writing nothing, once it lapsed and another instance took it', async () => {
    const held = await store.sessions.lockUser!('acct', 'u1', 150)
    assert.ok(held && held !== UNSUBSCRIBING)
    await held.writes.put(session('p', 'mine'))
    assert.equal((await store.sessions.get('acct', 'u1'))?.state, 'mine')
    // Paused past the TTL: the lock lapses, the user's next message on another instance takes it and writes.
    await until('the lock lapsed', async () => (await admin.exists('wx:user-lock:acct:u1')) === 0, 2_000)
    const next = await other.sessions.lockUser!('acct', 'u1', 60_000)
    assert.ok(next && next !== UNSUBSCRIBING, 'the next holder takes the lapsed lock')
    await next.writes.put(session('p', 'newer'))
    // The old holder wakes up: its put and its delete are refused, the newer session stays.
    await assert.rejects(held.writes.put(session('p', 'stale')), (e: unknown) => e instanceof LockLostError && /no longer this instance's/.test(e.message))
    await assert.rejects(held.writes.delete('acct', 'u1'), LockLostError)
    assert.equal((await store.sessions.get('acct', 'u1'))?.state, 'newer')
    await next.release()
    // Released: nobody holds it, and the old holder still may not write.
    await assert.rejects(held.writes.put(session('p', 'stale')), LockLostError)
    assert.equal((await store.sessions.get('acct', 'u1'))?.state, 'newer')
  })
})

describe("an unsubscribe's purge of plugin data fenced by the user's lock (real Redis)", () => {
  let redis: RedisServer
  let admin: Redis
  let store: Store
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wx-fence-purge-'))
  before(async () => {
    redis = await startRedisServer()
    admin = new Redis(redis.url)
    store = await openRedisStore({ url: redis.url, dataDir: dir, log: createMemoryLogger().logger })
  })
  after(async () => {
    admin?.disconnect()
    await store?.close()
    await redis?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('purges while the lock is held; once another instance holds it, removes nothing and says so', async () => {
    for (let i = 0; i < 3; i++) await store.kv.set('plugin:p', `user:u1:k${i}`, i)
    await store.kv.set('plugin:p', 'user:u2:k', 'other user')
    const held = await store.sessions.lockUser!('acct', 'u1', 60_000, true)
    assert.ok(held && held !== UNSUBSCRIBING)
    assert.equal(await held.writes.deletePrefix('plugin:p', 'user:u1:k0'), 1)
    // Paused past the lock's TTL: the user's next message on another instance holds it and writes their data.
    await admin.set('wx:user-lock:acct:u1', 'instance-b', 'PX', 60_000)
    await assert.rejects(held.writes.deletePrefix('plugin:p', 'user:u1:'), (e: unknown) => e instanceof LockLostError && /plugin data purge refused/.test(e.message))
    assert.deepEqual(await store.kv.keys('plugin:p', '', 10), ['user:u1:k1', 'user:u1:k2', 'user:u2:k'])
  })
})

describe('a message whose user lock is taken from it while its plugin runs (an engine on real Redis)', () => {
  let fleet: EnginesOnRedis
  before(async () => {
    fleet = await startEnginesOnRedis(1, SESSION_RACE)
  })
  after(() => fleet?.close())

  it("answers, but does not write its session over the newer holder's, and says why", async () => {
    const { engines: [a], admin } = fleet
    const openId = 'u-fenced'
    const lockKey = `wx:user-lock:main:${openId}`
    const sessionKey = `wx:session:main:${openId}`
    const seen = a.lines.length
    // slowlock waits 300 ms on "slow": the lock is taken as routing starts.
    const slowStart = push.text(openId, 'slow start')
    const answer = a.post('main', slowStart)
    await until('the lock taken', async () => (await admin.exists(lockKey)) === 1, 2_000)
    // As if A had been paused past the TTL: the lock is another instance's now, with the session it wrote.
    const newer = JSON.stringify({ account: 'main', openId, plugin: 'slowlock', state: { seen: ['from B'] }, expiresAt: Date.now() + 60_000 })
    await admin.set(lockKey, 'instance-b', 'PX', 60_000)
    await admin.set(sessionKey, newer, 'PX', 60_000)
    assert.equal((await answer).reply?.Content, 'began', 'the reply still goes out')
    await sleep(50)
    assert.equal(await admin.get(sessionKey), newer, "B's session is not overwritten")
    assert.equal(await admin.get(lockKey), 'instance-b', "A's release does not free B's lock")
    const line = a.lines.slice(seen).find((l) => l.code === 'LOCK_LOST')
    assert.ok(line, JSON.stringify(a.lines.slice(seen)))
    assert.match(String(line.msg), /session not saved: this instance no longer holds the user's lock/)
    assert.deepEqual([line.account, line.openId, line.key], ['main', openId, keyOfPush('main', slowStart)])
  })
})
