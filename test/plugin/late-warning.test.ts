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
import { until } from '../support/until.ts'

let project: PluginProject
let client: TestClient
const memory = createMemoryLogger('warn')
const SLOW = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'slow',
  async handle() {
    await new Promise((r) => setTimeout(r, 1500))
    return 'done'
  },
})
`
before(async () => {
  project = pluginProject({ plugins: { slow: SLOW }, rules: { 'main.yaml': 'rules:\n  - name: report\n    keywords: [report]\n    plugin: slow\n  - name: hi\n    keywords: [hi]\n    reply: { type: text, content: hello }\n' } }, 'late-warning')
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
  assert.equal(line.reason, 'plugin slow is still working')
  assert.equal(line.plugin, 'slow')
  assert.equal(line.rule, 'report')
  assert.equal(line.openId, 'o-boss')
})

test("a message that spent its budget queued behind the user's earlier one names that message's plugin (found by a newcomer's walkthrough)", async () => {
  // 'hi' is an inline rule: alone it answers at once. Sent while the same user's 'report' is in plugin slow,
  // it waits its turn past the budget; its line said only "answered success", pointing at nothing.
  const before = memory.lines.length
  // 'hi' is sent once 'report' is surely in the plugin: its own budget line is out (at 100 ms of the plugin's
  // 1.5 s). Sent a fixed 20 ms after, a loaded machine could route it first and answer it at once.
  const firstSent = client.send('report', { openId: 'o-queued' })
  await until('the first message in plugin slow', () => memory.lines.slice(before).some((l) => l.plugin === 'slow' && l.openId === 'o-queued'))
  const [first, second] = await Promise.all([firstSent, client.send('hi', { openId: 'o-queued' })])
  assert.equal(first.outcome, 'late')
  assert.equal(second.outcome, 'late')
  const lines = memory.lines.slice(before).filter((l) => String(l.msg).startsWith('reply budget spent'))
  assert.equal(lines.length, 2, JSON.stringify(lines))
  const queued = lines.find((l) => l.plugin === undefined)
  assert.ok(queued, JSON.stringify(lines))
  assert.equal(queued.msg, "reply budget spent: answered success; it waited behind this user's earlier message, whose plugin slow is still working (one user's messages run one at a time), the reply will go out late")
  assert.equal(queued.reason, "it waited behind this user's earlier message, whose plugin slow is still working (one user's messages run one at a time)")
  assert.equal(queued.behindPlugin, 'slow')
  assert.equal(queued.openId, 'o-queued')
})
