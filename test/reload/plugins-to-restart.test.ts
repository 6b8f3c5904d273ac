/**
 * pluginsToRestart: which plugins' workers a reload starts again, from the files that changed and the
 * settings before and after. A plugin's own folder or settings: that plugin; shared code, the settings every
 * worker starts with, or a reload asked for as a whole: all of them.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { describe, it } from 'node:test'
import { pluginsToRestart, type PluginInputs } from '../../core/reload/plugins-to-restart.ts'

const dir = path.resolve('/srv/bot/plugins')
const inputs = (over: Partial<PluginInputs> = {}): PluginInputs => ({
  pluginsDir: dir,
  shared: { timeoutMs: 3000, memoryMb: 256, isolation: 'auto', accounts: [{ id: 'main', appId: 'wx1' }] },
  settings: { echo: { timeoutMs: 1000 }, weather: { config: { city: 'Beijing' } } },
  ...over,
})
const restart = (files: string[] | 'everything', after = inputs()) => {
  const r = pluginsToRestart(files === 'everything' ? 'everything' : new Set(files.map((f) => path.join(dir, f))), inputs(), after)
  return r === 'all' ? r : [...r].sort()
}

describe('which plugins a reload starts again', () => {
  it('none for files outside plugins/ (rules, the config file, media)', () => {
    assert.deepEqual(pluginsToRestart(new Set([path.resolve('/srv/bot/rules/a.yaml'), path.resolve('/srv/bot/engine.config.ts'), path.resolve('/srv/bot/plugins-old/x.ts')]), inputs(), inputs()), new Set())
  })

  it("a file in a plugin's folder, or the folder itself (added, removed): that plugin", () => {
    assert.deepEqual(restart(['echo/index.ts', 'echo/lib/words.ts']), ['echo'])
    assert.deepEqual(restart(['weather', 'echo/plugin.json']), ['echo', 'weather'])
  })

  it('a file directly in plugins/ is no plugin: its name matches none', () => {
    assert.deepEqual(restart(['README.md']), ['README.md'])
  })

  it('shared code (a folder whose name starts with _), or plugins/ itself: all', () => {
    assert.equal(restart(['echo/index.ts', '_shared/db.ts']), 'all')
    assert.equal(restart(['_lib']), 'all')
    assert.equal(pluginsToRestart(new Set([dir]), inputs(), inputs()), 'all')
  })

  it("a plugin's settings changed, added or removed: that plugin", () => {
    assert.deepEqual(restart([], inputs({ settings: { echo: { timeoutMs: 2000 }, weather: { config: { city: 'Beijing' } } } })), ['echo'])
    assert.deepEqual(restart([], inputs({ settings: { echo: { timeoutMs: 1000 }, weather: { config: { city: 'Shanghai' } } } })), ['weather'])
    assert.deepEqual(restart([], inputs({ settings: { echo: { timeoutMs: 1000 }, weather: { config: { city: 'Beijing' } }, quiz: { enabled: false } } })), ['quiz'])
    assert.deepEqual(restart([], inputs({ settings: { weather: { config: { city: 'Beijing' } } } })), ['echo'])
    assert.deepEqual(restart([], inputs({ settings: { weather: { config: { city: 'Beijing' } }, echo: { timeoutMs: 1000 } } })), [], 'the same settings in another order')
  })

  it('what every worker is started with, or another plugins folder: all', () => {
    assert.equal(restart([], inputs({ shared: { timeoutMs: 5000, memoryMb: 256, isolation: 'auto', accounts: [{ id: 'main', appId: 'wx1' }] } })), 'all')
    assert.equal(restart([], inputs({ shared: { timeoutMs: 3000, memoryMb: 256, isolation: 'auto', accounts: [{ id: 'main', appId: 'wx2' }] } })), 'all')
    assert.equal(restart([], inputs({ pluginsDir: path.resolve('/srv/bot/plugins2') })), 'all')
  })

  it('a reload asked for as a whole (SIGHUP, runtime.reload()): all', () => {
    assert.equal(restart('everything'), 'all')
  })
})
