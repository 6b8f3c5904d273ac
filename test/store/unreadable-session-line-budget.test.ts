/**
 * A stored session that is not JSON (edited by hand, cut short on a failing disk) is dropped with an error
 * line, 'unreadable session dropped' (sqlite-store.ts, redis/redis-sessions.ts). Each user's comes once, but
 * a damaged table or a bad hand edit holds many: read as their users write, each wrote a line. The line is
 * budgeted (log/line-budget.ts) per account, as the engine's per-message lines are: a flood of 25 costs
 * LINES_PER_KEY lines and one count, and another account's first line is still written.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import { LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import type { Store } from '../../core/store/store.ts'
import { startRedisServer } from '../support/redis-server.ts'

const FLOOD = LINES_PER_KEY + 5
const DROPPED = 'unreadable session dropped'

/** Reads the flood's sessions and another account's one, and checks the lines they wrote. */
async function readAndCount(store: Store, log: ReturnType<typeof createMemoryLogger>): Promise<void> {
  for (let i = 0; i < FLOOD; i++) assert.equal(await store.sessions.get('acc', `user-${i}`), null)
  assert.equal(await store.sessions.get('other', 'user-x'), null)
  const dropped = log.lines.filter((l) => l.msg === DROPPED)
  assert.equal(dropped.filter((l) => l.account === 'acc').length, LINES_PER_KEY, 'the flood used its budget of lines')
  assert.deepEqual(dropped.filter((l) => l.account === 'other').map((l) => l.openId), ['user-x'], "another account's first line is written")
}

test('SQLite: a flood of unreadable sessions costs a budget of lines, not a line each', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-bad-sessions-'))
  const file = path.join(dir, 'wxengine.sqlite')
  try {
    await openSqliteStore({ file }).close()
    // The damage, as a hand edit leaves it: written past the store.
    const raw = new Database(file)
    const put = raw.prepare('INSERT INTO sessions (account, open_id, plugin, state, expires_at) VALUES (?, ?, ?, ?, ?)')
    const expiresAt = Date.now() + 3_600_000
    for (let i = 0; i < FLOOD; i++) put.run('acc', `user-${i}`, 'quiz', '{"step": 1', expiresAt)
    put.run('other', 'user-x', 'quiz', 'not json', expiresAt)
    raw.close()
    const log = createMemoryLogger()
    const store = openSqliteStore({ file, log: log.logger })
    try {
      await readAndCount(store, log)
    } finally {
      await store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('Redis: a flood of unreadable sessions costs a budget of lines, not a line each', async () => {
  const server = await startRedisServer()
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-bad-sessions-redis-'))
  const raw = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 })
  try {
    await raw.connect()
    for (let i = 0; i < FLOOD; i++) await raw.set(`wx:session:acc:user-${i}`, '{"state": ', 'PX', 3_600_000)
    await raw.set('wx:session:other:user-x', 'not json', 'PX', 3_600_000)
    const log = createMemoryLogger()
    const store = await openRedisStore({ url: server.url, dataDir, log: log.logger, keyPrefix: 'wx:' })
    try {
      await readAndCount(store, log)
    } finally {
      await store.close()
    }
  } finally {
    raw.disconnect()
    await server.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
})
