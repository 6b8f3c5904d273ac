/**
 * The Redis store against a Redis that misbehaves without dropping the connection (a real redis-server on
 * 127.0.0.1): refusing writes, refusing scripts, refusing the database after a restart, going silent. Each
 * was a defect of a robustness review, reproduced against a fleet. A command's time bound under a hung
 * server is a message's: test/dedup/exactly-once.test.ts.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, connect, type Socket } from 'node:net'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { createLogger, createMemoryLogger } from '../../core/log/logger.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import type { StoreOpenError } from '../../core/store/store-open-error.ts'
import { freePort } from '../support/engine-process.ts'
import { startRedisServer } from '../support/redis-server.ts'
import { lockOf } from '../support/held-user-lock.ts'
import { until } from '../support/until.ts'

const silent = createLogger({ level: 'silent' })
const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'wx-review-'))
  dirs.push(d)
  return d
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const reply = { status: 200, contentType: 'application/xml', body: '<xml>answer</xml>' }

describe('Redis store: a Redis that misbehaves on a live connection', () => {
  it('an answer Redis refused to record (OOM, noeviction) is recorded once Redis takes writes again, with no reconnect', async () => {
    const server = await startRedisServer()
    const store = await openRedisStore({ url: server.url, dataDir: await tempDir(), log: silent })
    const admin = new Redis(server.url)
    try {
      assert.deepEqual(await store.dedup.claim('msg', 14_500), { state: 'claimed' })
      await admin.config('SET', 'maxmemory-policy', 'noeviction')
      await admin.config('SET', 'maxmemory', '1') // full: every write is refused with OOM
      await assert.rejects(store.dedup.complete('msg', reply, 30_000), /OOM/)
      await sleep(500) // the full state lasts a while (in the fleet reproduction: seconds)
      await admin.config('SET', 'maxmemory', '0')
      // The connection never dropped, so settle() (run only on reconnect) never runs: the key stays
      // `pending:` until its claim lapses; every retry meanwhile waits out its budget and gets `success`, and
      // a retry after the lapse runs the message a second time (seen with a fleet: the plugin ran twice).
      const deadline = Date.now() + 3000
      let state = (await store.dedup.peek('msg')).state
      while (state !== 'done' && Date.now() < deadline) {
        await sleep(100)
        state = (await store.dedup.peek('msg')).state
      }
      assert.equal(state, 'done', 'the answer is recorded after the OOM is over')
    } finally {
      await admin.config('SET', 'maxmemory', '0').catch(() => undefined)
      admin.disconnect()
      await store.close()
      await server.stop()
    }
  })

  it('a refused settlement is sent again although its retry came due while another settlement was waiting for Redis', async () => {
    const server = await startRedisServer()
    const admin = new Redis(server.url)
    await admin.call('ACL', 'SETUSER', 'bot', 'on', '>pw', '~*', '+@all')
    // Redis stalls (a slow command, a fork) right after refusing the first settlement of a round, as the
    // round sends the next one: the retry timer comes due while that one waits.
    let stallAfterRefusal = false
    const refused = new Set<string>()
    const log = pino({ level: 'debug', base: undefined }, {
      write(line: string) {
        const { msg, key } = JSON.parse(line) as { msg?: string; key?: string }
        if (msg === 'dedup settle deferred' && key) refused.add(key)
        if (!stallAfterRefusal || msg !== 'dedup settle deferred' || key !== 'a') return
        stallAfterRefusal = false
        server.pause()
        setTimeout(() => server.resume(), 1500)
      },
    })
    const store = await openRedisStore({ url: server.url.replace('redis://', 'redis://bot:pw@'), dataDir: await tempDir(), log, commandTimeoutMs: 5_000 })
    try {
      assert.deepEqual(await store.dedup.claim('a', 60_000), { state: 'claimed' })
      assert.deepEqual(await store.dedup.claim('b', 60_000), { state: 'claimed' })
      await admin.call('ACL', 'SETUSER', 'bot', 'resetkeys')
      await assert.rejects(store.dedup.complete('a', reply, 60_000), /NOPERM/)
      await assert.rejects(store.dedup.complete('b', reply, 60_000), /NOPERM/)
      await until('both settlements refused', () => refused.has('a') && refused.has('b'))
      // b's settlement passes at the next round, a's is refused once more.
      await admin.call('ACL', 'SETUSER', 'bot', '~wx:dedup:b')
      stallAfterRefusal = true
      await until('b recorded', async () => (await admin.get('wx:dedup:b'))?.startsWith('{'))
      await admin.call('ACL', 'SETUSER', 'bot', 'allkeys')
      // The timer that came due during the round did nothing, and nothing armed it again: a's answer stayed
      // unrecorded until a reconnect or another refusal, its claim `pending` until it lapsed (and a retry
      // after that ran the message a second time).
      await until('a recorded', async () => (await store.dedup.peek('a')).state === 'done', 4_000)
    } finally {
      admin.disconnect()
      await store.close()
      await server.stop()
    }
  })

  it('a Redis that refuses the scripts every message needs (ACL -@scripting): the start refuses it (exit 2), and healthy() is false when it happens at run time', async () => {
    const server = await startRedisServer()
    const admin = new Redis(server.url)
    await admin.call('ACL', 'SETUSER', 'bot', 'on', '>pw', '~*', '+@all')
    const url = server.url.replace('redis://', 'redis://bot:pw@')
    const store = await openRedisStore({ url, dataDir: await tempDir(), log: silent })
    try {
      assert.equal(await store.healthy(), true)
      await admin.call('ACL', 'SETUSER', 'bot', '-@scripting')
      await assert.rejects(store.dedup.claim('msg', 60_000), /NOPERM/)
      // It said 200 "ok" while every message was dropped.
      assert.equal(await store.healthy(), false)
      // Started so, it would drop every message: refused, as a setting (not transient: exit 2, not restarted).
      await assert.rejects(openRedisStore({ url, dataDir: await tempDir(), log: silent }), (e: StoreOpenError) => {
        assert.match(e.message, /Redis refused a scripted write under wx:health: NOPERM/)
        assert.doesNotMatch(e.message, /:pw@/)
        assert.equal(e.transient, false)
        return true
      })
    } finally {
      admin.disconnect()
      await store.close()
      await server.stop()
    }
  })

  it("a reconnect to a server that refuses the URL's database does not carry on in database 0", async () => {
    const server = await startRedisServer()
    const store = await openRedisStore({ url: `${server.url}/5`, dataDir: await tempDir(), log: silent, maxReconnectDelayMs: 100 })
    try {
      await store.kv.set('ns', 'before', 1)
      // The same address, now with 4 databases (a reconfigured or replaced Redis): the start refuses /5.
      await server.restart(['--databases', '4'])
      await sleep(1500)
      await store.kv.set('ns', 'after', 1).catch(() => undefined)
      assert.equal(await store.healthy(), false, 'not healthy while its database is refused')
      const db0 = new Redis(`${server.url}/0`)
      const keys = await db0.keys('*')
      db0.disconnect()
      assert.deepEqual(keys, [], `written to database 0 instead of 5: ${keys.join(', ')}`)
      // Back with its database: recovered, in database 5.
      await server.restart()
      const deadline = Date.now() + 5_000
      while (!(await store.healthy()) && Date.now() < deadline) await sleep(100)
      await store.kv.set('ns', 'again', 1)
      const db5 = new Redis(`${server.url}/5`)
      assert.ok((await db5.keys('*')).some((k) => k.endsWith('again')))
      db5.disconnect()
    } finally {
      await store.close()
      await server.stop()
    }
  })

  it('a connection that went silent (half-open: the peer vanished without a RST) is replaced, not kept for ever', async () => {
    const server = await startRedisServer()
    const port = await freePort()
    const pairs: Array<{ c: Socket; s: Socket; dead: boolean }> = []
    const proxy = createServer((c) => {
      const s = connect(server.port, '127.0.0.1')
      const pair = { c, s, dead: false }
      pairs.push(pair)
      c.on('data', (d) => void (pair.dead || s.write(d)))
      s.on('data', (d) => void (pair.dead || c.write(d)))
      c.on('error', () => undefined)
      s.on('error', () => undefined)
      c.on('close', () => s.destroy())
    })
    await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', r))
    const store = await openRedisStore({ url: `redis://127.0.0.1:${port}`, dataDir: await tempDir(), log: silent, commandTimeoutMs: 500 })
    try {
      assert.equal(await store.healthy(), true)
      for (const p of pairs) p.dead = true // the open connection passes nothing any more; a new one would work
      assert.equal(await store.healthy(), false)
      const deadline = Date.now() + 15_000
      let healthy = false
      while (!healthy && Date.now() < deadline) {
        await sleep(500)
        healthy = await store.healthy()
      }
      // The socket stays "connected" until the kernel gives up retransmitting (about 15 min on Linux): every
      // message meanwhile costs commandTimeoutMs and is dropped, although Redis answers a new connection.
      assert.ok(healthy, 'still unhealthy 15 s after the connection went silent, with Redis reachable')
    } finally {
      await store.close()
      for (const p of pairs) {
        p.c.destroy()
        p.s.destroy()
      }
      proxy.close()
      await server.stop()
    }
  })

  it('a user lock kept alive while Redis hangs past its lapse: the renewals stop, with a line, instead of going on as long as the work', async () => {
    const server = await startRedisServer()
    const memory = createMemoryLogger()
    const store = await openRedisStore({ url: server.url, dataDir: await tempDir(), log: memory.logger, commandTimeoutMs: 100 })
    try {
      const held = lockOf(await store.sessions.lockUser!('acct', 'u1', 300))
      assert.ok(held)
      const stop = held.keepAlive()
      await sleep(250)
      server.pause() // every renewal times out from now on; the lock lapses 600 ms after the last one landed
      const line = await until('the renewals given up', () => memory.lines.find((l) => /^lock lapsed while work under it still ran/.test(String(l.msg))), 3_000)
      assert.equal(line.key, 'wx:user-lock:acct:u1')
      const renewals = memory.lines.filter((l) => l.msg === 'lock renewal failed; tried again').length
      await sleep(500)
      assert.equal(memory.lines.filter((l) => l.msg === 'lock renewal failed; tried again').length, renewals, 'no renewal sent after giving up')
      stop()
    } finally {
      server.resume()
      await store.close()
      await server.stop()
    }
  })
})
