/**
 * An unsubscribe's clean-up (the session deleted, plugin data purged: engine.ts) runs holding the user's lock
 * in the shared store, the one routing takes, until it is done. Two engines on one real Redis, in this
 * process, with the session-race fixture's dialogue (slowlock). The clean-up ran after routing released
 * the lock: the user's next message on another instance (a new follow) was routed into the old dialogue,
 * and the late clean-up then deleted the session that message had just written.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import type { AccountConfig } from '../../core/config/config-types.ts'
import type { SessionStore } from '../../core/store/store.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { REPO } from '../support/engine-process.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'
import { until } from '../support/until.ts'

const FIXTURE = path.join(REPO, 'test/fixtures/session-race')
const ACCOUNTS: AccountConfig[] = [{ id: 'main', token: 'maintoken', appId: 'wxmain0000000001', mode: 'plaintext' }]
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

type Delete = (account: string, openId: string) => Promise<void>
/**
 * Wraps the session deletes made through the user's lock (the clean-up's: HeldUserLock.writes, fenced by the
 * lock) with `wrap`, the real one kept inside it: what a slow link or a paused instance does to them.
 */
function wrapDeletesUnderLock(sessions: SessionStore, wrap: (realDelete: Delete) => Delete): void {
  const realLock = sessions.lockUser!.bind(sessions)
  sessions.lockUser = async (account, openId, ttlMs) => {
    const held = await realLock(account, openId, ttlMs)
    if (held) held.writes = { ...held.writes, delete: wrap(held.writes.delete) }
    return held
  }
}

describe("an unsubscribe's clean-up across a fleet on one Redis", () => {
  let redis: RedisServer
  let a: Harness
  let b: Harness
  before(async () => {
    redis = await startRedisServer()
    const options = {
      accounts: ACCOUNTS,
      plugins: path.join(FIXTURE, 'plugins'),
      rules: { 'main.yaml': readFileSync(path.join(FIXTURE, 'rules/main.yaml'), 'utf8') },
      config: { store: { kind: 'redis' as const, url: redis.url } },
    }
    a = await startHarness(options)
    b = await startHarness(options)
  })
  after(async () => {
    await Promise.all([a?.close(), b?.close()])
    await redis?.stop()
  })

  it("a new follow on another instance waits for the clean-up: it starts fresh, and nothing deletes what it began", async () => {
    const openId = 'u-refollow'
    assert.equal((await a.post('main', push.text(openId, 'slow start'))).reply?.Content, 'began')
    // A's clean-up is slow to reach Redis (a GC pause, a slow link): the real delete, 300 ms late.
    let deleted = false
    wrapDeletesUnderLock(a.runtime.store.sessions, (realDelete) => async (account, user) => {
      await sleep(300)
      await realDelete(account, user)
      deleted = true
    })
    // The dialogue's plugin sees the unsubscribe, as every message of a user in a dialogue; its answer is
    // withheld (no reply reaches a user who has left: route/no-reply-kinds.ts), and a line says so.
    const seen = a.lines.length
    assert.equal((await a.post('main', push.event(openId, 'unsubscribe'))).body, 'success')
    assert.ok(a.lines.slice(seen).some((l) => /^reply withheld: .*slowlock.* answered the unsubscribe push/.test(String(l.msg))), JSON.stringify(a.lines.slice(seen)))
    // The follow again, at once, on the other instance.
    const refollow = await b.post('main', push.event(openId, 'subscribe'))
    assert.equal(refollow.reply?.Content, 'welcome!', 'the follow is not routed into the dialogue the unsubscribe ended')
    assert.ok(deleted, "the clean-up ended before the follow was routed")
    // The follow begins a dialogue of its own; it is still there afterwards.
    assert.equal((await b.post('main', push.text(openId, 'slow again'))).reply?.Content, 'began')
    await a.runtime.engine.idle()
    assert.equal((await b.post('main', push.text(openId, 'slow more'))).reply?.Content, 'seen: slow again, slow more')
  })
})

describe("an unsubscribe's clean-up slower than any fixed extension of the user's lock", () => {
  let redis: RedisServer
  let a: Harness
  let admin: Redis
  before(async () => {
    redis = await startRedisServer()
    a = await startHarness({
      accounts: ACCOUNTS,
      plugins: path.join(FIXTURE, 'plugins'),
      rules: { 'main.yaml': readFileSync(path.join(FIXTURE, 'rules/main.yaml'), 'utf8') },
      // Routing's hold on the lock: budget + plugin timeout + 1 s = 1.8 s; renewed every 200 ms to lapse 1.2 s on.
      config: { store: { kind: 'redis' as const, url: redis.url, commandTimeoutMs: 200 }, limits: { replyBudgetMs: 400, pluginTimeoutMs: 400 } },
    })
    admin = new Redis(redis.url)
  })
  after(async () => {
    admin?.disconnect()
    await a?.close()
    await redis?.stop()
  })

  it('holds the lock while it runs, however long, and frees it when done', async () => {
    const openId = 'u-slow-cleanup'
    const lockKey = `wx:user-lock:main:${openId}`
    assert.equal((await a.post('main', push.text(openId, 'hello'))).reply?.Content, 'hello-reply')
    // The clean-up takes more than 7 s (a purge scanning many keys, a slow Redis): longer than the lock's fixed 5 s
    // extension was, on top of routing's 1.8 s. The lock lapsed half-way, and the user's next message on
    // another instance took it and read the session being deleted.
    // It ends when the test lets it, not after a fixed sleep: a loaded machine that answered the push late
    // or woke the test late would otherwise see the clean-up done before looking at the lock.
    let deleted = false
    let startedAt: number | undefined
    let finish!: () => void
    const finished = new Promise<void>((r) => (finish = r))
    wrapDeletesUnderLock(a.runtime.store.sessions, (realDelete) => async (account, user) => {
      startedAt = Date.now()
      await finished
      await realDelete(account, user)
      deleted = true
    })
    assert.equal((await a.post('main', push.event(openId, 'unsubscribe'))).body, 'success')
    const began = await until('the clean-up started', () => startedAt)
    await sleep(Math.max(0, began + 7_000 - Date.now()))
    assert.notEqual(await admin.get(lockKey), null, 'the lock is still held 7 s into the clean-up')
    // Not for long after: what it would wait out should this instance die now is the renewal window.
    const ttl = await admin.pttl(lockKey)
    assert.ok(ttl > 0 && ttl <= 1_200, `lapses within the renewal window: ${ttl} ms`)
    finish()
    await a.runtime.engine.idle()
    await until('the clean-up done', () => deleted)
    // Its release is sent as the clean-up ends, not waited for.
    await until('the lock freed once the clean-up is done', async () => (await admin.get(lockKey)) === null, 1_000)
  })
})
