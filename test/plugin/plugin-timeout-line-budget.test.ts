/**
 * A plugin that hangs on some messages and answers the others (a loop on one input, a call to a service that
 * never answers) meets its deadline on each of those: 'plugin <name> call timed out' came once per message,
 * and under load that is the flood log/line-budget.ts is for. The line is budgeted per plugin, in the
 * engine's shared budget: a flood of 25 costs LINES_PER_KEY lines and one count, another plugin's first
 * timeout is still written. It names whose message hung it: the account, the user and the message's key.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dedupKeyOf } from '../../core/dedup/dedup-key.ts'
import { createLineBudget, LINES_PER_KEY } from '../../core/log/line-budget.ts'
import type { PluginCall } from '../../core/plugin/plugin-host-types.ts'
import { createPluginRunner } from '../../core/plugin/plugin-runner.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { ACCOUNT, captureLog, createFakeApi, text } from './plugin-test-kit.ts'

const TIMEOUT_MS = 150

/** A worker program that says it is ready, answers a call saying "ok" with a pass and never answers any other. */
const HANGS_BUT_ON_OK = `
const { parentPort } = require('node:worker_threads')
parentPort.postMessage({ t: 'ready' })
parentPort.on('message', (m) => {
  if (m && m.t === 'call' && m.message.content === 'ok') parentPort.postMessage({ t: 'result', id: m.id, result: { kind: 'pass' }, sessionOps: [] })
})
setInterval(() => {}, 60000)
`

function callOf(plugin: string, content: string, fromUser: string): PluginCall {
  const message = text(content, fromUser)
  return {
    plugin,
    message,
    key: dedupKeyOf(ACCOUNT.id, message),
    account: ACCOUNT,
    match: { rule: plugin, via: 'type' as const, captures: [], groups: {}, fromClick: false, args: {} },
    session: { active: false, state: undefined },
  }
}

test("a plugin timing out on message after message writes a budget of lines, and another plugin's first timeout is written", { timeout: 60_000 }, async () => {
  const log = captureLog()
  // The engine's budget, shared by its plugins (runtime.ts passes it through loadGeneration). Its window
  // outlasts the test: 25 timeouts of 150 ms, each with a worker restart, can pass the engine's 10 s on a
  // loaded machine, and a second window would write lines of its own and fail the counts below.
  const lines = createLineBudget(log.logger, { windowMs: 10 * 60_000 })
  const store = createMemoryStore()
  const runnerOf = (name: string) =>
    createPluginRunner({
      init: { name, dir: `/nonexistent/${name}`, entry: `/nonexistent/${name}/index.ts`, config: {}, allow: [], disposeTimeoutMs: 500, logLevel: 'info', accounts: [ACCOUNT], web: { publicUrl: undefined, accounts: [] } },
      timeoutMs: TIMEOUT_MS,
      startTimeoutMs: 20_000,
      memoryMb: 64,
      services: { kv: store.kv, api: createFakeApi().api, log: log.logger },
      isolation: 'thread',
      log: log.logger.child({ plugin: name }),
      lines,
      workerEntry: () => ({ eval: true, source: HANGS_BUT_ON_OK }),
    })
  const hangs = runnerOf('hangs')
  const other = runnerOf('other')
  try {
    assert.ok((await hangs.start()).ok)
    assert.ok((await other.start()).ok)
    // A hang, then an answered call (so each timeout restarts the worker at once, as under real traffic).
    for (let i = 0; i < LINES_PER_KEY + 5; i++) {
      assert.equal((await hangs.invoke(callOf('hangs', 'hang', `user-${i}`))).status, 'error')
      // Tried again while it meets its deadline waiting for the restarted worker (a busy machine).
      let tries = 0
      while ((await hangs.invoke(callOf('hangs', 'ok', `user-${i}`))).status !== 'pass') assert.ok(++tries < 10, 'the restarted worker answers')
    }
    const last = callOf('other', 'hang', 'user-x')
    assert.equal((await other.invoke(last)).status, 'error')
    const timedOut = log.lines.filter((l) => typeof l.msg === 'string' && / call timed out/.test(l.msg) && l.held === undefined)
    assert.equal(timedOut.filter((l) => l.plugin === 'hangs').length, LINES_PER_KEY, 'the flood used its budget of lines')
    // Each timeout restarts the worker, and that line comes as often.
    const restarted = log.lines.filter((l) => l.msg === 'plugin hangs restarted')
    assert.equal(restarted.length, LINES_PER_KEY, 'the restart lines used their budget too')
    const first = timedOut.find((l) => l.plugin === 'other')
    assert.ok(first, "another plugin's first timeout has its own line")
    assert.equal(first.code, 'PLUGIN_TIMEOUT')
    assert.equal(first.account, ACCOUNT.id)
    assert.equal(first.openId, 'user-x')
    assert.equal(first.key, dedupKeyOf(ACCOUNT.id, last.message))
  } finally {
    await Promise.all([hangs.dispose(), other.dispose()])
    lines.close()
  }
})

test("the timeout line and the engine's 'plugin <name> failed' line for the same calls each have their budget: a flood of the engine's does not hold back the runner's", { timeout: 60_000 }, async () => {
  const log = captureLog()
  const lines = createLineBudget(log.logger, { windowMs: 10 * 60_000 })
  const store = createMemoryStore()
  const runner = createPluginRunner({
    init: { name: 'hangs', dir: '/nonexistent/hangs', entry: '/nonexistent/hangs/index.ts', config: {}, allow: [], disposeTimeoutMs: 500, logLevel: 'info', accounts: [ACCOUNT], web: { publicUrl: undefined, accounts: [] } },
    timeoutMs: TIMEOUT_MS,
    startTimeoutMs: 20_000,
    memoryMb: 64,
    services: { kv: store.kv, api: createFakeApi().api, log: log.logger },
    isolation: 'thread',
    log: log.logger.child({ plugin: 'hangs' }),
    lines,
    workerEntry: () => ({ eval: true, source: HANGS_BUT_ON_OK }),
  })
  try {
    assert.ok((await runner.start()).ok)
    // What the engine wrote for the plugin's earlier timed-out calls (engine.ts onPluginError: the code and
    // the plugin), its budget used up.
    for (let i = 0; i <= LINES_PER_KEY; i++) lines.warn('PLUGIN_TIMEOUT hangs', { code: 'PLUGIN_TIMEOUT', plugin: 'hangs' }, 'plugin hangs failed: no answer')
    assert.equal((await runner.invoke(callOf('hangs', 'hang', 'user-1'))).status, 'error')
    const timedOut = log.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('plugin hangs call timed out'))
    assert.equal(timedOut.length, 1, "the runner's line is written, not counted with the engine's")
  } finally {
    await runner.dispose()
    lines.close()
  }
})
