/**
 * Which messages this process has handled whose push could still be replayed.
 *
 * A push is accepted while its timestamp is inside the replay window (limits.timestampWindowSeconds, 10
 * min); the reply cache replays an answer to WeChat's retries for much less (limits.replyCacheMs, 30 s:
 * retries come within 15 s). Between the two, the exact bytes of a push someone captured (the body too: in
 * safe mode it is signed) were accepted again and run again: a transfer, a check-in, an order (a robustness
 * review). So each message handled is remembered until its push's timestamp leaves the window, when the
 * timestamp check refuses it anyway (and a little longer, for a push let in before its body was read: the
 * engine's rememberedSeconds); a message seen again after its answer left the reply cache is a replay.
 *
 * What is kept is a 64-bit fingerprint of the dedup key and that expiry, in typed arrays (an open-addressing
 * table, at most half full): 24 to 48 bytes a message and nothing for the garbage collector, 14 to 29 MB
 * for 1,000 messages a second over 10 minutes. A first version kept a Map of numbers: 5 % of the requests a
 * second under load, in allocation and page faults (BENCHMARKS.md). Past about `maxEntries` live entries (a
 * million: 100 MB at most) a newly handled message is not remembered until older ones expire (counted
 * through `overflowed`, which the caller says): the guard then covers less, never more memory. Per process: in a fleet, a replay sent to another
 * instance is not seen here.
 */

export interface ReplayMemory {
  /** Whether `key` was remembered and its push's timestamp is still inside the window at `nowSeconds`. */
  seen(key: string, nowSeconds: number): boolean
  /** Remembers `key` until `expiresAtSeconds` (its push's timestamp plus the window). */
  remember(key: string, expiresAtSeconds: number, nowSeconds: number): void
  /** How many messages were not remembered for want of room since the last call (and resets it). */
  overflowed(): number
  /** Entries held, expired ones not yet dropped included (they go at the table's next rebuild). */
  readonly size: number
}

const MIN_SLOTS = 1 << 12

export function createReplayMemory(opts: { maxEntries?: number } = {}): ReplayMemory {
  const maxEntries = opts.maxEntries ?? 1_000_000
  let slots = MIN_SLOTS
  let hi = new Uint32Array(slots)
  let lo = new Uint32Array(slots)
  // Seconds since 1970 (fits until 2106); 0 marks a slot never used. An expired entry keeps its slot (a probe
  // passes over it) until a rebuild, and a new entry may take it.
  let expiry = new Uint32Array(slots)
  let used = 0
  let forgotten = 0
  let full = false
  let rebuiltAt = 0

  /** The slot holding (h, l), or -1. */
  function find(h: number, l: number): number {
    const mask = slots - 1
    for (let i = l & mask; ; i = (i + 1) & mask) {
      if (expiry[i] === 0) return -1
      if (lo[i] === l && hi[i] === h) return i
    }
  }

  /** A table of at least four slots a live entry (and MIN_SLOTS), the expired ones left behind. */
  function rebuild(nowSeconds: number): void {
    const [oldHi, oldLo, oldExpiry] = [hi, lo, expiry]
    let live = 0
    for (let i = 0; i < oldExpiry.length; i++) if (oldExpiry[i]! > nowSeconds) live++
    slots = MIN_SLOTS
    while (slots < live * 4) slots *= 2
    hi = new Uint32Array(slots)
    lo = new Uint32Array(slots)
    expiry = new Uint32Array(slots)
    used = 0
    const mask = slots - 1
    for (let j = 0; j < oldExpiry.length; j++) {
      if (oldExpiry[j]! <= nowSeconds) continue
      let i = oldLo[j]! & mask
      while (expiry[i] !== 0) i = (i + 1) & mask
      hi[i] = oldHi[j]!
      lo[i] = oldLo[j]!
      expiry[i] = oldExpiry[j]!
      used++
    }
  }

  return {
    seen(key, nowSeconds) {
      fingerprint(key)
      const i = find(fpHi, fpLo)
      return i >= 0 && expiry[i]! > nowSeconds
    },
    remember(key, expiresAtSeconds, nowSeconds) {
      fingerprint(key)
      const h = fpHi
      const l = fpLo
      const at = find(h, l)
      if (at >= 0) {
        expiry[at] = Math.max(expiry[at]!, expiresAtSeconds)
        return
      }
      // Half full, or full of live entries (tried again once a second, as entries expire): rebuilt without
      // the expired ones; still `maxEntries` live, new messages are not remembered until some expire.
      if ((used + 1) * 2 > slots || (full && nowSeconds > rebuiltAt)) {
        rebuild(nowSeconds)
        rebuiltAt = nowSeconds
        full = used >= maxEntries
      }
      if (full) {
        forgotten++
        return
      }
      const mask = slots - 1
      let i = l & mask
      // The first free or expired slot on the probe: (h, l) is in none further on (find said so).
      while (expiry[i] !== 0 && expiry[i]! > nowSeconds) i = (i + 1) & mask
      if (expiry[i] === 0) used++
      hi[i] = h
      lo[i] = l
      expiry[i] = expiresAtSeconds
    },
    overflowed() {
      const n = forgotten
      forgotten = 0
      return n
    },
    get size() {
      return used
    },
  }
}

/**
 * The last fingerprint's two halves: set by fingerprint(), read at once (one call at a time, no allocation).
 * The engine asks seen() then remember() of one key: the second call finds it here, not hashed again.
 */
let fpHi = 0
let fpLo = 0
let fpOf: string | undefined

/**
 * cyrb53's two 32-bit multiply-xor lanes (public domain), both kept: 64 bits. Two keys share a fingerprint
 * with odds of 1 in 1.8·10^19 a pair: at 600,000 held, one message in 3·10^13 is taken for a replay.
 */
function fingerprint(text: string): void {
  if (text === fpOf) return
  fpOf = text
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  fpHi = h2 >>> 0
  fpLo = h1 >>> 0
}

/** The 64-bit fingerprint of `text` as a hex string (for tests of its spread). */
export function fingerprintOf(text: string): string {
  fingerprint(text)
  return fpHi.toString(16).padStart(8, '0') + fpLo.toString(16).padStart(8, '0')
}
