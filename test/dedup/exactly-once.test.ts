/**
 * createExactlyOnce in isolation, over the in-memory store: with its synchronous claim (SQLite and memory
 * offer one) and without it (a store across the network, Redis). Through the real engine and server:
 * test/e2e/exactly-once.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createExactlyOnce, type Delivery } from '../../core/dedup/exactly-once.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import type { DedupStore, StoredReply } from '../../core/store/store.ts'

const FALLBACK: StoredReply = { status: 200, contentType: 'text/plain', body: 'success' }
const replyOf = (body: string): StoredReply => ({ status: 200, contentType: 'application/xml', body })

/** The memory store's dedup without claimSync/completeSync: every call is a round trip. */
function remote(dedup: DedupStore): DedupStore {
  return { claim: dedup.claim, complete: dedup.complete, release: dedup.release, peek: dedup.peek }
}

function exactlyOnce(dedup: DedupStore, waitMs = 1000) {
  return createExactlyOnce({ dedup, replyCacheMs: 30_000, pendingTtlMs: 15_000, waitMs, pollMs: 5, fallback: FALLBACK })
}

describe('exactly once, with a store that claims synchronously', () => {
  it('a reply produced at once is delivered at once, and replayed at once to a retry', async () => {
    const store = createMemoryStore()
    const once = exactlyOnce(store.dedup)
    let runs = 0
    const first = once.run('k', () => (runs++, replyOf('<xml>1</xml>')))
    assert.ok(!(first instanceof Promise), 'no promise when nothing waited')
    assert.deepEqual(first, { reply: replyOf('<xml>1</xml>'), duplicate: false })
    const retry = once.run('k', () => (runs++, replyOf('<xml>again</xml>')))
    assert.ok(!(retry instanceof Promise))
    assert.deepEqual(retry, { reply: replyOf('<xml>1</xml>'), duplicate: true, waited: false })
    assert.equal(runs, 1)
    assert.deepEqual(await store.dedup.peek('k'), { state: 'done', reply: replyOf('<xml>1</xml>') })
  })

  it('a reply produced later is shared with a retry that arrives meanwhile', async () => {
    const store = createMemoryStore()
    const once = exactlyOnce(store.dedup)
    let release!: (r: StoredReply) => void
    let runs = 0
    const first = once.run('k', () => {
      runs++
      return new Promise<StoredReply>((r) => (release = r))
    })
    assert.ok(first instanceof Promise)
    const retry = once.run('k', () => (runs++, replyOf('<xml>never</xml>')))
    assert.ok(retry instanceof Promise)
    release(replyOf('<xml>slow</xml>'))
    assert.deepEqual(await first, { reply: replyOf('<xml>slow</xml>'), duplicate: false })
    assert.deepEqual(await retry, { reply: replyOf('<xml>slow</xml>'), duplicate: true, waited: true })
    assert.equal(runs, 1)
    assert.deepEqual(once.run('k', () => replyOf('<xml>never</xml>')), { reply: replyOf('<xml>slow</xml>'), duplicate: true, waited: false })
  })

  it('a produce that throws gives the claim up, so the next delivery runs again', async () => {
    const store = createMemoryStore()
    const once = exactlyOnce(store.dedup)
    assert.throws(() => once.run('k', () => {
      throw new Error('boom')
    }), /boom/)
    await new Promise((r) => setImmediate(r)) // the release is the store's (async) call
    assert.deepEqual(await store.dedup.peek('k'), { state: 'absent' })
    await assert.rejects(Promise.resolve(once.run('k', () => Promise.reject(new Error('later boom')))), /later boom/)
    assert.deepEqual(await store.dedup.peek('k'), { state: 'absent' })
    assert.deepEqual(once.run('k', () => replyOf('<xml>3</xml>')), { reply: replyOf('<xml>3</xml>'), duplicate: false })
  })

  it('a claim held elsewhere is waited for: its reply when it comes, else the fallback', async () => {
    const store = createMemoryStore()
    const once = exactlyOnce(store.dedup, 200)
    await store.dedup.claim('k', 15_000) // another instance's claim
    let runs = 0
    const waiting = once.run('k', () => (runs++, replyOf('<xml>mine</xml>')))
    assert.ok(waiting instanceof Promise)
    setTimeout(() => void store.dedup.complete('k', replyOf('<xml>theirs</xml>'), 30_000), 20)
    assert.deepEqual(await waiting, { reply: replyOf('<xml>theirs</xml>'), duplicate: true, waited: true })
    await store.dedup.claim('k2', 15_000)
    assert.deepEqual(await once.run('k2', () => (runs++, replyOf('<xml>mine</xml>'))), { reply: FALLBACK, duplicate: true, waited: true, gaveUp: 'still pending at the reply deadline' })
    assert.equal(runs, 0, 'never run while another holds the claim')
  })

  it('a claim given up or lapsed while a retry waits: the retry claims the message and runs it, said as such (a fleet review)', async () => {
    const store = createMemoryStore()
    const once = exactlyOnce(store.dedup, 2_000)
    await store.dedup.claim('k', 15_000) // another instance's claim, which it gives up (or which lapses: it died)
    let runs = 0
    const waiting = once.run('k', () => (runs++, replyOf('<xml>mine</xml>')))
    setTimeout(() => void store.dedup.release('k'), 20)
    const started = performance.now()
    assert.deepEqual(await waiting, { reply: replyOf('<xml>mine</xml>'), duplicate: false, tookOver: true })
    assert.ok(performance.now() - started < 1_500, 'run when the claim went, not at the deadline')
    assert.equal(runs, 1)
    // Under its own claim, recorded: the next retry replays it.
    assert.deepEqual(await once.run('k', () => (runs++, replyOf('<xml>again</xml>'))), { reply: replyOf('<xml>mine</xml>'), duplicate: true, waited: false })
    assert.equal(runs, 1)
  })

  it('a claim given up while two retries wait: one of them runs the message, the other gets its answer', async () => {
    const store = createMemoryStore()
    const a = exactlyOnce(store.dedup, 2_000)
    const b = exactlyOnce(store.dedup, 2_000) // two instances on one store
    await store.dedup.claim('k', 15_000)
    let runs = 0
    const produce = async () => {
      runs++
      await new Promise((r) => setTimeout(r, 100))
      return replyOf('<xml>once</xml>')
    }
    const both = Promise.all([a.run('k', produce), b.run('k', produce)])
    setTimeout(() => void store.dedup.release('k'), 20)
    const [da, db] = await both
    assert.equal(runs, 1)
    assert.deepEqual([da.reply, db.reply], [replyOf('<xml>once</xml>'), replyOf('<xml>once</xml>')])
    assert.equal([da, db].filter((d) => !d.duplicate).length, 1, JSON.stringify([da, db]))
  })
})

describe('exactly once, with a store across the network (no synchronous claim)', () => {
  it('always a promise; the same deliveries, run once', async () => {
    const store = createMemoryStore()
    const once = exactlyOnce(remote(store.dedup))
    let runs = 0
    const first = once.run('k', () => (runs++, replyOf('<xml>1</xml>')))
    assert.ok(first instanceof Promise)
    const concurrent = once.run('k', () => (runs++, replyOf('<xml>2</xml>')))
    const results: Delivery[] = await Promise.all([first, concurrent])
    assert.deepEqual(results, [
      { reply: replyOf('<xml>1</xml>'), duplicate: false },
      { reply: replyOf('<xml>1</xml>'), duplicate: true, waited: true },
    ])
    assert.deepEqual(await once.run('k', () => (runs++, replyOf('<xml>3</xml>'))), { reply: replyOf('<xml>1</xml>'), duplicate: true, waited: false })
    assert.equal(runs, 1)
  })

  it('a produce that throws gives the claim up', async () => {
    const store = createMemoryStore()
    const once = exactlyOnce(remote(store.dedup))
    await assert.rejects(Promise.resolve(once.run('k', () => {
      throw new Error('boom')
    })), /boom/)
    assert.deepEqual(await store.dedup.peek('k'), { state: 'absent' })
  })
})

describe('an answer the store cannot record is given all the same', () => {
  it('complete fails (sync and async stores): the reply is delivered, onUnrecorded says why', async () => {
    for (const sync of [true, false]) {
      const store = createMemoryStore()
      const failing: DedupStore = {
        ...(sync ? store.dedup : remote(store.dedup)),
        complete: () => Promise.reject(new Error('connection lost')),
        ...(sync
          ? {
              completeSync: () => {
                throw new Error('disk full')
              },
            }
          : {}),
      }
      const unrecorded: string[] = []
      const once = createExactlyOnce({ dedup: failing, replyCacheMs: 30_000, pendingTtlMs: 15_000, waitMs: 1000, fallback: FALLBACK, onUnrecorded: (key, reason) => unrecorded.push(`${key}: ${reason}`) })
      assert.deepEqual(await once.run('now', () => replyOf('<xml>now</xml>')), { reply: replyOf('<xml>now</xml>'), duplicate: false })
      assert.deepEqual(await once.run('later', () => Promise.resolve(replyOf('<xml>later</xml>'))), { reply: replyOf('<xml>later</xml>'), duplicate: false })
      assert.deepEqual(unrecorded, [sync ? 'now: disk full' : 'now: connection lost', 'later: connection lost'], `sync: ${sync}`)
    }
  })

  it('a store across the network that does not answer: the reply is given at the deadline', async () => {
    const store = createMemoryStore()
    const hanging: DedupStore = { ...remote(store.dedup), complete: () => new Promise<void>(() => undefined) }
    const unrecorded: string[] = []
    const once = createExactlyOnce({ dedup: hanging, replyCacheMs: 30_000, pendingTtlMs: 15_000, waitMs: 10_000, fallback: FALLBACK, onUnrecorded: (_key, reason) => unrecorded.push(reason) })
    const started = performance.now()
    const d = await once.run('k', () => replyOf('<xml>r</xml>'), started + 100)
    const took = performance.now() - started
    assert.deepEqual(d, { reply: replyOf('<xml>r</xml>'), duplicate: false })
    assert.ok(took >= 95 && took < 1000, `given after ${took} ms (deadline 100 ms, waitMs 10 s)`)
    assert.deepEqual(unrecorded, ['still being recorded at the reply deadline'])
  })

  it("a retry waits for another's answer until the request's deadline, not waitMs from the wait's start", async () => {
    const store = createMemoryStore()
    await store.dedup.claim('k', 15_000) // held elsewhere, never answered
    const once = createExactlyOnce({ dedup: remote(store.dedup), replyCacheMs: 30_000, pendingTtlMs: 15_000, waitMs: 10_000, pollMs: 5, fallback: FALLBACK })
    const started = performance.now()
    assert.deepEqual(await once.run('k', () => replyOf('<xml>never</xml>'), started + 150), { reply: FALLBACK, duplicate: true, waited: true, gaveUp: 'still pending at the reply deadline' })
    const took = performance.now() - started
    assert.ok(took < 1000, `gave up after ${took} ms (deadline 150 ms)`)
  })
})

it("a retry's wait ends at the deadline even when the store stops answering its polls", async () => {
  const store = createMemoryStore()
  await store.dedup.claim('k', 15_000) // held elsewhere
  const stalled: DedupStore = { ...remote(store.dedup), peek: () => new Promise(() => undefined) }
  const once = createExactlyOnce({ dedup: stalled, replyCacheMs: 30_000, pendingTtlMs: 15_000, waitMs: 10_000, pollMs: 5, fallback: FALLBACK })
  const started = performance.now()
  assert.deepEqual(await once.run('k', () => replyOf('<xml>never</xml>'), started + 150), { reply: FALLBACK, duplicate: true, waited: true, gaveUp: 'still pending at the reply deadline' })
  const took = performance.now() - started
  assert.ok(took < 1000, `gave up after ${took} ms (deadline 150 ms)`)
})

describe('a store that does not answer holds no answer past the deadline (a Redis review: 6.5 s and 7 s with commandTimeoutMs 3000 and 4000)', () => {
  const hang = <T>(ms: number, value?: T) => new Promise<T>((resolve, reject) => setTimeout(() => (value === undefined ? reject(new Error('Command timed out')) : resolve(value)), ms))

  it('a failed run gives its claim up without waiting past the deadline for the release', async () => {
    const store = createMemoryStore()
    const released: string[] = []
    const dedup: DedupStore = { ...remote(store.dedup), release: (key) => (released.push(key), hang<void>(3000)) }
    const once = exactlyOnce(dedup)
    const t = performance.now()
    await assert.rejects(Promise.resolve(once.run('k', () => hang<StoredReply>(300), t + 1000)), /Command timed out/)
    const took = performance.now() - t
    assert.deepEqual(released, ['k'], 'the release was sent')
    assert.ok(took < 1300, `the delivery ended ${Math.round(took)} ms after it began; its deadline was 1000 ms`)
  })

  it('a claim not answered by the deadline: the delivery fails then, nothing runs, and a claim that lands late is given back', async () => {
    const store = createMemoryStore()
    const released: string[] = []
    const dedup: DedupStore = {
      ...remote(store.dedup),
      claim: (key, ttl) => hang(1500, true).then(() => store.dedup.claim(key, ttl)),
      release: (key) => (released.push(key), store.dedup.release(key)),
    }
    const once = exactlyOnce(dedup)
    let runs = 0
    const t = performance.now()
    await assert.rejects(Promise.resolve(once.run('k', async () => (runs++, replyOf('<xml/>')), t + 500)), /did not answer the claim by the reply deadline/)
    const took = performance.now() - t
    assert.ok(took < 900, `gave up after ${Math.round(took)} ms; the deadline was 500 ms`)
    assert.equal(runs, 0)
    // The claim lands at 1.5 s and is given back: the next try runs the message.
    await hang(1300, true)
    assert.deepEqual(released, ['k'])
    assert.deepEqual(await store.dedup.peek('k'), { state: 'absent' })
  })
})
