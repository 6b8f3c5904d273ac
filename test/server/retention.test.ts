/**
 * What a running engine deletes by itself: message-log entries and finished late replies (sent or failed,
 * with the reply's text and the user's OpenID) older than log.retentionDays; with the log off, finished late
 * replies at once. A late reply still being sent stays, however old. Until this test the outbox grew forever.
 * The followers table's rows of users who unfollowed before the same cut are folded into anonymous counts
 * (follower_days); with log.purgeOnUnsubscribe or the log off, every unfollowed row at once. Rows of users
 * still following stay. Until then they were kept forever.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { loadConfig } from '../../core/config/load-config.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { startRuntime } from '../../core/runtime.ts'
import { SQLITE_FILE_NAME } from '../../core/store/open-store.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import { until } from '../support/until.ts'

const DAY = 86_400_000

async function seededRuntime(retentionDays: number, purgeOnUnsubscribe = false) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-retention-'))
  const dataDir = path.join(root, 'data')
  for (const d of [dataDir, path.join(root, 'rules'), path.join(root, 'plugins')]) mkdirSync(d)
  const now = Date.now()
  const seed = openSqliteStore({ file: path.join(dataDir, SQLITE_FILE_NAME) })
  const late = (openId: string, status: 'pending' | 'sent' | 'failed', at: number) =>
    seed.outbox.record({ account: 'plain', openId, reply: { type: 'text', content: openId }, attempts: 1, status, at })
  await late('sent-40-days-ago', 'sent', now - 40 * DAY)
  await late('failed-40-days-ago', 'failed', now - 40 * DAY)
  await late('pending-40-days-ago', 'pending', now - 40 * DAY)
  await late('sent-a-minute-ago', 'sent', now - 60_000)
  const logEntry = (openId: string, at: number) =>
    seed.log.append({ at, account: 'plain', openId, kind: 'text', msgKey: `k-${openId}`, handledBy: 'rule', latencyMs: 1, outcome: 'replied' })
  logEntry('logged-40-days-ago', now - 40 * DAY)
  logEntry('logged-a-minute-ago', now - 60_000)
  const followEvent = (openId: string, kind: 'subscribe' | 'unsubscribe', at: number) =>
    seed.log.append({ at, account: 'plain', openId, kind, msgKey: `${kind}-${openId}`, handledBy: 'none', latencyMs: 1, outcome: 'no_reply' })
  followEvent('left-40-days-ago', 'unsubscribe', now - 40 * DAY)
  followEvent('left-a-minute-ago', 'unsubscribe', now - 60_000)
  followEvent('following-since-40-days', 'subscribe', now - 40 * DAY)
  await seed.close()
  const file = path.join(dataDir, SQLITE_FILE_NAME)
  const loaded = loadConfig({
    root,
    env: {},
    overrides: {
      dataDir,
      defaultAccount: 'plain',
      accounts: [{ id: 'plain', token: 'plaintoken', appId: 'wxplain000000001', mode: 'plaintext' }],
      log: { retentionDays, purgeOnUnsubscribe },
    },
  })
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.reason)
  const runtime = await startRuntime(loaded.value, { listen: false, log: createMemoryLogger('silent').logger, pruneFirstAfterMs: 50 })
  return {
    runtime,
    outbox: async () => (await runtime.store.outbox.list()).map((e) => e.openId),
    logged: async () => (await runtime.store.log.query({})).map((e) => e.openId).sort(),
    followers: () => runtime.store.log.followers(),
    /** The OpenIDs in the followers table, read from the file. */
    followerRows(): string[] {
      const raw = new Database(file, { readonly: true })
      try {
        return raw.prepare('SELECT open_id FROM followers ORDER BY open_id').pluck().all() as string[]
      } finally {
        raw.close()
      }
    },
    async close() {
      await runtime.close()
      rmSync(root, { recursive: true, force: true })
    },
  }
}

test('entries older than log.retentionDays go: finished late replies and log entries; pending late replies stay', async () => {
  const e = await seededRuntime(30)
  try {
    await until('the first prune', async () => (await e.outbox()).length === 2, 5_000)
    assert.deepEqual(await e.outbox(), ['pending-40-days-ago', 'sent-a-minute-ago'])
    await until('the log prune', async () => (await e.logged()).length === 2, 5_000)
    assert.deepEqual(await e.logged(), ['left-a-minute-ago', 'logged-a-minute-ago'])
  } finally {
    await e.close()
  }
})

test('with the message log off, finished late replies and what the log kept while it was on go at the first prune; pending late replies stay', async () => {
  const e = await seededRuntime(0)
  try {
    await until('the first prune', async () => (await e.outbox()).length === 1, 5_000)
    assert.deepEqual(await e.outbox(), ['pending-40-days-ago'])
    // Kept for good before: no prune of the log came while it was off.
    await until('the log prune', async () => (await e.logged()).length === 0, 5_000)
  } finally {
    await e.close()
  }
})

/** Whatever is folded, followers() counts the seeded three: two left (one never seen following), one follows. */
const SEEDED_FOLLOWERS = [
  { account: 'plain', scene: '', followed: 1, stillFollowing: 1, unfollowed: 0 },
  { account: 'plain', scene: null, followed: 0, stillFollowing: 0, unfollowed: 2 },
]

test('the followers who unfollowed before log.retentionDays are folded into counts; newer ones and those still following stay', async () => {
  const e = await seededRuntime(30)
  try {
    await until('the fold', async () => e.followerRows().length === 2, 5_000)
    assert.deepEqual(e.followerRows(), ['following-since-40-days', 'left-a-minute-ago'])
    assert.deepEqual(await e.followers(), SEEDED_FOLLOWERS)
  } finally {
    await e.close()
  }
})

test('with log.purgeOnUnsubscribe, every follower who unfollowed is folded at the first prune, whatever the age', async () => {
  const e = await seededRuntime(30, true)
  try {
    await until('the fold', async () => e.followerRows().length === 1, 5_000)
    assert.deepEqual(e.followerRows(), ['following-since-40-days'])
    assert.deepEqual(await e.followers(), SEEDED_FOLLOWERS)
    // The log itself keeps its own retention.
    await until('the log prune', async () => (await e.logged()).length === 2, 5_000)
    assert.deepEqual(await e.logged(), ['left-a-minute-ago', 'logged-a-minute-ago'])
  } finally {
    await e.close()
  }
})

test('with the message log off, the followers who unfollowed while it was on are folded at the first prune', async () => {
  const e = await seededRuntime(0)
  try {
    await until('the fold', async () => e.followerRows().length === 1, 5_000)
    assert.deepEqual(e.followerRows(), ['following-since-40-days'])
    assert.deepEqual(await e.followers(), SEEDED_FOLLOWERS)
  } finally {
    await e.close()
  }
})
