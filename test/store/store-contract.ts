/**
 * The one suite every Store backend passes (memory, sqlite, redis). A backend test file calls
 * `runStoreContract('sqlite', make)`.
 *
 * `make` must return a store that sees none of the data written through stores made earlier (a fresh
 * file, a fresh key prefix or database). Tests also use unique accounts/keys so a shared backend is safe.
 *
 * Time: by default the suite drives the injected clock (`now`) and jumps it past a TTL. Backends whose
 * TTLs run on another clock (Redis expires keys on the server clock) pass `{ realTime: true }`: the clock
 * is then Date.now, TTLs are short real ones, and expiry is awaited by polling, never by a fixed sleep.
 *
 * Behaviour fixed here (beyond store.ts):
 * - sessions/kv/tokens/dedup return copies; an entry whose expiry time has been reached is gone.
 * - dedup.release only gives up a *pending* claim; a recorded reply stays for replay.
 * - kv.deletePrefix matches by plain string prefix (no pattern characters) and counts live keys only.
 * - tokens.get returns null for an expired token; a lock's release never frees a later holder's lock.
 * - log.query: newest first (`at` descending, ties newest-appended first), `since` inclusive, `until` not, default
 *   limit 100; optional fields absent on append stay absent. Entries appear at the latest after flush().
 * - log.hits counts every appended entry with a `rule`, per (account, rule, keyword|null), most hits
 *   first; prune does not reduce hit counts.
 * - log.followers counts each user once, under the scene of their latest follow (`qrscene_` cut, '' for
 *   none), selected by its time; users seen only unfollowing under scene null, by the unfollow's time. A
 *   message key's follow (or unfollow) applies once, however many entries it has. Prune (and foldFollowers)
 *   fold the users who unfollowed before the cut into anonymous counts per UTC day: the counts stay the
 *   same; `since` takes a folded day whole when it is the day of `since` or later.
 * - outbox ids increase; list is in id order.
 * - close() twice is safe; healthy() resolves false after close.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { NotANumberError, SumOutOfRangeError, type HeldTokenLock, type MessageLogEntry, type Store, type StoredReply } from '../../core/store/store.ts'

export interface StoreContractOptions {
  realTime?: boolean
  /**
   * Whether the backend answers session lookups and dedup claims synchronously too (`getSync`, `claimSync`,
   * `completeSync`): stores in this process do (memory, SQLite), a store across the network (Redis) does not.
   * Default true.
   */
  synchronous?: boolean
}

interface Clock {
  now: () => number
  /** A TTL short enough to wait out. */
  short: number
  /** A TTL that never lapses during a test. */
  long: number
  /** Resolve once `check` holds after the short TTL has passed (jump or poll). */
  expire(check: () => Promise<boolean>): Promise<void>
  /** Move to just before a short TTL lapses (fake clock only; real time stays put). */
  almost(): void
}

const FAKE_EPOCH = 1_700_000_000_000
const DAY = 86_400_000
const REAL_SHORT_TTL_MS = 100
const REAL_POLL_MS = 5
const REAL_EXPIRY_DEADLINE_MS = 3000

function createClock(realTime: boolean): Clock {
  if (realTime) {
    return {
      now: Date.now,
      short: REAL_SHORT_TTL_MS,
      long: 600_000,
      async expire(check) {
        const deadline = Date.now() + REAL_EXPIRY_DEADLINE_MS
        while (!(await check())) {
          if (Date.now() > deadline) assert.fail('entry did not expire in time')
          await new Promise((r) => setTimeout(r, REAL_POLL_MS))
        }
      },
      almost() {},
    }
  }
  let t = FAKE_EPOCH
  const short = 1000
  let sinceStart = 0
  return {
    now: () => t,
    short,
    long: 86_400_000,
    async expire(check) {
      t += short - sinceStart
      sinceStart = 0
      assert.equal(await check(), true, 'entry should be gone once its TTL passed')
    },
    almost() {
      t += short - 1
      sinceStart = short - 1
    },
  }
}

function uid(): string {
  return randomUUID().slice(0, 8)
}

function logEntry(over: Partial<MessageLogEntry> & Pick<MessageLogEntry, 'account' | 'at'>): MessageLogEntry {
  return {
    openId: 'o-1',
    kind: 'text',
    msgKey: `m-${over.at}`,
    handledBy: 'rule',
    latencyMs: 3,
    outcome: 'replied',
    ...over,
  }
}

export function runStoreContract(
  name: string,
  make: (opts: { now: () => number }) => Promise<Store>,
  opts: StoreContractOptions = {},
): void {
  const realTime = opts.realTime === true
  const synchronous = opts.synchronous !== false

  async function withStore(fn: (store: Store, clock: Clock) => Promise<void>): Promise<void> {
    const clock = createClock(realTime)
    const store = await make({ now: clock.now })
    try {
      await fn(store, clock)
    } finally {
      await store.close()
    }
  }

  describe(`store contract: ${name}`, () => {
    describe('sessions', () => {
      it('get/put/overwrite/delete', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          assert.equal(await s.sessions.get(acct, 'o1'), null)
          const rec = { account: acct, openId: 'o1', plugin: 'quiz', state: { step: 1, seen: ['a', '中文'] }, expiresAt: c.now() + c.long }
          await s.sessions.put(rec)
          assert.deepEqual(await s.sessions.get(acct, 'o1'), rec)
          const rec2 = { ...rec, plugin: 'weather', state: null }
          await s.sessions.put(rec2)
          assert.deepEqual(await s.sessions.get(acct, 'o1'), rec2)
          await s.sessions.delete(acct, 'o1')
          assert.equal(await s.sessions.get(acct, 'o1'), null)
          await s.sessions.delete(acct, 'o1')
          await s.sessions.delete(acct, 'never-there')
        }))

      it('is keyed by account and openId together', () =>
        withStore(async (s, c) => {
          const a1 = `a-${uid()}`
          const a2 = `a-${uid()}`
          await s.sessions.put({ account: a1, openId: 'o', plugin: 'p1', state: 1, expiresAt: c.now() + c.long })
          await s.sessions.put({ account: a2, openId: 'o', plugin: 'p2', state: 2, expiresAt: c.now() + c.long })
          await s.sessions.put({ account: a1, openId: 'o2', plugin: 'p3', state: 3, expiresAt: c.now() + c.long })
          assert.equal((await s.sessions.get(a1, 'o'))?.plugin, 'p1')
          assert.equal((await s.sessions.get(a2, 'o'))?.plugin, 'p2')
          assert.equal((await s.sessions.get(a1, 'o2'))?.plugin, 'p3')
          await s.sessions.delete(a1, 'o')
          assert.equal(await s.sessions.get(a1, 'o'), null)
          assert.equal((await s.sessions.get(a2, 'o'))?.plugin, 'p2')
        }))

      it('expires at expiresAt', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          await s.sessions.put({ account: acct, openId: 'o', plugin: 'p', state: { n: 1 }, expiresAt: c.now() + c.short })
          c.almost()
          assert.equal((await s.sessions.get(acct, 'o'))?.plugin, 'p')
          await c.expire(async () => (await s.sessions.get(acct, 'o')) === null)
          // An expired session stays gone on a second read (no stale cache hit).
          assert.equal(await s.sessions.get(acct, 'o'), null)
        }))

      it('returns copies', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const state = { list: [1, 2] }
          await s.sessions.put({ account: acct, openId: 'o', plugin: 'p', state, expiresAt: c.now() + c.long })
          state.list.push(3)
          const got = await s.sessions.get(acct, 'o')
          assert.deepEqual(got?.state, { list: [1, 2] })
          ;((got?.state as { list: number[] }).list).push(9)
          assert.deepEqual((await s.sessions.get(acct, 'o'))?.state, { list: [1, 2] })
        }))

      it('list: the live sessions of one account or of all, soonest to end first, at most limit, as copies', () =>
        withStore(async (s, c) => {
          const a1 = `a-${uid()}`
          const a2 = `a-${uid()}`
          // An account whose id begins with a1's is another account: none of its sessions is a1's.
          const longer = `${a1}x`
          const t = c.now()
          const soon = { account: a1, openId: 'soon', plugin: 'quiz', state: { step: 1 }, expiresAt: t + c.short }
          const mid = { account: a1, openId: 'mid', plugin: 'survey', state: null, expiresAt: t + c.long - 2 }
          const other = { account: a2, openId: 'mid', plugin: 'quiz', state: ['中文'], expiresAt: t + c.long - 1 }
          const late = { account: a1, openId: 'late', plugin: 'quiz', state: 3, expiresAt: t + c.long }
          for (const rec of [late, other, mid, soon]) await s.sessions.put(rec)
          await s.sessions.put({ account: longer, openId: 'o', plugin: 'quiz', state: 0, expiresAt: t + c.long })
          await s.sessions.put({ account: a1, openId: 'ended', plugin: 'quiz', state: 0, expiresAt: t + c.long })
          await s.sessions.delete(a1, 'ended')

          assert.deepEqual(await s.sessions.list({ account: a1, limit: 10 }), [soon, mid, late])
          assert.deepEqual(await s.sessions.list({ account: a1, limit: 2 }), [soon, mid])
          assert.deepEqual(await s.sessions.list({ account: a2, limit: 10 }), [other])
          assert.deepEqual(await s.sessions.list({ account: a1, plugin: 'quiz', limit: 10 }), [soon, late])
          assert.deepEqual((await s.sessions.list({ plugin: 'survey', limit: 100_000 })).filter((r) => [a1, a2].includes(r.account)), [mid])
          assert.deepEqual(await s.sessions.list({ account: `a-${uid()}`, limit: 10 }), [])
          // Every account's (a shared Redis may hold other tests' sessions too: only ours are compared).
          const all = (await s.sessions.list({ limit: 100_000 })).filter((r) => [a1, a2].includes(r.account))
          assert.deepEqual(all, [soon, mid, other, late])

          const listed = await s.sessions.list({ account: a1, limit: 1 })
          ;(listed[0]!.state as { step: number }).step = 9
          assert.deepEqual((await s.sessions.get(a1, 'soon'))?.state, { step: 1 })

          c.almost()
          assert.equal((await s.sessions.list({ account: a1, limit: 10 })).length, 3)
          await c.expire(async () => (await s.sessions.list({ account: a1, limit: 10 })).length === 2)
          assert.deepEqual(await s.sessions.list({ account: a1, limit: 10 }), [mid, late])
        }))

      it(synchronous ? 'getSync answers what get answers, at once' : 'offers no getSync (lookups go over the network)', () =>
        withStore(async (s, c) => {
          const getSync = s.sessions.getSync
          if (!synchronous) return assert.equal(getSync, undefined)
          assert.ok(getSync, `${name} offers getSync`)
          const acct = `a-${uid()}`
          assert.equal(getSync(acct, 'o'), null)
          const rec = { account: acct, openId: 'o', plugin: 'quiz', state: { step: 2 }, expiresAt: c.now() + c.short }
          await s.sessions.put(rec)
          const got = getSync(acct, 'o')
          assert.ok(!(got instanceof Promise))
          assert.deepEqual(got, rec)
          assert.deepEqual(got, await s.sessions.get(acct, 'o'))
          // A copy, like get's.
          ;(got!.state as { step: number }).step = 9
          assert.deepEqual(getSync(acct, 'o')?.state, { step: 2 })
          await c.expire(async () => getSync(acct, 'o') === null)
          assert.equal(await s.sessions.get(acct, 'o'), null)
          await s.sessions.put({ ...rec, expiresAt: c.now() + c.long })
          await s.sessions.delete(acct, 'o')
          assert.equal(getSync(acct, 'o'), null)
        }))
    })

    describe('dedup', () => {
      const reply: StoredReply = {
        status: 200,
        contentType: 'application/xml',
        body: '<xml><Content><![CDATA[你好 ]]> & \u00e9 😀]]></Content></xml>\n',
      }

      it('claim -> pending for the next claimer -> complete -> done with identical bytes', () =>
        withStore(async (s, c) => {
          const key = `k-${uid()}`
          assert.deepEqual(await s.dedup.peek(key), { state: 'absent' })
          assert.deepEqual(await s.dedup.claim(key, c.long), { state: 'claimed' })
          assert.deepEqual(await s.dedup.claim(key, c.long), { state: 'pending' })
          assert.deepEqual(await s.dedup.peek(key), { state: 'pending' })
          await s.dedup.complete(key, reply, c.long)
          const again = await s.dedup.claim(key, c.long)
          assert.deepEqual(again, { state: 'done', reply })
          assert.ok(again.state === 'done' && Buffer.from(again.reply.body).equals(Buffer.from(reply.body)))
          assert.deepEqual(await s.dedup.peek(key), { state: 'done', reply })
        }))

      it('peek does not claim', () =>
        withStore(async (s, c) => {
          const key = `k-${uid()}`
          await s.dedup.peek(key)
          assert.deepEqual(await s.dedup.claim(key, c.long), { state: 'claimed' })
        }))

      it('a crashed claim lapses after pendingTtl', () =>
        withStore(async (s, c) => {
          const key = `k-${uid()}`
          assert.deepEqual(await s.dedup.claim(key, c.short), { state: 'claimed' })
          c.almost()
          assert.deepEqual(await s.dedup.claim(key, c.short), { state: 'pending' })
          await c.expire(async () => (await s.dedup.peek(key)).state === 'absent')
          assert.deepEqual(await s.dedup.claim(key, c.long), { state: 'claimed' })
        }))

      it('a recorded reply expires after its ttl', () =>
        withStore(async (s, c) => {
          const key = `k-${uid()}`
          await s.dedup.claim(key, c.long)
          await s.dedup.complete(key, reply, c.short)
          c.almost()
          assert.equal((await s.dedup.peek(key)).state, 'done')
          await c.expire(async () => (await s.dedup.peek(key)).state === 'absent')
          assert.deepEqual(await s.dedup.claim(key, c.long), { state: 'claimed' })
        }))

      it('release gives up a pending claim so a retry runs again', () =>
        withStore(async (s, c) => {
          const key = `k-${uid()}`
          await s.dedup.claim(key, c.long)
          await s.dedup.release(key)
          assert.deepEqual(await s.dedup.peek(key), { state: 'absent' })
          assert.deepEqual(await s.dedup.claim(key, c.long), { state: 'claimed' })
          await s.dedup.release(`k-${uid()}`)
        }))

      it('release after complete keeps the reply', () =>
        withStore(async (s, c) => {
          const key = `k-${uid()}`
          await s.dedup.claim(key, c.long)
          await s.dedup.complete(key, reply, c.long)
          await s.dedup.release(key)
          assert.deepEqual(await s.dedup.peek(key), { state: 'done', reply })
        }))

      it('20 concurrent claims: exactly one claimed', () =>
        withStore(async (s, c) => {
          const key = `k-${uid()}`
          const results = await Promise.all(Array.from({ length: 20 }, () => s.dedup.claim(key, c.long)))
          assert.equal(results.filter((r) => r.state === 'claimed').length, 1)
          assert.equal(results.filter((r) => r.state === 'pending').length, 19)
        }))

      it(synchronous ? 'claimSync and completeSync share one state with claim and complete' : 'offers no claimSync or completeSync', () =>
        withStore(async (s, c) => {
          const { claimSync, completeSync } = s.dedup
          if (!synchronous) return assert.deepEqual([claimSync, completeSync], [undefined, undefined])
          assert.ok(claimSync && completeSync, `${name} offers claimSync and completeSync`)
          const key = `k-${uid()}`
          const first = claimSync(key, c.long)
          assert.ok(!(first instanceof Promise))
          assert.deepEqual(first, { state: 'claimed' })
          assert.deepEqual(await s.dedup.claim(key, c.long), { state: 'pending' })
          assert.deepEqual(claimSync(key, c.long), { state: 'pending' })
          assert.equal(completeSync(key, reply, c.short), undefined)
          assert.deepEqual(await s.dedup.peek(key), { state: 'done', reply })
          assert.deepEqual(claimSync(key, c.long), { state: 'done', reply })
          await c.expire(async () => (await s.dedup.peek(key)).state === 'absent')
          assert.deepEqual(claimSync(key, c.long), { state: 'claimed' })
          await s.dedup.release(key)
          assert.deepEqual(await s.dedup.claim(key, c.long), { state: 'claimed' })
        }))

      it('keys are independent', () =>
        withStore(async (s, c) => {
          const k1 = `k-${uid()}`
          const k2 = `k-${uid()}`
          await s.dedup.claim(k1, c.long)
          await s.dedup.complete(k1, reply, c.long)
          assert.deepEqual(await s.dedup.claim(k2, c.long), { state: 'claimed' })
          assert.equal((await s.dedup.peek(k1)).state, 'done')
        }))
    })

    describe('kv', () => {
      it('get/set/delete JSON values, null distinct from absent', () =>
        withStore(async (s) => {
          const ns = `ns-${uid()}`
          assert.equal(await s.kv.get(ns, 'x'), undefined)
          const values = [{ a: [1, { b: '中' }] }, [1, 2], 0, false, null, '', 'text', 1.5]
          for (const [i, v] of values.entries()) await s.kv.set(ns, `k${i}`, v)
          for (const [i, v] of values.entries()) assert.deepEqual(await s.kv.get(ns, `k${i}`), v)
          await s.kv.set(ns, 'k0', 'replaced')
          assert.equal(await s.kv.get(ns, 'k0'), 'replaced')
          await s.kv.delete(ns, 'k0')
          assert.equal(await s.kv.get(ns, 'k0'), undefined)
          await s.kv.delete(ns, 'never')
        }))

      it('namespaces are independent', () =>
        withStore(async (s) => {
          const n1 = `ns-${uid()}`
          const n2 = `ns-${uid()}`
          await s.kv.set(n1, 'k', 1)
          await s.kv.set(n2, 'k', 2)
          assert.equal(await s.kv.get(n1, 'k'), 1)
          await s.kv.delete(n1, 'k')
          assert.equal(await s.kv.get(n1, 'k'), undefined)
          assert.equal(await s.kv.get(n2, 'k'), 2)
        }))

      it('ttl expires; a set without ttl clears an earlier ttl', () =>
        withStore(async (s, c) => {
          const ns = `ns-${uid()}`
          await s.kv.set(ns, 'temp', 'v', c.short)
          await s.kv.set(ns, 'kept', 'v', c.short)
          await s.kv.set(ns, 'kept', 'v2')
          await s.kv.set(ns, 'forever', 'v')
          c.almost()
          assert.equal(await s.kv.get(ns, 'temp'), 'v')
          await c.expire(async () => (await s.kv.get(ns, 'temp')) === undefined)
          assert.equal(await s.kv.get(ns, 'kept'), 'v2')
          assert.equal(await s.kv.get(ns, 'forever'), 'v')
        }))

      it('deletePrefix deletes exactly the keys starting with the prefix', () =>
        withStore(async (s) => {
          const ns = `ns-${uid()}`
          const other = `ns-${uid()}`
          const inside = ['u1', 'u1:a', 'u1:b', 'u1\uffff', 'u1😀', 'u1\u0000x']
          // 'u2' is the key one character past the prefix; 'u0z' sorts just before; 'U1' differs in case.
          const outside = ['u2', 'u0z', 'U1', 'u', 'xu1']
          for (const k of [...inside, ...outside]) {
            await s.kv.set(ns, k, k)
            await s.kv.set(other, k, k)
          }
          assert.equal(await s.kv.deletePrefix(ns, 'u1'), inside.length)
          for (const k of inside) assert.equal(await s.kv.get(ns, k), undefined, k)
          for (const k of outside) assert.equal(await s.kv.get(ns, k), k, k)
          for (const k of [...inside, ...outside]) assert.equal(await s.kv.get(other, k), k, `other ns ${k}`)
          assert.equal(await s.kv.deletePrefix(ns, 'u1'), 0)
        }))

      it('deletePrefix treats pattern characters literally', () =>
        withStore(async (s) => {
          const ns = `ns-${uid()}`
          const keys = ['a%b', 'a%bc', 'axb', 'a_b', 'aXb', 'a*b', 'a*bz', 'a?b', 'a[b]', 'a\\b']
          for (const k of keys) await s.kv.set(ns, k, 1)
          assert.equal(await s.kv.deletePrefix(ns, 'a%b'), 2)
          assert.equal(await s.kv.deletePrefix(ns, 'a_'), 1)
          assert.equal(await s.kv.deletePrefix(ns, 'a*'), 2)
          assert.equal(await s.kv.deletePrefix(ns, 'a?'), 1)
          assert.equal(await s.kv.deletePrefix(ns, 'a['), 1)
          assert.equal(await s.kv.deletePrefix(ns, 'a\\'), 1)
          assert.equal(await s.kv.get(ns, 'axb'), 1)
          assert.equal(await s.kv.get(ns, 'aXb'), 1)
        }))

      it('deletePrefix with an empty prefix empties the namespace only', () =>
        withStore(async (s) => {
          const ns = `ns-${uid()}`
          const other = `ns-${uid()}`
          for (const k of ['a', '😀', '\uffff', '']) await s.kv.set(ns, k, 1)
          await s.kv.set(other, 'a', 1)
          assert.equal(await s.kv.deletePrefix(ns, ''), 4)
          assert.equal(await s.kv.get(ns, '😀'), undefined)
          assert.equal(await s.kv.get(other, 'a'), 1)
        }))

      it('keys lists the live keys starting with a prefix, sorted, up to a limit; pattern characters are literal', () =>
        withStore(async (s, c) => {
          const ns = `ns-${uid()}`
          const other = `ns-${uid()}`
          const inside = ['u:1:b', 'u:1:a', 'u:1:*', 'u:1:%', 'u:1:_x']
          for (const k of [...inside, 'u:10:a', 'u:2:a', 'g:u:1:a']) await s.kv.set(ns, k, 1)
          await s.kv.set(other, 'u:1:zz', 1)
          await s.kv.set(ns, 'u:1:old', 1, c.short)
          assert.deepEqual(await s.kv.keys(ns, 'u:1:', 100), ['u:1:%', 'u:1:*', 'u:1:_x', 'u:1:a', 'u:1:b', 'u:1:old'])
          assert.deepEqual(await s.kv.keys(ns, 'u:1:', 2), ['u:1:%', 'u:1:*'])
          assert.deepEqual(await s.kv.keys(ns, 'u:1:*', 100), ['u:1:*'])
          assert.deepEqual(await s.kv.keys(ns, '', 100), ['g:u:1:a', 'u:10:a', 'u:1:%', 'u:1:*', 'u:1:_x', 'u:1:a', 'u:1:b', 'u:1:old', 'u:2:a'])
          assert.deepEqual(await s.kv.keys(`ns-${uid()}`, '', 100), [])
          await c.expire(async () => (await s.kv.get(ns, 'u:1:old')) === undefined)
          assert.deepEqual(await s.kv.keys(ns, 'u:1:', 100), ['u:1:%', 'u:1:*', 'u:1:_x', 'u:1:a', 'u:1:b'])
        }))

      it('deletePrefix does not count expired keys', () =>
        withStore(async (s, c) => {
          const ns = `ns-${uid()}`
          await s.kv.set(ns, 'p:old', 1, c.short)
          await s.kv.set(ns, 'p:new', 1)
          await c.expire(async () => (await s.kv.get(ns, 'p:old')) === undefined)
          assert.equal(await s.kv.deletePrefix(ns, 'p:'), 1)
        }))

      it('compareAndSet writes only over the expected value (undefined: absent), deletes with undefined', () =>
        withStore(async (s) => {
          const ns = `ns-${uid()}`
          assert.equal(await s.kv.compareAndSet(ns, 'k', 1, 2), false, 'absent is not 1')
          assert.equal(await s.kv.get(ns, 'k'), undefined)
          assert.equal(await s.kv.compareAndSet(ns, 'k', undefined, { n: [1, 'a'] }), true, 'created')
          assert.equal(await s.kv.compareAndSet(ns, 'k', undefined, 'again'), false, 'present now')
          assert.equal(await s.kv.compareAndSet(ns, 'k', { n: [1, 'b'] }, 'x'), false, 'another value')
          assert.deepEqual(await s.kv.get(ns, 'k'), { n: [1, 'a'] })
          assert.equal(await s.kv.compareAndSet(ns, 'k', { n: [1, 'a'] }, null), true, 'over the read value')
          assert.equal(await s.kv.get(ns, 'k'), null)
          assert.equal(await s.kv.compareAndSet(ns, 'k', undefined, 1), false, 'null is a value, not absent')
          assert.equal(await s.kv.compareAndSet(ns, 'k', null, undefined), true, 'deleted')
          assert.equal(await s.kv.get(ns, 'k'), undefined)
          await s.kv.set(ns, 'k2', 5)
          assert.equal(await s.kv.compareAndSet(`${ns}-other`, 'k2', 5, 6), false, 'namespaces are independent')
        }))

      it('compareAndSet keeps the key\'s expiry unless given one; an expired key is absent', () =>
        withStore(async (s, c) => {
          const ns = `ns-${uid()}`
          await s.kv.set(ns, 'windowed', 1, c.short)
          assert.equal(await s.kv.compareAndSet(ns, 'windowed', 1, 2), true)
          await s.kv.set(ns, 'renewed', 1, c.short)
          assert.equal(await s.kv.compareAndSet(ns, 'renewed', 1, 2, c.long), true)
          assert.equal(await s.kv.compareAndSet(ns, 'fresh', undefined, 1), true)
          await s.kv.set(ns, 'lapsing', 'old', c.short)
          c.almost()
          assert.equal(await s.kv.get(ns, 'windowed'), 2)
          await c.expire(async () => (await s.kv.get(ns, 'windowed')) === undefined)
          assert.equal(await s.kv.get(ns, 'renewed'), 2, 'a new ttl replaced the old one')
          assert.equal(await s.kv.get(ns, 'fresh'), 1, 'a new key without ttl never expires')
          // Set a moment after `windowed`: in real time it lapses a moment later too (a Node 22 run caught it live).
          await c.expire(async () => (await s.kv.get(ns, 'lapsing')) === undefined)
          assert.equal(await s.kv.compareAndSet(ns, 'lapsing', 'old', 'new'), false, 'an expired key is not its old value')
          assert.equal(await s.kv.compareAndSet(ns, 'lapsing', undefined, 'new'), true, 'it is absent')
          assert.equal(await s.kv.get(ns, 'lapsing'), 'new')
        }))

      it('increment adds in one step: absent is 0, 500 at once all count, a value that is not a number is refused', () =>
        withStore(async (s) => {
          const ns = `ns-${uid()}`
          assert.equal(await s.kv.increment(ns, 'n', 5), 5)
          assert.equal(await s.kv.increment(ns, 'n', -2), 3)
          const sums = await Promise.all(Array.from({ length: 500 }, () => s.kv.increment(ns, 'crowd', 1)))
          assert.equal(await s.kv.get(ns, 'crowd'), 500)
          assert.deepEqual([...sums].sort((a, b) => a - b), Array.from({ length: 500 }, (_, i) => i + 1), 'each saw its own sum')
          await s.kv.set(ns, 'list', ['a'])
          await assert.rejects(s.kv.increment(ns, 'list', 1), (e: Error) => e instanceof NotANumberError && e.message === 'not a number: ["a"]')
          assert.deepEqual(await s.kv.get(ns, 'list'), ['a'], 'left as it was')
          // A sum that is not an integer reads back as the same number, and compareAndSet takes it as that number.
          await s.kv.increment(ns, 'f', 0.1)
          await s.kv.increment(ns, 'f', 0.2)
          assert.equal(await s.kv.get(ns, 'f'), 0.1 + 0.2)
          assert.equal(await s.kv.compareAndSet(ns, 'f', 0.1 + 0.2, 1), true)
          await s.kv.increment(ns, 'g', 0.1)
          assert.equal(await s.kv.compareAndSet(ns, 'g', 0.1, 2), true)
          assert.equal(await s.kv.increment(ns, 'big', 2 ** 53 - 1), 2 ** 53 - 1)
          // Past the largest number: refused, the value kept (SQLite wrote null, Redis inf, which no read took back).
          await s.kv.increment(ns, 'huge', 1e308)
          await assert.rejects(s.kv.increment(ns, 'huge', 1e308), (e: Error) => e instanceof SumOutOfRangeError && e.message === 'past the largest number: 1e+308 + 1e+308')
          assert.equal(await s.kv.get(ns, 'huge'), 1e308)
          // Refusals of the caller's are not failed writes: the store still says it writes (/healthz ok).
          assert.deepEqual(s.writes?.() ?? { writable: true }, { writable: true })
          await assert.rejects(s.kv.increment(ns, 'list', 1), NotANumberError)
          assert.deepEqual(s.writes?.() ?? { writable: true }, { writable: true })
          assert.equal(await s.kv.increment(ns, 'huge', -1e308), 0)
        }))

      it('increment: the ttl applies to a counter it starts; a running counter keeps its own', () =>
        withStore(async (s, c) => {
          const ns = `ns-${uid()}`
          await s.kv.increment(ns, 'window', 1, c.short)
          await s.kv.increment(ns, 'window', 1, c.long) // not a new counter: keeps the short expiry
          await s.kv.increment(ns, 'forever', 1)
          c.almost()
          assert.equal(await s.kv.get(ns, 'window'), 2)
          await c.expire(async () => (await s.kv.get(ns, 'window')) === undefined)
          assert.equal(await s.kv.increment(ns, 'window', 1, c.long), 1, 'a new window')
          assert.equal(await s.kv.get(ns, 'forever'), 1)
        }))

      it('compareAndSet from 20 writers at once: each increment lands once (retrying the losers)', () =>
        withStore(async (s) => {
          const ns = `ns-${uid()}`
          const incrementOnce = async (): Promise<number> => {
            for (let tries = 1; ; tries++) {
              const n = ((await s.kv.get(ns, 'counter')) as number | undefined) ?? 0
              if (await s.kv.compareAndSet(ns, 'counter', n === 0 ? undefined : n, n + 1)) return tries
            }
          }
          const tries = await Promise.all(Array.from({ length: 20 }, incrementOnce))
          assert.equal(await s.kv.get(ns, 'counter'), 20)
          assert.ok(tries.some((t) => t > 1), 'the writers did race (some had to retry)')
        }))
    })

    describe('tokens', () => {
      it('get/set/replace', () =>
        withStore(async (s, c) => {
          const app = `wx${uid()}`
          assert.equal(await s.tokens.get(app), null)
          const record = { token: 'T1', expiresAt: c.now() + c.long }
          await s.tokens.set(app, record)
          assert.deepEqual(await s.tokens.get(app), record)
          await s.tokens.set(app, { token: 'T2', expiresAt: c.now() + c.long })
          assert.equal((await s.tokens.get(app))?.token, 'T2')
          assert.equal(await s.tokens.get(`wx${uid()}`), null)
        }))

      it('an expired token is not returned', () =>
        withStore(async (s, c) => {
          const app = `wx${uid()}`
          await s.tokens.set(app, { token: 'T1', expiresAt: c.now() + c.short })
          c.almost()
          assert.equal((await s.tokens.get(app))?.token, 'T1')
          await c.expire(async () => (await s.tokens.get(app)) === null)
        }))

      it('invalidate removes only the same token', () =>
        withStore(async (s, c) => {
          const app = `wx${uid()}`
          await s.tokens.set(app, { token: 'T2', expiresAt: c.now() + c.long })
          await s.tokens.invalidate(app, 'T1')
          assert.equal((await s.tokens.get(app))?.token, 'T2')
          await s.tokens.invalidate(app, 'T2')
          assert.equal(await s.tokens.get(app), null)
          await s.tokens.invalidate(app, 'T2')
        }))

      it('lock is exclusive per appId and released by its holder', () =>
        withStore(async (s, c) => {
          const app = `wx${uid()}`
          const release = await s.tokens.lock(app, c.long)
          assert.ok(release)
          assert.equal(await s.tokens.lock(app, c.long), null)
          const otherApp = await s.tokens.lock(`wx${uid()}`, c.long)
          assert.ok(otherApp)
          await release.release()
          const again = await s.tokens.lock(app, c.long)
          assert.ok(again)
          await release.release()
          assert.equal(await s.tokens.lock(app, c.long), null, 'a second release by the old holder must not free the new lock')
        }))

      it('concurrent lock attempts: exactly one wins', () =>
        withStore(async (s, c) => {
          const app = `wx${uid()}`
          const got = await Promise.all(Array.from({ length: 10 }, () => s.tokens.lock(app, c.long)))
          assert.equal(got.filter((r) => r !== null).length, 1)
        }))

      it('a lock lapses after its ttl, and the stale holder cannot release the new one', () =>
        withStore(async (s, c) => {
          const app = `wx${uid()}`
          const stale = await s.tokens.lock(app, c.short)
          assert.ok(stale)
          c.almost()
          assert.equal(await s.tokens.lock(app, c.long), null)
          let fresh: HeldTokenLock | null = null
          await c.expire(async () => (fresh = await s.tokens.lock(app, c.long)) !== null)
          await stale.release()
          assert.equal(await s.tokens.lock(app, c.long), null)
          assert.ok(fresh)
        }))

      it('a holder whose lock lapsed and was taken cannot store its token over the new holder\'s', () =>
        withStore(async (s, c) => {
          const app = `wx${uid()}`
          const stale = await s.tokens.lock(app, c.short)
          assert.ok(stale)
          assert.equal(await stale.set({ token: 'T-first', expiresAt: c.now() + c.long }), true, 'the holder stores its token')
          // Paused past its TTL (GC, SIGSTOP): another refresher takes the lock and stores a newer token.
          let fresh: HeldTokenLock | null = null
          await c.expire(async () => (fresh = await s.tokens.lock(app, c.long)) !== null)
          assert.ok(fresh)
          assert.equal(await (fresh as HeldTokenLock).set({ token: 'T-new', expiresAt: c.now() + c.long }), true)
          // The paused one wakes up with the token it fetched before: refused, the newer one stays.
          assert.equal(await stale.set({ token: 'T-stale', expiresAt: c.now() + c.long }), false)
          assert.equal((await s.tokens.get(app))?.token, 'T-new')
          // Released: a write after it is refused too (another refresher may be about to take the lock).
          await (fresh as HeldTokenLock).release()
          assert.equal(await (fresh as HeldTokenLock).set({ token: 'T-late', expiresAt: c.now() + c.long }), false)
          assert.equal((await s.tokens.get(app))?.token, 'T-new')
        }))
    })

    describe('message log', () => {
      it('append -> flush -> query newest first with filters', () =>
        withStore(async (s, c) => {
          const a1 = `a-${uid()}`
          const a2 = `a-${uid()}`
          const t0 = c.now()
          const full = logEntry({
            account: a1,
            at: t0 + 30,
            openId: 'o-2',
            kind: 'text',
            rule: 'r1',
            keyword: '天气',
            plugin: 'weather',
            replyType: 'text',
            summary: '天气 北京',
            error: 'none really',
          })
          const entries = [
            logEntry({ account: a1, at: t0 + 10, kind: 'masssend_job_finish', openId: 'gh_account', handledBy: 'none', outcome: 'no_reply', summary: 'msg_id=1000000001 total=2 filter=2 sent=2 error=0 status=send success' }),
            logEntry({ account: a2, at: t0 + 20, handledBy: 'default', outcome: 'no_reply' }),
            full,
            logEntry({ account: a1, at: t0 + 40, openId: 'o-2', handledBy: 'duplicate', outcome: 'dropped' }),
          ]
          for (const e of entries) assert.equal(s.log.append(e), undefined)
          await s.log.flush()
          const all1 = await s.log.query({ account: a1 })
          assert.deepEqual(all1, [entries[3], full, entries[0]])
          assert.deepEqual(await s.log.query({ account: a2 }), [entries[1]])
          assert.deepEqual(await s.log.query({ account: a1, openId: 'o-2' }), [entries[3], full])
          assert.deepEqual(await s.log.query({ account: a1, since: t0 + 30 }), [entries[3], full])
          assert.deepEqual(await s.log.query({ account: a1, until: t0 + 40 }), [full, entries[0]])
          assert.deepEqual(await s.log.query({ account: a1, since: t0 + 10, until: t0 + 31 }), [full, entries[0]])
          assert.deepEqual(await s.log.query({ account: a1, limit: 2 }), [entries[3], full])
          assert.deepEqual(await s.log.query({ account: a1, kind: 'text' }), [entries[3], full])
          assert.deepEqual(await s.log.query({ kind: 'masssend_job_finish', account: a1 }), [entries[0]])
          assert.deepEqual(await s.log.query({ kind: 'masssend_job_finish', account: a2 }), [])
          assert.deepEqual(await s.log.query({ account: `a-${uid()}` }), [])
        }))

      it('committed() resolves once what was appended is written, without a flush', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const e = logEntry({ account: acct, at: c.now() })
          s.log.append(e)
          await s.log.committed()
          assert.deepEqual(await s.log.query({ account: acct }), [e])
          await s.log.committed() // nothing pending: resolves at once
        }))

      it('appends made before and after a flush are all kept, in order', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const t0 = c.now()
          s.log.append(logEntry({ account: acct, at: t0 + 1 }))
          await s.log.flush()
          s.log.append(logEntry({ account: acct, at: t0 + 2 }))
          s.log.append(logEntry({ account: acct, at: t0 + 2, msgKey: 'same-ms' }))
          await s.log.flush()
          await s.log.flush()
          const got = await s.log.query({ account: acct })
          assert.deepEqual(
            got.map((e) => e.msgKey),
            ['same-ms', `m-${t0 + 2}`, `m-${t0 + 1}`],
          )
        }))

      it('default limit is 100', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const t0 = c.now()
          for (let i = 0; i < 130; i++) s.log.append(logEntry({ account: acct, at: t0 + i }))
          await s.log.flush()
          const got = await s.log.query({ account: acct })
          assert.equal(got.length, 100)
          assert.equal(got[0].at, t0 + 129)
          assert.equal(got[99].at, t0 + 30)
        }))

      it('hits are counted per account, rule and keyword', () =>
        withStore(async (s, c) => {
          const a1 = `a-${uid()}`
          const a2 = `a-${uid()}`
          const t = c.now()
          const hit = (account: string, rule?: string, keyword?: string) =>
            s.log.append(logEntry({ account, at: t, ...(rule ? { rule } : {}), ...(keyword ? { keyword } : {}) }))
          hit(a1, 'weather', '天气')
          hit(a1, 'weather', '天气')
          hit(a1, 'weather', 'weather')
          hit(a1, 'weather', '天气')
          hit(a1, 'menu')
          hit(a1, 'menu')
          hit(a1)
          hit(a2, 'weather', '天气')
          await s.log.flush()
          assert.deepEqual(await s.log.hits(a1), [
            { account: a1, rule: 'weather', keyword: '天气', hits: 3 },
            { account: a1, rule: 'menu', keyword: null, hits: 2 },
            { account: a1, rule: 'weather', keyword: 'weather', hits: 1 },
          ])
          assert.deepEqual(await s.log.hits(a2), [{ account: a2, rule: 'weather', keyword: '天气', hits: 1 }])
          const all = (await s.log.hits()).filter((h) => h.account === a1 || h.account === a2)
          assert.equal(all.length, 4)
          assert.equal(all.reduce((n, h) => n + h.hits, 0), 7)
        }))

      it('prune deletes entries older than `before` and keeps hit counts', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const t0 = c.now()
          for (let i = 0; i < 5; i++) s.log.append(logEntry({ account: acct, at: t0 + i * 10, rule: 'r' }))
          await s.log.flush()
          assert.equal(await s.log.prune(t0 + 20), 2)
          const left = await s.log.query({ account: acct })
          assert.deepEqual(
            left.map((e) => e.at),
            [t0 + 40, t0 + 30, t0 + 20],
          )
          assert.equal(await s.log.prune(t0 + 20), 0)
          assert.deepEqual(await s.log.hits(acct), [{ account: acct, rule: 'r', keyword: null, hits: 5 }])
        }))
    })

    describe('followers', () => {
      const follow = (account: string, openId: string, at: number, key: string, eventKey?: string): MessageLogEntry =>
        logEntry({ account, openId, at, kind: 'subscribe', msgKey: key, handledBy: 'welcome', ...(eventKey !== undefined ? { summary: eventKey } : {}) })
      const unfollow = (account: string, openId: string, at: number, key: string): MessageLogEntry =>
        logEntry({ account, openId, at, kind: 'unsubscribe', msgKey: key, handledBy: 'none', outcome: 'no_reply' })

      it('counts each user once, under the scene of their latest follow; unfollows of users never seen following apart', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const t = c.now()
          for (const e of [
            follow(acct, 'alice', t + 1, 'k1', 'qrscene_1001'),
            follow(acct, 'bob', t + 2, 'k2', 'qrscene_1001'),
            follow(acct, 'carol', t + 3, 'k3', ''),
            follow(acct, 'dave', t + 4, 'k4'),
            // Alice leaves, then comes back through another code: she counts there now, following.
            unfollow(acct, 'alice', t + 5, 'k5'),
            follow(acct, 'alice', t + 6, 'k6', 'qrscene_spring'),
            unfollow(acct, 'bob', t + 7, 'k7'),
            // Erin followed before the log knew her: her unfollow is counted, under no scene.
            unfollow(acct, 'erin', t + 8, 'k8'),
            // Text messages and other events change nothing.
            logEntry({ account: acct, openId: 'frank', at: t + 9 }),
            logEntry({ account: acct, openId: 'frank', at: t + 10, kind: 'scan', summary: '1001' }),
          ]) s.log.append(e)
          await s.log.flush()
          assert.deepEqual(await s.log.followers({ account: acct }), [
            { account: acct, scene: '', followed: 2, stillFollowing: 2, unfollowed: 0 },
            { account: acct, scene: '1001', followed: 1, stillFollowing: 0, unfollowed: 1 },
            { account: acct, scene: 'spring', followed: 1, stillFollowing: 1, unfollowed: 0 },
            { account: acct, scene: null, followed: 0, stillFollowing: 0, unfollowed: 1 },
          ])
          // Erin follows again: she is an ordinary follower from now on.
          s.log.append(follow(acct, 'erin', t + 11, 'k11', 'qrscene_1001'))
          await s.log.flush()
          assert.deepEqual(await s.log.followers({ account: acct }), [
            // Ties: by scene ('' first).
            { account: acct, scene: '', followed: 2, stillFollowing: 2, unfollowed: 0 },
            { account: acct, scene: '1001', followed: 2, stillFollowing: 1, unfollowed: 1 },
            { account: acct, scene: 'spring', followed: 1, stillFollowing: 1, unfollowed: 0 },
          ])
        }))

      it("a message's several entries (answered late: at the budget, then how it ended) are one follow, at the first", () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const t = c.now()
          s.log.append({ ...follow(acct, 'alice', t + 1, 'late-1', 'qrscene_1001'), outcome: 'late' })
          // She unfollows before the slow welcome plugin is done; its final entry comes after.
          s.log.append(unfollow(acct, 'alice', t + 2, 'u-1'))
          s.log.append({ ...follow(acct, 'alice', t + 3, 'late-1', 'qrscene_1001'), outcome: 'late', rule: 'welcome' })
          s.log.append({ ...follow(acct, 'bob', t + 4, 'late-2', 'qrscene_1001'), outcome: 'late' })
          s.log.append({ ...follow(acct, 'bob', t + 5, 'late-2', 'qrscene_1001'), outcome: 'failed' })
          s.log.append(unfollow(acct, 'bob', t + 6, 'u-2'))
          s.log.append(unfollow(acct, 'bob', t + 7, 'u-2'))
          // Carol follows, unfollows and follows again through another code, all before her first follow's
          // last entry: that entry is still the first follow, not a fourth step.
          s.log.append({ ...follow(acct, 'carol', t + 1, 'late-3', 'qrscene_1001'), outcome: 'late' })
          s.log.append(unfollow(acct, 'carol', t + 2, 'u-3'))
          s.log.append(follow(acct, 'carol', t + 3, 'f-3', 'qrscene_spring'))
          s.log.append({ ...follow(acct, 'carol', t + 8, 'late-3', 'qrscene_1001'), outcome: 'no_reply' })
          await s.log.flush()
          assert.deepEqual(await s.log.followers({ account: acct }), [
            { account: acct, scene: '1001', followed: 2, stillFollowing: 0, unfollowed: 2 },
            { account: acct, scene: 'spring', followed: 1, stillFollowing: 1, unfollowed: 0 },
          ])
          // Bob's follow is at its first entry's time: not in a window that starts after it.
          assert.deepEqual(await s.log.followers({ account: acct, since: t + 5 }), [])
          assert.deepEqual(await s.log.followers({ account: acct, since: t + 4 }), [{ account: acct, scene: '1001', followed: 1, stillFollowing: 0, unfollowed: 1 }])
        }))

      it('since selects by the latest follow (an unknown unfollow by its own time); account by account', () =>
        withStore(async (s, c) => {
          const a1 = `a-${uid()}`
          const a2 = `a-${uid()}`
          const t = c.now()
          s.log.append(follow(a1, 'old', t + 1, 'k1', 'qrscene_1'))
          s.log.append(unfollow(a1, 'old', t + 50, 'k2'))
          s.log.append(follow(a1, 'new', t + 100, 'k3', 'qrscene_1'))
          s.log.append(unfollow(a1, 'stranger', t + 10, 'k4'))
          s.log.append(unfollow(a1, 'stranger2', t + 100, 'k5'))
          s.log.append(follow(a2, 'new', t + 100, 'k6', 'qrscene_1'))
          await s.log.flush()
          assert.deepEqual(await s.log.followers({ account: a1, since: t + 100 }), [
            { account: a1, scene: '1', followed: 1, stillFollowing: 1, unfollowed: 0 },
            { account: a1, scene: null, followed: 0, stillFollowing: 0, unfollowed: 1 },
          ])
          assert.deepEqual(await s.log.followers({ account: a1 }), [
            { account: a1, scene: '1', followed: 2, stillFollowing: 1, unfollowed: 1 },
            { account: a1, scene: null, followed: 0, stillFollowing: 0, unfollowed: 2 },
          ])
          assert.deepEqual(await s.log.followers({ account: a2, since: t + 101 }), [])
          const both = (await s.log.followers({ since: t + 100 })).filter((f) => f.account === a1 || f.account === a2)
          assert.deepEqual(both, [
            // Ties: by account.
            ...[a1, a2].sort().map((account) => ({ account, scene: '1', followed: 1, stillFollowing: 1, unfollowed: 0 })),
            { account: a1, scene: null, followed: 0, stillFollowing: 0, unfollowed: 1 },
          ])
        }))

      it("a scene of any text (a push's EventKey may hold a control character) is its own group, apart from the unknown unfollows", () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const t = c.now()
          s.log.append(unfollow(acct, 'stranger', t + 1, 'k1'))
          s.log.append(follow(acct, 'alice', t + 2, 'k2', 'qrscene_\u0001'))
          await s.log.flush()
          assert.deepEqual(await s.log.followers({ account: acct }), [
            { account: acct, scene: '\u0001', followed: 1, stillFollowing: 1, unfollowed: 0 },
            { account: acct, scene: null, followed: 0, stillFollowing: 0, unfollowed: 1 },
          ])
        }))

      it('prune keeps the counts (the users who left before the cut are folded into them)', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const t = c.now()
          s.log.append(follow(acct, 'alice', t + 1, 'k1', 'qrscene_7'))
          s.log.append(follow(acct, 'bob', t + 2, 'k2', 'qrscene_7'))
          s.log.append(unfollow(acct, 'bob', t + 3, 'k3'))
          await s.log.flush()
          assert.equal(await s.log.prune(t + 1_000), 3)
          assert.deepEqual(await s.log.query({ account: acct }), [])
          assert.deepEqual(await s.log.followers({ account: acct }), [{ account: acct, scene: '7', followed: 2, stillFollowing: 1, unfollowed: 1 }])
        }))

      it('prune folds the users who unfollowed before the cut into counts per UTC day; followers() counts the same, since takes whole folded days', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const t = c.now()
          const day0 = t - (t % DAY)
          const at = (day: number, hour: number) => day0 + day * DAY + hour * 3_600_000
          for (const e of [
            follow(acct, 'alice', at(0, 1), 'k1', 'qrscene_7'),
            follow(acct, 'bob', at(0, 2), 'k2', 'qrscene_7'),
            // Bob is folded under the day of his follow, day 0; the stranger under her unfollow's, day 1.
            unfollow(acct, 'bob', at(1, 1), 'k3'),
            unfollow(acct, 'stranger', at(1, 2), 'k4'),
            follow(acct, 'carol', at(1, 3), 'k5', ''),
            unfollow(acct, 'carol', at(2, 1), 'k6'),
            // Dave leaves after the cut: his row stays until a later prune.
            follow(acct, 'dave', at(2, 2), 'k7', 'qrscene_7'),
            unfollow(acct, 'dave', at(2, 3), 'k8'),
          ]) s.log.append(e)
          await s.log.flush()
          const counted = await s.log.followers({ account: acct })
          assert.deepEqual(counted, [
            { account: acct, scene: '7', followed: 3, stillFollowing: 1, unfollowed: 2 },
            { account: acct, scene: '', followed: 1, stillFollowing: 0, unfollowed: 1 },
            { account: acct, scene: null, followed: 0, stillFollowing: 0, unfollowed: 1 },
          ])
          await s.log.prune(at(2, 2))
          assert.deepEqual(await s.log.followers({ account: acct }), counted)
          // A folded user counts on the whole day they are filed under: Carol followed and the stranger
          // unfollowed before 05:00 on day 1, and count; Bob's day 0 does not. Alice and Dave are rows still.
          assert.deepEqual(await s.log.followers({ account: acct, since: at(1, 5) }), [
            { account: acct, scene: '', followed: 1, stillFollowing: 0, unfollowed: 1 },
            { account: acct, scene: '7', followed: 1, stillFollowing: 0, unfollowed: 1 },
            { account: acct, scene: null, followed: 0, stillFollowing: 0, unfollowed: 1 },
          ])
          assert.deepEqual(await s.log.followers({ account: acct, since: at(2, 0) }), [{ account: acct, scene: '7', followed: 1, stillFollowing: 0, unfollowed: 1 }])
          // Pruning again at the same cut changes nothing.
          await s.log.prune(at(2, 2))
          assert.deepEqual(await s.log.followers({ account: acct }), counted)
          // Bob, folded, follows again: the store no longer knows him, so he is a new follower.
          s.log.append(follow(acct, 'bob', at(2, 4), 'k9', 'qrscene_spring'))
          await s.log.flush()
          assert.deepEqual(await s.log.followers({ account: acct }), [
            { account: acct, scene: '7', followed: 3, stillFollowing: 1, unfollowed: 2 },
            { account: acct, scene: '', followed: 1, stillFollowing: 0, unfollowed: 1 },
            { account: acct, scene: 'spring', followed: 1, stillFollowing: 1, unfollowed: 0 },
            { account: acct, scene: null, followed: 0, stillFollowing: 0, unfollowed: 1 },
          ])
        }))

      it('foldFollowers folds every user who unfollowed before its cut, whatever the log keeps (log.purgeOnUnsubscribe, the log off)', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const t = c.now()
          s.log.append(follow(acct, 'alice', t + 1, 'k1', 'qrscene_7'))
          s.log.append(unfollow(acct, 'alice', t + 2, 'k2'))
          s.log.append(follow(acct, 'bob', t + 3, 'k3', 'qrscene_7'))
          s.log.append(unfollow(acct, 'erin', t + 4, 'k4'))
          s.log.append(follow(acct, 'frank', t + 5, 'k5', 'qrscene_7'))
          s.log.append(unfollow(acct, 'frank', t + 20, 'k6'))
          await s.log.flush()
          const counted = await s.log.followers({ account: acct })
          assert.equal(await s.log.foldFollowers(t + 10), 2)
          assert.deepEqual(await s.log.followers({ account: acct }), counted)
          assert.equal(await s.log.foldFollowers(t + 10), 0)
          assert.equal(await s.log.foldFollowers(t + 21), 1)
          assert.deepEqual(await s.log.followers({ account: acct }), counted)
          // The log's entries are the log's: they age out with its own prune.
          assert.equal((await s.log.query({ account: acct })).length, 6)
        }))
    })

    describe('outbox', () => {
      it('record/update/list', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const mine = async (status?: 'pending' | 'sent' | 'failed') =>
            (await s.outbox.list(status)).filter((e) => e.account === acct)
          const e1 = { account: acct, openId: 'o1', reply: { type: 'text', content: '晚到的回复' }, attempts: 0, status: 'pending' as const, at: c.now() }
          const e2 = { account: acct, openId: 'o2', reply: { type: 'image', mediaId: 'M' }, attempts: 1, status: 'pending' as const, at: c.now() + 1 }
          const id1 = await s.outbox.record(e1)
          const id2 = await s.outbox.record(e2)
          assert.ok(Number.isInteger(id1) && Number.isInteger(id2))
          assert.ok(id2 > id1)
          assert.deepEqual(await mine(), [{ ...e1, id: id1 }, { ...e2, id: id2 }])
          await s.outbox.update(id1, { status: 'failed', attempts: 3, lastError: '45015 response out of time limit' })
          await s.outbox.update(id2, { status: 'sent', attempts: 2 })
          assert.deepEqual(await mine('failed'), [{ ...e1, id: id1, status: 'failed', attempts: 3, lastError: '45015 response out of time limit' }])
          assert.deepEqual(await mine('sent'), [{ ...e2, id: id2, status: 'sent', attempts: 2 }])
          assert.deepEqual(await mine('pending'), [])
          await s.outbox.update(id1 + id2 + 1000, { status: 'sent' })
        }))

      it('prune deletes finished entries made before the cut, never a pending one', () =>
        withStore(async (s, c) => {
          const acct = `a-${uid()}`
          const mine = async () => (await s.outbox.list()).filter((e) => e.account === acct).map((e) => e.openId)
          const t0 = c.now()
          const entry = (openId: string, status: 'pending' | 'sent' | 'failed', at: number) =>
            s.outbox.record({ account: acct, openId, reply: { type: 'text', content: openId }, attempts: 1, status, at })
          await entry('old-sent', 'sent', t0)
          await entry('old-failed', 'failed', t0 + 1)
          await entry('old-pending', 'pending', t0 + 2)
          await entry('new-sent', 'sent', t0 + 10)
          await entry('new-failed', 'failed', t0 + 11)
          assert.equal(await s.outbox.prune(t0 + 10), 2)
          assert.deepEqual(await mine(), ['old-pending', 'new-sent', 'new-failed'])
          assert.equal(await s.outbox.prune(t0 + 10), 0)
          assert.equal(await s.outbox.prune(t0 + 1_000), 2)
          assert.deepEqual(await mine(), ['old-pending'], 'a late reply still being sent is kept, however old')
        }))
    })

    describe('lifecycle', () => {
      it('healthy while open; close twice is safe; not healthy after close', async () => {
        const clock = createClock(realTime)
        const s = await make({ now: clock.now })
        assert.equal(await s.healthy(), true)
        assert.ok(['memory', 'sqlite', 'redis'].includes(s.kind))
        await s.close()
        await s.close()
        assert.equal(await s.healthy(), false)
      })
    })
  })
}
