/**
 * The locks' releases (lock-releases.ts) while Redis is away (a real redis-server on 127.0.0.1, killed): a
 * lock whose taking was never sent is not one to give up. Kept for its whole TTL, it was retried every 250 ms,
 * said to be given up when it lapsed, and named at close: a line per message (and per token refresh) for a
 * lock that never existed, on top of the outage's own line.
 */
import { after, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import { connectRedis } from '../../core/store/redis/connect-redis.ts'
import { createLockReleases } from '../../core/store/redis/lock-releases.ts'
import { startRedisServer } from '../support/redis-server.ts'
import { startRedisProxy } from '../support/redis-proxy.ts'
import { until } from '../support/until.ts'

const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

it('locks asked for while Redis is down (never sent) leave nothing to release: no give-up line, nothing named at close', async () => {
  const server = await startRedisServer()
  const dir = await mkdtemp(join(tmpdir(), 'wx-lock-releases-'))
  dirs.push(dir)
  const memory = createMemoryLogger()
  const store = await openRedisStore({ url: server.url, dataDir: dir, log: memory.logger, maxReconnectDelayMs: 100, closeSettleMs: 200 })
  try {
    await server.kill()
    await until('the outage seen', () => memory.lines.some((l) => /^redis connection lost/.test(String(l.msg))))
    await assert.rejects(store.sessions.lockUser!('acct', 'u1', 300), /writeable|closed/i)
    await assert.rejects(store.tokens.lock('wxA', 300), /writeable|closed/i)
    await new Promise((r) => setTimeout(r, 700)) // both would have lapsed
    await store.close()
    const said = memory.lines.filter((l) => /release (given up|dropped at close)/.test(String(l.msg)))
    assert.deepEqual(said, [], 'nothing was taken, so nothing is given up')
  } finally {
    await store.close()
    await server.stop()
  }
})

it('past its cap the list of releases to send again leaves the oldest to lapse, with one line when that starts and one when it ends; the rest are released when Redis answers again', async () => {
  const server = await startRedisServer()
  const proxy = await startRedisProxy(server.port)
  const memory = createMemoryLogger()
  const conn = await connectRedis({ url: proxy.url, log: memory.logger, commandTimeoutMs: 100, maxReconnectDelayMs: 100, connectTimeoutMs: 1000 })
  const releases = createLockReleases(conn, memory.logger, { maxPending: 3 })
  try {
    const keys = ['lock:a', 'lock:b', 'lock:c', 'lock:d', 'lock:e']
    for (const k of keys) await conn.client.set(k, `owner-${k}`, 'PX', 60_000)
    proxy.state.mute = true // every clean-up times out without reaching Redis: it may have run, so each is kept
    const lapsesAt = Date.now() + 60_000
    for (const k of keys) releases.giveUp({ kind: 'user lock', key: k, owner: `owner-${k}`, lapsesAt })
    assert.deepEqual(
      releases.pending().map((p) => p.key),
      ['lock:c', 'lock:d', 'lock:e'],
      'the two oldest are left to lapse',
    )
    const started = memory.lines.filter((l) => /lock releases wait to be sent again/.test(String(l.msg)))
    assert.equal(started.length, 1, 'one line when the cap is first passed, not one per release left')
    await new Promise((r) => setTimeout(r, 500)) // every first try has timed out, and a retry round or two
    proxy.state.mute = false
    await until('the kept releases sent', () => releases.pending().length === 0, 10_000)
    await until('the end of the overflow said', () => memory.lines.some((l) => /lock releases fit again: 2 were left/.test(String(l.msg))), 5_000)
    const direct = await connectRedis({ url: server.url, log: memory.logger, commandTimeoutMs: 1000, maxReconnectDelayMs: 100, connectTimeoutMs: 1000 })
    try {
      assert.deepEqual(await Promise.all(keys.map((k) => direct.client.exists(k))), [1, 1, 0, 0, 0], 'the kept three released; the dropped two left to lapse')
    } finally {
      await direct.close()
    }
  } finally {
    releases.stop()
    await conn.close()
    await proxy.close()
    await server.stop()
  }
})
