/**
 * One user's messages are routed one at a time, in the order they arrived.
 *
 * A dialogue is read-modify-write: the router reads the user's session, the plugin answers from it, and its
 * session calls are written back. Two messages of one user routed at once (a user typing fast, a menu click
 * during an answer) would both read the same session: one answer lost, two plugins both taking the lock, an
 * `end()` undone by the slower message, a lock begun after the unsubscribe's clean-up. So a message of a user
 * whose earlier message is still being routed waits for it; the wait counts against its own reply budget.
 *
 * Nothing is registered while routing is synchronous (an inline rule with the session store in this
 * process): such a message cannot interleave with anything, and costs one Map lookup.
 *
 * A fleet's instances do not share the queue: with a shared store that offers `lockUser` (Redis), routing
 * also holds a per-user lock in it (`withUserLock`), waited for until the message's deadline.
 */
import { UNSUBSCRIBING, type HeldUserLock, type SessionRecord } from '../store/store.ts'
import { UnsubscribeRunningError } from './unsubscribe-running-error.ts'

export interface UserQueue {
  /** Runs `task` at once when nothing of this user is being routed, else after it (then always a promise). */
  run<T>(user: string, task: () => T | Promise<T>): T | Promise<T>
  /** The user's next message also waits for `work` (the clean-up after an unsubscribe). */
  hold(user: string, work: Promise<unknown>): void
  /** Users with routing in progress (for tests and metrics). */
  readonly size: number
}

/** Either way the tail only orders the next task: its outcome is the caller's. */
const ignoreOutcome = (): undefined => undefined

export function createUserQueue(): UserQueue {
  const tails = new Map<string, Promise<unknown>>()

  function chain(user: string, tail: Promise<unknown>): void {
    const settled = tail.then(ignoreOutcome, ignoreOutcome)
    tails.set(user, settled)
    void settled.then(() => {
      if (tails.get(user) === settled) tails.delete(user)
    })
  }

  return {
    run(user, task) {
      const before = tails.get(user)
      const result = before ? before.then(() => task()) : task()
      if (result instanceof Promise) chain(user, result)
      return result
    },
    hold(user, work) {
      const before = tails.get(user)
      chain(user, before ? Promise.all([before, work]) : work)
    },
    get size() {
      return tails.size
    },
  }
}

export type UserLock = (account: string, openId: string, ttlMs: number, forUnsubscribe?: boolean) => Promise<HeldUserLock | null | typeof UNSUBSCRIBING>

/** How often an instance asks again for a user lock another instance holds. */
export const USER_LOCK_POLL_MS = 20

/**
 * The longest pause after asks that failed: each failure in a row doubles the pause from USER_LOCK_POLL_MS
 * (40, 80, ... ms) up to this. A busy lock is asked for every 20 ms, its holder about to let go; a store
 * that failed is likely still down, and an unsubscribe's clean-up waits a whole lock TTL (~35 s): asked
 * every 20 ms, that was 1,700 failed commands (and their errors) for one unfollow.
 */
export const USER_LOCK_FAILED_ASK_MAX_PAUSE_MS = 1000

/** How a wait for a user's lock ended: the last answer had, and the last ask's error when that ask failed. */
export interface UserLockWait {
  answer: HeldUserLock | null | typeof UNSUBSCRIBING
  failure?: { error: unknown }
}

/**
 * Asks for the user's lock, and while another holder has it (null, or UNSUBSCRIBING: the user's unsubscribe)
 * asks again every USER_LOCK_POLL_MS until `deadline` (a performance.now() time); always asks once. A failed
 * ask while waiting is a blip: asked again (thrown at once, one failed command in the wait dropped a message
 * the store was up for: a fleet review), after a pause that doubles with each failure in a row, up to
 * USER_LOCK_FAILED_ASK_MAX_PAUSE_MS, and is never longer than the time left to the deadline.
 * `firstFailureEnds`: a failure of the very first ask ends the wait there (the store is away, not busy: the
 * caller gives up at once rather than poll a store that is down). What to do when the wait ends without the
 * lock is the caller's: a message routes without it (withUserLock), an unsubscribe's clean-up runs without it
 * (engine.ts).
 */
export async function waitForUserLock(
  lock: UserLock,
  account: string,
  openId: string,
  opts: { ttlMs: number; deadline: number; forUnsubscribe?: boolean; firstFailureEnds?: boolean },
): Promise<UserLockWait> {
  let answer: UserLockWait['answer'] = null
  let failure: UserLockWait['failure']
  let pause = USER_LOCK_POLL_MS
  for (let first = true; ; first = false) {
    try {
      answer = await lock(account, openId, opts.ttlMs, opts.forUnsubscribe)
      failure = undefined
      pause = USER_LOCK_POLL_MS
    } catch (error) {
      failure = { error }
      if (first && opts.firstFailureEnds) break
      pause = Math.min(pause * 2, USER_LOCK_FAILED_ASK_MAX_PAUSE_MS)
    }
    if (!failure && answer !== null && answer !== UNSUBSCRIBING) break
    const left = opts.deadline - performance.now()
    if (left <= USER_LOCK_POLL_MS) break
    await new Promise((r) => setTimeout(r, Math.min(pause, left)))
  }
  return { answer, failure }
}

/**
 * Runs `task` holding the user's lock in the shared store: taken at once when free, else asked for again
 * every 20 ms until `deadline` (a performance.now() time). Not had by then (the other instance's message runs
 * long): `task` runs anyway and `onNotHeld` says so; the answer goes out late in any case, and a message is
 * never held longer than WeChat waits. Should this instance die holding it, the lock lapses soon after (the
 * store renews a shorter one while it is held, up to `ttlMs`).
 * `task` gets the session read with the lock, or undefined when it runs without the lock (it reads it then),
 * and the lock's fenced session writes (HeldUserLock.writes) to make its own with, when it holds the lock.
 * Not had by then because the user's unsubscribe holds it (`forUnsubscribe` marks an unsubscribe's own
 * lock), `task` does not run: it rejects with an UnsubscribeRunningError.
 * `thenUnderLock`: work started once `task` has ended (however it ended), still holding the lock, kept alive
 * while it runs (its length is not known beforehand) and released when it ends; `task`'s outcome is answered
 * without waiting for it. Undefined from it: nothing to wait for, the lock is released at once.
 */
export async function withUserLock<T>(
  lock: UserLock,
  account: string,
  openId: string,
  opts: { ttlMs: number; deadline: number; onNotHeld: () => void; forUnsubscribe?: boolean; thenUnderLock?: (writes?: HeldUserLock['writes']) => Promise<unknown> | undefined },
  task: (session: SessionRecord | null | undefined, writes?: HeldUserLock['writes']) => T | Promise<T>,
): Promise<T> {
  // The first ask failing is the store away: thrown, and the message dropped as the caller says. Once the
  // store has answered (the lock busy), a failed ask while waiting is a blip (waitForUserLock), thrown only
  // if the last ask before the deadline failed too.
  const { answer, failure } = await waitForUserLock(lock, account, openId, { ...opts, firstFailureEnds: true })
  if (failure) throw failure.error
  // Still the user's unsubscribe (its clean-up deleting their data): not routed at all (see the error).
  if (answer === UNSUBSCRIBING) throw new UnsubscribeRunningError()
  const held = answer
  if (!held) opts.onNotHeld()
  try {
    return await task(held?.session, held?.writes)
  } finally {
    // A failed release is the store's to retry (redis-sessions.ts); the message has its answer either way.
    const release = () => void held?.release().catch(() => undefined)
    const then = opts.thenUnderLock?.(held?.writes)
    if (then) {
      const stopKeepingAlive = held?.keepAlive()
      const done = () => {
        stopKeepingAlive?.()
        release()
      }
      void then.then(done, done)
    } else release()
  }
}
