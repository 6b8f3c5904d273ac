/**
 * Session lookup cost in the SQLite store: 1,000 stored sessions (baseline) vs 1,000,000, same run.
 * Every message starts with a session lookup (the session lock is checked before any rule), so this is
 * on the path of every reply.
 *
 * Measured per size, as `await store.sessions.get()` (the real call, promise included), median of ROUNDS
 * rounds that alternate between the two sizes:
 *   cold   cache bypassed (sessionCacheSize: 0): a random stored user each time -> one indexed SELECT
 *   miss   cache bypassed: a user with no session (the common case) -> one indexed SELECT finding nothing
 *   live   default cache, 1,000 users in a dialogue, each looked up before -> one SELECT on pages in memory
 *          (the store caches only "no session", so that a session ended by another process is not served)
 *   none   default cache, 1,000 users without a session, each looked up before -> served from the LRU
 *
 * Run: npx tsx bench/sessions.bench.ts   (BENCH_BIG=200000 to shrink the big table)
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqliteStore } from '../core/store/sqlite-store.ts'
import type { Store } from '../core/store/store.ts'
import { median } from './support/median.ts'

const SMALL = 1_000
const BIG = Number(process.env.BENCH_BIG ?? 1_000_000)
const INSERT_BATCH = 50_000
const HOT_USERS = 1_000
const COLD_OPS = 100_000
const WARM_OPS = 200_000
/** The same number of users without a session as `hot` users with one. */
const IDLE_USERS = HOT_USERS
const ROUNDS = 5
const ACCOUNT = 'gh_0123456789ab'
const EXPIRES = Date.now() + 365 * 86_400_000

/** Deterministic PRNG (mulberry32) so both sizes and every run look up the same kind of keys. */
function createRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** OpenIDs look like `o6_bmjrPTlm6_2sgVt7hMZOPfL2M`: 28 characters; here user i always gets the same one. */
function openIdOf(i: number): string {
  const rnd = createRandom(i * 2654435761)
  let s = 'o'
  for (let k = 0; k < 27; k++) s += ALPHABET[Math.floor(rnd() * 64)]
  return s
}

async function fill(file: string, count: number): Promise<number> {
  // The store creates the schema; the rows go in through one raw connection in large transactions.
  await openSqliteStore({ file }).close()
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  const insert = db.prepare('INSERT INTO sessions (account, open_id, plugin, state, expires_at) VALUES (?, ?, ?, ?, ?)')
  const insertMany = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(ACCOUNT, openIdOf(i), 'quiz', JSON.stringify({ step: i % 7, score: i % 100 }), EXPIRES)
  })
  const t0 = performance.now()
  for (let from = 0; from < count; from += INSERT_BATCH) insertMany(from, Math.min(count, from + INSERT_BATCH))
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  return performance.now() - t0
}

async function timeLookups(store: Store, keys: string[]): Promise<number> {
  let found = 0
  const t0 = process.hrtime.bigint()
  for (const k of keys) if (await store.sessions.get(ACCOUNT, k)) found++
  const ns = Number(process.hrtime.bigint() - t0) / keys.length
  // Reading `found` keeps the lookups from being optimised away and checks the keys hit what was meant.
  return found === -1 ? NaN : ns
}

interface Subject {
  size: number
  insertMs: number
  fileMb: number
  bypass: Store
  cached: Store
  stored: () => string[]
  absent: () => string[]
  hot: string[]
  idle: string[]
}

async function prepare(dir: string, size: number): Promise<Subject> {
  const file = join(dir, `sessions-${size}.db`)
  const insertMs = await fill(file, size)
  const rnd = createRandom(size)
  const randomStored = () => openIdOf(Math.floor(rnd() * size))
  let absentSeq = 0
  const hot = Array.from({ length: HOT_USERS }, randomStored)
  const idle = Array.from({ length: IDLE_USERS }, (_, n) => `o-idle-${n}`)
  const cached = openSqliteStore({ file })
  await timeLookups(cached, hot)
  await timeLookups(cached, idle)
  return {
    size,
    insertMs,
    fileMb: statSync(file).size / 1e6,
    bypass: openSqliteStore({ file, sessionCacheSize: 0 }),
    cached,
    stored: () => Array.from({ length: COLD_OPS }, randomStored),
    absent: () => Array.from({ length: COLD_OPS }, () => `o-nobody-${absentSeq++}`),
    hot: Array.from({ length: WARM_OPS }, (_, n) => hot[n % HOT_USERS]),
    idle: Array.from({ length: WARM_OPS }, (_, n) => idle[n % IDLE_USERS]),
  }
}

async function main(): Promise<void> {
  const started = performance.now()
  const dir = mkdtempSync(join(tmpdir(), 'wxengine-bench-'))
  try {
    const subjects = [await prepare(dir, SMALL), await prepare(dir, BIG)]
    const results = subjects.map(() => ({ cold: [] as number[], miss: [] as number[], live: [] as number[], none: [] as number[] }))
    // Interleaved rounds, median reported: the machine is shared, so a noisy moment hits both sizes alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, s] of subjects.entries()) {
        results[i].cold.push(await timeLookups(s.bypass, s.stored()))
        results[i].miss.push(await timeLookups(s.bypass, s.absent()))
        results[i].live.push(await timeLookups(s.cached, s.hot))
        results[i].none.push(await timeLookups(s.cached, s.idle))
      }
    }
    const rows = subjects.map((s, i) => ({ ...s, cold: median(results[i].cold), miss: median(results[i].miss), live: median(results[i].live), none: median(results[i].none) }))
    for (const s of subjects) {
      await s.bypass.close()
      await s.cached.close()
    }
    const fmt = (x: number) => x.toFixed(0).padStart(8)
    console.log(`node ${process.version}, better-sqlite3 WAL + synchronous=NORMAL, median of ${ROUNDS} interleaved rounds`)
    console.log('stored sessions | insert ms | file MB | cold ns/op (cache bypassed) | miss ns/op (bypassed) | live ns/op (in a dialogue) | none ns/op (LRU)')
    for (const r of rows) {
      console.log(
        `${String(r.size).padStart(15)} | ${fmt(r.insertMs)}  | ${r.fileMb.toFixed(1).padStart(7)} | ${fmt(r.cold)}                    | ${fmt(r.miss)}              | ${fmt(r.live)}                  | ${fmt(r.none)}`,
      )
    }
    const [small, big] = rows
    const ratio = (a: number, b: number) => (a / b).toFixed(2)
    console.log(`ratio ${BIG}/${SMALL}: cold ${ratio(big.cold, small.cold)}x, miss ${ratio(big.miss, small.miss)}x, live ${ratio(big.live, small.live)}x, none ${ratio(big.none, small.none)}x`)
    console.log(`at ${BIG}: a user without a session from the cache ${ratio(big.miss, big.none)}x faster than from the table (miss/none)`)
    console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
