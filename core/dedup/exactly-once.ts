/**
 * Runs the handling of a message once, however many times WeChat delivers it.
 *
 * WeChat retries up to three times, 5 s apart, when an answer is slow (protocol.md §5). The first delivery
 * claims the message's key in the store and produces the answer; a retry that arrives while it runs waits
 * for that answer, and one that arrives later replays the stored bytes from the reply cache. In one process
 * the wait is a shared promise; across instances (a shared Redis store) it is a poll of the store.
 */
import type { ClaimResult, DedupStore, StoredReply } from '../store/store.ts'

export type Delivery = { reply: StoredReply; duplicate: false } | { reply: StoredReply; duplicate: true; waited: boolean }

export interface ExactlyOnceOptions {
  dedup: DedupStore
  /** How long an answer is replayed to retries. */
  replyCacheMs: number
  /** How long a claim without an answer stays valid (a crashed instance's claim lapses after this). */
  pendingTtlMs: number
  /** How long a retry waits for another instance's answer before giving up with `fallback`. */
  waitMs: number
  pollMs?: number
  /** The answer for a retry whose first delivery is still running elsewhere after waitMs. */
  fallback: StoredReply
  sleep?: (ms: number) => Promise<void>
}

export interface ExactlyOnce {
  /**
   * Runs `produce` once for `key`. Returns the delivery itself, not a promise, when the store claims
   * synchronously (SQLite, memory: `claimSync`) and `produce` returns its reply rather than a promise: a
   * message answered by an inline rule then goes through without an await.
   */
  run(key: string, produce: () => StoredReply | Promise<StoredReply>): Delivery | Promise<Delivery>
}

export function createExactlyOnce(opts: ExactlyOnceOptions): ExactlyOnce {
  const inFlight = new Map<string, Promise<Delivery>>()
  const pollMs = opts.pollMs ?? 50
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const { claimSync, completeSync } = opts.dedup

  async function waitForOther(key: string): Promise<Delivery> {
    const until = Date.now() + opts.waitMs
    while (Date.now() < until) {
      await sleep(pollMs)
      const seen = await opts.dedup.peek(key)
      if (seen.state === 'done') return { reply: seen.reply, duplicate: true, waited: true }
      // The claimer gave up (released) or its claim lapsed: answering `fallback` is safe, running again is not
      // (the claimer may still deliver a late reply).
      if (seen.state === 'absent') break
    }
    return { reply: opts.fallback, duplicate: true, waited: true }
  }

  /** A claim another delivery holds: replay its answer, or wait for it (it runs in another instance). */
  function duplicateOf(key: string, claim: Exclude<ClaimResult, { state: 'claimed' }>): Delivery | Promise<Delivery> {
    return claim.state === 'done' ? { reply: claim.reply, duplicate: true, waited: false } : waitForOther(key)
  }

  /** Produces under a claim already held; gives the claim up when producing fails, so a retry runs again. */
  async function settle(key: string, produce: () => StoredReply | Promise<StoredReply>): Promise<Delivery> {
    let reply: StoredReply
    try {
      reply = await produce()
    } catch (e) {
      await opts.dedup.release(key).catch(() => undefined)
      throw e
    }
    await opts.dedup.complete(key, reply, opts.replyCacheMs)
    return { reply, duplicate: false }
  }

  async function claimAndProduce(key: string, produce: () => StoredReply | Promise<StoredReply>): Promise<Delivery> {
    const claim = await opts.dedup.claim(key, opts.pendingTtlMs)
    if (claim.state !== 'claimed') return duplicateOf(key, claim)
    return settle(key, produce)
  }

  /** Registered while it runs, so a retry arriving meanwhile in this process shares its answer. */
  async function track(key: string, delivery: Promise<Delivery>): Promise<Delivery> {
    inFlight.set(key, delivery)
    // Awaited here rather than chained (.then/.catch/.finally): one message, one promise fewer to four.
    try {
      return await delivery
    } finally {
      if (inFlight.get(key) === delivery) inFlight.delete(key)
    }
  }

  return {
    run(key, produce) {
      const running = inFlight.get(key)
      if (running) return running.then((d) => ({ reply: d.reply, duplicate: true, waited: true }))
      if (!claimSync || !completeSync) return track(key, claimAndProduce(key, produce))
      const claim = claimSync(key, opts.pendingTtlMs)
      if (claim.state !== 'claimed') return duplicateOf(key, claim)
      let produced: StoredReply | Promise<StoredReply>
      try {
        produced = produce()
      } catch (e) {
        void opts.dedup.release(key).catch(() => undefined)
        throw e
      }
      // Produced at once: no other delivery can have come in between, nothing to register.
      if (!(produced instanceof Promise)) {
        completeSync(key, produced, opts.replyCacheMs)
        return { reply: produced, duplicate: false }
      }
      return track(key, settle(key, () => produced))
    },
  }
}
