/**
 * Settlements whose outcome a lost connection hid, when a retry of the same message also failed to claim
 * while Redis was away: neither settlement may replace the other.
 * - A reply whose `complete` was lost is recorded after the reconnect (found by test/fleet/fleet.test.ts: the
 *   retry's release used to replace the pending `complete`, so the answer was never recorded).
 * - A claim whose answer was lost is released after the reconnect (the retry's release, of its own owner
 *   value, used to replace the first one's, so the claim stayed `pending` until it lapsed).
 */
import { after, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import { startRedisProxy } from '../support/redis-proxy.ts'
import { startRedisServer } from '../support/redis-server.ts'
import { until } from '../support/until.ts'

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

it('a claim whose answer was lost is released after the reconnect, although a retry also failed to claim meanwhile', async () => {
  const server = await startRedisServer()
  const proxy = await startRedisProxy(server.port)
  const dir = await mkdtemp(join(tmpdir(), 'wx-settle-'))
  dirs.push(dir)
  const memory = createMemoryLogger()
  const store = await openRedisStore({ url: proxy.url, dataDir: dir, log: memory.logger, maxReconnectDelayMs: 100, commandTimeoutMs: 5_000 })
  const admin = new Redis(server.url)
  try {
    // Claims are sent by SHA: one first, so that Redis knows the script (a NOSCRIPT answer would be swallowed).
    assert.deepEqual(await store.dedup.claim('other', 60_000), { state: 'claimed' })
    // The claim runs on Redis, but its answer never comes back: the connection drops first.
    proxy.state.swallow = true
    const first = store.dedup.claim('msg', 60_000)
    await until('the claim on Redis', async () => (await admin.get('wx:dedup:msg'))?.startsWith('pending:'))
    proxy.state.refuse = true
    proxy.cut()
    await assert.rejects(first)
        await assert.rejects(store.dedup.claim('msg', 60_000), 'a retry while Redis is away')
    proxy.state.swallow = false
    proxy.state.refuse = false
    await until('settled after the reconnect', () => memory.lines.some((l) => l.msg === 'dedup claims settled after reconnect'))
    // Left `pending` until the claim lapsed (~15 s in the engine), every retry meanwhile waited out its
    // budget and got `success`: the answer was lost although Redis was back within it.
    assert.deepEqual(await store.dedup.peek('msg'), { state: 'absent' })
  } finally {
    admin.disconnect()
    await store.close()
    await proxy.close()
    await server.stop()
  }
})
