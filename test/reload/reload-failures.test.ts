/**
 * A reload must be refused (the last good set kept), never crash the server: an account folder rules/<id>/
 * that disappears between the two directory reads (git checkout, rm -r, mv) made loadRuleSet throw, and a
 * throwing load ran from a timer, so it was an unhandled rejection, which ends the process on Node 20.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { it } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import type { PluginSet } from '../../core/plugin/plugin-host-types.ts'
import { createGenerations } from '../../core/reload/generations.ts'
import { watchSources } from '../../core/reload/watch-sources.ts'
import { loadRuleSet } from '../../core/route/rules/load-rule-set.ts'
import type { RuleSet } from '../../core/route/rule-types.ts'
import { until } from '../support/until.ts'

it('loadRuleSet reports (does not throw) when an account folder vanishes while it reads', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-vanish-'))
  const stop = Date.now() + 3000
  const toggler = setInterval(() => {
    for (let i = 0; i < 20; i++) {
      try { mkdirSync(path.join(dir, 'acct')); writeFileSync(path.join(dir, 'acct', 'a.yaml'), 'rules: []\n') } catch {}
      rmSync(path.join(dir, 'acct'), { recursive: true, force: true })
    }
  }, 0)
  let thrown: unknown
  try {
    while (Date.now() < stop && !thrown) await loadRuleSet(dir).catch((e) => (thrown = e))
  } finally {
    clearInterval(toggler)
  }
  assert.equal(thrown, undefined, `loadRuleSet threw: ${(thrown as Error)?.message}`)
})

it('a reload whose load throws is refused, not an unhandled rejection', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-throwing-load-'))
  writeFileSync(path.join(dir, 'a.yaml'), 'rules: []\n')
  const unhandled: unknown[] = []
  const onUnhandled = (e: unknown) => unhandled.push(e)
  process.on('unhandledRejection', onUnhandled)
  const first = { rules: { size: {} } as unknown as RuleSet, plugins: { names: () => [], dispose: async () => undefined, retire: () => undefined } as unknown as PluginSet }
  const { logger, lines } = createMemoryLogger('info')
  const watcher = watchSources({ dirs: [dir], generations: createGenerations(first), debounceMs: 10,
    log: logger, load: async () => { throw new Error("ENOENT: scandir 'rules/acct'") } })
  try {
    await watcher.ready
    writeFileSync(path.join(dir, 'a.yaml'), 'rules: []\n# edit\n')
    // Waited for the refusal itself (a fixed pause passed without checking anything when the reload came
    // late), then a turn of the event loop, in which an unhandled rejection would have been reported.
    await until('the reload refused', () => lines.some((l) => l.code === 'RULE_INVALID' && /keeping the last good set: ENOENT/.test(String(l.msg))))
    await new Promise((r) => setTimeout(r, 50))
    assert.deepEqual(unhandled.map(String), [])
  } finally {
    process.off('unhandledRejection', onUnhandled)
    await watcher.close().catch(() => undefined)
  }
})
