/**
 * A late reply left pending by one run and taken up by the next (late-reply-sender.ts, resumePending) ends in
 * the message log as one sent or failed by the run that handed it over does (docs/cli.md, `wxengine log`):
 * failed for good, it adds the third row, `failed` with `late reply failed: <why>`, shaped as the live path's
 * (engine.ts, answerWithinBudget); sent, it adds none, the earlier run's `late` row with the reply's type
 * saying it. Before, the failed row came only from the live path's callback, gone with the first run: the
 * message stayed `late` for good though no reply ever went.
 *
 * Two engine runs on one data directory (a real SQLite file), the platform a local stand-in speaking its JSON.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { loadConfig } from '../../core/config/load-config.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createResumedLateReplyRows } from '../../core/log/resumed-late-reply-rows.ts'
import { createLateReplySender } from '../../core/platform/late-reply-sender.ts'
import { startRuntime, type Runtime } from '../../core/runtime.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { SQLITE_FILE_NAME } from '../../core/store/open-store.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import type { MessageLogEntry } from '../../core/store/store.ts'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'
import { until } from '../support/until.ts'

const ACCOUNT: AccountConfig = { id: 'main', token: 'maintoken', appId: 'wxmain0000000001', appSecret: 'main-secret', mode: 'plaintext' }
const RULES = `
rules:
  - name: slow-one
    keywords: [hello]
    plugin: slow
`
// Past the reply budget (100 ms), then a reply: it goes out late.
const PLUGIN = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'slow',
  async handle() {
    await new Promise((r) => setTimeout(r, 400))
    return { type: 'text', content: 'late answer' }
  },
})
`

let fake: FakeWeChatApi
before(async () => {
  fake = await startFakeWeChatApi({ appId: ACCOUNT.appId, appSecret: ACCOUNT.appSecret ?? '' })
})
after(() => fake.close())

function projectDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-resumed-row-'))
  mkdirSync(path.join(dir, 'rules'))
  writeFileSync(path.join(dir, 'rules', 'slow.yaml'), RULES)
  mkdirSync(path.join(dir, 'plugins', 'slow'), { recursive: true })
  writeFileSync(path.join(dir, 'plugins', 'slow', 'index.ts'), PLUGIN)
  return dir
}

async function run(dir: string): Promise<{ runtime: Runtime; lines: Array<Record<string, unknown>> }> {
  const loaded = loadConfig({
    root: dir,
    env: {},
    overrides: {
      port: 0,
      host: '127.0.0.1',
      dataDir: path.join(dir, 'data'),
      rulesDir: path.join(dir, 'rules'),
      pluginsDir: path.join(dir, 'plugins'),
      defaultAccount: ACCOUNT.id,
      accounts: [ACCOUNT],
      limits: { replyBudgetMs: 100 },
      platform: { apiBase: fake.baseUrl },
    },
  })
  if (!loaded.ok) throw new Error(loaded.error.reason)
  const { logger, lines } = createMemoryLogger('debug')
  return { runtime: await startRuntime(loaded.value, { log: logger }), lines }
}

/** The first run: the message answered `success` at the budget, its late reply refused as busy, the run stopped mid-retry. */
async function firstRunLeavesItPending(dir: string, openId: string): Promise<string> {
  const { runtime, lines } = await run(dir)
  try {
    fake.failNextSends(1, -1, 'system error')
    const sim = createWeChatSimulator({ account: ACCOUNT })
    const req = sim.request(push.text(openId, 'hello'))
    const res = await fetch(`${runtime.url}/wechat/${ACCOUNT.id}?${req.search}`, { method: 'POST', body: req.body })
    assert.equal(await res.text(), 'success')
    const retrying = await until('the late reply to wait for its retry', () => lines.find((l) => l.msg === 'late reply attempt failed; retrying'))
    return String(retrying.key)
  } finally {
    await runtime.close()
  }
}

/** The message log as `wxengine log` reads it, newest first, once the run is over. */
async function rowsOf(dir: string, openId: string): Promise<MessageLogEntry[]> {
  const store = openSqliteStore({ file: path.join(dir, 'data', SQLITE_FILE_NAME) })
  try {
    return await store.log.query({ account: ACCOUNT.id, openId })
  } finally {
    await store.close()
  }
}

test('resumed after a restart and failed for good: the message gets its third row, failed with the reason, as on the live path', { timeout: 60_000 }, async () => {
  const dir = projectDir()
  try {
    const key = await firstRunLeavesItPending(dir, 'o-fails')
    // The second run: the platform refuses the send for good (the user's 48 h window has closed).
    fake.failNextSends(1, 45015, 'response out of time limit')
    const { runtime, lines } = await run(dir)
    try {
      await until('the resumed send to fail', () => lines.find((l) => l.msg === 'late reply failed' && l.key === key))
    } finally {
      await runtime.close()
    }
    const rows = await rowsOf(dir, 'o-fails')
    assert.deepEqual(rows.map((r) => [r.outcome, r.replyType ?? null]), [['failed', 'text'], ['late', 'text'], ['late', null]])
    const [failed, replied] = rows
    assert.equal(failed.msgKey, key)
    assert.match(failed.error ?? '', /^late reply failed: API_ERROR: .*45015/)
    // As the live path's failed row: the message's kind, text, plugin and how it was handled; no rule (no second hit).
    assert.equal(failed.kind, 'text')
    assert.equal(failed.summary, 'hello')
    assert.equal(failed.plugin, 'slow')
    assert.equal(failed.handledBy, replied.handledBy)
    assert.equal(failed.rule, undefined)
    assert.ok(failed.latencyMs >= replied.latencyMs, 'latency from the message, not from the restart')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('resumed after a restart and sent: no row is added, as on the live path', { timeout: 60_000 }, async () => {
  const dir = projectDir()
  try {
    const key = await firstRunLeavesItPending(dir, 'o-sent')
    const { runtime, lines } = await run(dir)
    try {
      await until('the resumed send to go out', () => lines.find((l) => l.msg === 'late reply sent' && l.key === key))
    } finally {
      await runtime.close()
    }
    assert.ok(fake.sent.some((m) => m.body.touser === 'o-sent'))
    const rows = await rowsOf(dir, 'o-sent')
    assert.deepEqual(rows.map((r) => [r.outcome, r.replyType ?? null]), [['late', 'text'], ['late', null]])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('found past the 48 h window at start-up: failed, with its row', async () => {
  const store = createMemoryStore()
  const { logger } = createMemoryLogger()
  const arrived = Date.now() - 49 * 3_600_000
  store.log.append({ at: arrived + 5000, account: 'acc', openId: 'o-stale', kind: 'text', msgKey: 'k-77', handledBy: 'rule', rule: 'r', plugin: 'slow', replyType: 'text', summary: 'hi', latencyMs: 5000, outcome: 'late' })
  await store.outbox.record({ account: 'acc', openId: 'o-stale', msgKey: 'k-77', reply: { type: 'text', content: 'too old' }, attempts: 1, status: 'pending', at: arrived + 5000 })
  const rows = createResumedLateReplyRows({ messageLog: store.log, log: logger })
  const sender = createLateReplySender({ api: () => undefined, outbox: store.outbox, log: logger })
  assert.equal(await sender.resumePending((s) => rows.record(s)), 0)
  await rows.appended()
  const [failed] = await store.log.query({ openId: 'o-stale' })
  assert.equal(failed.outcome, 'failed')
  assert.equal(failed.msgKey, 'k-77')
  assert.equal(failed.error, 'late reply failed: EXPIRED: left pending past the 48 h customer-service window')
  assert.equal(failed.plugin, 'slow')
  assert.ok(failed.latencyMs >= 49 * 3_600_000)
})
