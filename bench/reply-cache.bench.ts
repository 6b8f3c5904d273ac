/**
 * The SQLite store's reply cache at a steady rate: core/store/reply-cache.ts (records in typed arrays, bytes
 * off the heap) against the design it replaced (a Map of one entry object a message, expired from the
 * front through a FIFO of keys), same run, each round in a fresh process so neither inherits the other's heap.
 *
 * Each message does what the engine does to the cache: a fresh key (a 19-digit MsgId), claim, a fresh reply
 * XML (~330 bytes), complete; plus the short-lived garbage of a request (GARBAGE_BYTES in small objects and
 * strings), which is what sets the young generation's pace and so how often the cache's survivors are copied.
 * The simulated clock runs at RATE messages a second and the window is 30 s, so the cache is first filled to
 * its steady size (RATE × 30) and then measured for MEASURED messages.
 *
 *   npx tsx bench/reply-cache.bench.ts [--rate 16000] [--measured 1000000] [--rounds 3]
 */
import { execFileSync } from 'node:child_process'
import { PerformanceObserver } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { ReplyCache } from '../core/store/reply-cache.ts'
import type { ClaimResult, StoredReply } from '../core/store/store.ts'
import { median } from './support/median.ts'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '16000' },
    measured: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    child: { type: 'string' },
  },
})
const RATE = Number(values.rate)
const MEASURED = Number(values.measured)
const WINDOW_MS = 30_000
const PENDING_MS = 5_000
const GARBAGE_BYTES = 4096
const T0 = 1_700_000_000_000

/** The design replaced (stop 16): kept here as the baseline. */
class MapReplyCache {
  private entries = new Map<string, { state: 'pending' | 'done'; expiresAt: number; status: number; contentType: string; body: string }>()
  private order: string[] = []
  private head = 0
  private sincePrune = 0
  claim(key: string, pendingTtlMs: number, now: number): ClaimResult {
    const seen = this.entries.get(key)
    if (seen && seen.expiresAt > now) return seen.state === 'done' ? { state: 'done', reply: { status: seen.status, contentType: seen.contentType, body: seen.body } } : { state: 'pending' }
    this.entries.set(key, { state: 'pending', expiresAt: now + pendingTtlMs, status: 0, contentType: '', body: '' })
    this.order.push(key)
    if (++this.sincePrune >= 256) {
      this.sincePrune = 0
      for (; this.head < this.order.length; this.head++) {
        const e = this.entries.get(this.order[this.head]!)
        if (e !== undefined) {
          if (e.expiresAt > now) break
          this.entries.delete(this.order[this.head]!)
        }
        this.order[this.head] = ''
      }
      if (this.head >= 1024 && this.head * 2 >= this.order.length) {
        this.order = this.order.slice(this.head)
        this.head = 0
      }
    }
    return { state: 'claimed' }
  }
  complete(key: string, reply: StoredReply, ttlMs: number, now: number): void {
    const e = this.entries.get(key)
    if (e === undefined) return
    e.state = 'done'
    e.expiresAt = now + ttlMs
    e.status = reply.status
    e.contentType = reply.contentType
    e.body = reply.body
  }
  get size(): number {
    return this.entries.size
  }
}

type Impl = 'map' | 'offheap'

if (values.child) runChild(values.child as Impl)
else runParent()

function runParent(): void {
  const rounds = Number(values.rounds)
  const results: Record<Impl, number[]> = { map: [], offheap: [] }
  console.log(`reply cache, ${RATE} messages/s simulated, ${WINDOW_MS / 1000} s window (${RATE * WINDOW_MS / 1000} entries), ${MEASURED} measured, ${GARBAGE_BYTES} B of request garbage each`)
  for (let round = 1; round <= rounds; round++) {
    const line: string[] = []
    for (const impl of ['map', 'offheap'] as const) {
      const out = execFileSync(process.execPath, [...process.execArgv, import.meta.filename, '--child', impl, '--rate', String(RATE), '--measured', String(MEASURED)], { encoding: 'utf8' })
      const r = JSON.parse(out) as { nsPerMessage: number; gcMs: number; heapMB: number; externalMB: number }
      results[impl].push(r.nsPerMessage)
      line.push(`${impl} ${r.nsPerMessage.toFixed(0)} ns/msg (GC ${r.gcMs.toFixed(0)} ms, heap ${r.heapMB.toFixed(0)} MB, external ${r.externalMB.toFixed(0)} MB)`)
    }
    console.log(`round ${round}: ${line.join('  ')}  offheap/map ${(results.offheap[round - 1]! / results.map[round - 1]!).toFixed(2)}`)
  }
  console.log(`median: map ${median(results.map).toFixed(0)} ns, offheap ${median(results.offheap).toFixed(0)} ns, time offheap/map ${(median(results.offheap) / median(results.map)).toFixed(2)}`)
}

function runChild(impl: Impl): void {
  const cache = impl === 'map' ? new MapReplyCache() : new ReplyCache()
  // GC entries arrive after the synchronous loop ends: they are kept and counted by their start time.
  const gcs: Array<{ startTime: number; duration: number }> = []
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ startTime: e.startTime, duration: e.duration })
  })
  obs.observe({ entryTypes: ['gc'] })
  let sink = 0
  let seq = 0
  const message = (): void => {
    const i = seq++
    const now = T0 + Math.floor((i * 1000) / RATE)
    const key = `acct:m:2470${String(i).padStart(15, '0')}`
    if (cache.claim(key, PENDING_MS, now).state !== 'claimed') throw new Error(`${key} claimed twice`)
    const body = `<xml><ToUserName><![CDATA[oUser${i % 5000}]]></ToUserName><FromUserName><![CDATA[gh_0123456789ab]]></FromUserName><CreateTime>${Math.floor(now / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[reply to message ${i}: 你好]]></Content></xml>`
    cache.complete(key, { status: 200, contentType: 'application/xml; charset=utf-8', body }, WINDOW_MS, now)
    sink += garbage(i)
  }
  const fill = (RATE * WINDOW_MS) / 1000
  for (let i = 0; i < fill; i++) message()
  const from = performance.now()
  const started = process.hrtime.bigint()
  for (let i = 0; i < MEASURED; i++) message()
  const ns = Number(process.hrtime.bigint() - started)
  const to = performance.now()
  const mem = process.memoryUsage()
  setTimeout(() => {
    obs.disconnect()
    const gcMs = gcs.filter((g) => g.startTime >= from && g.startTime <= to).reduce((a, g) => a + g.duration, 0)
    // `external` includes the ArrayBuffers (typed arrays, Buffers).
    process.stdout.write(JSON.stringify({ nsPerMessage: ns / MEASURED, gcMs, heapMB: mem.heapUsed / 2 ** 20, externalMB: mem.external / 2 ** 20, size: cache.size, sink: sink & 1 }))
  }, 100)
}

/** A request's worth of short-lived objects and strings, dead before the next message. */
function garbage(i: number): number {
  let n = 0
  for (let bytes = 0; bytes < GARBAGE_BYTES; bytes += 128) {
    const o = { a: i, b: `field ${i} ${bytes}`, c: [bytes, i, bytes + i] }
    n += o.b.length + o.c.length
  }
  return n
}
