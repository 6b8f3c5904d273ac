/**
 * Shared storage areas (ctx.storage.shared): two plugins that declare an area read and write the same keys,
 * apart from each one's own; a plugin that does not declare it is refused at its line; a definition whose
 * sharedStorage is not a list of names does not load; setup's api.storage reaches the area too; and a user's
 * keys in the area go with the rest on unsubscribe (log.purgeOnUnsubscribe). Real workers, a real SQLite file.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import type { PluginServices } from '../../core/plugin/plugin-host-types.ts'
import { servePluginRpc } from '../../core/plugin/serve-plugin-rpc.ts'
import { globalKey, sharedNamespace, userKey } from '../../core/plugin/storage-keys.ts'
import { checkWorkerMessage } from '../../core/plugin/worker-message.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { createTestClient, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'
import { loadPlugins, text as textMessage, textOf } from './plugin-test-kit.ts'

const award = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'award',
  sharedStorage: ['points'],
  async setup(api) {
    await api.storage.shared('points').set('rate', 10)
  },
  async handle(ctx) {
    if (ctx.message.kind !== 'text') return ctx.pass()
    const points = ctx.storage.shared('points')
    const rate = (await points.get<number>('rate')) ?? 0
    await points.increment('issued', rate)
    await ctx.storage.user.set('note', 'award was here')
    return 'balance ' + (await points.user.increment('balance', rate))
  },
})
`

const spend = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'spend',
  sharedStorage: ['points', 'points'],
  async handle(ctx) {
    if (ctx.message.kind !== 'text') return ctx.pass()
    const points = ctx.storage.shared('points')
    if (ctx.message.content === 'peek') {
      return JSON.stringify({ own: (await ctx.storage.user.get('note')) ?? null, issued: await points.get('issued') })
    }
    const left = await points.user.update<number>('balance', (b = 0) => (b >= 15 ? b - 15 : b))
    return 'left ' + left
  },
})
`

const nosy = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'nosy',
  sharedStorage: ['votes'],
  async handle(ctx) {
    if (ctx.message.kind !== 'text') return ctx.pass()
    try {
      const area = ctx.message.content === 'nosy bad' ? 'Points!' : 'points'
      await ctx.storage.shared(area).user.get('balance')
      return 'read it'
    } catch (e) {
      return (e as Error).name + ': ' + (e as Error).message
    }
  },
})
`

const badList = (value: string, name = 'listed') => `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({ name: '${name}', sharedStorage: ${value}, handle: () => 'never' } as never)
`

const rules = `rules:
  - { name: earn, keywords: [earn], plugin: award }
  - { name: spend, keywords: [spend, peek], plugin: spend }
  - { name: nosy, keywords: [nosy, nosy bad], plugin: nosy }
`

let project: PluginProject
let client: TestClient
const text = async (input: string, openId?: string) => String((await client.send(input, openId === undefined ? {} : { openId })).content)

before(async () => {
  project = pluginProject({ plugins: { award, spend, nosy }, rules: { 'main.yaml': rules } }, 'shared-storage')
  client = await createTestClient({ root: project.root, config: { log: { purgeOnUnsubscribe: true } } })
})
after(async () => {
  await client.close()
  project.remove()
})

test('two plugins declaring an area share its keys, per user and plugin-wide; their own keys stay apart', async () => {
  await client.expectReply('earn', 'balance 10')
  await client.expectReply('earn', 'balance 20')
  await client.expectReply('spend', 'left 5')
  await client.expectReply('spend', 'left 5')
  // Another user has a balance of their own in the area; the plugin-wide key counts both.
  await client.expectReply('earn', 'balance 10', { openId: 'other' })
  assert.deepEqual(JSON.parse(await text('peek')), { own: null, issued: 30 })
  // As the test kit sees them: the area's keys, and award's own note, not spend's.
  const area = client.storage('award').shared('points')
  assert.equal(await area.user.get('balance'), 5)
  assert.equal(await area.get('rate'), 10, "award's setup wrote it through api.storage.shared")
  assert.equal(await client.storage('award').user.get('note'), 'award was here')
  assert.equal(await client.storage('spend').user.get('note'), undefined)
  // Stored in a namespace of its own, apart from every plugin's.
  assert.equal(await client.runtime.store.kv.get(sharedNamespace('points'), userKey('other', 'balance')), 10)
})

test('an area the plugin does not declare, or a name that is none, is a TypeError at its line saying what to declare', async () => {
  assert.equal(
    await text('nosy'),
    "TypeError: storage.shared(\"points\"): the plugin does not declare this area; add sharedStorage: ['votes', 'points'] to its definePlugin",
  )
  assert.match(await text('nosy bad'), /^TypeError: storage\.shared\("Points!"\): an area's name is lowercase letters, digits and hyphens/)
})

test('a sharedStorage that is not a list of names: the plugin does not load, and says why', async () => {
  const bad = pluginProject({ plugins: { listed: badList("'points'"), named: badList("['points', 'Big Area']", 'named') } }, 'shared-storage-bad')
  try {
    await assert.rejects(createTestClient({ root: bad.root, log: createMemoryLogger('silent').logger }), (e: Error) => {
      const list = `sharedStorage must be a list of at most 16 area names, each lowercase letters, digits and hyphens \\(e\\.g\\. \\['points'\\]\\)`
      assert.match(e.message, new RegExp(`PLUGIN_LOAD: plugin listed: ${list}, not string`))
      assert.match(e.message, new RegExp(`PLUGIN_LOAD: plugin named: ${list}: "Big Area" is not one`))
      return true
    })
  } finally {
    bad.remove()
  }
})

test("on unsubscribe (purgeOnUnsubscribe) the user's keys in the declared areas go; plugin-wide ones and other users' stay", async () => {
  await client.expectReply('earn', 'balance 20', { openId: 'other' })
  const kv = client.runtime.store.kv
  assert.equal(await kv.get(sharedNamespace('points'), userKey('other', 'balance')), 20)
  await client.send(push.event('other', 'unsubscribe'))
  await client.runtime.engine.idle()
  assert.equal(await kv.get(sharedNamespace('points'), userKey('other', 'balance')), undefined)
  assert.equal(await kv.get(sharedNamespace('points'), userKey(client.openId, 'balance')), 5)
  assert.equal(await kv.get(sharedNamespace('points'), globalKey('issued')), 40)
})

test('the main thread refuses an area the plugin did not declare, and a worker message naming one that is no name', async () => {
  const store = createMemoryStore()
  const services: PluginServices = { kv: store.kv, log: createMemoryLogger('silent').logger, api: () => assert.fail('no API call here') }
  await store.kv.set(sharedNamespace('points'), globalKey('k'), 1)
  const get = { t: 'rpc' as const, id: 1, method: 'kv.get' as const, scope: null, key: 'k', area: 'points' }
  assert.deepEqual(await servePluginRpc('award', get, services, ['points']), { t: 'rpc-result', id: 1, ok: true, value: 1 })
  const refused = await servePluginRpc('nosy', get, services, ['votes'])
  assert.equal(refused.ok, false)
  assert.match((refused as { message: string }).message, /storage\.shared\("points"\): plugin nosy does not declare this area/)
  assert.equal(checkWorkerMessage({ ...get, area: 'Points!' }), 'kv.get in an area whose name is "Points!"')
  assert.equal(checkWorkerMessage({ t: 'defined', sharedStorage: ['points'] }), undefined)
  assert.equal(checkWorkerMessage({ t: 'defined', sharedStorage: [1] }), 'defined with a sharedStorage that is not a list of area names')
})

test('in a child process (limits.pluginIsolation: process) as in a thread: the areas declared, and their keys shared', async () => {
  const h = await loadPlugins({ dir: path.join(project.root, 'plugins'), only: ['award', 'spend'], isolation: 'process' })
  try {
    assert.deepEqual(h.errors, [])
    assert.deepEqual(h.set.sharedAreas(), ['points'])
    assert.equal(textOf(await h.call('award', textMessage('earn', 'p1'))), 'balance 10')
    assert.equal(textOf(await h.call('spend', textMessage('spend', 'p1'))), 'left 10')
    assert.equal(await h.store.kv.get(sharedNamespace('points'), userKey('p1', 'balance')), 10)
  } finally {
    await h.dispose()
  }
})
