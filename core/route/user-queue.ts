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
 * process): such a message cannot interleave with anything, and costs one Map lookup. Per process: a fleet's
 * instances do not share the queue (docs/scaling.md).
 */
export interface UserQueue {
  /** Runs `task` at once when nothing of this user is being routed, else after it (then always a promise). */
  run<T>(user: string, task: () => T | Promise<T>): T | Promise<T>
  /** The user's next message also waits for `work` (the clean-up after an unsubscribe). */
  hold(user: string, work: Promise<unknown>): void
  /** Users with routing in progress (for tests and metrics). */
  readonly size: number
}

const settle = (): undefined => undefined

export function createUserQueue(): UserQueue {
  const tails = new Map<string, Promise<unknown>>()

  function chain(user: string, tail: Promise<unknown>): void {
    const settled = tail.then(settle, settle)
    tails.set(user, settled)
    void settled.then(() => {
      if (tails.get(user) === settled) tails.delete(user)
    })
  }

  return {
    run(user, task) {
      const before = tails.get(user)
      const result = before ? before.then(task) : task()
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
