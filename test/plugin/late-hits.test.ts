/**
 * A rule's hit counts when it answered, whether in time or late (found by reviews of this stop: first a
 * slow plugin that failed counted a hit its fast twin did not, then one that answered `none` late counted
 * in the metrics but not in the log's hits). The row written at the budget names no rule; the one written
 * when the plugin finished does, when it answered.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createTestClient, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

let project: PluginProject
let client: TestClient
const PLUGIN = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'p',
  async handle(ctx) {
    const t = ctx.message.kind === 'text' ? ctx.message.content : ''
    if (t.startsWith('slow')) await new Promise((r) => setTimeout(r, 400))
    if (t.endsWith('none')) return ctx.reply.none()
    if (t.endsWith('transfer')) return ctx.reply.transfer()
    if (t.endsWith('fail')) throw new Error('no')
    return ctx.reply.text('hi')
  },
})
`
before(async () => {
  project = pluginProject(
    { plugins: { p: PLUGIN }, rules: { 'main.yaml': 'rules:\n  - name: fast\n    keywords: [{ prefix: fast }]\n    plugin: p\n  - name: slow\n    keywords: [{ prefix: slow }]\n    plugin: p\n' } },
    'late-hits',
  )
  // A budget of 100 ms: the slow twin's 400 ms misses it.
  client = await createTestClient({ root: project.root, log: createMemoryLogger('warn').logger, config: { limits: { replyBudgetMs: 100 } } })
})
after(async () => {
  await client.close()
  project.remove()
})

test('none, transfer and text count one hit each, fast or slow; a failure counts none', async () => {
  for (const suffix of ['none', 'transfer', 'text', 'fail']) {
    const fast = await client.send(`fast ${suffix}`, { openId: `u-fast-${suffix}` })
    const slow = await client.send(`slow ${suffix}`, { openId: `u-slow-${suffix}` })
    assert.equal(slow.rule, suffix === 'fail' ? undefined : 'slow', suffix)
    assert.equal(fast.rule, suffix === 'fail' ? undefined : 'fast', suffix)
  }
  await client.runtime.store.log.flush()
  const hits = await client.runtime.store.log.hits()
  const of = (rule: string) => hits.filter((h) => h.rule === rule).reduce((n, h) => n + h.hits, 0)
  assert.equal(of('fast'), 3)
  assert.equal(of('slow'), 3)
  const metrics = await client.runtime.metrics.render()
  for (const rule of ['fast', 'slow']) assert.match(metrics, new RegExp(`wxengine_rule_hits_total\\{[^}]*rule="${rule}"[^}]*\\} 3\\b`), rule)
})
