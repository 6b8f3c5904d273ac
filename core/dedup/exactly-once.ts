/**
 * Runs the handling of a message once, however many times WeChat delivers it.
 *
 * WeChat retries up to three times, 5 s apart, when an answer is slow (protocol.md §5). The first delivery
 * claims the message's key in the store and produces the answer; a retry that arrives while it runs waits
 * for that answer, and one that arrives later replays the stored bytes from the reply cache. In one process
 * the wait is a shared promise; across instances (a shared Redis store) it is a poll of the store.
 */
import type { ClaimResult, DedupStore, StoredReply } from '../store/store.ts'

/** Fields naming a delivery's message (its account and user), handed back to onUnrecorded as given. */
export type About = Readonly<Record<string, string>>

/**
 * `gaveUp`: a retry answered `fallback` without the first delivery's answer, which ran in another instance
 * whose claim was still pending at the deadline. The message may then have no answer at all: worth a line
 * (engine.ts).
 * `tookOver`: a retry ran the message itself, because the claim it waited on was given up (the first delivery
 * failed) or lapsed (its instance died, or lost the store) before the deadline: also worth a line.
 */
export type Delivery =
  | { reply: StoredReply; duplicate: false; tookOver?: true }
  | { reply: StoredReply; duplicate: true; waited: boolean; gaveUp?: 'still pending at the reply deadline' }

type Produce = () => StoredReply | Promise<StoredReply>

export interface ExactlyOnceOptions {
  dedup: DedupStore
  /** How long an answer is replayed to retries. */
  replyCacheMs: number
  /** How long a claim without an answer stays valid (a crashed instance's claim lapses after this). */
  pendingTtlMs: number
  /**
   * The time an answer may take, from the call to `run` unless it is given a deadline: how long a retry waits
   * for another instance's answer before giving up with `fallback`, and how long recording an answer is
   * waited for before it is given anyway.
   */
  waitMs: number
  pollMs?: number
  /** The answer for a retry whose first delivery is still running elsewhere at the deadline. */
  fallback: StoredReply
  sleep?: (ms: number) => Promise<void>
  /**
   * An answer is given without being in the reply cache: recording it failed, or was still running at the
   * deadline. Harmless for exactly-once (this delivery holds the claim, and a store that lost the
   * connection records the answer once it is back), but a retry may meanwhile get `fallback`: worth a line.
   * `about`: what `run` was told of the delivery (whose message it is), for that line.
   */
  onUnrecorded?: (key: string, reason: string, about: About | undefined) => void
}

export interface ExactlyOnce {
  /**
   * Runs `produce` once for `key`. Returns the delivery itself, not a promise, when the store claims
   * synchronously (SQLite, memory: `claimSync`) and `produce` returns its reply rather than a promise: a
   * message answered by an inline rule then goes through without an await.
   *
   * `deadline` (a `performance.now()` time; default `waitMs` from now) bounds what happens after `produce`:
   * a retry's wait for another instance, and the recording of the answer. The request's arrival plus the
   * reply budget, so that time spent claiming is not added on top of it. `about`: for onUnrecorded's line.
   */
  run(key: string, produce: () => StoredReply | Promise<StoredReply>, deadline?: number, about?: About): Delivery | Promise<Delivery>
}

export function createExactlyOnce(opts: ExactlyOnceOptions): ExactlyOnce {
  const inFlight = new Map<string, Promise<Delivery>>()
  const pollMs = opts.pollMs ?? 50
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const { claimSync, completeSync } = opts.dedup
  const onUnrecorded = opts.onUnrecorded ?? (() => undefined)

  async function waitForOther(key: string, produce: Produce, deadline: number, about: About | undefined): Promise<Delivery> {
    while (performance.now() + pollMs < deadline) {
      await sleep(pollMs)
      // A store slow to answer must not hold the retry past the deadline either.
      const seen = await beforeDeadline(opts.dedup.peek(key), deadline)
      if (seen === undefined) break
      if (seen.state === 'done') return { reply: seen.reply, duplicate: true, waited: true }
      // The claimer gave the claim up (its run failed) or let it lapse: a claim is renewed while its message
      // runs, so it lapses when its instance died or lost the store. This retry claims the message and runs
      // it. Answered `fallback` instead, a dead instance's message got no answer at all (a fleet review).
      if (seen.state === 'absent') {
        const delivery = await claimAndProduce(key, produce, deadline, about)
        return delivery.duplicate ? delivery : { ...delivery, tookOver: true }
      }
    }
    return { reply: opts.fallback, duplicate: true, waited: true, gaveUp: 'still pending at the reply deadline' }
  }

  /** A claim another delivery holds: replay its answer, or wait for it (it runs in another instance). */
  function duplicateOf(key: string, claim: Exclude<ClaimResult, { state: 'claimed' }>, produce: Produce, deadline: number, about: About | undefined): Delivery | Promise<Delivery> {
    return claim.state === 'done' ? { reply: claim.reply, duplicate: true, waited: false } : waitForOther(key, produce, deadline, about)
  }

  /** Produces under a claim already held; gives the claim up when producing fails, so a retry runs again. */
  async function produceUnderClaim(key: string, produce: Produce, deadline: number, about: About | undefined): Promise<Delivery> {
    let reply: StoredReply
    try {
      reply = await produce()
    } catch (e) {
      // Not waited for past the deadline: a store that is not answering (commandTimeoutMs, twice that behind
      // a pipelined command) held the answer to 6.5 s (a Redis review). One that fails settles it later.
      await beforeDeadline(opts.dedup.release(key).catch(() => undefined), deadline)
      throw e
    }
    await recordWithin(key, reply, deadline, about)
    return { reply, duplicate: false }
  }

  /**
   * Records the answer for retries, but gives it in any case: the message has run, and `success` instead
   * would lose the reply for good (WeChat does not retry a `success`). A store in this process (claimSync)
   * answers at once; one across the network is waited for until the deadline at most.
   */
  async function recordWithin(key: string, reply: StoredReply, deadline: number, about: About | undefined): Promise<void> {
    const recording = opts.dedup.complete(key, reply, opts.replyCacheMs)
    if (claimSync) {
      await recording.catch((e: unknown) => onUnrecorded(key, reasonOf(e), about))
      return
    }
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        onUnrecorded(key, 'still being recorded at the reply deadline', about)
        resolve()
      }, Math.max(0, Math.floor(deadline - performance.now())))
      recording.then(resolve, (e: unknown) => {
        onUnrecorded(key, reasonOf(e), about)
        resolve()
      })
    })
    clearTimeout(timer)
  }

  async function claimAndProduce(key: string, produce: Produce, deadline: number, about: About | undefined): Promise<Delivery> {
    const claiming = opts.dedup.claim(key, opts.pendingTtlMs)
    // A store that does not answer the claim by the deadline: the message is dropped (the engine answers
    // `success`, with a line) rather than answered past WeChat's 5 s (7 s in a Redis review, with
    // commandTimeoutMs 4000). A claim that lands after all is given back, so a retry can run the message.
    const claim = await beforeDeadline(claiming, deadline)
    if (claim === undefined) {
      void claiming.then((late) => (late.state === 'claimed' ? opts.dedup.release(key) : undefined)).catch(() => undefined)
      throw new Error(`the state store did not answer the claim by the reply deadline`)
    }
    if (claim.state !== 'claimed') return duplicateOf(key, claim, produce, deadline, about)
    return produceUnderClaim(key, produce, deadline, about)
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
    run(key, produce, deadline = performance.now() + opts.waitMs, about) {
      const running = inFlight.get(key)
      if (running) return running.then((d) => ({ reply: d.reply, duplicate: true, waited: true }))
      if (!claimSync || !completeSync) return track(key, claimAndProduce(key, produce, deadline, about))
      const claim = claimSync(key, opts.pendingTtlMs)
      if (claim.state !== 'claimed') return duplicateOf(key, claim, produce, deadline, about)
      let produced: StoredReply | Promise<StoredReply>
      try {
        produced = produce()
      } catch (e) {
        void opts.dedup.release(key).catch(() => undefined)
        throw e
      }
      // Produced at once: no other delivery can have come in between, nothing to register.
      if (!(produced instanceof Promise)) {
        try {
          completeSync(key, produced, opts.replyCacheMs)
        } catch (e) {
          onUnrecorded(key, reasonOf(e), about)
        }
        return { reply: produced, duplicate: false }
      }
      return track(key, produceUnderClaim(key, () => produced, deadline, about))
    },
  }
}

/** The promise's value, or undefined once the deadline (a performance.now() time) has passed first. */
function beforeDeadline<T>(p: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, Math.floor(deadline - performance.now())), undefined)
    }),
  ]).finally(() => clearTimeout(timer))
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
