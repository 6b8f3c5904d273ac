/**
 * An unsubscribe's clean-up (the session deleted, plugin data purged: engine.ts) runs holding the user's lock
 * in the shared store, the one routing takes, until it is done. Two engines on one real Redis, in this
 * process, with the session-race fixture's dialogue (slowlock). The clean-up ran after routing released
 * the lock: the user's next message on another instance (a new follow) was routed into the old dialogue,
 * and the late clean-up then deleted the session that message had just written.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { UNSUBSCRIBING, type SessionStore } from '../../core/store/store.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'
import { startEnginesOnRedis, type EnginesOnRedis } from '../support/engines-on-redis.ts'
import { SESSION_RACE } from '../support/session-race.ts'
import { until } from '../support/until.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

type Delete = (account: string, openId: string) => Promise<void>
/**
 * Wraps the session deletes made through the user's lock (the clean-up's: HeldUserLock.writes, fenced by the
 * lock) with `wrap`, the real one kept inside it: what a slow link or a paused instance does to them.
 */
function wrapDeletesUnderLock(sessions: SessionStore, wrap: (realDelete: Delete) => Delete, onRelease?: () => void): void {
  const realLock = sessions.lockUser!.bind(sessions)
  sessions.lockUser = async (account, openId, ttlMs, forUnsubscribe) => {
    const held = await realLock(account, openId, ttlMs, forUnsubscribe)
    if (held && held !== UNSUBSCRIBING) {
      held.writes = { ...held.writes, delete: wrap(held.writes.delete) }
      if (onRelease) {
        const realRelease = held.release.bind(held)
        held.release = () => (onRelease(), realRelease())
      }
    }
    return held
  }
}

/** A clean-up held by holdDeletesUnderLock, as the test sees it. */
interface HeldCleanUp {
  /** When its delete began: the clean-up is under way, holding the lock. */
  startedAt: number | undefined
  /** Its delete is done. */
  deleted: boolean
  /** The lock was released after the delete was done, not before. */
  releasedAfterCleanUp: boolean
  /** Lets the held delete go on. */
  finish(): void
}

/** Holds the session deletes made through the user's lock until the test calls finish(): a clean-up as slow as the test needs. */
function holdDeletesUnderLock(sessions: SessionStore): HeldCleanUp {
  let finish!: () => void
  const finished = new Promise<void>((r) => (finish = r))
  const cleanUp: HeldCleanUp = { startedAt: undefined, deleted: false, releasedAfterCleanUp: false, finish }
  wrapDeletesUnderLock(
    sessions,
    (realDelete) => async (account, user) => {
      cleanUp.startedAt = Date.now()
      await finished
      await realDelete(account, user)
      cleanUp.deleted = true
    },
    () => {
      if (cleanUp.deleted) cleanUp.releasedAfterCleanUp = true
    },
  )
  return cleanUp
}

describe("an unsubscribe's clean-up across a fleet on one Redis", () => {
  let fleet: EnginesOnRedis
  before(async () => {
    fleet = await startEnginesOnRedis(2, SESSION_RACE)
  })
  after(() => fleet?.close())

  it("a new follow on another instance waits for the clean-up: it starts fresh, and nothing deletes what it began", async () => {
    const [a, b] = fleet.engines
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
  let fleet: EnginesOnRedis
  before(async () => {
    fleet = await startEnginesOnRedis(1, {
      ...SESSION_RACE,
      // Routing's hold on the lock: budget + plugin timeout + 1 s = 1.8 s; renewed every 200 ms to lapse 1.2 s on.
      config: { store: { commandTimeoutMs: 200 }, limits: { replyBudgetMs: 400, pluginTimeoutMs: 400 } },
    })
  })
  after(() => fleet?.close())

  it('holds the lock while it runs, however long, and frees it when done', async () => {
    const { engines: [a], admin } = fleet
    const openId = 'u-slow-cleanup'
    const lockKey = `wx:user-lock:main:${openId}`
    assert.equal((await a.post('main', push.text(openId, 'hello'))).reply?.Content, 'hello-reply')
    // The clean-up takes more than 7 s (a purge scanning many keys, a slow Redis): longer than the lock's fixed 5 s
    // extension was, on top of routing's 1.8 s. The lock lapsed half-way, and the user's next message on
    // another instance took it and read the session being deleted.
    // It ends when the test lets it, not after a fixed sleep: a loaded machine that answered the push late
    // or woke the test late would otherwise see the clean-up done before looking at the lock.
    const cleanUp = holdDeletesUnderLock(a.runtime.store.sessions)
    assert.equal((await a.post('main', push.event(openId, 'unsubscribe'))).body, 'success')
    const began = await until('the clean-up started', () => cleanUp.startedAt)
    await sleep(Math.max(0, began + 7_000 - Date.now()))
    assert.notEqual(await admin.get(lockKey), null, 'the lock is still held 7 s into the clean-up')
    // Not for long after: what it would wait out should this instance die now is the renewal window.
    const ttl = await admin.pttl(lockKey)
    assert.ok(ttl > 0 && ttl <= 1_200, `lapses within the renewal window: ${ttl} ms`)
    cleanUp.finish()
    await a.runtime.engine.idle()
    await until('the clean-up done', () => cleanUp.deleted)
    // Its release is sent as the clean-up ends, not waited for. Checked by the call, not by how soon the key
    // goes: the lock would lapse by itself within the renewal window (1.2 s), and a deadline tight enough to
    // tell the two apart failed on a loaded machine.
    await until('the lock released once the clean-up is done', () => cleanUp.releasedAfterCleanUp)
    await until('the lock freed', async () => (await admin.get(lockKey)) === null)
  })
})

describe("a user's next message while their unsubscribe's clean-up outlasts its reply budget", () => {
  let fleet: EnginesOnRedis
  before(async () => {
    fleet = await startEnginesOnRedis(2, { ...SESSION_RACE, config: { limits: { replyBudgetMs: 400, pluginTimeoutMs: 400 } } })
  })
  after(() => fleet?.close())

  it('is answered success and not routed: it neither reads the half-deleted state nor writes what the clean-up deletes', async () => {
    const [a, b] = fleet.engines
    const openId = 'u-refollow-slow'
    assert.equal((await a.post('main', push.text(openId, 'slow start'))).reply?.Content, 'began')
    // A's clean-up is held until the test lets it go: longer than B's reply budget (400 ms).
    const cleanUp = holdDeletesUnderLock(a.runtime.store.sessions)
    assert.equal((await a.post('main', push.event(openId, 'unsubscribe'))).body, 'success')
    await until('the clean-up started', () => cleanUp.startedAt)
    // The follow again on B, then a text that would continue the old dialogue: both wait for the lock until
    // their budget, and neither is routed through the clean-up.
    const seen = b.lines.length
    assert.equal((await b.post('main', push.event(openId, 'subscribe'))).body, 'success', 'not welcomed into half-deleted state')
    assert.equal((await b.post('main', push.text(openId, 'slow more'))).body, 'success', 'not routed into the dialogue being deleted')
    const dropped = b.lines.slice(seen).filter((l) => l.code === 'UNSUBSCRIBE_RUNNING')
    assert.equal(dropped.length, 2, JSON.stringify(b.lines.slice(seen)))
    assert.match(String(dropped[0].msg), /^message dropped: the user's unsubscribe clean-up still runs on another instance; answered success/)
    assert.equal(dropped[0].openId, openId)
    assert.ok(!b.lines.slice(seen).some((l) => /lock was still held at the reply budget/.test(String(l.msg))), 'not routed without the lock')
    cleanUp.finish()
    await a.runtime.engine.idle()
    assert.ok(cleanUp.deleted)
    // Once the clean-up is done the user starts fresh, on either instance.
    await until('the lock freed', async () => (await b.post('main', push.text(openId, 'hello'))).reply?.Content === 'hello-reply', 2_000)
    assert.equal((await b.post('main', push.text(openId, 'slow again'))).reply?.Content, 'began', 'the old dialogue is gone')
  })
})

describe("the same on one instance with the SQLite store (no user lock: the user's queue)", () => {
  let a: Harness
  before(async () => {
    a = await startHarness({ ...SESSION_RACE, config: { limits: { replyBudgetMs: 400, pluginTimeoutMs: 400 } } })
  })
  after(async () => {
    await a?.close()
  })

  it('the next messages wait for the whole clean-up, past their budget, then start fresh and keep what they wrote', async () => {
    assert.equal(a.runtime.store.kind, 'sqlite')
    const openId = 'u-refollow-sqlite'
    assert.equal((await a.post('main', push.text(openId, 'slow start'))).reply?.Content, 'began')
    const sessions = a.runtime.store.sessions
    const realDelete = sessions.delete.bind(sessions)
    let deleted = false
    let finish!: () => void
    const finished = new Promise<void>((r) => (finish = r))
    sessions.delete = async (account, user) => {
      await finished
      await realDelete(account, user)
      deleted = true
    }
    assert.equal((await a.post('main', push.event(openId, 'unsubscribe'))).body, 'success')
    // Past their budget: answered success, routed late once the clean-up is done.
    assert.equal((await a.post('main', push.event(openId, 'subscribe'))).body, 'success')
    assert.equal((await a.post('main', push.text(openId, 'slow again'))).body, 'success')
    assert.equal(deleted, false)
    sessions.delete = realDelete
    finish()
    await until('the clean-up and the late routings done', async () => deleted && (await sessions.get('main', openId)) !== null, 3_000)
    await a.runtime.engine.idle()
    assert.deepEqual((await sessions.get('main', openId))?.state, { seen: ['slow again'] }, 'a fresh dialogue, not deleted by the clean-up')
  })
})

describe("an unsubscribe routed without the user's lock (another instance's message held it past the budget)", () => {
  let fleet: EnginesOnRedis
  before(async () => {
    fleet = await startEnginesOnRedis(1, {
      ...SESSION_RACE,
      // The lock's TTL: budget + plugin timeout + 1 s = 1.8 s.
      config: { limits: { replyBudgetMs: 400, pluginTimeoutMs: 400 } },
    })
  })
  after(() => fleet?.close())

  it('cleans up once that message is done, under the lock: what it wrote back is deleted too', async () => {
    const { engines: [a], admin } = fleet
    const openId = 'u-unsub-unlocked'
    const lockKey = `wx:user-lock:main:${openId}`
    const sessionKey = `wx:session:main:${openId}`
    assert.equal((await a.post('main', push.text(openId, 'slow start'))).reply?.Content, 'began')
    // Another instance routes the user's earlier message, slowly: it holds the lock past A's budget.
    await admin.set(lockKey, 'instance-b', 'PX', 1_500)
    const seen = a.lines.length
    assert.equal((await a.post('main', push.event(openId, 'unsubscribe'))).body, 'success')
    // Waited for, not read at once: the budget's `success` can leave before the wait's last ask for the lock
    // comes back (a loaded machine), and the line is written after that ask.
    await until('routed without the lock', () => a.lines.slice(seen).some((l) => /lock was still held at the reply budget/.test(String(l.msg))), 2_000)
    await sleep(200)
    assert.notEqual(await admin.get(sessionKey), null, "the clean-up waits for the other instance's message")
    // That message ends: it writes the dialogue's session and frees its lock.
    const written = JSON.stringify({ account: 'main', openId, plugin: 'slowlock', state: { seen: ['slow start', 'from B'] }, expiresAt: Date.now() + 60_000 })
    await admin.set(sessionKey, written, 'PX', 60_000)
    await admin.del(lockKey)
    await a.runtime.engine.idle()
    assert.equal(await admin.get(sessionKey), null, 'the user who left has no dialogue to come back to')
    await until('the clean-up freed its lock', async () => (await admin.get(lockKey)) === null, 1_000)
    assert.ok(!a.lines.slice(seen).some((l) => /clean-up on unsubscribe/.test(String(l.msg))), JSON.stringify(a.lines.slice(seen)))
  })
})
