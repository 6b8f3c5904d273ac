/**
 * A write fenced by a lock in the shared store, refused because the lock was no longer the writer's: it
 * lapsed while the writer was paused past its TTL (a GC pause, SIGSTOP, a stalled host), and another instance
 * may hold it now and have written newer state, which the write would have overwritten. Nothing was written.
 */
export class LockLostError extends Error {
  readonly code = 'LOCK_LOST'
  constructor(what: string, key: string) {
    super(`${what} refused: the lock ${key} is no longer this instance's (it lapsed, and another instance may hold it)`)
    this.name = 'LockLostError'
  }
}
