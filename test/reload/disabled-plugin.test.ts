/**
 * A plugin turned off in engine.config.ts (`plugins.<name>.enabled: false`) while rules still send messages
 * to it: the start-up says so in those words (not "not in plugins/", which sends an operator looking for a
 * folder that is there), and each such message falls through with a PLUGIN_LOAD warning, as documented.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { REPO } from '../cli/cli-harness.ts'
import { startHarness } from '../support/engine-harness.ts'

const plugins = mkdtempSync(path.join(os.tmpdir(), 'wxengine-disabled-'))
after(() => rmSync(plugins, { recursive: true, force: true }))

test('rules naming a disabled plugin: a start-up warning that says disabled, then PLUGIN_LOAD per message', async () => {
  cpSync(path.join(REPO, 'plugins/echo'), path.join(plugins, 'echo'), { recursive: true })
  const h = await startHarness({
    rules: { 'r.yaml': 'rules:\n  - name: echo\n    keywords: [{ regex: "^echo (?<text>.+)$" }]\n    plugin: echo\ndefault:\n  reply: { type: text, content: fell through }\n' },
    plugins,
    config: { plugins: { echo: { enabled: false } } },
  })
  try {
    const warnings = h.lines.filter((l) => l.level === 40).map((l) => String(l.msg))
    assert.ok(warnings.includes('rules refer to plugin "echo", disabled (enabled: false in engine.config.ts): their messages fall through (each logged as PLUGIN_LOAD)'), warnings.join('\n'))
    assert.ok(!warnings.some((w) => w.includes('which is not in')), warnings.join('\n'))
    const r = await h.post('plain', push.text('u1', 'echo hi'))
    assert.equal(r.reply?.Content, 'fell through')
    assert.ok(h.lines.some((l) => l.code === 'PLUGIN_LOAD' && l.plugin === 'echo'), 'the fall-through is logged with PLUGIN_LOAD')
  } finally {
    await h.close()
  }
})
