/**
 * The access_token's refresh lock in Redis (redis-tokens.ts) against a Redis that answers late (a real
 * redis-server on 127.0.0.1, paused with SIGSTOP): a lock whose answer was lost must not stay held by nobody.
 * And the token record itself, when what is stored there is not what set() writes.
 */
import { after, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createLogger } from '../../core/log/logger.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import { startRedisServer } from '../support/redis-server.ts'

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
    await release()
  } finally {
    server.resume()
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
