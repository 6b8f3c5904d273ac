/**
 * The Redis store against a real redis-server on 127.0.0.1 (test/support/redis-server.ts): the shared
 * contract suite, then what only a networked, shared store can get wrong: Redis down at start, lost and
 * back while running, a hung server, two instances racing, glob characters in deletePrefix.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createLogger, type Logger } from '../../core/log/logger.ts'
import { openRedisStore, type RedisStoreOptions } from '../../core/store/redis-store.ts'
import { StoreOpenError } from '../../core/store/store-open-error.ts'
import { mayHaveApplied, type Store, type StoredReply } from '../../core/store/store.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'
import { lockOf } from '../support/held-user-lock.ts'
import { until } from '../support/until.ts'
import { childExited } from '../support/child-end.ts'
import { runStoreContract } from './store-contract.ts'

const silent = createLogger({ level: 'silent' })
const LOG_WAIT_MS = 5000
const tempDirs: string[] = []

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wx-redis-store-'))
  tempDirs.push(dir)
  return dir
}

function freshPrefix(): string {
  return `t${randomUUID().slice(0, 8)}:`
}

async function openStore(url: string, over: Partial<RedisStoreOptions> = {}): Promise<Store> {
  return openRedisStore({ url, dataDir: await tempDir(), log: silent, keyPrefix: freshPrefix(), ...over })
}

/** Log lines kept as objects, with a way to await the first line whose msg matches. */
function captureLog(): { log: Logger; lines: Array<Record<string, unknown>>; next(msg: RegExp): Promise<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const waiters: Array<{ msg: RegExp; resolve: (line: Record<string, unknown>) => void }> = []
  const log = createLogger({
    level: 'debug',
    destination: {
      write(chunk: string) {
        const line = JSON.parse(chunk) as Record<string, unknown>
        lines.push(line)
        for (const w of [...waiters]) {
          if (w.msg.test(String(line.msg))) {
            waiters.splice(waiters.indexOf(w), 1)
            w.resolve(line)
          }
        }
      },
    },
  })
  return {
    log,
    lines,
    // Bounded, so a missing line fails the test instead of hanging the file.
    next: (msg) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line matching ${msg} within ${LOG_WAIT_MS} ms`)), LOG_WAIT_MS)
        waiters.push({
          msg,
          resolve: (line) => {
            clearTimeout(timer)
            resolve(line)
          },
        })
      }),
  }
}

function linesMatching(lines: Array<Record<string, unknown>>, msg: RegExp): number {
  return lines.filter((l) => msg.test(String(l.msg))).length
}

/** Rejects within `limitMs`: a store command must fail fast, not wait for a connection. */
async function assertRejectsFast(what: string, op: () => Promise<unknown>, limitMs = 1000): Promise<void> {
  const t0 = performance.now()
  await assert.rejects(op(), `${what} should reject`)
  const took = performance.now() - t0
  assert.ok(took < limitMs, `${what} took ${took.toFixed(0)} ms`)
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}

type ProxyFault = 'none' | 'drop-request' | 'drop-reply'

/**
 * A TCP relay in front of Redis that can cut the connection once at the worst moment: before the next
 * command reaches Redis, or after Redis ran it but before the answer reaches the client.
 */
async function startFaultyProxy(
  targetPort: number,
): Promise<{ url: string; fault(f: ProxyFault): void; reopen(): void; close(): Promise<void> }> {
  let fault: ProxyFault = 'none'
  // After a cut, reconnects are refused until the test has looked at the state in between.
  let refusing = false
  const sockets = new Set<Socket>()
  const proxy = createServer((client) => {
    if (refusing) {
      client.destroy()
      return
    }
    const upstream = connect({ host: '127.0.0.1', port: targetPort })
    sockets.add(client).add(upstream)
    const cut = (): void => {
      fault = 'none'
      refusing = true
      client.destroy()
      upstream.destroy()
    }
    client.on('data', (chunk) => {
      if (fault === 'drop-request') cut()
      else upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (fault === 'drop-reply') cut()
      else client.write(chunk)
    })
    for (const s of [client, upstream]) {
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const address = proxy.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `redis://127.0.0.1:${port}`,
    fault: (f) => {
      fault = f
    },
    reopen: () => {
      refusing = false
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        proxy.close(() => resolve())
      }),
  }
}

const reply: StoredReply = { status: 200, contentType: 'application/xml', body: '<xml><Content><![CDATA[好]]></Content></xml>' }

let server: RedisServer

/**
 * Runs `body` with a store that reaches Redis through a faulty proxy (`viaProxy`), another that reaches it
 * directly (`direct`, the same key prefix: another instance of the fleet) and the log of the first; all
 * closed however the test ends.
 */
async function throughFaultyProxy(
  body: (t: { proxy: Awaited<ReturnType<typeof startFaultyProxy>>; viaProxy: Store; direct: Store; captured: ReturnType<typeof captureLog> }) => Promise<void>,
): Promise<void> {
  const proxy = await startFaultyProxy(server.port)
  const captured = captureLog()
  const keyPrefix = freshPrefix()
  const viaProxy = await openRedisStore({ url: proxy.url, dataDir: await tempDir(), log: captured.log, keyPrefix, maxReconnectDelayMs: 100 })
  const direct = await openStore(server.url, { keyPrefix })
  try {
    await body({ proxy, viaProxy, direct, captured })
  } finally {
    await viaProxy.close()
    await direct.close()
    await proxy.close()
  }
}

before(async () => {
  server = await startRedisServer()
})

after(async () => {
  await server?.stop()
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true })
})

runStoreContract('redis', async () => openStore(server.url), { realTime: true, synchronous: false })

describe('redis store: two instances on one Redis', () => {
  async function pair(): Promise<[Store, Store]> {
    const keyPrefix = freshPrefix()
    return [await openStore(server.url, { keyPrefix }), await openStore(server.url, { keyPrefix })]
  }

  it('20 concurrent claims from two instances: exactly one claimed, the other sees the same reply', async () => {
    const [a, b] = await pair()
    try {
      const key = `k-${randomUUID()}`
      const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).dedup.claim(key, 60_000)))
      assert.equal(claims.filter((c) => c.state === 'claimed').length, 1)
      assert.equal(claims.filter((c) => c.state === 'pending').length, 19)
      const winner = claims.findIndex((c) => c.state === 'claimed') % 2 === 0 ? a : b
      const other = winner === a ? b : a
      await winner.dedup.complete(key, reply, 60_000)
      assert.deepEqual(await other.dedup.claim(key, 60_000), { state: 'done', reply })
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('the token lock is exclusive across instances; a stale release frees nothing', async () => {
    const [a, b] = await pair()
    try {
      const releaseA = await a.tokens.lock('wxapp', 60_000)
      assert.ok(releaseA)
      assert.equal(await b.tokens.lock('wxapp', 60_000), null)
      const both = await Promise.all([a.tokens.lock('wxapp', 60_000), b.tokens.lock('wxapp', 60_000)])
      assert.deepEqual(both, [null, null])
      await releaseA.release()
      const releaseB = await b.tokens.lock('wxapp', 60_000)
      assert.ok(releaseB)
      await releaseA.release()
      assert.equal(await a.tokens.lock('wxapp', 60_000), null, "A's second release must not free B's lock")
      await releaseB.release()
      assert.ok(await a.tokens.lock('wxapp', 60_000))
    } finally {
      await a.close()
      await b.close()
    }
  })

  it("the user lock is exclusive across instances, comes with the user's live session, and a stale release frees nothing", async () => {
    const [a, b] = await pair()
    try {
      const lockUser = (s: Store, openId: string, ttlMs = 60_000) => s.sessions.lockUser!('acct', openId, ttlMs).then(lockOf)
      const heldA = await lockUser(a, 'u1')
      assert.ok(heldA)
      assert.equal(heldA.session, null, 'no session yet')
      assert.equal(await lockUser(b, 'u1'), null)
      assert.ok(await lockUser(b, 'u2'), 'another user is not held')
      const session = { account: 'acct', openId: 'u1', plugin: 'survey', state: { step: 2 }, expiresAt: Date.now() + 60_000 }
      await a.sessions.put(session)
      await heldA.release()
      const heldB = await lockUser(b, 'u1')
      assert.deepEqual(heldB?.session, session, 'read in the same command as the lock')
      await heldA.release()
      assert.equal(await lockUser(a, 'u1'), null, "A's second release must not free B's lock")
      await heldB!.release()
      // A session past its time is not live.
      await a.sessions.put({ ...session, expiresAt: Date.now() + 30 })
      await new Promise((r) => setTimeout(r, 40))
      const late = await lockUser(a, 'u1')
      assert.equal(late?.session, null)
      await late!.release()
      const lapsing = await lockUser(a, 'u3', 50)
      assert.ok(lapsing)
      await new Promise((r) => setTimeout(r, 80))
      assert.ok(await lockUser(b, 'u3'), 'a lock whose holder died lapses after its ttl')
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('a user lock kept alive outlasts its ttl while the work runs, lapses within the renewal window once not renewed, and is not renewed once another holds it', async () => {
    const keyPrefix = freshPrefix()
    // Renewed every command timeout (100 ms) to lapse six of them (600 ms) on.
    const a = await openStore(server.url, { keyPrefix, commandTimeoutMs: 100 })
    const b = await openStore(server.url, { keyPrefix })
    try {
      const held = lockOf(await a.sessions.lockUser!('acct', 'u1', 200))
      assert.ok(held)
      const stop = held.keepAlive()
      await new Promise((r) => setTimeout(r, 700))
      assert.equal(lockOf(await b.sessions.lockUser!('acct', 'u1', 60_000)), null, 'still held past its 200 ms ttl')
      // This instance dies now (nothing renews it any more): the lock lapses within the window, not later.
      stop()
      // Polled, not slept on for 700 ms: a renewal already sent at stop() lands after it, and on a loaded
      // machine later than the 100 ms that sleep left past the window. Never renewed again, it lapses well
      // within this bound (kept alive, it would not: its first 700 ms above show it).
      const next = await until('the lock lapsed once not renewed', () => b.sessions.lockUser!('acct', 'u1', 60_000).then(lockOf), 3_000)
      // A's late renewal does nothing to B's lock, and A's late release frees nothing.
      const late = held.keepAlive()
      await new Promise((r) => setTimeout(r, 50))
      late()
      await held.release()
      assert.equal(lockOf(await a.sessions.lockUser!('acct', 'u1', 60_000)), null, "B's lock is B's")
      await next.release()
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('a token refreshed by one instance is seen by the other; invalidating an old token keeps the new one', async () => {
    const [a, b] = await pair()
    try {
      const expiresAt = Date.now() + 60_000
      await a.tokens.set('wxapp', { token: 'OLD', expiresAt })
      assert.deepEqual(await b.tokens.get('wxapp'), { token: 'OLD', expiresAt })
      await a.tokens.set('wxapp', { token: 'NEW', expiresAt })
      await b.tokens.invalidate('wxapp', 'OLD')
      assert.equal((await a.tokens.get('wxapp'))?.token, 'NEW')
    } finally {
      await a.close()
      await b.close()
    }
  })

  it("release never deletes a reply recorded by another instance, nor another instance's claim", async () => {
    const [a, b] = await pair()
    try {
      const done = `k-${randomUUID()}`
      assert.deepEqual(await a.dedup.claim(done, 60_000), { state: 'claimed' })
      await b.dedup.complete(done, reply, 60_000)
      await a.dedup.release(done)
      assert.deepEqual(await b.dedup.peek(done), { state: 'done', reply })

      // A's claim lapses, B claims the retry; A's late release must leave B's claim alone.
      const lapsed = `k-${randomUUID()}`
      assert.deepEqual(await a.dedup.claim(lapsed, 50), { state: 'claimed' })
      let retry = await b.dedup.claim(lapsed, 60_000)
      while (retry.state === 'pending') {
        await new Promise((r) => setTimeout(r, 5))
        retry = await b.dedup.claim(lapsed, 60_000)
      }
      assert.deepEqual(retry, { state: 'claimed' })
      await a.dedup.release(lapsed)
      assert.deepEqual(await a.dedup.peek(lapsed), { state: 'pending' })

      // Nor a release by an instance that does not know the claim's owner (never claimed it here, or it
      // forgot past its bound of tracked claims): the claim is B's, live, and stays.
      const others = `k-${randomUUID()}`
      assert.deepEqual(await b.dedup.claim(others, 60_000), { state: 'claimed' })
      await a.dedup.release(others)
      assert.deepEqual(await a.dedup.peek(others), { state: 'pending' }, "A's release of a claim it does not own left B's claim")
      assert.deepEqual(await a.dedup.claim(others, 60_000), { state: 'pending' }, 'a retry on A still waits for B')
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('sessions and kv written by one instance are read by the other', async () => {
    const [a, b] = await pair()
    try {
      const rec = { account: 'acct', openId: 'o1', plugin: 'quiz', state: { step: 2 }, expiresAt: Date.now() + 60_000 }
      await a.sessions.put(rec)
      assert.deepEqual(await b.sessions.get('acct', 'o1'), rec)
      await b.kv.set('plugin:quiz', 'o1:score', 7)
      assert.equal(await a.kv.get('plugin:quiz', 'o1:score'), 7)
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('redis store: key layout', () => {
  it('deletePrefix with glob characters in the prefix deletes only the right keys', async () => {
    const s = await openStore(server.url)
    try {
      const ns = 'n*s:[1]'
      const inside = ['a*b?[c]', 'a*b?[c]x', 'a*b?[c]*', 'a*b?[c]:\\']
      // Each would match if the prefix were used as a pattern: * any run, ? one char, [c] the char c.
      const outside = ['aXb?[c]', 'a*bY[c]', 'a*b?c', 'aZZbQc', 'a*b?[c', 'a\\*b?[c]', 'xa*b?[c]']
      for (const k of [...inside, ...outside]) {
        await s.kv.set(ns, k, k)
        await s.kv.set('n?s:[1]', k, k)
      }
      assert.equal(await s.kv.deletePrefix(ns, 'a*b?[c]'), inside.length)
      for (const k of inside) assert.equal(await s.kv.get(ns, k), undefined, k)
      for (const k of outside) assert.equal(await s.kv.get(ns, k), k, k)
      for (const k of [...inside, ...outside]) assert.equal(await s.kv.get('n?s:[1]', k), k, `other namespace ${k}`)
    } finally {
      await s.close()
    }
  })

  it('deletePrefix walks more keys than one SCAN step', async () => {
    const s = await openStore(server.url)
    try {
      for (let i = 0; i < 1200; i++) await s.kv.set('bulk', `user:${i}`, i)
      await s.kv.set('bulk', 'usex', 1)
      assert.equal(await s.kv.deletePrefix('bulk', 'user:'), 1200)
      assert.equal(await s.kv.get('bulk', 'usex'), 1)
    } finally {
      await s.close()
    }
  })

  it('a colon in the account or namespace cannot make two entries share a key', async () => {
    const s = await openStore(server.url)
    try {
      const expiresAt = Date.now() + 60_000
      await s.sessions.put({ account: 'a:b', openId: 'c', plugin: 'p1', state: null, expiresAt })
      await s.sessions.put({ account: 'a', openId: 'b:c', plugin: 'p2', state: null, expiresAt })
      assert.equal((await s.sessions.get('a:b', 'c'))?.plugin, 'p1')
      assert.equal((await s.sessions.get('a', 'b:c'))?.plugin, 'p2')
      await s.kv.set('x:y', 'z', 1)
      await s.kv.set('x', 'y:z', 2)
      await s.kv.set('x%3Ay', 'z', 3)
      assert.equal(await s.kv.get('x:y', 'z'), 1)
      assert.equal(await s.kv.get('x', 'y:z'), 2)
      assert.equal(await s.kv.get('x%3Ay', 'z'), 3)
      assert.equal(await s.kv.deletePrefix('x', 'y'), 1)
      assert.equal(await s.kv.get('x:y', 'z'), 1)
    } finally {
      await s.close()
    }
  })

  it('stores of different key prefixes do not see each other', async () => {
    const a = await openStore(server.url)
    const b = await openStore(server.url)
    try {
      await a.kv.set('ns', 'k', 1)
      assert.equal(await b.kv.get('ns', 'k'), undefined)
      assert.equal(await b.kv.deletePrefix('ns', ''), 0)
      assert.equal(await a.kv.get('ns', 'k'), 1)
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('redis store: the message log and outbox stay per instance', () => {
  it('each instance keeps its own log and outbox in its dataDir', async () => {
    const keyPrefix = freshPrefix()
    const dirA = await tempDir()
    const a = await openRedisStore({ url: server.url, dataDir: dirA, log: silent, keyPrefix })
    const b = await openStore(server.url, { keyPrefix })
    try {
      a.log.append({ at: Date.now(), account: 'acct', openId: 'o', kind: 'text', msgKey: 'm1', handledBy: 'rule', rule: 'r', latencyMs: 1, outcome: 'replied' })
      await a.log.flush()
      assert.equal((await a.log.query({ account: 'acct' })).length, 1)
      assert.deepEqual(await b.log.query({ account: 'acct' }), [])
      assert.deepEqual(await b.log.hits('acct'), [])
      await a.outbox.record({ account: 'acct', openId: 'o', reply: { type: 'text' }, attempts: 0, status: 'pending', at: Date.now() })
      assert.deepEqual(await b.outbox.list(), [])
    } finally {
      await a.close()
      await b.close()
    }
    // Closed means closed: the log was written to the file and a new store on the same dir reads it.
    const again = await openRedisStore({ url: server.url, dataDir: dirA, log: silent, keyPrefix })
    try {
      assert.equal((await again.log.query({ account: 'acct' }))[0]?.msgKey, 'm1')
      assert.equal((await again.outbox.list('pending')).length, 1)
    } finally {
      await again.close()
    }
  })
})

describe('redis store: Redis down or lost', () => {
  it('down at start: rejects quickly with an error naming the URL and the cause, password hidden', async () => {
    const port = await freePort()
    const url = `redis://:s3cret@127.0.0.1:${port}`
    const t0 = performance.now()
    const err = await openRedisStore({ url, dataDir: await tempDir(), log: silent }).then(
      () => assert.fail('should not open'),
      (e: unknown) => e,
    )
    assert.ok(performance.now() - t0 < 2000, 'start-up failure must not wait for retries')
    assert.ok(err instanceof StoreOpenError)
    assert.equal(err.code, 'STORE_UNAVAILABLE')
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`))
    assert.match(err.message, /ECONNREFUSED/)
    assert.equal(err.transient, true, 'Redis not up (yet): a restart may find it (exit 1)')
    assert.doesNotMatch(err.message, /s3cret/)
  })

  it('a server that does not speak Redis (a wrong port) is said so, not as the closed stream the PING met; exit 2, a setting', async () => {
    const http = createServer((s: Socket) => s.on('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = http.address() as { port: number }
      const err = await openRedisStore({ url: `redis://127.0.0.1:${port}`, dataDir: await tempDir(), log: silent }).then(
        () => assert.fail('should not open'),
        (e: unknown) => e,
      )
      assert.ok(err instanceof StoreOpenError)
      assert.equal(err.message, `cannot open store at redis://127.0.0.1:${port}: the server there does not speak Redis (it answered "H" where a Redis reply begins): a wrong port?`)
      assert.equal(err.transient, false)
    } finally {
      http.close()
    }
  })

  it('a URL that is not redis:// is refused', async () => {
    await assert.rejects(openRedisStore({ url: 'http://127.0.0.1:1', dataDir: await tempDir(), log: silent }), /not a redis:\/\/ or rediss:\/\/ URL/)
  })

  it('a session that is not JSON (edited by hand) is no session, logged and removed', async () => {
    const captured = captureLog()
    const keyPrefix = freshPrefix()
    const s = await openRedisStore({ url: server.url, dataDir: await tempDir(), log: captured.log, keyPrefix })
    const raw = new Redis(server.url)
    try {
      await s.sessions.put({ account: 'a', openId: 'u', plugin: 'survey', state: { step: 1 }, expiresAt: Date.now() + 60_000 })
      const [key] = await raw.keys(`${keyPrefix}session:*`)
      assert.ok(key, 'the session key')
      await raw.set(key, '{"plugin": "survey"', 'PX', 60_000)
      const logged = captured.next(/unreadable session dropped/)
      assert.equal(await s.sessions.get('a', 'u'), null)
      const line = await logged
      assert.match(String(line.reason), /session is not JSON/)
      assert.equal(line.openId, 'u')
      // The lock's read of the session takes the same way.
      await raw.set(key, 'not json', 'PX', 60_000)
      const held = lockOf(await s.sessions.lockUser!('a', 'u', 10_000))
      assert.equal(held?.session, null)
      await held?.release()
      await until('the key removed', async () => (await raw.exists(key)) === 0)
    } finally {
      raw.disconnect()
      await s.close()
    }
  })

  it('a session of another shape or another type, or a user lock no instance takes, is repaired, said, and the lock is not left taken (each cut the user off for good)', async () => {
    const captured = captureLog()
    const keyPrefix = freshPrefix()
    const s = await openRedisStore({ url: server.url, dataDir: await tempDir(), log: captured.log, keyPrefix })
    const raw = new Redis(server.url)
    const sessionKey = `${keyPrefix}session:a:u`
    const lockKey = `${keyPrefix}user-lock:a:u`
    try {
      // The keys as the store names them: a session put is found under the first.
      await s.sessions.put({ account: 'a', openId: 'u', plugin: 'survey', state: null, expiresAt: Date.now() + 60_000 })
      assert.deepEqual(await raw.keys(`${keyPrefix}session:*`), [sessionKey])

      // JSON null: it was a TypeError inside lockUser after the lock was taken, which nothing released.
      for (const value of ['null', '{}', '[1]', '{"plugin":"survey","expiresAt":"soon"}']) {
        await raw.set(sessionKey, value)
        const logged = captured.next(/unreadable session dropped/)
        const held = lockOf(await s.sessions.lockUser!('a', 'u', 10_000))
        assert.equal(held?.session, null, value)
        assert.match(String((await logged).reason), /not a session record/)
        await held?.release()
        assert.equal(await raw.exists(lockKey), 0, `${value}: the lock released`)
        await until('the key removed', async () => (await raw.exists(sessionKey)) === 0)
      }

      // A hash: the script's GET failed with WRONGTYPE after its SET had taken the lock.
      await raw.hset(sessionKey, 'x', '1')
      const wrongType = captured.next(/unreadable session dropped/)
      const held = lockOf(await s.sessions.lockUser!('a', 'u', 10_000))
      assert.equal(held?.session, null)
      assert.match(String((await wrongType).reason), /the session was not a string/)
      assert.equal(await raw.exists(sessionKey), 0)
      await held?.release()
      assert.equal(await raw.exists(lockKey), 0)

      // A lock of another type is no instance's: replaced by the taker's.
      await raw.rpush(lockKey, 'x')
      const listLock = captured.next(/user lock repaired/)
      const taken = lockOf(await s.sessions.lockUser!('a', 'u', 10_000))
      assert.ok(taken, 'taken')
      assert.match(String((await listLock).reason), /the user lock was not a string/)
      await taken.release()
      assert.equal(await raw.exists(lockKey), 0)

      // A lock with no expiry is no instance's either (each sets one): it is given the TTL, so it lapses.
      await raw.set(lockKey, 'someone-by-hand')
      const noExpiry = captured.next(/user lock repaired/)
      assert.equal(await s.sessions.lockUser!('a', 'u', 10_000), null, 'held, for now')
      assert.match(String((await noExpiry).reason), /the user lock had no expiry/)
      const ttl = await raw.pttl(lockKey)
      assert.ok(ttl > 0 && ttl <= 10_000, `lapses: ${ttl}`)
    } finally {
      raw.disconnect()
      await s.close()
    }
  })

  it('a recorded answer no instance wrote (edited by hand) is read as pending, said: not a 500 to every try, not run again', async () => {
    const captured = captureLog()
    const keyPrefix = freshPrefix()
    const s = await openRedisStore({ url: server.url, dataDir: await tempDir(), log: captured.log, keyPrefix })
    const raw = new Redis(server.url)
    try {
      assert.deepEqual(await s.dedup.claim('m1', 10_000), { state: 'claimed' })
      const [key] = await raw.keys(`${keyPrefix}dedup:*`)
      assert.ok(key, 'the dedup key')
      for (const value of ['{"status":"abc","contentType":"text/plain","body":""}', '{}', 'null', 'garbage', '{"status":200,"contentType":"text/xml"}']) {
        await raw.set(key, value, 'PX', 60_000)
        const logged = captured.next(/unreadable recorded answer/)
        assert.deepEqual(await s.dedup.claim('m1', 10_000), { state: 'pending' }, value)
        assert.equal((await logged).code, 'STORE_UNAVAILABLE')
        assert.deepEqual(await s.dedup.peek('m1'), { state: 'pending' }, value)
      }
      // One an instance wrote is replayed as it was.
      await raw.set(key, '{"status":200,"contentType":"text/xml","body":"<xml/>"}', 'PX', 60_000)
      assert.deepEqual(await s.dedup.claim('m1', 10_000), { state: 'done', reply: { status: 200, contentType: 'text/xml', body: '<xml/>' } })
    } finally {
      raw.disconnect()
      await s.close()
    }
  })

  it('a database in the URL that Redis refuses, or that is not a number, stops the start (it used to run on database 0, or crash)', async () => {
    for (const url of [`${server.url}/99`, `${server.url}?db=99`]) {
      await assert.rejects(openRedisStore({ url, dataDir: await tempDir(), log: silent }), (e: Error) => {
        assert.ok(e instanceof StoreOpenError)
        assert.match(e.message, /DB index is out of range/)
        assert.equal(e.transient, false, 'a setting Redis refuses: restarting will not help (exit 2)')
        return true
      })
    }
    await assert.rejects(openRedisStore({ url: `${server.url}/abc`, dataDir: await tempDir(), log: silent }), /the database in the URL is "abc", not a number/)
    await assert.rejects(openRedisStore({ url: `${server.url}?db=abc`, dataDir: await tempDir(), log: silent }), /the database in the URL is "abc", not a number/)
    const s = await openRedisStore({ url: `${server.url}/3`, dataDir: await tempDir(), log: silent, keyPrefix: freshPrefix() })
    try {
      await s.kv.set('ns', 'k', 1)
      assert.equal(await s.kv.get('ns', 'k'), 1)
    } finally {
      await s.close()
    }
  })

  it('killed mid-test: commands reject in under 1 s, healthy() false, one log line; restarted: recovers by itself', async () => {
    const own = await startRedisServer()
    const captured = captureLog()
    const s = await openRedisStore({ url: own.url, dataDir: await tempDir(), log: captured.log, keyPrefix: freshPrefix(), maxReconnectDelayMs: 200 })
    try {
      await s.kv.set('ns', 'before', 1)
      assert.equal(await s.healthy(), true)

      const lost = captured.next(/connection lost/)
      await own.kill()
      // At once, before the client may even have noticed the close.
      await assertRejectsFast('kv.get', () => s.kv.get('ns', 'before'))
      await lost
      await assertRejectsFast('kv.set', () => s.kv.set('ns', 'k', 1))
      await assertRejectsFast('dedup.claim', () => s.dedup.claim('m1', 10_000))
      await assertRejectsFast('sessions.put', () => s.sessions.put({ account: 'a', openId: 'o', plugin: 'p', state: null, expiresAt: Date.now() + 10_000 }))
      await assertRejectsFast('tokens.lock', () => s.tokens.lock('app', 10_000))
      await assertRejectsFast('kv.deletePrefix', () => s.kv.deletePrefix('ns', ''))
      const t0 = performance.now()
      assert.equal(await s.healthy(), false)
      assert.ok(performance.now() - t0 < 1000)
      // The local part still works: a message can be logged while Redis is away.
      s.log.append({ at: Date.now(), account: 'a', openId: 'o', kind: 'text', msgKey: 'm', handledBy: 'none', latencyMs: 1, outcome: 'failed', error: 'STORE_UNAVAILABLE' })
      await s.log.flush()
      assert.equal((await s.log.query({ account: 'a' })).length, 1)

      const recovered = captured.next(/connection recovered/)
      await own.restart()
      await recovered
      assert.equal(await s.healthy(), true)
      assert.deepEqual(await s.dedup.claim('m1', 10_000), { state: 'claimed' })
      await s.kv.set('ns', 'after', 2)
      assert.equal(await s.kv.get('ns', 'after'), 2)
      assert.equal(linesMatching(captured.lines, /connection lost/), 1, 'the loss is logged once, not per command or retry')
      assert.equal(linesMatching(captured.lines, /connection recovered/), 1)
      const lostLine = captured.lines.find((l) => /connection lost/.test(String(l.msg)))
      assert.equal(lostLine?.code, 'STORE_UNAVAILABLE')
    } finally {
      await s.close()
      await own.stop()
    }
  })

  it('a hung server: commands time out instead of hanging, and a claim that runs late is given back', async () => {
    const own = await startRedisServer()
    const s = await openRedisStore({ url: own.url, dataDir: await tempDir(), log: silent, keyPrefix: freshPrefix(), commandTimeoutMs: 200 })
    try {
      // Loads the claim script, so the late claim below really runs (a NOSCRIPT answer would change nothing).
      assert.deepEqual(await s.dedup.claim('warm-up', 60_000), { state: 'claimed' })
      // Given back, so that no renewal of it is under way while the server hangs.
      await s.dedup.release('warm-up')
      own.pause()
      await assertRejectsFast('dedup.claim on a hung server', () => s.dedup.claim('late', 60_000), 600)
      assert.equal(await s.healthy(), false)
      own.resume()
      // Redis runs one connection's commands in order: the late claim, then the release sent behind it,
      // then this peek. Without the release the key would stay pending for a minute.
      assert.deepEqual(await s.dedup.peek('late'), { state: 'absent' })
      assert.deepEqual(await s.dedup.claim('late', 60_000), { state: 'claimed' })
      assert.equal(await s.healthy(), true)
    } finally {
      own.resume()
      await s.close()
      await own.stop()
    }
  })

  it('connection cut after Redis ran a claim: the orphan claim is given back once reconnected', () =>
    throughFaultyProxy(async ({ proxy, viaProxy, direct, captured }) => {
      assert.deepEqual(await viaProxy.dedup.claim('warm-up', 60_000), { state: 'claimed' })
      const settled = captured.next(/settled after reconnect/)
      proxy.fault('drop-reply')
      await assertRejectsFast('claim whose answer is lost', () => viaProxy.dedup.claim('orphan', 60_000))
      // Redis did run it: every other instance sees the message as taken, so nobody runs it twice.
      assert.deepEqual(await direct.dedup.claim('orphan', 60_000), { state: 'pending' })
      proxy.reopen()
      const line = await settled
      assert.equal(line.settled, 1)
      assert.deepEqual(await direct.dedup.peek('orphan'), { state: 'absent' })
      assert.deepEqual(await direct.dedup.claim('orphan', 60_000), { state: 'claimed' })
    }))

  it('connection cut before a complete reached Redis: the reply is recorded once reconnected', () =>
    throughFaultyProxy(async ({ proxy, viaProxy, direct, captured }) => {
      assert.deepEqual(await viaProxy.dedup.claim('msg', 60_000), { state: 'claimed' })
      const settled = captured.next(/settled after reconnect/)
      proxy.fault('drop-request')
      await assertRejectsFast('complete that never arrived', () => viaProxy.dedup.complete('msg', reply, 60_000))
      assert.deepEqual(await direct.dedup.peek('msg'), { state: 'pending' })
      proxy.reopen()
      await settled
      // A retry now replays the answer instead of running the message a second time.
      assert.deepEqual(await direct.dedup.claim('msg', 60_000), { state: 'done', reply })
    }))

  it("connection cut before a user lock's release reached Redis: released again once reconnected, not left for its TTL (a fleet review)", () =>
    throughFaultyProxy(async ({ proxy, viaProxy, direct }) => {
      const held = lockOf(await viaProxy.sessions.lockUser!('acct', 'blip-user', 60_000))
      assert.ok(held, 'the lock is taken')
      proxy.fault('drop-request')
      await assertRejectsFast('a release that never arrived', () => held.release())
      assert.equal(lockOf(await direct.sessions.lockUser!('acct', 'blip-user', 60_000)), null, 'the lock is still held in Redis meanwhile')
      proxy.reopen()
      // Released within moments of the reconnect, not after the 60 s TTL.
      const deadline = Date.now() + 3000
      let next = null
      while (!next && Date.now() < deadline) {
        next = lockOf(await direct.sessions.lockUser!('acct', 'blip-user', 60_000))
        if (!next) await new Promise((r) => setTimeout(r, 50))
      }
      assert.ok(next, 'another instance takes the lock after the reconnect')
      // The late release is a compare-and-delete: it freed only its own lock, never the new holder's.
      await new Promise((r) => setTimeout(r, 600))
      assert.equal(lockOf(await viaProxy.sessions.lockUser!('acct', 'blip-user', 60_000)), null, "the new holder's lock stands")
      await next.release()
    }))

  it('a reconnect that fails for a new reason says it once (a password set on the server: NOAUTH), then recovers', async () => {
    const own = await startRedisServer()
    const captured = captureLog()
    const s = await openRedisStore({ url: own.url, dataDir: await tempDir(), log: captured.log, keyPrefix: freshPrefix(), maxReconnectDelayMs: 100 })
    const admin = new Redis(own.url, { lazyConnect: true, maxRetriesPerRequest: 0 })
    admin.on('error', () => {})
    try {
      await admin.connect()
      await admin.config('SET', 'requirepass', 's3cretpw')
      const failing = captured.next(/redis reconnect failing/)
      await admin.auth('s3cretpw')
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
      const line = await failing
      assert.match(String(line.reason), /NOAUTH|Authentication required/)
      assert.equal(line.code, 'STORE_UNAVAILABLE')
      // Said once, however many attempts fail the same way meanwhile.
      await new Promise((r) => setTimeout(r, 500))
      assert.equal(linesMatching(captured.lines, /redis reconnect failing/), 1)
      const recovered = captured.next(/connection recovered/)
      await admin.config('SET', 'requirepass', '')
      await recovered
      assert.equal(await s.healthy(), true)
    } finally {
      admin.disconnect()
      await s.close()
      await own.stop()
    }
  })

  it("connection cut after Redis took a user lock, its answer lost: the lock is released once reconnected, not left for its TTL", () =>
    throughFaultyProxy(async ({ proxy, viaProxy, direct }) => {
      await viaProxy.kv.set('ns', 'warm-up', 1)
      proxy.fault('drop-reply')
      await assertRejectsFast('a lock whose answer never came', () => viaProxy.sessions.lockUser!('acct', 'taken-user', 60_000).then(lockOf))
      assert.equal(lockOf(await direct.sessions.lockUser!('acct', 'taken-user', 60_000)), null, 'Redis did take it')
      proxy.reopen()
      const next = await until('the lock free again', () => direct.sessions.lockUser!('acct', 'taken-user', 60_000).then(lockOf), 3000)
      await next.release()
    }))

  it('a session write whose connection closed after sending it is marked as possibly applied; one never sent is not', () =>
    throughFaultyProxy(async ({ proxy, viaProxy }) => {
      const session = { account: 'a', openId: 'u', plugin: 'p', state: null, expiresAt: Date.now() + 60_000 }
      await viaProxy.sessions.put(session)
      proxy.fault('drop-reply')
      const lost = await viaProxy.sessions.put(session).then(() => assert.fail('should fail'), (e: unknown) => e)
      assert.equal(mayHaveApplied(lost), true, String(lost))
      // Down now (reconnects refused until reopen): a write is not even sent.
      const unsent = await viaProxy.sessions.delete('a', 'u').then(() => assert.fail('should fail'), (e: unknown) => e)
      assert.equal(mayHaveApplied(unsent), false, String(unsent))
      proxy.reopen()
    }))

  it('close() works while Redis is down, and twice', async () => {
    const own = await startRedisServer()
    const s = await openRedisStore({ url: own.url, dataDir: await tempDir(), log: silent, keyPrefix: freshPrefix() })
    await own.kill()
    await s.close()
    await s.close()
    assert.equal(await s.healthy(), false)
    await own.stop()
  })
})

describe('test/support/redis-server', () => {
  /** True once nothing accepts connections on `port` (polled: another process's death has no event here). */
  async function portClosed(port: number, deadlineMs: number): Promise<boolean> {
    const deadline = Date.now() + deadlineMs
    while (Date.now() < deadline) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port })
        socket.once('connect', () => {
          socket.destroy()
          resolve(false)
        })
        socket.once('error', () => resolve(true))
      })
      if (refused) return true
      await new Promise((r) => setTimeout(r, 20))
    }
    return false
  }

  it('the server dies with a test process that is SIGKILLed', async () => {
    const script = `
      import { startRedisServer } from ${JSON.stringify(new URL('../support/redis-server.ts', import.meta.url).href)}
      const s = await startRedisServer()
      process.stdout.write(String(s.port) + '\\n')
      setInterval(() => {}, 1000)
    `
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = childExited(child)
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString()
        if (out.includes('\n')) resolve(Number(out.trim()))
      })
      void exited.then(({ code, signal }) => reject(new Error(`child exited early: ${signal ?? code}`)))
    })
    assert.ok(port > 0)
    assert.equal(await portClosed(port, 50), false, 'the server should be up while its test process lives')
    child.kill('SIGKILL')
    await exited
    assert.equal(await portClosed(port, 3000), true, 'redis-server outlived its test process')
  })
})
