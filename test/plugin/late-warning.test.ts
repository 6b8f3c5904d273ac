/**
 * The warning at the reply budget names the plugin still at work, its rule and the user (found by a
 * plugin-author review: "reply budget spent: answered success, the reply will go out late" said neither
 * which plugin was slow nor on whose message).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createTestClient, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

let project: PluginProject
let client: TestClient
const memory = createMemoryLogger('warn')
const SLOW = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'slow',
  async handle() {
    await new Promise((r) => setTimeout(r, 300))
    return 'done'
  },
})
`
before(async () => {
  project = pluginProject({ plugins: { slow: SLOW }, rules: { 'main.yaml': 'rules:\n  - name: report\n    keywords: [report]\n    plugin: slow\n' } }, 'late-warning')
  client = await createTestClient({ root: project.root, log: memory.logger, config: { limits: { replyBudgetMs: 100 } } })
})
after(async () => {
  await client.close()
  project.remove()
})

test('the budget warning says which plugin and rule are still working, and for whom', async () => {
  const reply = await client.expectReply('report', 'done', { openId: 'o-boss' })
  assert.equal(reply.outcome, 'late')
  const line = memory.lines.find((l) => String(l.msg).startsWith('reply budget spent'))
  assert.ok(line, JSON.stringify(memory.lines))
  assert.equal(line.msg, 'reply budget spent: answered success; plugin slow is still working, the reply will go out late')
  assert.equal(line.plugin, 'slow')
  assert.equal(line.rule, 'report')
  assert.equal(line.openId, 'o-boss')
})
