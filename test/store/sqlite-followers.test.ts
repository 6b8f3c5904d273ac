/**
 * The SQLite store's followers table (sqlite-schema.ts, user_version 4), kept by the message log's batch
 * (sqlite-log-batch.cjs): the same entries written again leave it as it was (a journal replayed), it agrees
 * with the memory store's rules (store-shared.ts nextFollowerState), a crashed engine's journal is counted
 * once, pruning the log folds the rows of users who left into follower_days (user_version 5) and the counts
 * stay, the memory store folds alike, and files from before either table are upgraded. The behaviour every
 * store shares is in store-contract.ts.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { prepareLogBatch } from '../../core/store/sqlite-log-batch.cjs'
import { SCHEMA_MIGRATIONS, SCHEMA_VERSION } from '../../core/store/sqlite-schema.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import { nextFollowerState, sessionKeyOf, type FollowerState } from '../../core/store/store-shared.ts'
import type { MessageLogEntry } from '../../core/store/store.ts'

const dir = mkdtempSync(join(tmpdir(), 'wxengine-followers-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const freshFile = (label: string) => join(dir, `${label}-${n++}.db`)

const T0 = 1_700_000_000_000
const HOUR = 3_600_000
const DAY = 24 * HOUR
const follow = (openId: string, at: number, msgKey: string, eventKey?: string): MessageLogEntry => ({
  at, account: 'acct', openId, kind: 'subscribe', msgKey, handledBy: 'welcome', latencyMs: 1, outcome: 'replied',
  ...(eventKey !== undefined ? { summary: eventKey } : {}),
})
const unfollow = (openId: string, at: number, msgKey: string): MessageLogEntry => ({
  at, account: 'acct', openId, kind: 'unsubscribe', msgKey, handledBy: 'none', latencyMs: 1, outcome: 'no_reply',
})

interface Row {
  account: string
  open_id: string
  following: number
  first_followed_at: number | null
  followed_at: number | null
  unfollowed_at: number | null
  scene: string
}

function rawDb(): Database.Database {
  const db = new Database(freshFile('raw'))
  for (const m of SCHEMA_MIGRATIONS) db.exec(m)
  return db
}

function rows(db: Database.Database): Row[] {
  return db.prepare('SELECT account, open_id, following, first_followed_at, followed_at, unfollowed_at, scene FROM followers ORDER BY account, open_id').all() as Row[]
}

/**
 * A user's follows and unfollows as a real log has them: alternating, some messages with a second entry
 * (answered late), later; `step` ms apart.
 */
function randomHistory(random: () => number, users: string[], length: number, step = 1): MessageLogEntry[] {
  const out: MessageLogEntry[] = []
  const following = new Map<string, boolean>()
  const again: MessageLogEntry[] = []
  for (let i = 0; i < length; i++) {
    const at = T0 + i * step
    // A message's second entry, a few entries after its first.
    if (again.length > 0 && random() < 0.3) {
      out.push({ ...again.shift()!, at, outcome: 'late' })
      continue
    }
    const user = users[Math.floor(random() * users.length)]
    // Now and then the user's state is not what the log last said (a follow before the engine, a lost entry).
    const follows = random() < 0.1 ? random() < 0.5 : !(following.get(user) ?? random() < 0.5)
    following.set(user, follows)
    const scenes = ['qrscene_1001', 'qrscene_2002', '', undefined]
    const e = follows ? follow(user, at, `k${i}`, scenes[Math.floor(random() * scenes.length)]) : unfollow(user, at, `k${i}`)
    out.push(e)
    if (random() < 0.3) again.push(e)
  }
  return out
}

/** A small seeded generator (mulberry32), so a failure can be run again. */
function seeded(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('followers table (SQLite)', () => {
  it('written again (a journal replayed, or a batch split otherwise), the same entries leave the same table; the memory store agrees', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = seeded(seed)
      const history = randomHistory(random, ['u1', 'u2', 'u3'], 4 + Math.floor(random() * 20))

      const once = rawDb()
      prepareLogBatch(once)(history)
      const expected = rows(once)
      once.close()

      // Again, in batches of other sizes, and then all of it once more on top: what recovery would do if a
      // journal's range were ever ingested twice.
      const replayed = rawDb()
      const write = prepareLogBatch(replayed)
      const cut = 1 + Math.floor(random() * history.length)
      write(history.slice(0, cut))
      write(history.slice(cut))
      assert.deepEqual(rows(replayed), expected, `seed ${seed}: in two batches`)
      write(history)
      assert.deepEqual(rows(replayed), expected, `seed ${seed}: replayed`)
      const from = Math.floor(random() * history.length)
      write(history.slice(from))
      assert.deepEqual(rows(replayed), expected, `seed ${seed}: its last ${history.length - from} entries replayed`)
      replayed.close()

      // The memory store's rules give the same rows.
      const memory = new Map<string, FollowerState & { openId: string }>()
      const seen = new Set<string>()
      for (const e of history) {
        if (seen.has(e.msgKey)) continue
        seen.add(e.msgKey)
        const next = nextFollowerState(memory.get(sessionKeyOf(e.account, e.openId)), e)
        if (next) memory.set(sessionKeyOf(e.account, e.openId), { ...next, openId: e.openId })
      }
      const asRows = [...memory.values()]
        .sort((a, b) => (a.openId < b.openId ? -1 : 1))
        .map((s) => ({
          account: s.account, open_id: s.openId, following: s.following ? 1 : 0, first_followed_at: s.firstFollowedAt,
          followed_at: s.followedAt, unfollowed_at: s.unfollowedAt, scene: s.scene,
        }))
      assert.deepEqual(asRows, expected, `seed ${seed}: memory store`)
    }
  })

  it('follow, unfollow and follow again: the first follow is kept, the latest one and its scene counted', () => {
    const db = rawDb()
    const write = prepareLogBatch(db)
    write([follow('alice', T0 + 1, 'k1', 'qrscene_1001'), unfollow('alice', T0 + 2, 'k2')])
    assert.deepEqual(rows(db), [{ account: 'acct', open_id: 'alice', following: 0, first_followed_at: T0 + 1, followed_at: T0 + 1, unfollowed_at: T0 + 2, scene: '1001' }])
    write([follow('alice', T0 + 3, 'k3', 'qrscene_spring'), unfollow('bob', T0 + 4, 'k4')])
    assert.deepEqual(rows(db), [
      { account: 'acct', open_id: 'alice', following: 1, first_followed_at: T0 + 1, followed_at: T0 + 3, unfollowed_at: null, scene: 'spring' },
      { account: 'acct', open_id: 'bob', following: 0, first_followed_at: null, followed_at: null, unfollowed_at: T0 + 4, scene: '' },
    ])
    // Bob, known only by his unfollow, follows: his first follow is this one.
    write([follow('bob', T0 + 5, 'k5', 'qrscene_other')])
    assert.deepEqual(rows(db)[1], { account: 'acct', open_id: 'bob', following: 1, first_followed_at: T0 + 5, followed_at: T0 + 5, unfollowed_at: null, scene: 'other' })
    db.close()
  })

  it("a crashed engine's journal is counted once: at the recovery, and not again at the next open", async () => {
    const file = freshFile('recover')
    const first = openSqliteStore({ file, now: () => T0 })
    first.log.append(follow('alice', T0 + 1, 'k1', 'qrscene_1001'))
    await first.log.flush()
    await first.close()
    // What a crashed writer leaves: its row (committed up to the first line, which is in the table) and its file.
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    await once(child, 'exit')
    const dead = child.pid!
    const line = (...es: MessageLogEntry[]) => `${JSON.stringify(es)}\n`
    const inTable = line(follow('alice', T0 + 1, 'k1', 'qrscene_1001'))
    const rw = new Database(file)
    rw.prepare('INSERT INTO log_journals (name, pid, committed) VALUES (?, ?, ?)').run(`${dead}-x`, dead, Buffer.byteLength(inTable))
    rw.close()
    mkdirSync(`${file}-msglog`, { recursive: true })
    writeFileSync(
      join(`${file}-msglog`, `${dead}-x.jsonl`),
      inTable + line(unfollow('alice', T0 + 2, 'k2'), follow('bob', T0 + 3, 'k3', 'qrscene_1001')) + line(follow('carol', T0 + 4, 'k4')),
    )

    const expected = [
      { account: 'acct', scene: '1001', followed: 2, stillFollowing: 1, unfollowed: 1 },
      { account: 'acct', scene: '', followed: 1, stillFollowing: 1, unfollowed: 0 },
    ]
    const recovered = openSqliteStore({ file, now: () => T0 })
    assert.deepEqual(await recovered.log.followers(), expected)
    await recovered.close()
    const again = openSqliteStore({ file, now: () => T0 })
    assert.deepEqual(await again.log.followers(), expected)
    await again.close()
  })
})

describe('pruning the log', () => {
  it('keeps the followers; forgets the keys of follows older than the cut, not the newer ones', async () => {
    const file = freshFile('prune')
    const s = openSqliteStore({ file, now: () => T0 })
    s.log.append(follow('alice', T0 + 1, 'k1', 'qrscene_1001'))
    s.log.append(follow('bob', T0 + 100, 'k2', 'qrscene_1001'))
    assert.equal(await s.log.prune(T0 + 50), 1)
    // Bob's message ends later (answered late): his key is still known, so it is not a second follow.
    s.log.append({ ...follow('bob', T0 + 200, 'k2', 'qrscene_1001'), outcome: 'late' })
    assert.deepEqual(await s.log.followers({ since: T0 + 101 }), [])
    assert.deepEqual(await s.log.followers(), [{ account: 'acct', scene: '1001', followed: 2, stillFollowing: 2, unfollowed: 0 }])
    await s.close()
    const raw = new Database(file, { readonly: true })
    assert.deepEqual(raw.prepare('SELECT msg_key FROM follow_events').pluck().all(), ['k2'])
    raw.close()
  })
})

describe('folding the users who left (follower_days)', () => {
  it('prune deletes the rows of users who unfollowed before the cut, OpenIDs and all; their counts stay, per account, scene and UTC day', async () => {
    const file = freshFile('fold')
    const s = openSqliteStore({ file, now: () => T0 })
    const day0 = T0 - (T0 % DAY)
    s.log.append(follow('alice', day0 + HOUR, 'k1', 'qrscene_1001'))
    s.log.append(follow('bob', day0 + 2 * HOUR, 'k2', 'qrscene_1001'))
    s.log.append(unfollow('bob', day0 + DAY + HOUR, 'k3'))
    s.log.append(unfollow('stranger', day0 + DAY + 2 * HOUR, 'k4'))
    s.log.append(follow('carol', day0 + DAY + 3 * HOUR, 'k5', 'qrscene_1001'))
    s.log.append(unfollow('carol', day0 + 2 * DAY + HOUR, 'k6'))
    const counted = await s.log.followers()
    assert.deepEqual(counted, [
      { account: 'acct', scene: '1001', followed: 3, stillFollowing: 1, unfollowed: 2 },
      { account: 'acct', scene: null, followed: 0, stillFollowing: 0, unfollowed: 1 },
    ])
    assert.equal(await s.log.prune(day0 + 2 * DAY), 5)
    assert.deepEqual(await s.log.followers(), counted)
    await s.close()

    const raw = new Database(file, { readonly: true })
    // Alice still follows; Carol left after the cut and is folded at a later prune.
    assert.deepEqual(raw.prepare('SELECT open_id FROM followers ORDER BY open_id').pluck().all(), ['alice', 'carol'])
    // Bob under the day of his follow, the stranger (never seen following) under her unfollow's.
    assert.deepEqual(raw.prepare('SELECT account, unknown, scene, day, followed, unfollowed FROM follower_days ORDER BY day').all(), [
      { account: 'acct', unknown: 0, scene: '1001', day: day0, followed: 1, unfollowed: 1 },
      { account: 'acct', unknown: 1, scene: '', day: day0 + DAY, followed: 0, unfollowed: 1 },
    ])
    // Their log entries went with the same cut.
    assert.equal(raw.prepare("SELECT count(*) FROM message_log WHERE open_id IN ('bob', 'stranger')").pluck().get(), 0)
    raw.close()
  })

  it('the memory store and SQLite agree over random histories with prunes and folds at random cuts between batches; neither changes a count', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const random = seeded(seed)
      // Entries 5 hours apart: a history spans days, so folded users land on several.
      const history = randomHistory(random, ['u1', 'u2', 'u3', 'u4'], 4 + Math.floor(random() * 30), 5 * HOUR)
      const last = history[history.length - 1].at
      const sqlite = openSqliteStore({ file: ':memory:', now: () => T0 })
      const memory = createMemoryStore({ now: () => T0 })
      try {
        for (let i = 0; i < history.length; ) {
          const batch = history.slice(i, i + 1 + Math.floor(random() * 6))
          i += batch.length
          for (const e of batch) {
            sqlite.log.append(e)
            memory.log.append(e)
          }
          await sqlite.log.flush()
          if (random() < 0.5) {
            const counted = await memory.log.followers()
            // A cut among the entries so far, or past them all (log.purgeOnUnsubscribe, the log off).
            const cut = random() < 0.2 ? history[i - 1].at + 1 : T0 + Math.floor(random() * (history[i - 1].at - T0 + 1))
            if (random() < 0.5) assert.equal(await sqlite.log.prune(cut), await memory.log.prune(cut), `seed ${seed}: pruned`)
            else assert.equal(await sqlite.log.foldFollowers(cut), await memory.log.foldFollowers(cut), `seed ${seed}: folded`)
            assert.deepEqual(await memory.log.followers(), counted, `seed ${seed}: a fold at ${cut - T0} changed the counts`)
          }
          for (let k = 0; k < 3; k++) {
            const q = {
              ...(random() < 0.5 ? { since: T0 + Math.floor(random() * (last - T0 + DAY)) } : {}),
              ...(random() < 0.3 ? { account: random() < 0.5 ? 'acct' : 'other' } : {}),
            }
            assert.deepEqual(await sqlite.log.followers(q), await memory.log.followers(q), `seed ${seed}: ${JSON.stringify(q)} after ${i} entries`)
          }
        }
      } finally {
        await sqlite.close()
        await memory.close()
      }
    }
  })
})

describe('the follower_days table in a file from before it (user_version 4)', () => {
  it('is added by the upgrade, empty; the rows there count as before, and the next prune folds them', async () => {
    const file = freshFile('v4')
    const old = new Database(file)
    old.pragma('journal_mode = WAL')
    for (const m of SCHEMA_MIGRATIONS.slice(0, 4)) old.exec(m)
    old.pragma('user_version = 4')
    // Written by the batch as it was at user_version 4 (it still writes only the followers table).
    prepareLogBatch(old)([
      follow('alice', T0 + 1, 'k1', 'qrscene_1001'),
      follow('bob', T0 + 2, 'k2', 'qrscene_1001'),
      unfollow('bob', T0 + 3, 'k3'),
      unfollow('stranger', T0 + 4, 'k4'),
    ])
    old.close()

    const expected = [
      { account: 'acct', scene: '1001', followed: 2, stillFollowing: 1, unfollowed: 1 },
      { account: 'acct', scene: null, followed: 0, stillFollowing: 0, unfollowed: 1 },
    ]
    const s = openSqliteStore({ file, now: () => T0 })
    assert.deepEqual(await s.log.followers(), expected)
    assert.equal(await s.log.prune(T0 + 10), 4)
    assert.deepEqual(await s.log.followers(), expected)
    await s.close()
    const after = new Database(file, { readonly: true })
    assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION)
    assert.deepEqual(after.prepare('SELECT open_id FROM followers').pluck().all(), ['alice'])
    assert.equal(after.prepare('SELECT sum(followed) + sum(unfollowed) FROM follower_days').pluck().get(), 3)
    after.close()
  })
})

describe('the followers table in a file from before it (user_version 3)', () => {
  it('is added by the upgrade, empty: follows logged before it are not counted; those after it, and a journal left by the old engine, are', async () => {
    const file = freshFile('v3')
    const old = new Database(file)
    old.pragma('journal_mode = WAL')
    for (const m of SCHEMA_MIGRATIONS.slice(0, 3)) old.exec(m)
    old.pragma('user_version = 3')
    // A follow the old version logged.
    old.prepare(`INSERT INTO message_log (at, account, open_id, kind, msg_key, handled_by, summary, latency_ms, outcome)
      VALUES (?, 'acct', 'early', 'subscribe', 'k0', 'welcome', 'qrscene_1001', 1, 'replied')`).run(T0)
    // And a journal the old engine left when it was killed: written by the new version's batch, so counted.
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    await once(child, 'exit')
    old.prepare('INSERT INTO log_journals (name, pid, committed) VALUES (?, ?, 0)').run(`${child.pid}-old`, child.pid)
    old.close()
    mkdirSync(`${file}-msglog`, { recursive: true })
    writeFileSync(join(`${file}-msglog`, `${child.pid}-old.jsonl`), `${JSON.stringify([follow('journaled', T0 + 1, 'k1', 'qrscene_1001')])}\n`)

    const s = openSqliteStore({ file, now: () => T0 })
    s.log.append(follow('later', T0 + 2, 'k2', 'qrscene_1001'))
    s.log.append(unfollow('early', T0 + 3, 'k3'))
    assert.deepEqual(await s.log.followers(), [
      { account: 'acct', scene: '1001', followed: 2, stillFollowing: 2, unfollowed: 0 },
      // The follow before the upgrade is not in the table: its unfollow is one of a user never seen following.
      { account: 'acct', scene: null, followed: 0, stillFollowing: 0, unfollowed: 1 },
    ])
    // The log itself is untouched.
    assert.deepEqual((await s.log.query({ account: 'acct' })).map((e) => e.msgKey), ['k3', 'k2', 'k1', 'k0'])
    await s.close()
    const after = new Database(file, { readonly: true })
    assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION)
    assert.equal(SCHEMA_VERSION, 6)
    after.close()
  })
})
