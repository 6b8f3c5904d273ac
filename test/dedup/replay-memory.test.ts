/**
 * A push replayed after its answer left the reply cache, while its timestamp is still inside the replay
 * window, is not run again (core/dedup/replay-memory.ts; found by a robustness review: a captured safe-mode
 * push ran a second time 30 s later). The engine runs on a fake clock, its store (SQLite, a real file) too.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { loadConfig } from '../../core/config/load-config.ts'
import { createReplayMemory, fingerprintOf } from '../../core/dedup/replay-memory.ts'
import type { EngineEvent } from '../../core/engine.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { startRuntime, type Runtime } from '../../core/runtime.ts'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'
import { AES_KEY } from '../support/engine-harness.ts'

describe('the replay memory', () => {
  it('remembers a key until its expiry, not after', () => {
    const m = createReplayMemory()
    assert.equal(m.seen('a', 100), false)
    m.remember('a', 700, 100)
    assert.equal(m.seen('a', 100), true)
    assert.equal(m.seen('a', 699), true)
    assert.equal(m.seen('a', 700), false)
    assert.equal(m.seen('b', 100), false)
  })

  it('a key remembered again keeps the later expiry; expired entries give their room back', () => {
    const m = createReplayMemory()
    m.remember('a', 200, 100)
    m.remember('a', 400, 150)
    m.remember('a', 300, 160)
    assert.equal(m.seen('a', 350), true, 'the later expiry holds')
    // 100,000 messages, each remembered for 2 s as the clock moves on: the table holds about the live ones.
    for (let i = 0; i < 100_000; i++) m.remember(`k${i}`, 1000 + Math.floor(i / 1000) + 2, 1000 + Math.floor(i / 1000))
    assert.ok(m.size < 10_000, `held ${m.size}`)
    assert.equal(m.seen('k99999', 1099), true)
    assert.equal(m.seen('k0', 1099), false)
    assert.equal(m.overflowed(), 0)
  })

  it('past maxEntries live ones, new messages are not remembered (counted) until old ones expire', () => {
    const m = createReplayMemory({ maxEntries: 1000 })
    for (let i = 0; i < 5000; i++) m.remember(`live${i}`, 500, 100)
    const lost = m.overflowed()
    assert.ok(lost > 0 && lost < 5000, `lost ${lost}`)
    assert.equal(m.seen('live0', 100), true, 'the first ones are kept')
    assert.equal(m.seen('live4999', 100), false, 'the last ones were not remembered')
    assert.equal(m.overflowed(), 0, 'reset by reading')
    // Once they expire, there is room again.
    m.remember('later', 900, 600)
    assert.equal(m.seen('later', 600), true)
    assert.equal(m.overflowed(), 0)
  })

  it('fingerprints of 200,000 dedup-shaped keys are all different', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 200_000; i++) seen.add(fingerprintOf(`shop:m:oUser${i % 1000}abcdefghijklmnopq:${6_000_000_000_000_000_000n + BigInt(i)}`))
    assert.equal(seen.size, 200_000)
  })
})

describe('a push replayed past the reply cache (the engine, a fake clock)', () => {
  let dir: string
  let rt: Runtime
  let clock = Date.UTC(2026, 11, 4, 12, 0, 0)
  const now = () => clock
  const events: EngineEvent[] = []
  let lines: Array<Record<string, unknown>>
  const account: AccountConfig = { id: 'safe', token: 'safetoken', appId: 'wxsafe0000000001', mode: 'safe', encodingAESKey: AES_KEY }
  const sim = createWeChatSimulator({ account, now })

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-replay-'))
    mkdirSync(path.join(dir, 'rules'))
    mkdirSync(path.join(dir, 'plugins'))
    writeFileSync(path.join(dir, 'rules', 'main.yaml'), 'rules:\n  - name: pay\n    keywords: [{ exact: pay }]\n    reply: { type: text, content: paid }\n')
    const loaded = loadConfig({ root: dir, env: {}, overrides: { dataDir: path.join(dir, 'data'), defaultAccount: 'safe', accounts: [account] } })
    if (!loaded.ok) throw new Error(loaded.error.reason)
    const memory = createMemoryLogger('debug')
    lines = memory.lines
    rt = await startRuntime(loaded.value, { listen: false, log: memory.logger, now, observe: (e) => events.push(e) })
  })
  after(async () => {
    await rt.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const handle = (r: { query: Record<string, string>; body: string }) => rt.engine.handle({ method: 'POST', accountId: 'safe', query: r.query, body: r.body })
  const messagesRun = () => events.filter((e) => e.type === 'message').length

  it('a retry inside the reply cache gets the same bytes; a replay past it gets success and is not run; past the window, the timestamp refuses it', async () => {
    const captured = sim.request(push.text('o-payer', 'pay'))
    const first = await handle(captured)
    assert.equal(first.status, 200)
    assert.equal(sim.openReply(first.body).fields?.Content, 'paid')
    assert.equal(messagesRun(), 1)

    clock += 10_000 // WeChat's retry: inside the 30 s reply cache
    const retry = await handle(captured)
    assert.equal(retry.body, first.body, 'the retry gets the very bytes')
    assert.equal(messagesRun(), 1)

    clock += 60_000 // the reply cache has let it go; the timestamp is 70 s old, inside the 600 s window
    const before = lines.length
    const replay = await handle(captured)
    assert.equal(replay.status, 200)
    assert.equal(replay.body, 'success')
    assert.equal(messagesRun(), 1, 'the message did not run again')
    const said = lines.slice(before).find((l) => l.code === 'REPLAYED')
    assert.ok(said, JSON.stringify(lines.slice(before)))
    assert.equal(said.account, 'safe')
    assert.equal(said.openId, 'o-payer')
    assert.ok(events.some((e) => e.type === 'rejected' && e.code === 'REPLAYED' && e.status === 200))

    // Another message of the same user, sent now, runs as usual.
    const next = await handle(sim.request(push.text('o-payer', 'pay')))
    assert.equal(sim.openReply(next.body).fields?.Content, 'paid')
    assert.equal(messagesRun(), 2)

    clock += 600_000 // past the window: refused by the timestamp check, as any stale push
    const stale = await handle(captured)
    assert.equal(stale.status, 401)
    assert.equal(stale.body, 'STALE_TIMESTAMP')
    assert.equal(messagesRun(), 2)
  })
})


/**
 * The window's edges: the timestamp check lets a push in up to `timestampWindowSeconds` old, that second
 * included, and it is made before the body is read (engine.refuseBeforeBody), up to the request timeout
 * before the message is looked up here. The memory must hold a handled message through both: it let a replay
 * sent in the window's last second run again, and one whose body was sent slowly from inside the window.
 */
describe('a replay at the edges of the window (the engine, a fake clock)', () => {
  let dir: string
  let rt: Runtime
  const start = Date.UTC(2026, 11, 4, 12, 0, 0)
  let clock = start
  const now = () => clock
  const events: EngineEvent[] = []
  const account: AccountConfig = { id: 'safe', token: 'safetoken', appId: 'wxsafe0000000001', mode: 'safe', encodingAESKey: AES_KEY }
  const sim = createWeChatSimulator({ account, now })
  let windowMs = 0
  let requestTimeoutMs = 0

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-replay-edge-'))
    mkdirSync(path.join(dir, 'rules'))
    mkdirSync(path.join(dir, 'plugins'))
    writeFileSync(path.join(dir, 'rules', 'main.yaml'), 'rules:\n  - name: pay\n    keywords: [{ exact: pay }]\n    reply: { type: text, content: paid }\n')
    const loaded = loadConfig({ root: dir, env: {}, overrides: { dataDir: path.join(dir, 'data'), defaultAccount: 'safe', accounts: [account] } })
    if (!loaded.ok) throw new Error(loaded.error.reason)
    windowMs = loaded.value.limits.timestampWindowSeconds * 1000
    requestTimeoutMs = loaded.value.limits.requestTimeoutMs
    rt = await startRuntime(loaded.value, { listen: false, log: createMemoryLogger('debug').logger, now, observe: (e) => events.push(e) })
  })
  after(async () => {
    await rt.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const messagesRun = () => events.filter((e) => e.type === 'message').length
  const replays = () => events.filter((e) => e.type === 'rejected' && e.code === 'REPLAYED').length

  it('a replay in the last second the timestamp check accepts is refused, not run again', async () => {
    clock = start
    const captured = sim.request(push.text('o-edge', 'pay'))
    const first = await rt.engine.handle({ method: 'POST', accountId: 'safe', query: captured.query, body: captured.body })
    assert.equal(sim.openReply(first.body).fields?.Content, 'paid')
    const ran = messagesRun()
    const refused = replays()

    clock = start + windowMs // exactly the window: the timestamp check still lets it in
    const replay = await rt.engine.handle({ method: 'POST', accountId: 'safe', query: captured.query, body: captured.body })
    assert.equal(replay.body, 'success')
    assert.equal(messagesRun(), ran, 'the message did not run again')
    assert.equal(replays(), refused + 1)

    clock = start + windowMs + 1000 // one second past: the timestamp refuses it
    const stale = await rt.engine.handle({ method: 'POST', accountId: 'safe', query: captured.query, body: captured.body })
    assert.equal(stale.body, 'STALE_TIMESTAMP')
  })

  it('a replay whose query passed in the window and whose body came in slowly after it is refused, not run again', async () => {
    clock = start + 2 * windowMs
    const captured = sim.request(push.text('o-slow', 'pay'))
    await rt.engine.handle({ method: 'POST', accountId: 'safe', query: captured.query, body: captured.body })
    const ran = messagesRun()
    const refused = replays()

    clock += windowMs // the query is checked as it arrives, before the body (server/create-app.ts)
    const query = { ...captured.query }
    assert.equal(rt.engine.refuseBeforeBody('safe', query), undefined)
    clock += requestTimeoutMs // the body is sent as slowly as the request timeout lets it
    const replay = await rt.engine.handle({ method: 'POST', accountId: 'safe', query, body: captured.body })
    assert.equal(replay.body, 'success')
    assert.equal(messagesRun(), ran, 'the message did not run again')
    assert.equal(replays(), refused + 1)
  })

  it("a replay of WeChat's retry (a later timestamp of its own, answered from the reply cache) is refused until that timestamp leaves the window", async () => {
    clock = start + 4 * windowMs
    const fields = push.text('o-retried', 'pay')
    await rt.engine.handle({ method: 'POST', accountId: 'safe', ...sim.request(fields) })
    clock += 20_000 // WeChat's retry: the same message under a query of its own
    const retry = sim.request(fields)
    const again = await rt.engine.handle({ method: 'POST', accountId: 'safe', query: retry.query, body: retry.body })
    assert.equal(sim.openReply(again.body).fields?.Content, 'paid', 'the retry gets the answer given')
    const ran = messagesRun()
    const refused = replays()

    clock += windowMs // the first push's timestamp has left the window; the retry's is in its last second
    const replay = await rt.engine.handle({ method: 'POST', accountId: 'safe', query: retry.query, body: retry.body })
    assert.equal(replay.body, 'success')
    assert.equal(messagesRun(), ran, 'the message did not run again')
    assert.equal(replays(), refused + 1)
  })
})
