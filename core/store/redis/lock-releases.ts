/**
 * Releasing the store's locks (a user's lock, the access_token's refresh lock) reliably.
 *
 * A release lost to a dropped connection, a timed-out command or a refusing Redis left the lock held until
 * its TTL: a user's lock for the budget plus the plugin timeout (~35 s), every message of that user waiting
 * for it until the reply budget and then running unlocked; the token lock for 30 s, every other instance
 * unable to refresh (a fleet review). The same holds for a lock whose taking lost its answer: it may be on
 * Redis, held by nobody. So a release that fails is sent again every little while (and at once when the
 * connection is back) until it is done or the lock has lapsed by itself; then one line says it was given
 * up. The compare-and-delete (UNLOCK) makes a late or repeated release harmless: it frees only our own lock.
 */
import type { Logger } from '../../log/logger.ts'
import type { RedisConnection } from './connect-redis.ts'
import { runScript, UNLOCK } from './redis-scripts.ts'

/** How soon a lock whose release failed is released again (and again, until done or lapsed). */
const RELEASE_RETRY_MS = 250

/**
 * How many releases are kept to send again. In a long outage where commands time out (so each message's
 * lock may have been taken) the list grows with the message rate times a lock's TTL, and each round sends
 * them one after another; past this, the oldest are left to lapse by themselves (as the dedup's claims
 * are past their own cap), with one line when that starts and one when it ends.
 */
const MAX_PENDING_RELEASES = 10_000

/** Which lock, for the log: what its loss holds up differs. */
export type LockKind = 'user lock' | 'token refresh lock'

export interface HeldLockRef {
  kind: LockKind
  key: string
  owner: string
  /** Date.now() time after which Redis has dropped the lock by itself. */
  lapsesAt: number
}

export interface LockReleases {
  /** Compare-and-delete now; when that fails, kept and sent again until done or lapsed. Rejects as it failed. */
  release(lock: HeldLockRef): Promise<void>
  /**
   * A lock whose taking failed without an answer (it may be on Redis: see mayHaveRun; one refused or never
   * sent is not one, and kept here it was retried for its whole TTL and said to be given up, a line per
   * message while Redis was away): given up at once, in full text right behind the taking on the same
   * connection (a slow server runs it after), then like a failed release.
   */
  giveUp(lock: HeldLockRef): void
  /** Every release still to be sent, once more; the store calls it when the connection is back and at close. */
  retryNow(): Promise<void>
  /** The releases still to be sent whose lock has not lapsed: what close() names when it gives up. */
  pending(): Array<{ kind: LockKind; key: string; lapsesAt: number }>
  /** Stops retrying (the store is closing). */
  stop(): void
}

interface Left extends HeldLockRef {
  attempts: number
  lastError: string
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

export function createLockReleases(conn: RedisConnection, log: Logger, opts: { maxPending?: number } = {}): LockReleases {
  const { client } = conn
  const maxPending = opts.maxPending ?? MAX_PENDING_RELEASES
  const left = new Set<Left>()
  /** Releases left to lapse since the list last had room (0: it has room). */
  let overflowed = 0
  let retry: NodeJS.Timeout | null = null
  let stopped = false
  /**
   * A round of releases in progress: another one would send every UNLOCK again while Redis stalls. Its
   * promise, so that close() waits for the round under way instead of returning at once.
   */
  let releasing: Promise<void> | undefined

  const unlock = async (lock: HeldLockRef, fullText = false): Promise<void> => void (await runScript(client, UNLOCK, [lock.key], [lock.owner], { fullText }))

  /** Lists a release to send again; at the cap the oldest one listed is left to lapse by itself. */
  function keep(lock: Left): void {
    left.add(lock)
    if (left.size <= maxPending) return
    const oldest = left.values().next().value as Left
    left.delete(oldest)
    if (overflowed++ === 0) {
      log.warn(
        { code: 'STORE_UNAVAILABLE', key: oldest.key, max: maxPending },
        `more than ${maxPending} lock releases wait to be sent again: the oldest are left to lapse by themselves (each holds its user or the token refresh up to its TTL)`,
      )
    }
  }

  /** After a round or a release done: once the list has room again, one line counts what was left to lapse meanwhile. */
  function overflowEnded(): void {
    if (overflowed === 0 || left.size >= maxPending) return
    log.warn({ code: 'STORE_UNAVAILABLE', dropped: overflowed, max: maxPending }, `lock releases fit again: ${overflowed} were left to lapse by themselves meanwhile`)
    overflowed = 0
  }

  function failed(lock: Left, e: unknown): void {
    lock.attempts++
    lock.lastError = messageOf(e)
    scheduleRetry()
  }

  function retryNow(): Promise<void> {
    releasing ??= round().finally(() => {
      releasing = undefined
    })
    return releasing
  }

  async function round(): Promise<void> {
    for (const lock of [...left]) {
      if (Date.now() >= lock.lapsesAt) {
        left.delete(lock)
        lapsed(lock)
        continue
      }
      try {
        await unlock(lock)
        left.delete(lock)
      } catch (e) {
        // Still away or refusing: the next round.
        failed(lock, e)
      }
    }
    overflowEnded()
    // A retry that came due during this round found it running and did nothing: what is left is sent again.
    if (left.size > 0) scheduleRetry()
  }

  function lapsed(lock: Left): void {
    const waited = lock.kind === 'user lock' ? "the user's messages on other instances waited for it" : "other instances' token refreshes waited for it"
    log.warn(
      { code: 'STORE_UNAVAILABLE', key: lock.key, attempts: lock.attempts, reason: lock.lastError },
      `${lock.kind} release given up: every try failed until the lock lapsed by itself; ${waited} until then`,
    )
  }

  function scheduleRetry(): void {
    if (retry || stopped) return
    retry = setTimeout(() => {
      retry = null
      void retryNow()
    }, RELEASE_RETRY_MS)
    retry.unref()
  }

  return {
    async release(lock) {
      try {
        await unlock(lock)
      } catch (e) {
        const l: Left = { ...lock, attempts: 0, lastError: '' }
        keep(l)
        failed(l, e)
        throw e
      }
    },
    giveUp(lock) {
      // Listed before it is sent: close() must see it while the first try is still waiting for an answer.
      const l: Left = { ...lock, attempts: 0, lastError: '' }
      keep(l)
      // In full text: a timed-out EVALSHA later answered NOSCRIPT (a restarted Redis) would do nothing.
      unlock(l, true).then(
        () => {
          left.delete(l)
          overflowEnded()
        },
        (e: unknown) => failed(l, e),
      )
    },
    retryNow,
    pending() {
      const t = Date.now()
      return [...left].filter((l) => t < l.lapsesAt).map(({ kind, key, lapsesAt }) => ({ kind, key, lapsesAt }))
    },
    stop() {
      stopped = true
      if (retry) clearTimeout(retry)
      retry = null
    },
  }
}
