/**
 * The "reply budget spent" line is how a plugin's author learns that theirs was slow (engine.ts). Its line
 * budget is the plugin's own: one slow plugin's flood of these lines must not hold back the first line of
 * another plugin turning slow, which would be said only as a count under the first one's example.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness } from '../support/engine-harness.ts'

const RULES = `
rules:
  - name: nap
    keywords: [nap]
    plugin: sleeper
  - name: doze
    keywords: [doze]
    plugin: dozer
`

function slowPlugin(dir: string, name: string): void {
  mkdirSync(path.join(dir, name))
  writeFileSync(
    path.join(dir, name, 'index.ts'),
    `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: '${name}',
  // Past the reply budget, then nothing to say: no late reply to send.
  async handle() {
    await new Promise((r) => setTimeout(r, 400))
    return undefined
  },
})
`,
  )
}

test("one slow plugin's budget-spent lines do not hold back another plugin's first", async () => {
  const pluginsDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-budget-lines-'))
  slowPlugin(pluginsDir, 'sleeper')
  slowPlugin(pluginsDir, 'dozer')
  const h = await startHarness({ rules: { 'slow.yaml': RULES }, plugins: pluginsDir, config: { limits: { replyBudgetMs: 100 } } })
  try {
    // Enough of the first plugin's to spend the key's budget, each a user of its own (no queueing behind another).
    const naps = Array.from({ length: LINES_PER_KEY + 2 }, (_, i) => h.post('plain', push.text(`napper-${i}`, 'nap')))
    for (const r of await Promise.all(naps)) assert.equal(r.body, 'success')
    assert.equal((await h.post('plain', push.text('dozer-user', 'doze'))).body, 'success')
    await h.runtime.engine.idle()
    const spent = h.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('reply budget spent'))
    assert.equal(spent.filter((l) => l.plugin === 'sleeper').length, LINES_PER_KEY, 'the first plugin used its budget of lines')
    const dozer = spent.find((l) => l.plugin === 'dozer')
    assert.ok(dozer, 'the second plugin turning slow has its own line')
    assert.equal(dozer.openId, 'dozer-user')
  } finally {
    await h.close()
    rmSync(pluginsDir, { recursive: true, force: true })
  }
})
