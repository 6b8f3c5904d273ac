/**
 * The access_token's refresh lock in Redis (redis-tokens.ts) against a Redis that answers late (a real
 * redis-server on 127.0.0.1, paused with SIGSTOP), that blips (a proxy dropping what it carries) or refuses
 * (an ACL): a lock whose answer was lost, or whose release failed, must not stay held by nobody until its TTL.
 * And the token record itself, when what is stored there is not what set() writes.
 */
import { after, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createLogger, createMemoryLogger } from '../../core/log/logger.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import { startRedisProxy } from '../support/redis-proxy.ts'
import { startRedisServer } from '../support/redis-server.ts'
import { until } from '../support/until.ts'

const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

it("a refresh lock whose answer timed out is given up: no instance waits out its 30 s TTL", async () => {
  const server = await startRedisServer()
  const dir = await mkdtemp(join(tmpdir(), 'wx-token-lock-'))
  dirs.push(dir)
  const store = await openRedisStore({ url: server.url, dataDir: dir, log: createLogger({ level: 'silent' }), commandTimeoutMs: 200 })
  const admin = new Redis(server.url)
  try {
    // Redis stalls (a fork, a slow command) past the command timeout; the SET NX runs when it is back.
    server.pause()
    await assert.rejects(store.tokens.lock('wxA', 30_000), /timed out/)
    server.resume()
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(await admin.get('wx:token-lock:wxA'), null, 'the lock nobody holds is gone')
    const release = await store.tokens.lock('wxA', 30_000)
    assert.ok(release, 'the next refresher takes the lock at once')
    await release.release()
  } finally {
    server.resume()
    admin.disconnect()
    await store.close()
    await server.stop()
  }
})

it("a refresh lock whose answer was lost and whose clean-up was lost too is released once Redis is back, not left for its 30 s TTL", async () => {
  const server = await startRedisServer()
  const proxy = await startRedisProxy(server.port)
  const dir = await mkdtemp(join(tmpdir(), 'wx-token-lock-'))
  dirs.push(dir)
  const store = await openRedisStore({ url: proxy.url, dataDir: dir, log: createLogger({ level: 'silent' }), commandTimeoutMs: 300, maxReconnectDelayMs: 100 })
  const admin = new Redis(server.url)
  try {
    // The SET NX runs on Redis, its answer never comes back; the clean-up sent behind it never arrives.
    proxy.state.swallow = true
    const taking = store.tokens.lock('wxA', 30_000)
    await until('the lock on Redis', async () => (await admin.get('wx:token-lock:wxA')) !== null)
    proxy.state.mute = true
    await assert.rejects(taking, /timed out/)
    await new Promise((r) => setTimeout(r, 400)) // the clean-up's own command timeout
    assert.notEqual(await admin.get('wx:token-lock:wxA'), null, 'the clean-up did not reach Redis')
    // The link comes back (a new connection): the lock of nobody is given up then, not 30 s later.
    proxy.state.swallow = false
    proxy.state.mute = false
    proxy.cut()
    await until('the lock nobody holds is gone', async () => (await admin.get('wx:token-lock:wxA')) === null, 3_000)
  } finally {
    admin.disconnect()
    await store.close()
    await proxy.close()
    await server.stop()
  }
})

it('a refresh lock whose release Redis refused is released again until done; one that lapses first is said to be given up', async () => {
  const server = await startRedisServer()
  const admin = new Redis(server.url)
  await admin.call('ACL', 'SETUSER', 'bot', 'on', '>pw', '~*', '+@all')
  const dir = await mkdtemp(join(tmpdir(), 'wx-token-lock-'))
  dirs.push(dir)
  const memory = createMemoryLogger()
  const store = await openRedisStore({ url: server.url.replace('redis://', 'redis://bot:pw@'), dataDir: dir, log: memory.logger })
  try {
    const release = await store.tokens.lock('wxA', 30_000)
    assert.ok(release)
    // Redis refuses for a moment (an ACL change, a failover's read-only replica) on a live connection.
    await admin.call('ACL', 'SETUSER', 'bot', 'resetkeys')
    await assert.rejects(release.release(), /NOPERM/)
    await new Promise((r) => setTimeout(r, 300))
    await admin.call('ACL', 'SETUSER', 'bot', 'allkeys')
    // Released once it takes writes again: before, other instances waited out the lock's 30 s.
    await until('the refused release done', async () => (await admin.get('wx:token-lock:wxA')) === null, 3_000)

    // Refused until the lock lapses by itself: the retries stop then, and one line says so.
    const short = await store.tokens.lock('wxB', 600)
    assert.ok(short)
    await admin.call('ACL', 'SETUSER', 'bot', 'resetkeys')
    await assert.rejects(short.release(), /NOPERM/)
    const line = await until('the give-up line', () => memory.lines.find((l) => /^token refresh lock release given up/.test(String(l.msg))), 3_000)
    assert.equal(line.key, 'wx:token-lock:wxB')
    assert.equal(line.code, 'STORE_UNAVAILABLE')
    assert.match(String(line.reason), /NOPERM/)
    assert.ok(Number(line.attempts) >= 2, `tried more than once: ${JSON.stringify(line)}`)
  } finally {
    await admin.call('ACL', 'SETUSER', 'bot', 'allkeys').catch(() => undefined)
    admin.disconnect()
    await store.close()
    await server.stop()
  }
})

it('a token record that is not what set() writes is taken as absent, with a line, and the next set() replaces it', async () => {
  const server = await startRedisServer()
  const dir = await mkdtemp(join(tmpdir(), 'wx-token-record-'))
  dirs.push(dir)
  const lines: string[] = []
  const log = createLogger({ level: 'error', destination: { write: (line: string) => void lines.push(line) } })
  const store = await openRedisStore({ url: server.url, dataDir: dir, log })
  const admin = new Redis(server.url)
  try {
    const expiresAt = Date.now() + 7_200_000
    for (const stored of ['TOKEN-as-plain-text', '{"token":"T"}', `{"token":42,"expiresAt":${expiresAt}}`, 'null']) {
      await admin.set('wx:token:wxA', stored)
      assert.equal(await store.tokens.get('wxA'), null, `${stored} reads as no token`)
    }
    assert.equal(lines.length, 4)
    assert.match(lines[0]!, /unreadable access_token record ignored/)
    assert.match(lines[0]!, /TOKEN-as-plain-text/)
    await store.tokens.set('wxA', { token: 'FRESH', expiresAt })
    assert.deepEqual(await store.tokens.get('wxA'), { token: 'FRESH', expiresAt })
  } finally {
    admin.disconnect()
    await store.close()
    await server.stop()
  }
})
