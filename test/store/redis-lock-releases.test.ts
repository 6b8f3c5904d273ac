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
import { startRedisServer } from '../support/redis-server.ts'
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
