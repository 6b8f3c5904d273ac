/**
 * One user's messages are routed one at a time (core/route/user-queue.ts). A dialogue reads the user's
 * session and writes it back; two messages of one user routed at once lost an answer, let an `end()` be
 * undone by the slower message, or let a lock begin after the unsubscribe's clean-up (found by a sessions
 * audit). Through the real engine and plugin sandbox (the test kit), with the slowlock fixture plugin.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createUserQueue, waitForUserLock, withUserLock, type UserLock } from '../../core/route/user-queue.ts'
import { UNSUBSCRIBING } from '../../core/store/store.ts'
import { createTestClient, push, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { REPO } from '../cli/cli-harness.ts'

describe('the queue', () => {
  test('a lone synchronous task runs at once and leaves nothing behind', () => {
    const q = createUserQueue()
    assert.equal(q.run('u', () => 42), 42)
    assert.equal(q.size, 0)
  })

  test("one user's tasks run in arrival order; other users do not wait", async () => {
    const q = createUserQueue()
    const order: string[] = []
    const slow = (name: string, ms: number) => () => new Promise<string>((r) => setTimeout(() => (order.push(name), r(name)), ms))
    const a1 = q.run('a', slow('a1', 60))
    const a2 = q.run('a', () => (order.push('a2'), 'a2')) // synchronous, but after a1
    const b1 = q.run('b', () => (order.push('b1'), 'b1')) // another user: at once
    assert.equal(b1, 'b1')
    assert.ok(a2 instanceof Promise)
    assert.deepEqual(await Promise.all([a1, a2]), ['a1', 'a2'])
    assert.deepEqual(order, ['b1', 'a1', 'a2'])
    await new Promise((r) => setImmediate(r))
    assert.equal(q.size, 0)
  })

  test('a task that fails does not stop the next; hold() makes the next wait for other work', async () => {
    const q = createUserQueue()
    const failed = q.run('u', () => Promise.reject(new Error('boom')))
    await assert.rejects(Promise.resolve(failed), /boom/)
    let cleaned = false
    q.hold('u', new Promise<void>((r) => setTimeout(() => ((cleaned = true), r()), 40)))
    assert.equal(await q.run('u', () => cleaned), true)
  })
})

describe('the fleet lock (a lock in the shared store; the fleet tests run it on Redis)', () => {
  test('waited for while another instance holds it, released after the task', async () => {
    let holder: string | null = 'other'
    const events: string[] = []
    const lock = async (_a: string, _o: string, ttlMs: number) => {
      assert.equal(ttlMs, 9000)
      if (holder) return null
      holder = 'me'
      return { session: readWithLock, release: async () => void events.push('released'), keepAlive: () => () => undefined, writes: { put: async () => undefined, delete: async () => undefined, deletePrefix: async () => 0 } }
    }
    const readWithLock = { account: 'acct', openId: 'u', plugin: 'survey', state: { step: 2 }, expiresAt: Date.now() + 60_000 }
    setTimeout(() => (holder = null), 60) // the other instance finishes
    const result = await withUserLock(lock, 'acct', 'u', { ttlMs: 9000, deadline: performance.now() + 2000, onNotHeld: () => events.push('not held') }, (session) => {
      events.push('task')
      assert.equal(session, readWithLock, 'the task starts from the session read with the lock')
      return 7
    })
    assert.equal(result, 7)
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(events, ['task', 'released'])
  })

  test('a failed ask while waiting is asked again; only a failure at the deadline is thrown', async () => {
    const readWithLock = { account: 'acct', openId: 'u', plugin: 'survey', state: {}, expiresAt: Date.now() + 60_000 }
    const asks: string[] = []
    // Busy, then a blip (one command failed), then free.
    const answers: Array<'busy' | 'fail' | 'free'> = ['busy', 'fail', 'free']
    const lock = async () => {
      const next = answers.shift() ?? 'free'
      asks.push(next)
      if (next === 'fail') throw new Error('Command timed out')
      return next === 'busy' ? null : { session: readWithLock, release: async () => undefined, keepAlive: () => () => undefined, writes: { put: async () => undefined, delete: async () => undefined, deletePrefix: async () => 0 } }
    }
    const result = await withUserLock(lock, 'acct', 'u', { ttlMs: 9000, deadline: performance.now() + 2000, onNotHeld: () => asks.push('not held') }, (session) => {
      assert.equal(session, readWithLock)
      return 'routed'
    })
    assert.equal(result, 'routed')
    assert.deepEqual(asks, ['busy', 'fail', 'free'])

    // Failing until the deadline: thrown (the caller drops the message and says why), the task never run.
    let ran = false
    const busyThenDown = async () => {
      if (asks.push('ask') === 4) return null
      throw new Error('Connection is closed.')
    }
    await assert.rejects(
      withUserLock(busyThenDown, 'acct', 'u', { ttlMs: 9000, deadline: performance.now() + 100, onNotHeld: () => undefined }, () => {
        ran = true
      }),
      /Connection is closed/,
    )
    assert.equal(ran, false)
  })

  test('still held at the deadline: the task runs anyway, says so, and reads the session itself', async () => {
    const events: string[] = []
    const started = performance.now()
    await withUserLock(async () => null, 'acct', 'u', { ttlMs: 9000, deadline: started + 100, onNotHeld: () => events.push('not held') }, (session) => {
      events.push('task')
      assert.equal(session, undefined)
    })
    assert.deepEqual(events, ['not held', 'task'])
    assert.ok(performance.now() - started < 1000)
  })
})

describe('waiting for the fleet lock (one wait for routing and for the unsubscribe clean-up)', () => {
  const heldLock = { session: null, release: async () => undefined, keepAlive: () => () => undefined, writes: { put: async () => undefined, delete: async () => undefined, deletePrefix: async () => 0 } }
  /** A lock answering from a script: 'busy' (null), 'leaving' (the user's unsubscribe holds it), 'fail' (throws), 'free'. */
  function scripted(script: Array<'busy' | 'leaving' | 'fail' | 'free'>, asks: string[]): UserLock {
    return async (_a, _o, _ttl, forUnsubscribe) => {
      const next = script.shift() ?? 'busy'
      asks.push(forUnsubscribe ? `${next} (unsubscribe)` : next)
      if (next === 'fail') throw new Error(`ask ${asks.length} failed`)
      return next === 'busy' ? null : next === 'leaving' ? UNSUBSCRIBING : heldLock
    }
  }

  test("routing's wait: a first ask that fails is the store away, given up at once", async () => {
    const asks: string[] = []
    const wait = await waitForUserLock(scripted(['fail', 'free'], asks), 'acct', 'u', { ttlMs: 9000, deadline: performance.now() + 2000, firstFailureEnds: true })
    assert.deepEqual(asks, ['fail'])
    assert.match(String((wait.failure?.error as Error).message), /ask 1 failed/)
    await assert.rejects(withUserLock(scripted(['fail', 'free'], []), 'acct', 'u', { ttlMs: 9000, deadline: performance.now() + 2000, onNotHeld: () => undefined }, () => 'ran'), /ask 1 failed/)
  })

  test("the clean-up's wait: every failed ask is a blip, the first too; the user's unsubscribe is waited through", async () => {
    const asks: string[] = []
    const wait = await waitForUserLock(scripted(['fail', 'leaving', 'fail', 'busy', 'free'], asks), 'acct', 'u', { ttlMs: 9000, deadline: performance.now() + 2000, forUnsubscribe: true })
    assert.deepEqual(asks, ['fail (unsubscribe)', 'leaving (unsubscribe)', 'fail (unsubscribe)', 'busy (unsubscribe)', 'free (unsubscribe)'])
    assert.equal(wait.answer, heldLock)
    assert.equal(wait.failure, undefined)
  })

  test('the deadline ends the wait: the last answer is given, and the last error only if the last ask failed', async () => {
    const busyAtEnd: string[] = []
    const started = performance.now()
    const stillBusy = await waitForUserLock(scripted(['fail', 'busy', 'busy', 'busy', 'busy', 'busy', 'busy', 'busy', 'busy', 'busy'], busyAtEnd), 'acct', 'u', { ttlMs: 9000, deadline: started + 100 })
    assert.equal(stillBusy.answer, null)
    assert.equal(stillBusy.failure, undefined, 'a blip mid-wait is not the outcome')
    assert.ok(busyAtEnd.length >= 2 && busyAtEnd.length <= 6, `asked every 20 ms for 100 ms: ${busyAtEnd.length} asks`)
    assert.ok(performance.now() - started < 1000)

    const failingAtEnd: string[] = []
    const down = await waitForUserLock(scripted(['busy', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail'], failingAtEnd), 'acct', 'u', { ttlMs: 9000, deadline: performance.now() + 100 })
    assert.equal(down.answer, null, 'the last answer the store gave')
    assert.match(String((down.failure?.error as Error).message), new RegExp(`ask ${failingAtEnd.length} failed`))
  })
  test('a store that keeps failing is asked less and less often, up to once a second; an answer brings back the 20 ms', async () => {
    // Found by a fleet review: an unsubscribe's clean-up waits a whole lock TTL (~35 s) and asked a store that
    // was down every 20 ms, 1,700 failed commands for one unfollow. Asked at 0, 40, 120, 280, 600, 1240 and
    // at the deadline here; every 20 ms, it was 75 asks.
    const down: string[] = []
    const started = performance.now()
    const wait = await waitForUserLock(scripted(Array(200).fill('fail'), down), 'acct', 'u', { ttlMs: 9000, deadline: started + 1500, forUnsubscribe: true })
    assert.ok(down.length >= 5 && down.length <= 9, `${down.length} asks in 1.5 s`)
    assert.ok(wait.failure, 'the last ask failed, and says so')
    assert.ok(performance.now() - started >= 1400, 'waited to the deadline')

    // Three failures, then the store answers (busy): asked every 20 ms again, not every 160.
    const back: string[] = []
    const t0 = performance.now()
    await waitForUserLock(scripted(['fail', 'fail', 'fail', ...Array(200).fill('busy')], back), 'acct', 'u', { ttlMs: 9000, deadline: t0 + 600 })
    const busy = back.filter((a) => a === 'busy').length
    assert.ok(busy >= 8, `${busy} busy asks in the ~320 ms after the store came back`)
  })
})

describe('through the engine', () => {
  let client: TestClient
  before(async () => {
    client = await createTestClient({ root: path.join(REPO, 'test/fixtures/session-race') })
  })
  after(() => client.close())

  test('two answers sent together: both in the state, in order', async () => {
    const u = { openId: 'u-together' }
    await client.expectReply('slow start', 'began', u)
    const [a, b] = await Promise.all([client.send('slow a', u), client.send('slow b', u)])
    assert.equal(a.content, 'seen: slow start, slow a')
    assert.equal(b.content, 'seen: slow start, slow a, slow b')
    assert.deepEqual((await client.session(u))?.state, { seen: ['slow start', 'slow a', 'slow b'] })
  })

  test('end() is not undone by a slower message of the same user still running', async () => {
    const u = { openId: 'u-end' }
    await client.expectReply('slow 0', 'began', u)
    const slow = client.send('slow a', u)
    await new Promise((r) => setTimeout(r, 50))
    await client.expectReply('end', 'ended', u)
    assert.equal((await slow).content, 'seen: slow 0, slow a')
    assert.equal(await client.session(u), null)
    await client.expectReply('hello', 'hello-reply', u)
  })

  test('unsubscribe while a dialogue begins: the lock is gone, a new follow is welcomed', async () => {
    const openId = 'u-unsub'
    const slow = client.send('slow 1', { openId })
    await new Promise((r) => setTimeout(r, 50))
    // It waits for the dialogue to begin, so it reaches the lock holder, as every message of a locked user does.
    // Its answer ('seen: slow 1, unsubscribe') is withheld: no reply reaches an unsubscribe (no-reply-events.test.ts).
    const gone = await client.send(push.event(openId, 'unsubscribe'))
    assert.deepEqual([gone.handledBy, gone.plugin, gone.body], ['session', 'slowlock', 'success'])
    assert.equal((await slow).content, 'began')
    await client.expectReply(push.event(openId, 'subscribe'), 'welcome!')
    assert.equal(await client.session({ openId }), null)
  })
})

describe('a message that waits past its own reply budget behind the same user (found by a code read)', () => {
  let client: TestClient
  before(async () => {
    // slowlock answers "slow" texts after 300 ms: past this budget, and so is a message queued behind one.
    client = await createTestClient({ root: path.join(REPO, 'test/fixtures/session-race'), config: { limits: { replyBudgetMs: 150 } } })
  })
  after(() => client.close())

  test("still reaches the dialogue's plugin and is answered late; each send gets its own outcome", async () => {
    const u = { openId: 'u-queued' }
    const first = await client.send('slow 0', u)
    assert.equal(first.outcome, 'late')
    assert.equal(first.content, 'began')
    const slow = client.send('slow a', u)
    await new Promise((r) => setTimeout(r, 20))
    // Queued behind "slow a" for ~280 ms: its budget is spent before it is routed. It used to be routed to
    // nobody (no reply at all), and the test kit gave it "slow a"'s outcome, matched by sender.
    const quick = client.send('quick b', u)
    const [a, b] = await Promise.all([slow, quick])
    assert.deepEqual([a.outcome, a.handledBy, a.content], ['late', 'session', 'seen: slow 0, slow a'])
    assert.deepEqual([b.outcome, b.handledBy, b.content], ['late', 'session', 'seen: slow 0, slow a, quick b'])
    assert.deepEqual((await client.session(u))?.state, { seen: ['slow 0', 'slow a', 'quick b'] })
  })
})
