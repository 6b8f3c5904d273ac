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
 *
 * A message's dedup claim is kept alive the same way (redis-dedup.ts): a claim that lapsed only after a fixed
 * TTL outlived WeChat's retries when its instance died, and the message got no answer at all.
 */
import type { Logger } from '../../log/logger.ts'
import type { RedisConnection } from './connect-redis.ts'
import { EXTEND_CLAIM, EXTEND_LOCK, runScript } from './redis-scripts.ts'

/** The lock is renewed to lapse this many command timeouts after each renewal. */
const WINDOW_COMMAND_TIMEOUTS = 6

/** How long a key kept alive lasts after the last renewal that landed: lapses within this of its holder's death. */
function keepAliveWindowMs(commandTimeoutMs: number): number {
  return WINDOW_COMMAND_TIMEOUTS * commandTimeoutMs
}

/**
 * A key held for `ttlMs` at most (a dedup claim, a user lock) is taken for less, the window, and renewed while
 * held (renewUpTo), so that it lapses soon after its holder dies: the TTL to take it for.
 */
export function takenForMs(commandTimeoutMs: number, ttlMs: number): number {
  return Math.min(ttlMs, keepAliveWindowMs(commandTimeoutMs))
}

const NOTHING_TO_STOP = (): void => undefined

/**
 * Renews a key taken for takenForMs at `takenAt` (a Date.now() time) until the returned stop is called, up to
 * `takenAt + ttlMs`: the first renewal a command timeout on (most holders are done by then), none at all when
 * ttlMs is no longer than the window. See keepLockAlive for `lock`, `onRenewed` and the lines.
 */
export function renewUpTo(
  conn: RedisConnection,
  lock: { key: string; owner: string; lapsesAt: number },
  taken: { at: number; ttlMs: number },
  log: Logger,
  onRenewed: (lapsesAt: number) => void,
  kind?: KeepAliveOptions['kind'],
): () => void {
  if (taken.ttlMs <= keepAliveWindowMs(conn.commandTimeoutMs)) return NOTHING_TO_STOP
  return keepLockAlive(conn, lock, log, onRenewed, { kind, firstAfterMs: conn.commandTimeoutMs, until: taken.at + taken.ttlMs })
}

/** What the lines name, for the two kinds of key kept alive: a user lock, a message's dedup claim. */
const SAID = {
  lock: {
    lapsed: 'lock lapsed while work under it still ran: every renewal failed; another instance may take it meanwhile',
    lost: 'lock lost while work under it still ran: another instance may take it meanwhile',
  },
  claim: {
    lapsed: 'dedup claim lapsed before its message was answered and recorded: every renewal failed; a retry on another instance may run the message again',
    lost: 'dedup claim lost before its message was answered and recorded: a retry on another instance may run the message again',
  },
}

interface KeepAliveOptions {
  /** What is kept (for the lines): default 'lock'. */
  kind?: keyof typeof SAID
  /** The first renewal this long after the start instead of at once (renewUpTo). */
  firstAfterMs?: number
  /** Not renewed past this (a Date.now() time): the key then lapses by this time at the latest. */
  until?: number
}

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
  opts: KeepAliveOptions = {},
): () => void {
  const { commandTimeoutMs } = conn
  const windowMs = keepAliveWindowMs(commandTimeoutMs)
  const said = SAID[opts.kind ?? 'lock']
  const until = opts.until ?? Infinity
  let lapsesAt = lock.lapsesAt
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  async function renew(): Promise<void> {
    if (stopped) return
    if (Date.now() >= lapsesAt) {
      log.warn({ code: 'STORE_UNAVAILABLE', key: lock.key }, said.lapsed)
      return
    }
    // Renewed no further: as last renewed, it lapses by `until` (give or take the renewal's way to Redis).
    if (Date.now() + windowMs > until) return
    try {
      const kept = await runScript(conn.client, opts.kind === 'claim' ? EXTEND_CLAIM : EXTEND_LOCK, [lock.key], [lock.owner, windowMs])
      // A claim whose answer is recorded: nothing left to keep.
      if (kept === 2) return
      if (kept !== 1) {
        // Lapsed (Redis away longer than the window) and maybe taken by another instance: not ours to renew.
        if (!stopped) log.warn({ code: 'STORE_UNAVAILABLE', key: lock.key }, said.lost)
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
  if (opts.firstAfterMs === undefined) void renew()
  else {
    timer = setTimeout(() => void renew(), opts.firstAfterMs)
    timer.unref()
  }
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
