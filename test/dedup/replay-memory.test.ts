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
import { createReplayMemory, fingerprint } from '../../core/dedup/replay-memory.ts'
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

  it('sweeps what expired as it remembers, and a key remembered again keeps its later expiry', () => {
    const m = createReplayMemory()
    m.remember('a', 200, 100)
    m.remember('b', 300, 100)
    m.remember('a', 400, 150)
    assert.equal(m.size, 2)
    m.remember('c', 900, 250) // 'a' (first slot, stale) and nothing else: b expires at 300
    assert.equal(m.seen('a', 250), true, 'the later remember of a holds')
    m.remember('d', 900, 450) // a (400) and b (300) are past
    assert.equal(m.size, 2)
    assert.equal(m.overflowed(), 0, 'nothing was forgotten before its time')
  })

  it('past maxEntries forgets the oldest first and counts them', () => {
    const m = createReplayMemory({ maxEntries: 3 })
    for (const k of ['a', 'b', 'c', 'd', 'e']) m.remember(k, 1000, 0)
    assert.equal(m.size, 3)
    assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map((k) => m.seen(k, 0)), [false, false, true, true, true])
    assert.equal(m.overflowed(), 2)
    assert.equal(m.overflowed(), 0, 'reset by reading')
  })

  it('fingerprints are safe integers, and 200,000 dedup-shaped keys give as many', () => {
    const seen = new Set<number>()
    for (let i = 0; i < 200_000; i++) {
      const fp = fingerprint(`shop:m:oUser${i % 1000}abcdefghijklmnopq:${6_000_000_000_000_000_000n + BigInt(i)}`)
      assert.ok(Number.isSafeInteger(fp) && fp >= 0)
      seen.add(fp)
    }
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

