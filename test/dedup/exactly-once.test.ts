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
    assert.deepEqual(await once.run('k2', () => (runs++, replyOf('<xml>mine</xml>'))), { reply: FALLBACK, duplicate: true, waited: true })
    assert.equal(runs, 0, 'never run while another holds the claim')
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
