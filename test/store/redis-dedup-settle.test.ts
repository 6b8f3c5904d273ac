/**
 * A reply whose `complete` was lost with the connection is recorded after the reconnect, even when a retry
 * of the same message also failed to claim while Redis was away (found by test/fleet/fleet.test.ts: the
 * retry's release used to replace the pending `complete`, so the answer was never recorded).
 */
import { after, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import { startRedisServer } from '../support/redis-server.ts'

const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

it('a lost complete survives a failed retry claim and is recorded once Redis is back', async () => {
  const server = await startRedisServer()
  const dir = await mkdtemp(join(tmpdir(), 'wx-settle-'))
  dirs.push(dir)
  const memory = createMemoryLogger()
  const store = await openRedisStore({ url: server.url, dataDir: dir, log: memory.logger, maxReconnectDelayMs: 100 })
  const reply = { status: 200, contentType: 'application/xml', body: '<xml>answer</xml>' }
  try {
    assert.deepEqual(await store.dedup.claim('msg', 60_000), { state: 'claimed' })
    // The claim is kept across the restart, as with appendonly persistence.
    const admin = new Redis(server.url)
    await admin.save()
    admin.disconnect()
    await server.kill()
    await assert.rejects(store.dedup.complete('msg', reply, 60_000))
    await assert.rejects(store.dedup.claim('msg', 60_000), 'a retry while Redis is away')
    await server.restart()
    const deadline = Date.now() + 10_000
    while (!memory.lines.some((l) => l.msg === 'dedup claims settled after reconnect')) {
      assert.ok(Date.now() < deadline, 'settled after the reconnect')
      await new Promise((r) => setTimeout(r, 20))
    }
    assert.deepEqual(await store.dedup.peek('msg'), { state: 'done', reply })
  } finally {
    await store.close()
    await server.stop()
  }
})
