/**
 * Runs the handling of a message once, however many times WeChat delivers it.
 *
 * WeChat retries up to three times, 5 s apart, when an answer is slow (protocol.md §5). The first delivery
 * claims the message's key in the store and produces the answer; a retry that arrives while it runs waits
 * for that answer, and one that arrives later replays the stored bytes from the reply cache. In one process
 * the wait is a shared promise; across instances (a shared Redis store) it is a poll of the store.
 */
import type { DedupStore, StoredReply } from '../store/store.ts'

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
  run(key: string, produce: () => Promise<StoredReply>): Promise<Delivery>
}

export function createExactlyOnce(opts: ExactlyOnceOptions): ExactlyOnce {
  const inFlight = new Map<string, Promise<Delivery>>()
  const pollMs = opts.pollMs ?? 50
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))

  async function waitForOther(key: string): Promise<StoredReply> {
    const until = Date.now() + opts.waitMs
    while (Date.now() < until) {
      await sleep(pollMs)
      const seen = await opts.dedup.peek(key)
      if (seen.state === 'done') return seen.reply
      // The claimer gave up (released) or its claim lapsed: answering `fallback` is safe, running again is not
      // (the claimer may still deliver a late reply).
      if (seen.state === 'absent') break
    }
    return opts.fallback
  }

  async function claimAndProduce(key: string, produce: () => Promise<StoredReply>): Promise<Delivery> {
    const claim = await opts.dedup.claim(key, opts.pendingTtlMs)
    if (claim.state === 'done') return { reply: claim.reply, duplicate: true, waited: false }
    if (claim.state === 'pending') return { reply: await waitForOther(key), duplicate: true, waited: true }
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

  return {
    async run(key, produce) {
      const running = inFlight.get(key)
      if (running) return { reply: (await running).reply, duplicate: true, waited: true }
      const delivery = claimAndProduce(key, produce)
      inFlight.set(key, delivery)
      // Awaited here rather than chained (.then/.catch/.finally): one message, one promise fewer to four.
      try {
        return await delivery
      } finally {
        if (inFlight.get(key) === delivery) inFlight.delete(key)
      }
    },
  }
}
