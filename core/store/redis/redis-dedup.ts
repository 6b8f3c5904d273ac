/**
 * Exactly-once claims in Redis, shared by every instance (protocol.md §5: WeChat retries a slow message
 * up to 3 times, and a load balancer may send each try to a different instance).
 *
 * A claim is `SET key pending:<owner> NX PX window`, atomic on the server, so of any number of
 * instances exactly one gets `claimed`. The owner value is random per claim: `release` deletes only the
 * claim this instance wrote (and never a recorded reply), so a slow instance whose claim lapsed cannot
 * free the claim a retry made elsewhere.
 *
 * A claim is short and renewed while its message runs (lock-keep-alive.ts: it lapses six command timeouts
 * after the last renewal), up to pendingTtl in all. Claimed for pendingTtl at once (the reply budget + 10 s),
 * the claim of an instance that died mid-message outlived WeChat's retries, each answered `success` while
 * it waited: the message got no answer (a fleet review). Now a retry finds the claim gone and runs it
 * (exactly-once.ts). The price: an instance cut off from Redis for longer than the window while its message
 * runs, or while its answer is still to be recorded, can see a retry run that message elsewhere as well.
 *
 * Lost connections. Commands are never queued or resent (see connect-redis.ts), so a reconnect cannot
 * make a claim land twice. What a failure can do is hide the outcome of a command: the caller sees an
 * error although the server ran, or will still run, the command.
 * - claim failed: the key may hold `pending` under our owner value. Later tries see `pending`, never
 *   `claimed`, so the message is not run twice; at worst it is not run (the engine answered `success`).
 *   To shorten that, we settle at once: send a release-if-ours right behind the claim. Redis runs one
 *   connection's commands in order, so if a slow server still runs the claim, it runs the release after
 *   it. If the connection is down, the release is kept and sent when it is back; else the claim lapses
 *   after pendingTtl. A retry whose claim fails too adds its owner value to this release instead of
 *   replacing it: the first claim may be the one on the key (test/store/redis-dedup-settle.test.ts).
 * - complete failed: settled the same way with record-if-ours-or-absent, so later tries replay our reply
 *   instead of running again; a key claimed or answered elsewhere in the meantime is left alone. A retry
 *   of the same message whose claim then fails too (still disconnected) is folded into this settlement
 *   instead of replacing it, else the answer would never be recorded (test/fleet/fleet.test.ts).
 * - release failed: settled like a failed claim.
 * Settlements are sent again when the connection is back, and also every little while as long as it is up:
 * a Redis that refuses writes on a live connection (full with noeviction, a read-only replica during a
 * failover) never reconnects, and a recorded answer left `pending` until its claim lapsed ran the message a
 * second time on a later retry (a Redis review).
 */
import type { Logger } from '../../log/logger.ts'
import { randomBytesFromPool } from '../../verify/random-pool.ts'
import type { ClaimResult, DedupStore, StoredReply } from '../store.ts'
import type { RedisConnection } from './connect-redis.ts'
import { renewUpTo, takenForMs } from './lock-keep-alive.ts'
import type { RedisKeys } from './redis-keys.ts'
import { CLAIM, COMPLETE_IF_OWN, RELEASE, runScript } from './redis-scripts.ts'
import { toPx } from './redis-ttl.ts'

const PENDING = 'pending:'
/** Bounds the bookkeeping if callers never complete or release (a bug, but memory must not grow). */
const MAX_TRACKED = 10_000

/** How soon a refused settlement is sent again while connected; it doubles up to the second bound. */
const SETTLE_RETRY_FIRST_MS = 250
const SETTLE_RETRY_MAX_MS = 5_000
/** A release older than this is moot: the claim it gives up has lapsed (pendingTtl is ~15 s). */
const RELEASE_MOOT_AFTER_MS = 60_000

type Unsettled =
  | { action: 'release'; owners: string[]; since: number }
  | { action: 'complete'; owner: string; payload: string; expiresAt: number; laterOwners?: string[] }

/** A settlement not sent yet: what close() names when it gives up on it. */
export interface PendingSettlement {
  key: string
  action: Unsettled['action']
}

export interface RedisDedup extends DedupStore {
  /** Settle the operations whose outcome a lost connection hid. Called on recovery. */
  settle(): Promise<void>
  /** Every pending settlement sent once more, side by side (the store closing): settled when each has answered. */
  flush(): Promise<void>
  /** The settlements still not sent (still moot-free: a release past RELEASE_MOOT_AFTER_MS is left out). */
  pending(): PendingSettlement[]
  /** Stops the retries (the store is closing). */
  stop(): void
}

function encodeReply(reply: StoredReply): string {
  return JSON.stringify({ status: reply.status, contentType: reply.contentType, body: reply.body })
}

/**
 * A key's value as the claim's state. One no instance wrote (edited by hand: not JSON, a status that is
 * no HTTP status) is read as pending, said: the message was seen, so it is not run, and the try is answered
 * `success`. Replayed, `{"status":"abc"}` was a 500 to every try (Koa's "status code must be a number").
 */
function decodeState(raw: string, key: string, log: Logger): ClaimResult {
  if (raw.startsWith(PENDING)) return { state: 'pending' }
  let parsed: Partial<StoredReply> | null = null
  try {
    parsed = JSON.parse(raw) as Partial<StoredReply> | null
  } catch {
    // said below
  }
  const { status, contentType, body } = parsed ?? {}
  if (typeof parsed !== 'object' || parsed === null || !Number.isInteger(status) || (status as number) < 200 || (status as number) > 599 || typeof contentType !== 'string' || typeof body !== 'string') {
    log.error({ code: 'STORE_UNAVAILABLE', key, reason: `the recorded answer is not one an instance writes: ${raw.slice(0, 60)}` }, 'unreadable recorded answer: the try is answered success, the message not run again')
    return { state: 'pending' }
  }
  return { state: 'done', reply: { status: status as number, contentType, body } }
}

/** Insert, dropping the oldest entry past the bound (Map iterates in insertion order); `dropped` gets it. */
function track<V>(map: Map<string, V>, key: string, value: V, dropped?: (value: V) => void): void {
  map.delete(key)
  map.set(key, value)
  if (map.size > MAX_TRACKED) {
    const [oldest, gone] = map.entries().next().value ?? []
    if (oldest !== undefined) {
      map.delete(oldest)
      if (dropped && gone !== undefined) dropped(gone)
    }
  }
}

/** A claim being kept alive: by whom (its owner value), and how to stop. */
interface Renewal {
  owner: string
  stop: () => void
}

export function createRedisDedup(conn: RedisConnection, keys: RedisKeys, log: Logger): RedisDedup {
  const { client } = conn
  /** Claims this instance holds: key -> owner value. */
  const owned = new Map<string, string>()
  const unsettled = new Map<string, Unsettled>()
  /**
   * Claims renewed while their message runs: from the claim until its answer is recorded (settled, if a
   * lost connection hid the recording: left to lapse meanwhile, a retry elsewhere would run the message
   * again) or it is given up.
   */
  const renewals = new Map<string, Renewal>()

  function keepClaimAlive(key: string, owner: string, lapsesAt: number, taken: { at: number; ttlMs: number }): void {
    const stop = renewUpTo(conn, { key: keys.dedup(key), owner, lapsesAt }, taken, log, () => undefined, 'claim')
    stopRenewing(key)
    track(renewals, key, { owner, stop }, (r) => r.stop())
  }

  /** Stops renewing the claim of `key` (only `owner`'s, when given: an older settlement must not stop a newer claim). */
  function stopRenewing(key: string, owner?: string): void {
    const r = renewals.get(key)
    if (r === undefined || (owner !== undefined && r.owner !== owner)) return
    r.stop()
    renewals.delete(key)
  }

  async function settleOne(key: string, u: Unsettled): Promise<void> {
    // In full text: this may be sent to a server that is not answering, and must act when it does.
    if (u.action === 'release') {
      if (Date.now() - u.since > RELEASE_MOOT_AFTER_MS) return
      await runScript(client, RELEASE, [keys.dedup(key)], u.owners, { fullText: true })
      return
    }
    const left = u.expiresAt - Date.now()
    if (left <= 0) return
    await runScript(client, COMPLETE_IF_OWN, [keys.dedup(key)], [u.payload, toPx(left), u.owner, ...(u.laterOwners ?? [])], { fullText: true })
  }

  /** Sends the settling command; keeps it for the next recovery if that fails too. */
  async function trySettle(key: string, u: Unsettled): Promise<boolean> {
    try {
      await settleOne(key, u)
    } catch (err) {
      // Something newer for this key (a later claim, complete or release) supersedes this one.
      if (!unsettled.has(key)) track(unsettled, key, u)
      log.debug({ key, err: err instanceof Error ? err.message : String(err) }, 'dedup settle deferred')
      retrySoon()
      return false
    }
    if (unsettled.get(key) === u) unsettled.delete(key)
    // The answer is recorded (or moot): the claim it replaced needs no renewal.
    if (u.action === 'complete') stopRenewing(key, u.owner)
    return true
  }

  function settleLater(key: string, u: Unsettled): void {
    owned.delete(key)
    track(unsettled, key, u)
    // Only worth sending while connected: a closed connection rejects it at once anyway.
    if (conn.isReady()) void trySettle(key, u)
  }

  let retry: NodeJS.Timeout | undefined
  let retryDelay = SETTLE_RETRY_FIRST_MS
  let stopped = false
  /** A round of settlements in progress: another would send each one again while Redis stalls. */
  let settling = false
  /** While connected and refused: again soon, then less often. A lost connection settles on recovery. */
  function retrySoon(): void {
    if (retry || stopped || !conn.isReady()) return
    retry = setTimeout(() => {
      retry = undefined
      void settleRound('retry')
    }, retryDelay)
    retry.unref()
    retryDelay = Math.min(retryDelay * 2, SETTLE_RETRY_MAX_MS)
  }

  async function settleRound(why: 'reconnect' | 'retry'): Promise<void> {
    if (settling) return
    settling = true
    const batch = [...unsettled]
    let settled = 0
    try {
      for (const [key, u] of batch) if (await trySettle(key, u)) settled++
    } finally {
      settling = false
    }
    if (unsettled.size === 0) retryDelay = SETTLE_RETRY_FIRST_MS
    // A retry that came due during this round found it running and did nothing: what is left is sent again.
    else retrySoon()
    if (batch.length > 0 && (why === 'reconnect' || settled > 0)) {
      log.info({ settled, deferred: batch.length - settled }, why === 'reconnect' ? 'dedup claims settled after reconnect' : 'dedup claims settled once Redis took writes again')
    }
  }

  return {
    async claim(key, pendingTtlMs) {
      const owner = PENDING + randomBytesFromPool(12).toString('base64url')
      const claimedAt = Date.now()
      const takenMs = takenForMs(conn.commandTimeoutMs, pendingTtlMs)
      let existing: unknown
      try {
        existing = await runScript(client, CLAIM, [keys.dedup(key)], [owner, toPx(takenMs)])
      } catch (err) {
        // A retry that failed to claim must not drop the answer of an earlier run still to be recorded:
        // that answer is what every later try should get. Recording it also covers this claim, if it landed.
        // Nor an earlier claim's release: that claim may be the one on the key (its answer lost), and left
        // there it kept every try `pending` until it lapsed.
        const earlier = unsettled.get(key)
        if (earlier?.action === 'complete') settleLater(key, { ...earlier, laterOwners: [...(earlier.laterOwners ?? []), owner] })
        else settleLater(key, { action: 'release', owners: [...(earlier?.owners ?? []), owner], since: Date.now() })
        throw err
      }
      if (existing === null) {
        track(owned, key, owner)
        unsettled.delete(key)
        keepClaimAlive(key, owner, claimedAt + takenMs, { at: claimedAt, ttlMs: pendingTtlMs })
        return { state: 'claimed' }
      }
      return decodeState(String(existing), key, log)
    },

    async complete(key, reply, ttlMs) {
      const payload = encodeReply(reply)
      try {
        await client.set(keys.dedup(key), payload, 'PX', toPx(ttlMs))
      } catch (err) {
        const owner = owned.get(key)
        if (owner) settleLater(key, { action: 'complete', owner, payload, expiresAt: Date.now() + ttlMs })
        throw err
      }
      owned.delete(key)
      unsettled.delete(key)
      stopRenewing(key)
    },

    async release(key) {
      // Only a claim this instance made and still tracks. An unknown owner (past MAX_TRACKED claims in
      // flight, or never claimed here) sent '' gave up whatever claim was pending, another instance's live
      // one too, and a later retry ran the message a second time. Left alone, our own claim lapses after
      // pendingTtl instead: retries meanwhile are answered `success`, never run twice (a fleet review).
      const owner = owned.get(key)
      if (owner === undefined) {
        log.debug({ key }, 'dedup release of a claim this instance does not track: left to lapse')
        return
      }
      // Given up: should the release not land, the claim lapses within the window instead.
      stopRenewing(key, owner)
      try {
        await runScript(client, RELEASE, [keys.dedup(key)], [owner])
      } catch (err) {
        settleLater(key, { action: 'release', owners: [owner], since: Date.now() })
        throw err
      }
      owned.delete(key)
      unsettled.delete(key)
    },

    async peek(key) {
      const raw = await client.get(keys.dedup(key))
      return raw === null ? { state: 'absent' } : decodeState(raw, key, log)
    },

    settle: () => settleRound('reconnect'),

    async flush() {
      await Promise.all([...unsettled].map(([key, u]) => trySettle(key, u)))
    },

    pending() {
      const out: PendingSettlement[] = []
      const t = Date.now()
      for (const [key, u] of unsettled) {
        // Nothing to lose: the claim a release gave up has lapsed, the answer a complete recorded has expired.
        if (u.action === 'release' ? t - u.since > RELEASE_MOOT_AFTER_MS : u.expiresAt <= t) continue
        out.push({ key, action: u.action })
      }
      return out
    },

    stop() {
      stopped = true
      clearTimeout(retry)
      retry = undefined
      for (const r of renewals.values()) r.stop()
      renewals.clear()
    },
  }
}
