/**
 * A plugin's definition with a lifecycle method spelt another way, or not a function, does not load
 * (core/plugin/sandbox/definition-problem.ts): plugins load without a type check, and `setUp(api)` was
 * never called, without a word: no timers, no error.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import { pluginProject } from '../support/plugin-project.ts'
import { loadPlugins, text, textOf } from './plugin-test-kit.ts'

const define = (name: string, members: string) =>
  `import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({\n  name: '${name}',\n  handle: (ctx) => ctx.reply.text('ok'),\n  ${members}\n} as any)\n`

test('setUp, set_up, Dispose, sharedstorage: refused naming the key and the name meant; setup or dispose that is no function too', async () => {
  const project = pluginProject(
    {
      plugins: {
        camel: define('camel', `setUp(api) { api.every(60_000, () => undefined) },`),
        snake: define('snake', `set_up() {},`),
        capital: define('capital', `Dispose() {},`),
        areas: define('areas', `sharedstorage: ['points'],`),
        notfn: define('notfn', `setup: 'later',`),
        nulldispose: define('nulldispose', `dispose: null,`),
        // Keys of the author's own are theirs: a helper its setup calls as this.tick.
        helpers: define('helpers', `setup(api) { api.every(60_000, () => this.tick()) },\n  tick() {},\n  disposeAll() {},`),
      },
    },
    'definition-mistakes',
  )
  const h = await loadPlugins({ dir: path.join(project.root, 'plugins'), only: ['camel', 'snake', 'capital', 'areas', 'notfn', 'nulldispose', 'helpers'] })
  try {
    const reasons = new Map(h.errors.map((e) => [/^plugin (\w+):/.exec(e.reason)?.[1], e.reason]))
    assert.equal(reasons.get('camel'), `plugin camel: the definition has "setUp", which the engine never calls or reads: the name is "setup"`)
    assert.equal(reasons.get('snake'), `plugin snake: the definition has "set_up", which the engine never calls or reads: the name is "setup"`)
    assert.equal(reasons.get('capital'), `plugin capital: the definition has "Dispose", which the engine never calls or reads: the name is "dispose"`)
    assert.equal(reasons.get('areas'), `plugin areas: the definition has "sharedstorage", which the engine never calls or reads: the name is "sharedStorage"`)
    assert.equal(reasons.get('notfn'), `plugin notfn: the definition's setup must be a function (setup(api) { ... }), not a string`)
    assert.equal(reasons.get('nulldispose'), `plugin nulldispose: the definition's dispose must be a function (dispose() { ... }), not null`)
    assert.equal(reasons.has('helpers'), false, JSON.stringify(h.errors))
    assert.equal(textOf(await h.call('helpers', text('x'))), 'ok')
  } finally {
    // Disposed when an assertion fails too: its workers would hold the process.
    await h.dispose()
    project.remove()
  }
})
