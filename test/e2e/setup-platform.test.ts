/**
 * A plugin's setup sees the engine's own accounts (api.accounts) and can reach each one's platform API
 * from a timer: the wiring from the configuration, through a generation's load, into the worker.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness } from '../support/engine-harness.ts'

const pluginsDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-setup-platform-'))
cpSync(path.join(import.meta.dirname, '../fixtures/plugins/setup-sender'), path.join(pluginsDir, 'setup-sender'), { recursive: true })
after(() => rmSync(pluginsDir, { recursive: true, force: true }))

test("setup's api.accounts are the configured accounts, and api.platform reaches each one's API (here without an appSecret: refused, logged)", { timeout: 30_000 }, async () => {
  const h = await startHarness({ rules: { 'main.yaml': 'rules:\n  - name: which\n    keywords: [which]\n    plugin: setup-sender\n' }, plugins: pluginsDir })
  try {
    const r = await h.post('plain', push.text('u1', 'which'))
    assert.equal(r.reply?.Content, 'true: api.platform("nope"): no such account; the engine serves "plain", "compat", "safe" (api.accounts)')
    // The timer's sends reached the engine's platform for each account: these have no appSecret, so each is
    // refused with the account's own reason, from the main thread.
    const deadline = Date.now() + 5_000
    const refusals = () => h.lines.filter((l) => /has no appSecret/.test(JSON.stringify(l)))
    while (refusals().length < 3 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20))
    const said = JSON.stringify(refusals())
    for (const id of ['plain', 'compat', 'safe']) assert.match(said, new RegExp(`account \\\\"${id}\\\\" has no appSecret`), said)
  } finally {
    await h.close()
  }
})
