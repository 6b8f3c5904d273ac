/**
 * Scale-out: two engine processes on one shared Redis (docs/scaling.md). WeChat reaches a fleet through a
 * load balancer, so a user's next message, a retry of a message (protocol.md §5) or an access_token
 * refresh (protocol.md §6) may happen on any instance. Each test sends to both ports on purpose.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { createLogger } from '../../core/log/logger.ts'
import { globalKey, pluginNamespace } from '../../core/plugin/storage-keys.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import type { Store } from '../../core/store/store.ts'
import { createWeChatSimulator, push, type SimulatedRequest } from '../../core/testkit/wechat-simulator.ts'
import type { EngineProcess } from '../support/engine-process.ts'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'
import { killUnderLoad, missingFromLog } from '../support/kill-under-load.ts'
import { logLines, startFleet, until, type Fleet } from './fleet-harness.ts'

const APP_ID = 'wxfleet000000001'
const APP_SECRET = 'fleetsecret'
const account = {
  id: 'default',
  token: 'fleettoken',
  appId: APP_ID,
  appSecret: APP_SECRET,
  mode: 'safe' as const,
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
}
const sim = createWeChatSimulator({ account })

async function post(engine: EngineProcess, req: SimulatedRequest): Promise<{ status: number; body: string; ms: number }> {
  const started = Date.now()
  const res = await fetch(`${engine.url}/wechat?${req.search}`, { method: 'POST', body: req.body })
  return { status: res.status, body: await res.text(), ms: Date.now() - started }
}
const send = (engine: EngineProcess, fields: ReturnType<typeof push.text>) => post(engine, sim.request(fields))
const contentOf = (body: string): string | undefined => {
  const opened = sim.openReply(body)
  if (opened.error) throw new Error(`reply does not open: ${opened.error}`)
  const c = opened.fields?.Content
  return typeof c === 'string' ? c : undefined
}
const health = async (engine: EngineProcess) => {
  const res = await fetch(`${engine.url}/healthz`)
  return { status: res.status, body: (await res.json()) as { status: string; store: { kind: string; healthy: boolean } } }
}

/** A short-lived raw client for what the Store port does not offer (SAVE, MONITOR). */
async function rawRedis(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
  client.on('error', () => {})
  await client.connect()
  return client
}

describe('a fleet of two instances on one Redis', () => {
  let redis: RedisServer
  let fake: FakeWeChatApi
  let fleet: Fleet
  let store: Store
  let A: EngineProcess
  let B: EngineProcess
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-fleet-reader-'))

  before(async () => {
    redis = await startRedisServer()
    fake = await startFakeWeChatApi({ appId: APP_ID, appSecret: APP_SECRET })
    // survey's own timeout is above the default: the user lock must outlast it (see the commands test).
    fleet = await startFleet({ size: 2, redisUrl: redis.url, config: { accounts: [account], plugins: { survey: { timeoutMs: 60_000 } } }, env: { WECHAT_API_BASE: fake.baseUrl } })
    ;[A, B] = fleet.instances
    // The test's own view of the shared state, as a third member of the fleet would see it.
    store = await openRedisStore({ url: redis.url, dataDir: storeDir, log: createLogger({ level: 'silent' }) })
  })
  after(async () => {
    // Each step on its own: a failure in one must not leave the others running.
    await Promise.allSettled([fleet?.stop(), store?.close(), fake?.close()])
    await redis?.stop()
    rmSync(storeDir, { recursive: true, force: true })
  })

  const runs = async () => ((await store.kv.get(pluginNamespace('counter'), globalKey('runs'))) as number | undefined) ?? 0

  it('both instances report the shared Redis store healthy', async () => {
    for (const e of [A, B]) {
      const h = await health(e)
      assert.equal(h.status, 200)
      assert.deepEqual(h.body.store, { kind: 'redis', healthy: true, writes: { writable: true } })
    }
  })

  it('a conversation continues across instances: begun on A, answered on B, then on A', async () => {
    const user = 'survey-fleet-user'
    assert.match(String(contentOf((await send(A, push.text(user, 'survey'))).body)), /^Question 1\/3/)
    assert.match(String(contentOf((await send(B, push.text(user, 'a friend'))).body)), /^Question 2\/3/)
    assert.match(String(contentOf((await send(A, push.text(user, 'lunch'))).body)), /^Question 3\/3/)
    const last = String(contentOf((await send(B, push.text(user, 'more soup'))).body))
    assert.match(last, /^Thank you!/)
    assert.match(last, /1\. a friend\n2\. lunch\n3\. more soup/, 'every answer, from either instance, is in the one session state')
    // The session ended on B, so A no longer routes this user to the survey.
    assert.match(String(contentOf((await send(A, push.text(user, 'echo back to rules'))).body)), /^back to rules$/)
  })

  it('the same push on A and B at the same moment runs the plugin once; both answers are byte-identical', async () => {
    for (let round = 0; round < 3; round++) {
      const before = await runs()
      const fields = push.text(`dup-user-${round}`, 'slow') // the counter plugin, 400 ms
      // Two tries as WeChat makes them: same MsgId, each signed anew.
      const [onA, onB] = await Promise.all([post(A, sim.request(fields, { nonce: `a${round}` })), post(B, sim.request(fields, { nonce: `b${round}` }))])
      assert.equal(onA.status, 200)
      assert.equal(onB.status, 200)
      assert.equal(onA.body, onB.body, 'the second instance replays the first one\'s bytes')
      assert.match(String(contentOf(onA.body)), new RegExp(`^run ${before + 1} at \\d+$`))
      assert.equal(await runs(), before + 1, 'the plugin ran once in the fleet')
    }
  })

  it("one user's two answers at once, one to each instance: both reach the dialogue, in turn", async () => {
    const user = 'dialog-fleet-user'
    assert.equal(contentOf((await send(A, push.text(user, 'dialog start'))).body), 'began')
    // Each answer takes the dialogue 300 ms: without the shared per-user lock both read the same state.
    const [onA, onB] = await Promise.all([send(A, push.text(user, 'dialog slow a')), send(B, push.text(user, 'dialog slow b'))])
    const answers = [contentOf(onA.body), contentOf(onB.body)].sort()
    assert.match(String(answers[0]), /^seen: dialog start, dialog slow [ab]$/)
    assert.match(String(answers[1]), /^seen: dialog start, dialog slow [ab], dialog slow [ab]$/)
    const session = await store.sessions.get('default', user)
    assert.equal((session?.state as { seen: string[] }).seen.length, 3, JSON.stringify(session))
    assert.deepEqual(await store.sessions.get('default', user).then((s) => (s?.state as { seen: string[] }).seen.slice(1).sort()), ['dialog slow a', 'dialog slow b'])
  })

  it("a message reads the user's session with the user lock, in one command, and not again", async () => {
    const user = 'commands-fleet-user'
    assert.match(String(contentOf((await send(A, push.text(user, 'survey'))).body)), /^Question 1\/3/)
    const monitorClient = await rawRedis(redis.url)
    const monitor = await monitorClient.monitor()
    const naming: string[][] = []
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // The commands an instance sent; MONITOR also lists those a script ran (source `lua`).
      if (source !== 'lua' && args.some((a) => String(a).endsWith(`:${user}`))) naming.push(args.map(String))
    })
    try {
      assert.match(String(contentOf((await send(A, push.text(user, 'a friend'))).body)), /^Question 2\/3/)
      await until('the lock to be released', () => naming.length >= 3)
      await new Promise((r) => setTimeout(r, 100)) // anything later would show up too
    } finally {
      monitor.disconnect()
      monitorClient.disconnect()
    }
    const sessionKey = `wx:session:default:${user}`
    const lockKey = `wx:user-lock:default:${user}`
    const keysOf = (args: string[]) => (args[0]!.toLowerCase().startsWith('eval') ? args.slice(3, 3 + Number(args[2])) : [args[1]!])
    // Lock and read (one script), the survey's session write fenced by the lock (one script checking the lock's
    // owner), the release: the session is not read on its own.
    assert.deepEqual(
      naming.map((args) => [args[0]!.toLowerCase().replace('evalsha', 'eval'), ...keysOf(args)]),
      [
        ['eval', lockKey, sessionKey],
        ['eval', lockKey, sessionKey],
        ['eval', lockKey],
      ],
      JSON.stringify(naming),
    )
    // Taken for six command timeouts (1 s each) and renewed while held, so that a dead instance's lapses soon;
    // renewed up to the reply budget, the slowest plugin's own timeout and a second, so that the call running at
    // the budget never outlives it (test/store/redis-renewal.test.ts).
    assert.equal(naming[0]!.at(-1), '6000', JSON.stringify(naming[0]))
  })

  it('both instances need an access_token at once: one token request reaches the platform', async () => {
    const lockKey = `wx:token-lock:${APP_ID}`
    // Watch the lock being taken: A's fetch is held at the fake until B has tried the lock too.
    const monitorClient = await rawRedis(redis.url)
    const monitor = await monitorClient.monitor()
    const lockTries: string[] = []
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[0]?.toLowerCase() === 'set' && args[1] === lockKey && args.some((a) => String(a).toUpperCase() === 'NX')) lockTries.push(source)
    })
    const release = fake.hold('/cgi-bin/token')
    try {
      const tokenAsked = fake.nextRequest('/cgi-bin/token')
      const onA = send(A, push.text('token-user-a', 'push'))
      await tokenAsked // A holds the lock and waits for the platform
      const onB = send(B, push.text('token-user-b', 'push'))
      await until('B to try the refresh lock while A holds it', () => lockTries.length >= 2)
      assert.notEqual(lockTries[0], lockTries[1], 'the two lock attempts come from two connections')
      release()
      const answers = await Promise.all([onA, onB])
      for (const a of answers) assert.equal(contentOf(a.body), 'sent')
    } finally {
      release()
      monitor.disconnect()
      monitorClient.disconnect()
    }
    assert.equal(fake.tokenRequests, 1, 'exactly one token request for the whole fleet')
    const sends = fake.sent.filter((m) => String(m.body.touser).startsWith('token-user-'))
    assert.deepEqual(sends.map((m) => m.body.touser).sort(), ['token-user-a', 'token-user-b'])
    assert.equal(sends[0].accessToken, fake.issuedTokens[0])
    assert.equal(sends[1].accessToken, fake.issuedTokens[0], 'both instances used the one token')
  })

  it('Redis hung (socket open, nothing answered): `success` within the command timeout, then the message runs once', async () => {
    const q = push.text('hung-user', 'count')
    const key = `default:m:${q.FromUserName}:${q.MsgId}` // core/dedup/dedup-key.ts
    const runsBefore = await runs()
    redis.pause()
    try {
      const r = await send(A, q)
      assert.equal(r.body, 'success')
      assert.ok(r.ms < 2500, `answered in ${r.ms} ms with Redis hung (1 s command timeout; WeChat waits 5 s)`)
      assert.equal((await health(B)).status, 503)
    } finally {
      redis.resume()
    }
    // The hung server now runs A's claim and, right behind it on the same connection, A's release.
    await until('A\'s late claim to be given back', async () => (await store.dedup.peek(key)).state === 'absent')
    for (const e of [A, B]) await until(`${e.port} healthy again`, async () => (await health(e)).status === 200)
    assert.equal(await runs(), runsBefore, 'nothing ran while Redis was hung')
    const retry = await send(B, q)
    assert.match(String(contentOf(retry.body)), new RegExp(`^run ${runsBefore + 1} at \\d+$`))
    assert.equal((await send(A, q)).body, retry.body)
    assert.equal(await runs(), runsBefore + 1)
  })

  it('Redis killed and restarted: fast answers and 503 meanwhile, automatic recovery, no message answered twice', async () => {
    // Answered before the kill.
    const m1 = push.text('outage-user-1', 'count')
    const m1First = await send(A, m1)
    assert.match(String(contentOf(m1First.body)), /^run \d+ at/)

    // In flight at the kill: the counter plugin has stored its count and sleeps 1.5 s, so recording its
    // answer meets a dead Redis.
    const runsBefore = await runs()
    const p = push.text('outage-user-2', 'inflight')
    const pFirst = post(A, sim.request(p))
    await until('the in-flight plugin to store its count', async () => (await runs()) === runsBefore + 1)
    // Stands in for the persistence docs/scaling.md requires (appendonly): what Redis held at the kill
    // comes back with it. The test helper's server has none.
    const admin = await rawRedis(redis.url)
    await admin.save()
    admin.disconnect()
    await redis.kill()

    const pAnswer = await pFirst
    assert.equal(pAnswer.status, 200)
    // It ran: its answer is given although it could not be recorded. `success` would lose it for good,
    // since WeChat does not retry a `success`; A still holds the claim, so nothing can run it again.
    assert.match(String(contentOf(pAnswer.body)), new RegExp(`^run ${runsBefore + 1} at \\d+$`))
    assert.ok(pAnswer.ms < 3000, `in-flight message (1.5 s plugin) answered after ${pAnswer.ms} ms`)
    const unrecorded = await until('the unrecorded answer to be logged', () => logLines(A).find((l) => l.msg === 'answer given but not recorded for retries yet'))
    assert.equal(unrecorded.code, 'STORE_UNAVAILABLE')
    assert.equal(unrecorded.key, `default:m:${p.FromUserName}:${p.MsgId}`)
    assert.equal(unrecorded.account, 'default')
    assert.equal(unrecorded.openId, p.FromUserName)

    // While Redis is down: every try is answered fast with `success`, nothing runs.
    const n = push.text('outage-user-3', 'count')
    for (const [engine, fields] of [[B, n], [A, n], [B, m1], [A, p]] as const) {
      const r = await send(engine, fields)
      assert.equal(r.status, 200)
      assert.equal(r.body, 'success')
      assert.ok(r.ms < 2000, `answered in ${r.ms} ms while Redis is down (WeChat waits 5 s)`)
    }
    for (const e of [A, B]) {
      const h = await health(e)
      assert.equal(h.status, 503)
      assert.equal(h.body.status, 'degraded')
      assert.deepEqual(h.body.store, { kind: 'redis', healthy: false, writes: { writable: true } })
      const lost = await until('the outage in the log', () => logLines(e).find((l) => l.msg === 'redis connection lost; store commands fail fast until it is back'))
      assert.equal(lost.code, 'STORE_UNAVAILABLE')
      assert.match(String(lost.reason), /ECONNREFUSED|ECONNRESET|closed/, 'the line says why')
      assert.equal(lost.url, redis.url, 'and which Redis')
      assert.equal(logLines(e).filter((l) => l.msg === 'redis connection lost; store commands fail fast until it is back').length, 1, 'one line per outage')
      // The engine's stdout is buffered (flushed at least every second): wait for the lines, do not race them.
      const dropped = await until('each message answered `success` because of the outage to be logged', () => {
        const lines = logLines(e).filter((l) => l.msg === 'message dropped: state store unavailable')
        return lines.length >= 2 && lines
      })
      assert.ok(dropped.every((l) => l.code === 'STORE_UNAVAILABLE'))
    }

    // Back, with the data it had. No engine restart.
    await redis.restart()
    for (const e of [A, B]) {
      await until(`${e.port} healthy again`, async () => (await health(e)).status === 200)
      await until(`${e.port} to log its recovery`, () => logLines(e).some((l) => l.msg === 'redis connection recovered'))
      assert.equal(e.child.exitCode, null, 'the same process')
    }
    // A settles the answer it could not record; only then does a retry find it.
    const settled = await until('A to settle the lost answer', () => logLines(A).find((l) => l.msg === 'dedup claims settled after reconnect'))
    assert.ok(Number(settled.settled) >= 1)

    await until('the test\'s own store to reconnect', () => store.healthy())
    assert.equal(await runs(), runsBefore + 1, 'nothing ran during the outage')

    // A retry of the message answered before the kill replays the same bytes.
    assert.equal((await send(B, m1)).body, m1First.body)
    // A retry of the in-flight message gets the answer of its single run, the bytes A gave.
    const pRetry = await send(B, p)
    assert.equal(pRetry.body, pAnswer.body)
    assert.equal(await send(A, p).then((r) => r.body), pRetry.body)
    assert.equal(await runs(), runsBefore + 1, 'no retry ran a message that had run')

    // The message dropped during the outage runs at its next try, once.
    const nRetry = await send(A, n)
    assert.match(String(contentOf(nRetry.body)), new RegExp(`^run ${runsBefore + 2} at \\d+$`))
    assert.equal((await send(B, n)).body, nRetry.body)
    assert.equal(await runs(), runsBefore + 2)

    // And new messages are served as before, on both.
    assert.equal(contentOf((await send(A, push.text('outage-user-4', 'echo back on A'))).body), 'back on A')
    assert.equal(contentOf((await send(B, push.text('outage-user-4', 'echo back on B'))).body), 'back on B')
  })
})

describe('Redis hung while an answer is recorded', () => {
  it('the answer is given at the reply deadline, not after the command timeout, and recorded once Redis answers', async () => {
    const redis = await startRedisServer()
    // A command timeout longer than what is left of the budget after the 1.5 s plugin (2.5 s in all).
    const fleet = await startFleet({ size: 1, redisUrl: redis.url, config: { accounts: [account], limits: { replyBudgetMs: 2500 }, store: { kind: 'redis', commandTimeoutMs: 3000 } } })
    const storeDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-fleet-reader-'))
    const store = await openRedisStore({ url: redis.url, dataDir: storeDir, log: createLogger({ level: 'silent' }) })
    try {
      const [engine] = fleet.instances
      const runs = async () => ((await store.kv.get(pluginNamespace('counter'), globalKey('runs'))) as number | undefined) ?? 0
      const m = push.text('hung-at-record', 'inflight') // the counter plugin: stores its count, then 1.5 s
      const answer = post(engine, sim.request(m))
      await until('the plugin to store its count', async () => (await runs()) === 1)
      redis.pause()
      let first
      try {
        first = await answer
      } finally {
        redis.resume()
      }
      assert.match(String(contentOf(first.body)), /^run 1 at \d+$/)
      // 2.5 s budget; the 3 s command timeout would have made it ~4.5 s (and past WeChat's 5 s with the default budget).
      assert.ok(first.ms < 3300, `answered after ${first.ms} ms`)
      const line = await until('the late recording to be logged', () => logLines(engine).find((l) => l.msg === 'answer given but not recorded for retries yet'))
      assert.equal(line.reason, 'still being recorded at the reply deadline')
      // Whose answer, as the message's other lines say it: the key alone did not name a job event's user.
      assert.equal(line.account, 'default')
      assert.equal(line.openId, m.FromUserName)
      // Redis runs the queued recording once it answers again: a retry replays the bytes, nothing runs twice.
      await until('the answer to be recorded', async () => (await store.dedup.peek(`default:m:${m.FromUserName}:${m.MsgId}`)).state === 'done')
      assert.equal((await post(engine, sim.request(m))).body, first.body)
      assert.equal(await runs(), 1)
    } finally {
      await Promise.allSettled([fleet.stop(1000), store.close()])
      await redis.stop()
      rmSync(storeDir, { recursive: true, force: true })
    }
  })
})

// End to end: the database opens after the crash and what was answered is there. The deterministic check that
// the answer waits for the local commit with the Redis store is test/e2e/log-commit.test.ts (a crash only
// rarely lands in the short window between the two).
describe('a fleet instance killed with kill -9', () => {
  it('every message it answered is in its own log: the answer waits for the local commit with Redis too', async () => {
    const redis = await startRedisServer()
    const fleet = await startFleet({ size: 1, redisUrl: redis.url, config: { accounts: [account] } })
    try {
      const [engine] = fleet.instances
      const { exit, answered } = await killUnderLoad(
        engine,
        async (fields) => {
          const r = await send(engine, fields)
          return r.status === 200 ? contentOf(r.body) : undefined
        },
        { label: 'kill' },
      )
      assert.equal(exit, 'SIGKILL')
      const missing = await missingFromLog(path.join(fleet.dataDirs[0], 'wxengine.db'), answered)
      assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered messages missing from the log`)
    } finally {
      await fleet.stop(1000)
      await redis.stop()
    }
  })
})

// A claim is short and renewed while its message runs (redis-dedup.ts). Claimed for the reply budget + 10 s at
// once, a dead instance's claim outlived WeChat's retries: each was answered `success`, and the message got
// no answer at all (a fleet review).
describe('an instance killed with kill -9 while a message runs on it', () => {
  it("a retry on another instance runs the message once the dead instance's claim lapses, and says so", async () => {
    const redis = await startRedisServer()
    // Command timeout 300 ms: the claim lapses 1.8 s after its last renewal.
    const fleet = await startFleet({ size: 2, redisUrl: redis.url, config: { accounts: [account], store: { kind: 'redis', commandTimeoutMs: 300 } } })
    const admin = await rawRedis(redis.url)
    try {
      const [A, B] = fleet.instances
      const q = push.text('orphaned-user', 'inflight') // the counter, 1.5 s
      const key = `wx:dedup:default:m:${q.FromUserName}:${q.MsgId}` // core/dedup/dedup-key.ts
      const first = send(A, q).catch((e: unknown) => e)
      await until('A to claim the message', async () => String(await admin.get(key)).startsWith('pending:'))
      A.child.kill('SIGKILL')
      await A.exited
      assert.ok((await first) instanceof Error, 'A died before answering')
      const started = Date.now()
      const retry = await send(B, q)
      assert.equal(retry.status, 200)
      assert.match(String(contentOf(retry.body)), /^run \d+ at \d+$/, `the retry ran the message: ${retry.body.slice(0, 80)} after ${retry.ms} ms`)
      assert.ok(Date.now() - started < 4_500, `answered within the reply budget: ${Date.now() - started} ms`)
      const line = await until('B to say it ran the message', () => logLines(B).find((l) => l.msg === 'retry ran the message itself: the instance that claimed it gave the claim up (its run failed) or let it lapse (it stopped, or lost the store)'), 2_000)
      assert.equal(line.openId, 'orphaned-user')
      // Recorded: WeChat's next retry replays it.
      assert.equal((await send(B, q)).body, retry.body)
    } finally {
      admin.disconnect()
      await fleet.stop(1000)
      await redis.stop()
    }
  })
})
