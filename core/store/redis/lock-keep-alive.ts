/**
 * Keeping a held lock from lapsing while work of no known length runs under it (an unsubscribe's clean-up:
 * a session delete, then a SCAN over the user's plugin data, as long as it has keys). A fixed extension
 * guessed beforehand let a slow clean-up outlive the lock, while the user's next message on another
 * instance took it and read the session being deleted, and held a fast one's lock for nothing after a crash.
 *
 * Renewed one command after another: each renewal is sent a command timeout after the previous one settled,
 * and may take two to land (ioredis sends one pipeline at a time: connect-redis.ts), so a renewal lands at
 * most five command timeouts after the previous one did; the window is six. Should this instance die, the
 * lock lapses within that window.
 */
import type { Logger } from '../../log/logger.ts'
import type { RedisConnection } from './connect-redis.ts'
import { EXTEND_LOCK, runScript } from './redis-scripts.ts'

/** The lock is renewed to lapse this many command timeouts after each renewal. */
const WINDOW_COMMAND_TIMEOUTS = 6

/**
 * Renews `key` (held by `owner`, lapsing at `lapsesAt`, a Date.now() time) until the returned stop is called;
 * `onRenewed` gets each new lapse time. Stops by itself, with a line, when the lock turns out not to be ours
 * any more, or has lapsed while every renewal failed (Redis away): renewing a lock that is gone is pointless,
 * and the loop would otherwise go on for as long as the work, a closed store's too.
 */
export function keepLockAlive(
  conn: RedisConnection,
  lock: { key: string; owner: string; lapsesAt: number },
  log: Logger,
  onRenewed: (lapsesAt: number) => void,
): () => void {
  const { commandTimeoutMs } = conn
  const windowMs = WINDOW_COMMAND_TIMEOUTS * commandTimeoutMs
  let lapsesAt = lock.lapsesAt
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  async function renew(): Promise<void> {
    if (stopped) return
    if (Date.now() >= lapsesAt) {
      log.warn({ code: 'STORE_UNAVAILABLE', key: lock.key }, 'lock lapsed while work under it still ran: every renewal failed; another instance may take it meanwhile')
      return
    }
    try {
      const kept = await runScript(conn.client, EXTEND_LOCK, [lock.key], [lock.owner, windowMs])
      if (kept !== 1) {
        // Lapsed (Redis away longer than the window) and maybe taken by another instance: not ours to renew.
        if (!stopped) log.warn({ code: 'STORE_UNAVAILABLE', key: lock.key }, 'lock lost while work under it still ran: another instance may take it meanwhile')
        return
      }
      // Counted from the answer: the latest the renewal can have landed.
      lapsesAt = Date.now() + windowMs
      onRenewed(lapsesAt)
    } catch (e) {
      // A blip: the next renewal comes before the lock lapses, if Redis is back by then.
      log.debug({ key: lock.key, err: e instanceof Error ? e.message : String(e) }, 'lock renewal failed; tried again')
    }
    if (stopped) return
    timer = setTimeout(() => void renew(), commandTimeoutMs)
    timer.unref()
  }
  void renew()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
