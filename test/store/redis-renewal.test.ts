/**
 * A dedup claim and a user lock in Redis are short and renewed while held (redis-dedup.ts, redis-sessions.ts).
 * Claimed for the reply budget + 10 s at once, the claim of an instance that died mid-message outlived WeChat's
 * retries, and the message got no answer; and the retry that ran it once the claim lapsed then waited for the
 * dead instance's user lock past the reply budget (a fleet review). A real Redis; the command timeout is 100 ms,
 * so the window is 600 ms.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import { UNSUBSCRIBING, type HeldUserLock, type Store } from '../../core/store/store.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'
import { until } from '../support/until.ts'

const WINDOW_MS = 600
const reply = { status: 200, contentType: 'application/xml', body: '<xml>answer</xml>' }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('dedup claims and user locks in Redis are renewed while held', () => {
  let server: RedisServer
  let admin: Redis
  let dir: string
  let memory: ReturnType<typeof createMemoryLogger>
  let store: Store
  const open = () => openRedisStore({ url: server.url, dataDir: dir, log: memory.logger, commandTimeoutMs: 100 })
  const ttl = (key: string) => admin.pttl(`wx:dedup:${key}`)

  before(async () => {
    server = await startRedisServer()
    admin = new Redis(server.url)
    dir = await mkdtemp(join(tmpdir(), 'wx-renewal-'))
    memory = createMemoryLogger()
    store = await open()
  })
  after(async () => {
    await store?.close()
    admin?.disconnect()
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('lapses within the window unless renewed; renewed, it outlives the window many times over', async () => {
    assert.deepEqual(await store.dedup.claim('running', 15_000), { state: 'claimed' })
    const first = await ttl('running')
    assert.ok(first > 0 && first <= WINDOW_MS, `claimed for the window, not for pendingTtl: ${first} ms`)
    await sleep(WINDOW_MS * 3)
    assert.deepEqual(await store.dedup.peek('running'), { state: 'pending' }, 'kept alive while its message runs')
    assert.ok((await ttl('running')) <= WINDOW_MS)
    await store.dedup.complete('running', reply, 60_000)
    assert.ok((await ttl('running')) > 50_000, 'the answer is kept for the reply cache, not the window')
    await sleep(300)
    assert.deepEqual(await store.dedup.peek('running'), { state: 'done', reply })
  })

  it('a released claim is renewed no more: nothing brings it back', async () => {
    assert.deepEqual(await store.dedup.claim('failed', 15_000), { state: 'claimed' })
    await store.dedup.release('failed')
    await sleep(300)
    assert.equal(await admin.exists('wx:dedup:failed'), 0)
  })

  it('not renewed past pendingTtl: a message that runs on and on does not hold its claim for good', async () => {
    assert.deepEqual(await store.dedup.claim('endless', 1_500), { state: 'claimed' })
    const started = Date.now()
    await until('the claim lapsed', async () => (await admin.exists('wx:dedup:endless')) === 0, 3_000)
    const lasted = Date.now() - started
    assert.ok(lasted >= 1_000 && lasted <= 2_000, `lapsed after ${lasted} ms (pendingTtl 1500 ms, window ${WINDOW_MS} ms)`)
  })

  it("an instance that stops (here: its store closed, as in a crash nothing renews) leaves a claim that lapses within the window, and another instance's claim then takes it", async () => {
    const dyingDir = join(dir, 'dying')
    await mkdir(dyingDir)
    const dying = await openRedisStore({ url: server.url, dataDir: dyingDir, log: createMemoryLogger().logger, commandTimeoutMs: 100 })
    assert.deepEqual(await dying.dedup.claim('orphan', 15_000), { state: 'claimed' })
    await dying.close()
    assert.deepEqual(await store.dedup.claim('orphan', 15_000), { state: 'pending' }, 'still its claim right after')
    const started = Date.now()
    await until('the dead claim lapsed', async () => (await store.dedup.peek('orphan')).state === 'absent', 3_000)
    assert.ok(Date.now() - started <= WINDOW_MS + 400, `lapsed ${Date.now() - started} ms after its instance stopped`)
    assert.deepEqual(await store.dedup.claim('orphan', 15_000), { state: 'claimed' })
    await store.dedup.complete('orphan', reply, 60_000)
  })

  it("a renewal that meets its claim's answer (recorded by a settlement sent just before it, as on a reconnect) stops quietly; one that meets another claim says the claim was lost", async () => {
    const lost = () => memory.lines.filter((l) => l.msg === 'dedup claim lost before its message was answered and recorded: a retry on another instance may run the message again')
    assert.deepEqual(await store.dedup.claim('settled', 15_000), { state: 'claimed' })
    await admin.set('wx:dedup:settled', JSON.stringify(reply), 'PX', 60_000)
    await sleep(400)
    assert.deepEqual(lost(), [])
    assert.ok((await ttl('settled')) > 50_000, 'the answer keeps its own expiry')
    assert.deepEqual(await store.dedup.claim('taken', 15_000), { state: 'claimed' })
    await admin.set('wx:dedup:taken', 'pending:another-instance', 'PX', 60_000)
    await until('the loss said', () => lost().length === 1 || undefined, 2_000)
    assert.equal(lost()[0]!.key, 'wx:dedup:taken')
    memory.lines.length = 0 // said on purpose: the last test counts the rest
    await store.dedup.release('taken')
  })

  const lockUser = async (openId: string, ttlMs: number): Promise<HeldUserLock> => {
    const held = await store.sessions.lockUser?.('acct', openId, ttlMs)
    assert.ok(held && held !== UNSUBSCRIBING, 'taken')
    return held
  }
  const lockTtl = (openId: string) => admin.pttl(`wx:user-lock:acct:${openId}`)

  it('a user lock: taken for the window, renewed while held, up to its ttlMs; released, renewed no more', async () => {
    const held = await lockUser('u-held', 60_000)
    const first = await lockTtl('u-held')
    assert.ok(first > 0 && first <= WINDOW_MS, `taken for the window: ${first} ms`)
    await sleep(WINDOW_MS * 3)
    assert.ok((await lockTtl('u-held')) > 0, 'kept while held')
    await held.release()
    await sleep(300)
    assert.equal(await admin.exists('wx:user-lock:acct:u-held'), 0)

    await lockUser('u-bounded', 1_500) // its holder never releases it (hangs)
    const started = Date.now()
    await until('the lock lapsed', async () => (await admin.exists('wx:user-lock:acct:u-bounded')) === 0, 3_000)
    const lasted = Date.now() - started
    assert.ok(lasted >= 1_000 && lasted <= 2_000, `lapsed after ${lasted} ms (ttlMs 1500, window ${WINDOW_MS} ms)`)
  })

  it('a user lock kept alive (work of no known length under it) outlives its ttlMs until stopped', async () => {
    const held = await lockUser('u-kept', 700)
    const stop = held.keepAlive()
    await sleep(1_500)
    assert.ok((await lockTtl('u-kept')) > 0, 'kept past its ttlMs')
    stop()
    await until('the lock lapsed once no longer kept', async () => (await admin.exists('wx:user-lock:acct:u-kept')) === 0, 2_000)
  })

  it('no renewal line for claims and locks answered, released or stopped', () => {
    assert.deepEqual(
      memory.lines.filter((l) => /(claim|lock) (lost|lapsed)/.test(String(l.msg))),
      [],
    )
  })
})
