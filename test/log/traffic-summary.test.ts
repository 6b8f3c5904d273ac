/**
 * The process log's traffic line (core/log/traffic-summary.ts): one info line a minute with counts by
 * outcome, instead of an info line per message (which at a few hundred messages a second outruns journald's
 * rate limit, and journald then drops the service's warnings and errors too). The per-message line is debug.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'
import type { EngineEvent } from '../../core/engine.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createTrafficSummary } from '../../core/log/traffic-summary.ts'
import { startRuntime } from '../../core/runtime.ts'
import type { MessageLogEntry } from '../../core/store/store.ts'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'

const message = (outcome: MessageLogEntry['outcome']): EngineEvent => ({
  type: 'message',
  entry: { at: 0, account: 'a', openId: 'o', kind: 'text', msgKey: 'k', handledBy: 'rule', summary: '', latencyMs: 1, outcome },
})

test('counts by outcome, one line per interval, nothing for a quiet one', async () => {
  const { logger, lines } = createMemoryLogger('info')
  let clock = 1_000_000
  const summary = createTrafficSummary(logger, 40, () => clock)
  for (const o of ['replied', 'replied', 'failed', 'dropped', 'late', 'no_reply'] as const) summary.observe(message(o))
  summary.observe({ type: 'duplicate', account: 'a', openId: 'u', key: 'k', waited: false })
  summary.observe({ type: 'plugin_error', plugin: 'p', code: 'PLUGIN_ERROR' }) // not a message: not counted
  clock += 60_000
  await new Promise((r) => setTimeout(r, 100)) // the interval passes (twice: the second is quiet)
  summary.close()
  const traffic = lines.filter((l) => l.msg === 'messages handled')
  assert.equal(traffic.length, 1, JSON.stringify(lines))
  const { level, time, msg, ...fields } = traffic[0]
  assert.equal(level, 30)
  assert.ok(time && msg)
  assert.deepEqual(fields, { seconds: 60, messages: 6, replied: 2, no_reply: 1, late: 1, failed: 1, dropped: 1, duplicates: 1 })
})

test('close() writes what was counted since the last line (shutdown)', () => {
  const { logger, lines } = createMemoryLogger('info')
  const summary = createTrafficSummary(logger, 60_000)
  summary.observe(message('replied'))
  summary.close()
  assert.equal(lines.filter((l) => l.msg === 'messages handled').length, 1)
  assert.equal(lines[0].messages, 1)
})

const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-traffic-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('the engine: at info no line per message, the summary at shutdown; at debug a line per message', async () => {
  writeFileSync(path.join(dir, 'engine.config.ts'), "export default { accounts: [{ id: 'default', token: 'plaintoken', appId: 'wx1' }] }\n")
  const loaded = loadConfig({ root: dir, env: { DATA_DIR: path.join(dir, 'data') } })
  assert.ok(loaded.ok)
  const sim = createWeChatSimulator({ account: loaded.value.accounts[0] })
  for (const level of ['info', 'debug'] as const) {
    const { logger, lines } = createMemoryLogger(level)
    const runtime = await startRuntime(loaded.value, { listen: false, log: logger })
    for (const text of ['one', 'two']) {
      const req = sim.request(push.text('u1', text))
      assert.equal((await runtime.engine.handle({ method: 'POST', accountId: 'default', query: req.query, body: req.body })).status, 200)
    }
    await runtime.close()
    const perMessage = lines.filter((l) => l.msg === 'message')
    assert.equal(perMessage.length, level === 'debug' ? 2 : 0, level)
    if (level === 'debug') assert.equal(perMessage[0].level, 20)
    const traffic = lines.filter((l) => l.msg === 'messages handled')
    assert.equal(traffic.length, 1, level)
    assert.equal(traffic[0].messages, 2)
  }
})
