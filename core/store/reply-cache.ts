/**
 * The exactly-once claims and reply cache of a store that keeps them in this process (the SQLite store),
 * held off the JavaScript heap.
 *
 * Why not a Map of entries: the cache holds a window of replies (30 s; at 16k messages a second, half a
 * million), and every entry outlives V8's young generation, so each one (its object, its key, its body) was
 * copied out of it by the scavenger and then marked again and again by every full GC, and each lookup missed
 * the CPU cache in a table of half a million slots. BENCHMARKS.md has the A/B. Here a message costs no heap
 * object that lives: its fields sit in typed arrays indexed by a record number, its key and reply bytes in
 * 1 MiB arena chunks outside the heap, and the index is an open-addressing table of record numbers.
 *
 * - Records are found by two 32-bit hashes of the key; a hash match is confirmed by comparing the key's
 *   bytes, so two keys never share an entry.
 * - Records are expired in claim order (a FIFO of record numbers): claims arrive in time order and every
 *   reply is kept for the same window, so the front is (nearly) the oldest. A record released or found
 *   expired out of turn is removed from the index at once; its number returns to the free list when the
 *   FIFO reaches it, so the FIFO never names a record reused meanwhile.
 * - A chunk of the arena counts its live byte runs and is recycled when the count falls to zero.
 * - A body goes in as UTF-8 and comes out as the same string. The reply XML holds no lone surrogates (the
 *   serializer removes XML-invalid characters), and the answer is sent as UTF-8 either way, so the bytes on
 *   the wire are the same.
 */
import type { ClaimResult, StoredReply } from './store.ts'

const EMPTY = 0
const PENDING = 1
const DONE = 2
/** Out of the index (released, or expired out of turn), waiting for the FIFO to return its number. */
const DEAD = 3

const CHUNK_BYTES = 1 << 20
/** Spare chunks kept for reuse instead of being left to the GC: the cache's turnover at a steady rate. */
const SPARE_CHUNKS = 4
const INITIAL_RECORDS = 1024

export interface CachedReply {
  key: string
  reply: StoredReply
  expiresAt: number
}

export class ReplyCache {
  // --- records: one per claim, fields by record number ---
  private capacity: number
  private hashA = new Int32Array(0)
  private hashB = new Int32Array(0)
  private state = new Uint8Array(0)
  private expiresAt = new Float64Array(0)
  private status = new Uint16Array(0)
  /** Where the key's bytes are: chunk, offset, length. */
  private keyChunk = new Int32Array(0)
  private keyAt = new Int32Array(0)
  private keyLen = new Int32Array(0)
  /** Where the reply's content type and body are, one run: chunk, offset, the two lengths. */
  private replyChunk = new Int32Array(0)
  private replyAt = new Int32Array(0)
  private typeLen = new Int32Array(0)
  private bodyLen = new Int32Array(0)
  private free: number[] = []
  private nextUnused = 0
  private live = 0

  // --- FIFO of record numbers in claim order: a ring ---
  private fifo = new Int32Array(0)
  private fifoHead = 0
  private fifoSize = 0

  // --- index: open addressing, linear probing, record number + 1 (0 = empty) ---
  private table = new Int32Array(0)
  private mask: number

  // --- arena ---
  private chunks: (Buffer | null)[] = []
  private chunkRuns: number[] = []
  private spare: Buffer[] = []
  private current = -1
  private writeAt = 0
  private scratch = Buffer.allocUnsafeSlow(256)

  /** `initialRecords` (a power of two) is for tests: a small index wraps around its end often. */
  constructor(initialRecords = INITIAL_RECORDS) {
    if (initialRecords < 1 || (initialRecords & (initialRecords - 1)) !== 0) throw new RangeError(`initialRecords must be a power of two, not ${initialRecords}`)
    this.capacity = 0
    this.resize(initialRecords)
    this.table = new Int32Array(initialRecords * 2)
    this.mask = initialRecords * 2 - 1
  }

  /** Entries in the index: pending claims and replies, expired ones not yet dropped included. */
  get size(): number {
    return this.live
  }

  /** Bytes held outside the heap for keys and replies (whole chunks, spares included). */
  get arenaBytes(): number {
    let n = 0
    for (const c of this.chunks) if (c) n += c.length
    for (const c of this.spare) n += c.length
    return n
  }

  /** Claims `key` for `pendingTtlMs`, or says what it is already. */
  claim(key: string, pendingTtlMs: number, now: number): ClaimResult {
    this.dropExpiredFront(now)
    const r = this.find(key, now)
    if (r >= 0) return this.claimStateOf(r)
    this.insert(key, PENDING, now + pendingTtlMs)
    return { state: 'claimed' }
  }

  /** Records the answer for `key`, kept until `now + ttlMs`; claimed here or not (a store across the network records it all the same). */
  complete(key: string, reply: StoredReply, ttlMs: number, now: number): void {
    this.put(key, reply, now + ttlMs, now)
  }

  /** A reply saved by an earlier process, with the expiry it had. */
  load(key: string, reply: StoredReply, expiresAt: number, now: number): void {
    if (expiresAt > now) this.put(key, reply, expiresAt, now)
  }

  /** Gives up a pending claim, so a retry runs again. A recorded reply stays. */
  release(key: string, now: number): void {
    const r = this.find(key, now)
    if (r >= 0 && this.state[r] === PENDING) this.kill(r)
  }

  peek(key: string, now: number): ClaimResult | { state: 'absent' } {
    const r = this.find(key, now)
    return r < 0 ? { state: 'absent' } : this.claimStateOf(r)
  }

  /** Drops every expired entry, not only those at the front; returns how many. */
  sweep(now: number): number {
    let n = 0
    for (let r = 0; r < this.nextUnused; r++) {
      if ((this.state[r] === PENDING || this.state[r] === DONE) && this.expiresAt[r]! <= now) {
        this.kill(r)
        n++
      }
    }
    this.dropExpiredFront(now)
    return n
  }

  /** The recorded replies still inside their window, oldest first (to save at close). */
  *replies(now: number): Generator<CachedReply> {
    for (let i = 0; i < this.fifoSize; i++) {
      const r = this.fifo[(this.fifoHead + i) % this.capacity]!
      if (this.state[r] === DONE && this.expiresAt[r]! > now) {
        yield { key: this.keyOf(r), reply: this.replyOf(r), expiresAt: this.expiresAt[r]! }
      }
    }
  }

  // --- records ----------------------------------------------------------------------------------

  private claimStateOf(r: number): ClaimResult {
    return this.state[r] === DONE ? { state: 'done', reply: this.replyOf(r) } : { state: 'pending' }
  }

  private put(key: string, reply: StoredReply, expiresAt: number, now: number): void {
    let r = this.find(key, now)
    if (r < 0) r = this.insert(key, DONE, expiresAt)
    else {
      this.releaseReply(r)
      this.state[r] = DONE
      this.expiresAt[r] = expiresAt
    }
    this.status[r] = reply.status
    // Content type and body in one run: worst case 3 bytes a UTF-16 unit, trimmed to what was written.
    const chunk = this.reserve((reply.contentType.length + reply.body.length) * 3)
    const buf = this.chunks[chunk]!
    const at = this.writeAt
    const t = buf.write(reply.contentType, at)
    const b = buf.write(reply.body, at + t)
    this.commit(chunk, t + b)
    this.replyChunk[r] = chunk
    this.replyAt[r] = at
    this.typeLen[r] = t
    this.bodyLen[r] = b
  }

  /** A new record for `key`, which find() has just missed: its hashes are still in foundHashA/foundHashB. */
  private insert(key: string, state: number, expiresAt: number): number {
    if (this.free.length === 0 && this.nextUnused === this.capacity) this.resize(this.capacity * 2)
    const r = this.free.length > 0 ? this.free.pop()! : this.nextUnused++
    const chunk = this.reserve(key.length * 3)
    const n = this.chunks[chunk]!.write(key, this.writeAt)
    this.keyChunk[r] = chunk
    this.keyAt[r] = this.writeAt
    this.keyLen[r] = n
    this.commit(chunk, n)
    this.hashA[r] = foundHashA
    this.hashB[r] = foundHashB
    this.state[r] = state
    this.expiresAt[r] = expiresAt
    this.replyChunk[r] = -1
    this.fifo[(this.fifoHead + this.fifoSize) % this.capacity] = r
    this.fifoSize++
    if (++this.live * 2 > this.table.length) this.rehash(this.table.length * 2)
    else this.index(r)
    return r
  }

  /** Out of the index and its bytes let go; its number waits for the FIFO. */
  private kill(r: number): void {
    this.unindex(r)
    this.state[r] = DEAD
    this.live--
    this.releaseRun(this.keyChunk[r]!)
    this.releaseReply(r)
  }

  private releaseReply(r: number): void {
    if (this.replyChunk[r]! >= 0) this.releaseRun(this.replyChunk[r]!)
    this.replyChunk[r] = -1
  }

  /**
   * Front records that are expired (or dead) go back to the free list. A live record at the front stops
   * it: one claimed long ago and completed late holds the records behind it at most one window.
   */
  private dropExpiredFront(now: number): void {
    while (this.fifoSize > 0) {
      const r = this.fifo[this.fifoHead]!
      const s = this.state[r]
      if (s === PENDING || s === DONE) {
        if (this.expiresAt[r]! > now) return
        this.kill(r)
      }
      this.state[r] = EMPTY
      this.free.push(r)
      this.fifoHead = (this.fifoHead + 1) % this.capacity
      this.fifoSize--
    }
  }

  /** Every record array at `capacity`, contents kept; the FIFO ring unrolled from its head. */
  private resize(capacity: number): void {
    const old = this.capacity
    // The same kind of array, larger, its contents copied.
    const grown = <T extends Int32Array | Uint8Array | Uint16Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (length: number) => T)(capacity)
      b.set(a)
      return b
    }
    this.hashA = grown(this.hashA)
    this.hashB = grown(this.hashB)
    this.state = grown(this.state)
    this.expiresAt = grown(this.expiresAt)
    this.status = grown(this.status)
    this.keyChunk = grown(this.keyChunk)
    this.keyAt = grown(this.keyAt)
    this.keyLen = grown(this.keyLen)
    this.replyChunk = grown(this.replyChunk)
    this.replyAt = grown(this.replyAt)
    this.typeLen = grown(this.typeLen)
    this.bodyLen = grown(this.bodyLen)
    const fifo = new Int32Array(capacity)
    for (let i = 0; i < this.fifoSize; i++) fifo[i] = this.fifo[(this.fifoHead + i) % old]!
    this.fifo = fifo
    this.fifoHead = 0
    this.capacity = capacity
  }

  // --- index ------------------------------------------------------------------------------------

  /**
   * The live record for `key`, or -1. One found expired is dropped (a retry after the window runs again).
   * Leaves the key's hashes in foundHashA/foundHashB for insert(), which always follows a miss.
   */
  private find(key: string, now: number): number {
    hashKey(key)
    const a = foundHashA
    const b = foundHashB
    const { table, mask } = this
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      const entry = table[slot]!
      if (entry === 0) return -1
      const r = entry - 1
      if (this.hashA[r] === a && this.hashB[r] === b && this.keyIs(r, key)) {
        if (this.expiresAt[r]! <= now) {
          this.kill(r)
          return -1
        }
        return r
      }
    }
  }

  private index(r: number): void {
    const { table, mask } = this
    let slot = this.hashA[r]! & mask
    while (table[slot] !== 0) slot = (slot + 1) & mask
    table[slot] = r + 1
  }

  /** Removes `r` and shifts back the entries after it that probed past it (no tombstones to pile up). */
  private unindex(r: number): void {
    const { table, mask } = this
    let hole = this.hashA[r]! & mask
    while (table[hole] !== r + 1) hole = (hole + 1) & mask
    for (let slot = (hole + 1) & mask; table[slot] !== 0; slot = (slot + 1) & mask) {
      const home = this.hashA[table[slot]! - 1]! & mask
      // The entry may move into the hole when its home is not inside (hole, slot], cyclically.
      if ((slot > hole && (home <= hole || home > slot)) || (slot < hole && home <= hole && home > slot)) {
        table[hole] = table[slot]!
        hole = slot
      }
    }
    table[hole] = 0
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size)
    this.mask = size - 1
    for (let r = 0; r < this.nextUnused; r++) if (this.state[r] === PENDING || this.state[r] === DONE) this.index(r)
  }

  private keyIs(r: number, key: string): boolean {
    if (this.scratch.length < key.length * 3) this.scratch = Buffer.allocUnsafeSlow(key.length * 3)
    const n = this.scratch.write(key, 0)
    if (n !== this.keyLen[r]) return false
    const at = this.keyAt[r]!
    return this.chunks[this.keyChunk[r]!]!.compare(this.scratch, 0, n, at, at + n) === 0
  }

  private keyOf(r: number): string {
    const at = this.keyAt[r]!
    return this.chunks[this.keyChunk[r]!]!.toString('utf8', at, at + this.keyLen[r]!)
  }

  private replyOf(r: number): StoredReply {
    const buf = this.chunks[this.replyChunk[r]!]!
    const at = this.replyAt[r]!
    const t = this.typeLen[r]!
    return { status: this.status[r]!, contentType: buf.toString('utf8', at, at + t), body: buf.toString('utf8', at + t, at + t + this.bodyLen[r]!) }
  }

  // --- arena ------------------------------------------------------------------------------------

  /** A chunk with `bytes` free at `writeAt`: the current one, a spare, or a new one (its own, if larger than a chunk). */
  private reserve(bytes: number): number {
    if (this.current >= 0 && this.writeAt + bytes <= this.chunks[this.current]!.length) return this.current
    const previous = this.current
    const buf = bytes <= CHUNK_BYTES ? (this.spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES)) : Buffer.allocUnsafeSlow(bytes)
    let i = this.chunks.indexOf(null)
    if (i < 0) i = this.chunks.push(null) - 1
    this.chunks[i] = buf
    this.chunkRuns[i] = 1 // the current chunk holds a run for itself until it is replaced
    this.current = i
    this.writeAt = 0
    if (previous >= 0) this.releaseRun(previous)
    return i
  }

  private commit(chunk: number, bytes: number): void {
    this.chunkRuns[chunk]!++
    this.writeAt += bytes
  }

  private releaseRun(chunk: number): void {
    if (--this.chunkRuns[chunk]! > 0) return
    const buf = this.chunks[chunk]!
    this.chunks[chunk] = null
    if (buf.length === CHUNK_BYTES && this.spare.length < SPARE_CHUNKS) this.spare.push(buf)
  }
}

// Two independent 32-bit hashes of the UTF-16 units in one pass (FNV-1a and a multiply-xorshift), each
// finished with murmur3's fmix32: the index uses A's low bits, and A and B together leave a false match to
// the byte comparison about once in 2^64 lookups. Results in module variables: no object per call.
let foundHashA = 0
let foundHashB = 0
function hashKey(key: string): void {
  let a = 0x811c9dc5
  let b = key.length
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b + c, 0x5bd1e995) ^ (b >>> 15)
  }
  foundHashA = fmix32(a)
  foundHashB = fmix32(b)
}

/** The hash whose low bits place `key` in the index: exported for tests that need keys sharing a slot. */
export function indexHashOf(key: string): number {
  hashKey(key)
  return foundHashA
}

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) | 0
}
