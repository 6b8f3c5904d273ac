/**
 * Shutdown stays bounded whatever a plugin does: a call that never ends is failed, not waited for to its
 * deadline (docs/deployment.md: about 14 s at worst with the default budget, under systemd's 20 s).
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness } from '../support/engine-harness.ts'

test('a plugin call that never ends does not hold the shutdown to its 30 s deadline', { timeout: 60_000 }, async () => {
  const plugins = mkdtempSync(path.join(os.tmpdir(), 'wxengine-shutdown-'))
  cpSync(path.join(import.meta.dirname, '../fixtures/plugins/never-resolves'), path.join(plugins, 'never-resolves'), { recursive: true })
  const h = await startHarness({
    plugins,
    rules: { 'main.yaml': 'rules:\n  - { name: hang, keywords: [hang], plugin: never-resolves }\n' },
    config: { limits: { replyBudgetMs: 1000, pluginTimeoutMs: 30_000 } },
  })
  try {
    assert.equal((await h.post('plain', push.text('u1', 'hang'))).body, 'success', 'answered at the budget')
    const started = Date.now()
    await h.close()
    const took = Date.now() - started
    // The messages in flight get the budget + 2 s, the plugins 2 s more: ~5 s here, not 30.
    assert.ok(took < 10_000, `shutdown took ${took} ms`)
  } finally {
    rmSync(plugins, { recursive: true, force: true })
  }
})
