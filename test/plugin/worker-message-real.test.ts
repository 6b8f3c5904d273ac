/**
 * What the engine's own worker program sends must pass the arrival check (core/plugin/worker-message.ts):
 * a message it refuses replaces the worker, so a plugin doing something legitimate would fail every call.
 * These are the edges the real program reaches: a session TTL of the least the worker takes (1 s, sent as
 * 1000 ms), a user's storage for a message whose FromUserName is empty (the normalizer takes it), and an
 * api.get query whose values are not strings (plain JavaScript; the URL writes them as text), and an update
 * of a stored value past today's bound (the worker sends it back as `expected`).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { pluginNamespace, globalKey } from '../../core/plugin/storage-keys.ts'
import { loadPlugins, text, textOf, type Harness } from './plugin-test-kit.ts'

let h: Harness

before(async () => {
  h = await loadPlugins({ only: ['session-recorder', 'storage', 'api-user'] })
  assert.deepEqual(h.errors, [])
})
after(() => h.dispose())

function noReplacement(): void {
  const replaced = h.log.lines.filter((l) => String(l.msg).includes('worker replaced'))
  assert.deepEqual(replaced, [])
}

test('the shortest session TTL the worker takes (1 s) is sent as the worker sends it, not taken for a breach', async () => {
  const out = await h.call('session-recorder', text('refresh 1'), { session: { active: true, state: null } })
  assert.equal(out.status, 'reply', JSON.stringify(out))
  assert.deepEqual(out.sessionOps, [{ op: 'refresh', ttlMs: 1000 }])
  noReplacement()
})

test("a user's storage for a message from an empty FromUserName works", async () => {
  assert.equal(textOf(await h.call('storage', text('uset k v', ''))), 'stored')
  assert.equal(textOf(await h.call('storage', text('uget k', ''))), '"v"')
  noReplacement()
})

test('api.get with a query of numbers and booleans reaches the API', async () => {
  const out = await h.call('api-user', text('get numbers'))
  assert.equal(out.status, 'reply', JSON.stringify(out))
  assert.deepEqual(h.apiCalls.at(-1), { accountId: 'main', method: 'get', args: ['/cgi-bin/info', { page: 2, all: true }] })
  noReplacement()
})

test('storage.update of a value stored before values had a bound, past it, works: the value read back is compared as it is', async () => {
  // Written straight into the store, as an engine before the bound (or another tool) left it: 7 M characters.
  await h.store.kv.set(pluginNamespace('storage'), globalKey('big'), 'x'.repeat(7 * 1024 * 1024))
  assert.equal(textOf(await h.call('storage', text('shrink big'))), 'shrunk')
  assert.equal(await h.store.kv.get(pluginNamespace('storage'), globalKey('big')), 'small')
  noReplacement()
})
