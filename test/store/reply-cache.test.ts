import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { indexHashOf, ReplyCache } from '../../core/store/reply-cache.ts'
import type { ClaimResult, StoredReply } from '../../core/store/store.ts'

const T0 = 1_700_000_000_000
const xml = (body: string): StoredReply => ({ status: 200, contentType: 'application/xml; charset=utf-8', body })

describe('ReplyCache', () => {
  it('claims once, answers pending until completed, then replays the recorded reply', () => {
    const c = new ReplyCache()
    assert.deepEqual(c.claim('a:m:1', 5000, T0), { state: 'claimed' })
    assert.deepEqual(c.claim('a:m:1', 5000, T0 + 1), { state: 'pending' })
    assert.deepEqual(c.peek('a:m:1', T0 + 1), { state: 'pending' })
    c.complete('a:m:1', xml('<xml>1</xml>'), 30_000, T0 + 2)
    assert.deepEqual(c.claim('a:m:1', 5000, T0 + 3), { state: 'done', reply: xml('<xml>1</xml>') })
    assert.deepEqual(c.peek('a:m:1', T0 + 3), { state: 'done', reply: xml('<xml>1</xml>') })
    assert.deepEqual(c.peek('a:m:2', T0 + 3), { state: 'absent' })
    assert.equal(c.size, 1)
  })

  it('gives back every character as it was stored: CJK, emoji, empty body and content type, status', () => {
    const c = new ReplyCache()
    const replies: Array<[string, StoredReply]> = [
      ['用户:m:1', xml('<xml><Content><![CDATA[你好，世界 😀 ]]]]><![CDATA[>]]></Content></xml>')],
      ['a:m:2', { status: 200, contentType: 'text/plain; charset=utf-8', body: 'success' }],
      ['a:m:3', { status: 204, contentType: '', body: '' }],
      ['a:m:4', xml('x'.repeat(3 << 20))], // larger than a chunk: a chunk of its own
      ['a:m:5', xml('\u00e9\u0800\uffff')],
    ]
    for (const [key, reply] of replies) {
      assert.equal(c.claim(key, 5000, T0).state, 'claimed')
      c.complete(key, reply, 30_000, T0)
    }
    for (const [key, reply] of replies) assert.deepEqual(c.claim(key, 5000, T0 + 1), { state: 'done', reply })
  })

  it('lets a pending claim lapse after its TTL and a reply after its window, so the message runs again', () => {
    const c = new ReplyCache()
    c.claim('p', 5000, T0)
    assert.deepEqual(c.claim('p', 5000, T0 + 4999), { state: 'pending' })
    assert.deepEqual(c.claim('p', 5000, T0 + 5000), { state: 'claimed' })
    c.complete('p', xml('r'), 30_000, T0 + 5000)
    assert.equal(c.claim('p', 5000, T0 + 34_999).state, 'done')
    assert.deepEqual(c.peek('p', T0 + 35_000), { state: 'absent' })
    assert.deepEqual(c.claim('p', 5000, T0 + 35_000), { state: 'claimed' })
  })

  it('release gives up a pending claim but keeps a recorded reply', () => {
    const c = new ReplyCache()
    c.claim('k', 5000, T0)
    c.release('k', T0)
    assert.deepEqual(c.peek('k', T0), { state: 'absent' })
    assert.deepEqual(c.claim('k', 5000, T0), { state: 'claimed' })
    c.complete('k', xml('r'), 30_000, T0)
    c.release('k', T0)
    assert.equal(c.peek('k', T0).state, 'done')
  })

  it('records a reply for a key it never claimed, and a second completion replaces the first', () => {
    const c = new ReplyCache()
    c.complete('k', xml('first'), 30_000, T0)
    assert.deepEqual(c.peek('k', T0), { state: 'done', reply: xml('first') })
    c.complete('k', xml('second'), 30_000, T0)
    assert.deepEqual(c.peek('k', T0), { state: 'done', reply: xml('second') })
    assert.equal(c.size, 1)
  })

  it('lists the live replies for saving and loads them back with their expiry', () => {
    const c = new ReplyCache()
    c.complete('old', xml('o'), 1000, T0)
    c.claim('pending', 5000, T0)
    c.complete('new', xml('n'), 30_000, T0)
    const saved = [...c.replies(T0 + 2000)]
    assert.deepEqual(saved, [{ key: 'new', reply: xml('n'), expiresAt: T0 + 30_000 }])
    const d = new ReplyCache()
    for (const s of saved) d.load(s.key, s.reply, s.expiresAt, T0 + 2000)
    d.load('gone', xml('g'), T0 + 1000, T0 + 2000)
    assert.deepEqual(d.claim('new', 5000, T0 + 29_999), { state: 'done', reply: xml('n') })
    assert.equal(d.claim('new', 5000, T0 + 30_000).state, 'claimed')
    assert.deepEqual(d.peek('gone', T0 + 2000), { state: 'absent' })
  })

  it('finds every key after a removal in a run of entries that wraps around the end of the index', () => {
    // 4 records at first: an index of 8 slots. A, B and C all belong in slot 7, so they sit at 7, 0 and 1.
    const homedAt7: string[] = []
    for (let i = 0; homedAt7.length < 3; i++) if ((indexHashOf(`w${i}`) & 7) === 7) homedAt7.push(`w${i}`)
    const [a, b, c] = homedAt7 as [string, string, string]
    const cache = new ReplyCache(4)
    for (const key of homedAt7) cache.claim(key, 5000, T0)
    // Removing A leaves a hole at 7: B moves back from 0 to 7, then C from 1 to 0.
    cache.release(a, T0)
    assert.deepEqual(cache.peek(b, T0), { state: 'pending' })
    assert.deepEqual(cache.peek(c, T0), { state: 'pending' })
    assert.deepEqual(cache.peek(a, T0), { state: 'absent' })
    cache.release(b, T0)
    assert.deepEqual(cache.peek(c, T0), { state: 'pending' })
  })

  it('sweep drops expired entries anywhere, behind a live one at the front too', () => {
    const c = new ReplyCache()
    c.claim('long', 60_000, T0) // a pending claim with a long TTL holds the front
    for (let i = 0; i < 100; i++) c.complete(`k${i}`, xml(String(i)), 1000, T0)
    assert.equal(c.size, 101)
    assert.equal(c.sweep(T0 + 1000), 100)
    assert.equal(c.size, 1)
    assert.equal(c.peek('long', T0 + 1000).state, 'pending')
  })

  it('holds a moving window: at a steady rate, records and arena stay bounded and every answer is its own', () => {
    const c = new ReplyCache()
    const perMs = 20 // 20k messages a second
    const windowMs = 1000
    const keyOf = (i: number) => `acct:m:2470${String(i).padStart(15, '0')}` // a MsgId: 19 digits
    let maxSize = 0
    let maxArena = 0
    for (let i = 0; i < 200_000; i++) {
      const t = T0 + Math.floor(i / perMs)
      const key = keyOf(i)
      assert.equal(c.claim(key, 5000, t).state, 'claimed')
      c.complete(key, xml(`<xml><Content>reply ${i}</Content></xml>`), windowMs, t)
      if (i % 997 === 0) {
        // A retry of a message inside the window gets that message's reply, not a neighbour's.
        const back = Math.max(0, i - 500)
        assert.deepEqual(c.claim(keyOf(back), 5000, t), {
          state: 'done',
          reply: xml(`<xml><Content>reply ${back}</Content></xml>`),
        })
      }
      maxSize = Math.max(maxSize, c.size)
      maxArena = Math.max(maxArena, c.arenaBytes)
    }
    // A window is 20k entries; the front is pruned as claims come in.
    assert.ok(maxSize <= perMs * windowMs + 1, `size reached ${maxSize}`)
    // 20k entries of ~100 bytes (key and reply) is 2 MB: a few chunks and spares, not 200k entries' worth.
    assert.ok(maxArena <= 12 << 20, `arena reached ${maxArena} bytes`)
  })

  // 400 keys: claims, completions and expiries of the same keys interleave. 5000: the records and the index
  // grow several times over. 4 keys in an index of 8 slots: probes wrap around the index's end all the time.
  for (const [keys, initialRecords] of [[400, 1024], [5000, 1024], [3, 2]] as const) it(`agrees with a plain Map model over random claims, completions, releases, peeks and time (${keys} keys, ${initialRecords} records at first)`, () => {
    type Entry = { state: 'pending'; expiresAt: number } | { state: 'done'; reply: StoredReply; expiresAt: number }
    const model = new Map<string, Entry>()
    const live = (key: string, t: number): Entry | undefined => {
      const e = model.get(key)
      if (e && e.expiresAt <= t) {
        model.delete(key)
        return undefined
      }
      return e
    }
    const asClaim = (e: Entry): ClaimResult => (e.state === 'done' ? { state: 'done', reply: e.reply } : { state: 'pending' })
    let seed = 42
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 8) % n
    }
    const c = new ReplyCache(initialRecords)
    let t = T0
    for (let step = 0; step < 60_000; step++) {
      const key = `k${rand(keys)}${rand(3) === 0 ? '字' : ''}`
      const op = rand(10)
      if (op < 4) {
        const e = live(key, t)
        const expected: ClaimResult = e ? asClaim(e) : { state: 'claimed' }
        if (!e) model.set(key, { state: 'pending', expiresAt: t + 50 })
        assert.deepEqual(c.claim(key, 50, t), expected, `step ${step}: claim ${key}`)
      } else if (op < 7) {
        const reply = xml(`${key}@${step}`)
        model.set(key, { state: 'done', reply, expiresAt: t + 200 })
        c.complete(key, reply, 200, t)
      } else if (op < 8) {
        if (live(key, t)?.state === 'pending') model.delete(key)
        c.release(key, t)
      } else if (op < 9) {
        const e = live(key, t)
        assert.deepEqual(c.peek(key, t), e ? asClaim(e) : { state: 'absent' }, `step ${step}: peek ${key}`)
      } else {
        t += rand(20)
      }
      if (step % 5000 === 0) c.sweep(t)
    }
    for (const key of model.keys()) live(key, t)
    c.sweep(t)
    assert.equal(c.size, model.size)
  })
})
