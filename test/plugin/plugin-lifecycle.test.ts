/**
 * setup/dispose: what setup registers is undone on unload even when the plugin forgets, dispose is
 * bounded, and calls already running when dispose is asked for finish on the old generation.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { describe, test } from 'node:test'
import { pluginProject } from '../support/plugin-project.ts'
import { errorOf, loadPlugins, text, textOf } from './plugin-test-kit.ts'

test('every/after/onDispose are undone on dispose though the plugin has no dispose', async () => {
  const h = await loadPlugins({ only: ['timers'] })
  assert.deepEqual(h.errors, [])
  const tickLines = () => h.log.lines.filter((l) => l.msg === 'tick').length

  await h.log.waitFor((l) => l.msg === 'tick' && l.n === 3)
  await h.log.waitFor((l) => l.msg === 'after fired')
  assert.equal(await h.store.kv.get('plugin:timers', 'g:after'), 'fired')
  assert.match(textOf(await h.call('timers', text('count'))), /^ticks \d+$/)

  await h.dispose()
  const disposed = await h.log.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('plugin timers disposed'))
  // The interval, the 60 s timeout and the onDispose hook; the 5 ms timeout had already fired.
  assert.equal(disposed.cleared, 3)
  assert.equal(await h.store.kv.get('plugin:timers', 'g:onDispose'), 'ran')

  // Proving that something stops needs time to pass: ten intervals' worth.
  const ticksAtDispose = tickLines()
  const storedAtDispose = await h.store.kv.get('plugin:timers', 'g:ticks')
  await delay(150)
  assert.equal(tickLines(), ticksAtDispose)
  assert.equal(await h.store.kv.get('plugin:timers', 'g:ticks'), storedAtDispose)
  assert.equal(await h.store.kv.get('plugin:timers', 'g:late'), undefined)
})

test('dispose lets calls already running finish, then refuses new ones', async () => {
  const h = await loadPlugins({ only: ['slow'] })
  const order: string[] = []
  const running = h.call('slow', text('300')).then((o) => {
    order.push('call')
    return o
  })
  // The call is on its way to the worker before dispose is asked for.
  const disposing = h.dispose().then(() => order.push('dispose'))
  assert.equal(textOf(await running), 'done after 300')
  await disposing
  assert.deepEqual(order, ['call', 'dispose'])
  const late = errorOf(await h.call('slow', text('0')))
  assert.equal(late.code, 'PLUGIN_ERROR')
  assert.match(late.reason, /disposed/)
})

test('dispose waits for a running call no longer than its deadline', async () => {
  const h = await loadPlugins({ only: ['slow'], timeoutMs: 300 })
  const started = performance.now()
  const running = h.call('slow', text('60000'))
  await h.dispose()
  const took = performance.now() - started
  assert.equal(errorOf(await running).code, 'PLUGIN_TIMEOUT')
  assert.ok(took < 2000, `dispose took ${took} ms`)
})

test('a plugin dispose that never finishes is cut off; its hooks still run', async () => {
  const h = await loadPlugins({ only: ['dispose-hangs'], disposeTimeoutMs: 200 })
  assert.equal(textOf(await h.call('dispose-hangs', text('x'))), 'ok')
  const started = performance.now()
  await h.dispose()
  assert.ok(performance.now() - started < 1500)
  const line = await h.log.waitFor((l) => typeof l.msg === 'string' && l.msg.includes('dispose failed'))
  assert.match(String(line.reason), /dispose did not finish within 200 ms/)
  await h.log.waitFor((l) => l.msg === 'onDispose hook ran')
})

test('disposing twice is one dispose', async () => {
  const h = await loadPlugins({ only: ['slow'] })
  await Promise.all([h.dispose(), h.dispose()])
  assert.equal(h.log.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('plugin slow disposed')).length, 1)
})

describe('a dispose the worker cannot bound is cut off by the engine, with a line saying so', () => {
  // A loop in dispose, or in an onDispose hook, never lets the worker's own timers fire: the worker never
  // says it disposed. The engine's bound: dispose's 200 ms, the hooks' 200 ms and a 500 ms margin.
  const cases: Array<[string, string]> = [
    ['a loop in dispose', `dispose() { for (;;) {} },`],
    ['a loop in an onDispose hook', `setup(api) { api.onDispose(() => { for (;;) {} }) },`],
  ]
  for (const [what, member] of cases) {
    test(what, async () => {
      const project = pluginProject({ plugins: { stuck: `import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({\n  name: 'stuck',\n  handle: (ctx) => ctx.reply.text('ok'),\n  ${member}\n})\n` } }, 'dispose-stuck')
      try {
        const h = await loadPlugins({ dir: path.join(project.root, 'plugins'), only: ['stuck'], disposeTimeoutMs: 200 })
        assert.deepEqual(h.errors, [])
        assert.equal(textOf(await h.call('stuck', text('x'))), 'ok')
        const started = performance.now()
        await h.dispose()
        assert.ok(performance.now() - started < 3000)
        const line = h.log.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('plugin stuck dispose'))
        assert.ok(line, 'a line names the plugin whose dispose did not finish')
        assert.equal(line.code, 'PLUGIN_TIMEOUT')
        assert.match(String(line.msg), /did not finish within 900 ms/)
      } finally {
        project.remove()
      }
    })
  }
})

test('a worker that dies during dispose ends the dispose at once, with a line that does not promise a restart', async () => {
  const source = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'dies-disposing',
  handle: (ctx) => ctx.reply.text('ok'),
  dispose() {
    setTimeout(() => { throw new Error('gone while disposing') }, 0)
    return new Promise(() => {})
  },
})
`
  const project = pluginProject({ plugins: { 'dies-disposing': source } }, 'dies-disposing')
  try {
    const h = await loadPlugins({ dir: path.join(project.root, 'plugins'), only: ['dies-disposing'], disposeTimeoutMs: 5000 })
    assert.deepEqual(h.errors, [])
    assert.equal(textOf(await h.call('dies-disposing', text('x'))), 'ok')
    const started = performance.now()
    await h.dispose()
    const took = performance.now() - started
    assert.ok(took < 2500, `dispose took ${Math.round(took)} ms; the worker was gone long before`)
    const line = h.log.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('plugin dies-disposing worker'))
    assert.ok(line, 'a line says the worker died')
    assert.match(String(line.msg), /^plugin dies-disposing worker exited while disposing: Error: gone while disposing/)
    assert.doesNotMatch(String(line.msg), /restarting/)
  } finally {
    project.remove()
  }
})

test('an onDispose hook that never settles is left after its share of the bound; the hooks after it run, and a line names it', async () => {
  const source = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'hooks',
  setup(api) {
    api.onDispose(async () => { await api.storage.set('first', 'ran') })
    api.onDispose(() => new Promise(() => {}))
    api.onDispose(async () => { await api.storage.set('third', 'ran') })
  },
  handle: (ctx) => ctx.reply.text('ok'),
})
`
  const project = pluginProject({ plugins: { hooks: source } }, 'dispose-hooks')
  try {
    const h = await loadPlugins({ dir: path.join(project.root, 'plugins'), only: ['hooks'], disposeTimeoutMs: 400 })
    assert.deepEqual(h.errors, [])
    assert.equal(textOf(await h.call('hooks', text('x'))), 'ok')
    await h.dispose()
    // In the order registered: the first ran before the stuck one, the third after it.
    assert.equal(await h.store.kv.get('plugin:hooks', 'g:first'), 'ran')
    assert.equal(await h.store.kv.get('plugin:hooks', 'g:third'), 'ran')
    const line = h.log.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('plugin hooks unloaded without waiting'))
    assert.ok(line, 'a line names the hook that did not settle')
    assert.equal(line.code, 'PLUGIN_TIMEOUT')
    const said = /^plugin hooks unloaded without waiting for onDispose hook 2 of 3 \(at .*dispose-hooks-\w+\/plugins\/hooks\/index\.ts:6:9\) did not settle within (\d+) ms$/.exec(String(line.msg))
    assert.ok(said, String(line.msg))
    // Its share: what the first hook left of the 400 ms, over the two hooks left; the third had the rest.
    assert.ok(Number(said[1]) > 0 && Number(said[1]) <= 200, `a share of ${said[1]} ms`)
    assert.deepEqual(line.unsettled, [String(line.msg).replace('plugin hooks unloaded without waiting for ', '')])
    // The worker said it disposed within its bound: the engine did not have to cut it off.
    assert.equal(h.log.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('dispose did not finish')).length, 0)
    assert.equal(h.log.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('plugin hooks disposed'))?.cleared, 3)
  } finally {
    project.remove()
  }
})

test('a setup that throws after registering an onDispose hook that never settles fails to load with its own error, not a start timeout', async () => {
  const source = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'setup-throws-stuck',
  setup(api) {
    api.onDispose(() => new Promise(() => {}))
    throw new Error('no config')
  },
  handle: (ctx) => ctx.reply.text('ok'),
})
`
  const project = pluginProject({ plugins: { 'setup-throws-stuck': source } }, 'setup-throws-stuck')
  try {
    const h = await loadPlugins({ dir: path.join(project.root, 'plugins'), only: ['setup-throws-stuck'], disposeTimeoutMs: 200, startTimeoutMs: 5000 })
    try {
      assert.equal(h.errors.length, 1)
      assert.equal(h.errors[0]!.code, 'PLUGIN_LOAD')
      assert.match(h.errors[0]!.reason, /setup failed: Error: no config/)
    } finally {
      await h.dispose()
    }
  } finally {
    project.remove()
  }
})
