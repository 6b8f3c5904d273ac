/**
 * Which messages this process has handled whose push could still be replayed.
 *
 * A push is accepted while its timestamp is inside the replay window (limits.timestampWindowSeconds, 10
 * min); the reply cache replays an answer to WeChat's retries for much less (limits.replyCacheMs, 30 s:
 * retries come within 15 s). Between the two, the exact bytes of a push someone captured (the body too: in
 * safe mode it is signed) were accepted again and run again: a transfer, a check-in, an order (a robustness
 * review). So each message handled is remembered until its push's timestamp leaves the window, when the
 * timestamp check refuses it anyway; a message seen again after its answer left the reply cache is a replay.
 *
 * What is kept is a 53-bit fingerprint of the dedup key and that expiry, not the key: about 60 bytes a
 * message, 36 MB for 1,000 messages a second over 10 minutes. Past `maxEntries` the oldest are forgotten
 * early (said once a window by the caller, through `overflowed`): the guard then covers less than the window,
 * never more memory. Per process: in a fleet, a replay sent to another instance is not seen here.
 */

export interface ReplayMemory {
  /** Whether `key` was remembered and its push's timestamp is still inside the window at `nowSeconds`. */
  seen(key: string, nowSeconds: number): boolean
  /** Remembers `key` until `expiresAtSeconds` (its push's timestamp plus the window). */
  remember(key: string, expiresAtSeconds: number, nowSeconds: number): void
  /** How many entries were forgotten before their expiry since the last call (and resets it). */
  overflowed(): number
  /** Entries held (expired ones not yet swept included). */
  readonly size: number
}

export function createReplayMemory(opts: { maxEntries?: number } = {}): ReplayMemory {
  const maxEntries = opts.maxEntries ?? 2_000_000
  const expiries = new Map<number, number>()
  // In arrival order, which is expiry order give or take the clock skew of pushes: swept from the front.
  let order: number[] = []
  let orderExpiry: number[] = []
  let head = 0
  let forgotten = 0

  function sweep(nowSeconds: number): void {
    while (head < order.length && (orderExpiry[head]! <= nowSeconds || expiries.size > maxEntries)) {
      const fp = order[head]!
      const expiry = orderExpiry[head]!
      // Only the entry this queue slot put there: a later remember of the same key moved its expiry on.
      if (expiries.get(fp) === expiry) {
        if (expiry > nowSeconds) forgotten++
        expiries.delete(fp)
      }
      head++
    }
    // Compact now and then rather than shift() per entry.
    if (head > 4096 && head * 2 > order.length) {
      order = order.slice(head)
      orderExpiry = orderExpiry.slice(head)
      head = 0
    }
  }

  return {
    seen(key, nowSeconds) {
      const expiry = expiries.get(fingerprint(key))
      return expiry !== undefined && expiry > nowSeconds
    },
    remember(key, expiresAtSeconds, nowSeconds) {
      const fp = fingerprint(key)
      expiries.set(fp, expiresAtSeconds)
      order.push(fp)
      orderExpiry.push(expiresAtSeconds)
      sweep(nowSeconds)
    },
    overflowed() {
      const n = forgotten
      forgotten = 0
      return n
    },
    get size() {
      return expiries.size
    },
  }
}

/**
 * cyrb53 (public domain): two 32-bit multiply-xor lanes folded into 53 bits, a safe integer. Two keys share
 * one with odds of about 1 in 9·10^15 a pair: at 600,000 held, one message in 10^10 is taken for a replay.
 */
export function fingerprint(text: string): number {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}
