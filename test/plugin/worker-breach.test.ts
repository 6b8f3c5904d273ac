/**
 * A plugin whose code got out of vm2 talks to the engine itself, over its worker's line (docs/plugins.md:
 * the sandbox is fault isolation, the worker around it the hard guarantee). Here a stand-in worker program
 * plays that plugin, in a thread and in a process: whatever it sends that the engine's worker program never
 * would (a message of no kind, a log line of level "nope", a result of kind "weird", a session TTL of NaN,
 * a storage key of 5000 characters) is acted on in no way. The call fails as after a crash, the worker is
 * replaced with a line that says why, and the engine goes on. Before, the first three threw inside the
 * engine's message handler: an uncaught exception, which ends every account's engine.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createPluginRunner } from '../../core/plugin/plugin-runner.ts'
import { pluginNamespace } from '../../core/plugin/storage-keys.ts'
import type { PluginIsolation } from '../../core/plugin/plugin-isolation.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { ACCOUNT, captureLog, createFakeApi, errorOf, text } from './plugin-test-kit.ts'

/** A worker program that says it is ready, then answers each call with `reply` (a JS expression over the call `m`). */
function rogueProgram(reply: string, atStart = false): string {
  return `
const { parentPort } = require('node:worker_threads')
const send = (msg) => (parentPort ? parentPort.postMessage(msg) : process.send(msg))
const on = (f) => (parentPort ? parentPort.on('message', f) : process.on('message', f))
${atStart ? `send((() => (${reply}))())` : `send({ t: 'ready' })`}
on((m) => { if (m && m.t === 'call') send((() => (${reply}))()) })
setInterval(() => {}, 60000)
`
}

function runnerWith(source: string, isolation: PluginIsolation) {
  const log = captureLog()
  const store = createMemoryStore()
  const runner = createPluginRunner({
    init: { name: 'rogue', dir: '/nonexistent/rogue', entry: '/nonexistent/rogue/index.ts', config: {}, allow: [], disposeTimeoutMs: 500, logLevel: 'info', accounts: [ACCOUNT], web: { publicUrl: undefined, accounts: [] } },
    timeoutMs: 5000,
    startTimeoutMs: 20_000,
    memoryMb: 64,
    services: { kv: store.kv, api: createFakeApi().api, log: log.logger },
    isolation,
    log: log.logger,
    workerEntry: () => ({ eval: true, source }),
  })
  return { runner, log, store }
}

const call = () => ({
  plugin: 'rogue',
  message: text('hi'),
  key: 'k',
  account: ACCOUNT,
  match: { rule: 'rogue', via: 'type' as const, captures: [], groups: {}, fromClick: false, args: {} },
  session: { active: false, state: undefined },
})

const BREACHES: Array<[string, string, RegExp]> = [
  ['null, not a message', 'null', /its worker sent a message that is null, not an object/],
  ['a message of no known kind', `{ t: 'shell', cmd: 'rm -rf /' }`, /its worker sent a message of kind "shell"/],
  ['a log line of level "nope"', `{ t: 'log', level: 'nope', msg: 'x' }`, /its worker sent a log line of level "nope"/],
  ['a result of kind "weird"', `{ t: 'result', id: m.id, result: { kind: 'weird' }, sessionOps: [] }`, /its worker sent a result of kind "weird"/],
  ['a session TTL of NaN', `{ t: 'result', id: m.id, result: { kind: 'pass' }, sessionOps: [{ op: 'begin', ttlMs: NaN }] }`, /its worker sent session\.begin with a TTL of NaN ms/],
  ['a storage key of 5000 characters', `{ t: 'rpc', id: 1, method: 'kv.set', scope: null, key: 'k'.repeat(5000), value: 1 }`, /its worker sent kv\.set with a key that is not 1 to 1024 characters/],
  ['a subscription notice to an OpenID that is no string', `{ t: 'rpc', id: 1, method: 'api.sendSubscribeMessage', accountId: 'default', openId: 42, message: {} }`, /its worker sent api\.sendSubscribeMessage without an OpenID/],
  ['a customer-service message to "<y>"', `{ t: 'rpc', id: 1, method: 'api.sendToUser', accountId: 'default', openId: '<y>', message: { type: 'text', content: 'x' } }`, /its worker sent api\.sendToUser without an OpenID/],
  ['an api.post body of 60 million characters', `{ t: 'rpc', id: 1, method: 'api.post', accountId: 'default', path: 'cgi-bin/x', body: { big: 'x'.repeat(60_000_000) } }`, /its worker sent api\.post with a body that is not plain data within 8388608 characters/],
]

for (const isolation of ['thread', 'process'] as const) {
  describe(`a worker that breaks the protocol (${isolation})`, () => {
    for (const [what, reply, reason] of BREACHES) {
      test(`${what}: the call fails as a crash, the worker is replaced saying why, nothing it sent is acted on`, async () => {
        const { runner, log, store } = runnerWith(rogueProgram(reply), isolation)
        try {
          const started = await runner.start()
          assert.ok(started.ok, started.ok ? '' : started.error.reason)
          const e = errorOf(await runner.invoke(call()))
          assert.equal(e.code, 'PLUGIN_ERROR')
          assert.match(e.reason, /^the plugin's worker was replaced: /)
          assert.match(e.reason, reason)
          const line = log.lines.find((l) => String(l.msg).startsWith('plugin rogue worker replaced: '))
          assert.ok(line, 'a line says the worker was replaced')
          assert.equal(line.level, 50)
          assert.match(String(line.reason), reason)
          // Nothing was stored (the 5000-character key was not written).
          assert.equal(await store.kv.deletePrefix(pluginNamespace('rogue'), ''), 0)
        } finally {
          await runner.dispose(100)
        }
      })
    }

    test('before it is ready: the start fails as PLUGIN_LOAD, saying why', async () => {
      const { runner } = runnerWith(rogueProgram(`{ t: 'log', level: 'nope', msg: 'x' }`, true), isolation)
      try {
        const started = await runner.start()
        assert.equal(started.ok, false)
        if (started.ok) return
        assert.equal(started.error.code, 'PLUGIN_LOAD')
        assert.match(started.error.reason, /its worker sent a log line of level "nope"/)
      } finally {
        await runner.dispose(100)
      }
    })
  })
}
