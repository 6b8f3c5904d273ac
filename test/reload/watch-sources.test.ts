/**
 * The reload queue of watchSources: reloads never overlap, and a reload asked for while one is running is
 * answered by a reload that starts after it (the running one may have read the files before the change).
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import type { PluginSet } from '../../core/plugin/plugin-host-types.ts'
import { createGenerations } from '../../core/reload/generations.ts'
import type { LoadedParts } from '../../core/reload/load-generation.ts'
import { watchSources } from '../../core/reload/watch-sources.ts'
import type { RuleSet } from '../../core/route/rule-types.ts'

function partsNamed(name: string): Extract<LoadedParts, { ok: true }> {
  const rules = { size: { textRules: 0, keywords: 0, typeHandlers: 0 }, name } as unknown as RuleSet
  const plugins = { names: () => [name], dispose: async () => undefined } as unknown as PluginSet
  return { ok: true, rules, plugins, warnings: [] }
}

it('a reload asked for during another resolves with a reload that started after it; reloads never overlap', async () => {
  const generations = createGenerations(partsNamed('start'))
  const loads: Array<{ name: string; finish: (parts: LoadedParts) => void }> = []
  let running = 0
  let maxRunning = 0
  const watcher = watchSources({
    dirs: [],
    generations,
    log: createMemoryLogger('silent').logger,
    load: () =>
      new Promise<LoadedParts>((resolve) => {
        running++
        maxRunning = Math.max(maxRunning, running)
        loads.push({ name: `load${loads.length + 1}`, finish: (p) => (running--, resolve(p)) })
      }),
  })
  try {
    const first = watcher.reload()
    // Asked for while load1 runs (say, after a file changed that load1 may already have read).
    const second = watcher.reload()
    const third = watcher.reload()
    assert.equal(loads.length, 1)
    loads[0].finish(partsNamed('load1'))
    assert.equal(await first, true)
    const name = () => (generations.current().rules as unknown as { name: string }).name
    assert.equal(name(), 'load1')
    // One more load serves both later callers.
    await new Promise((r) => setImmediate(r))
    assert.equal(loads.length, 2)
    let secondDone = false
    void second.then(() => (secondDone = true))
    await new Promise((r) => setImmediate(r))
    assert.equal(secondDone, false, 'answered only once the load that started after it is done')
    loads[1].finish({ ok: false, problems: ['bad'] })
    assert.equal(await second, false)
    assert.equal(await third, false)
    assert.equal(loads.length, 2)
    assert.equal(maxRunning, 1)
    assert.equal(name(), 'load1')
  } finally {
    await watcher.close()
  }
})
