/**
 * What a plugin keeps (a session's state, a stored value) through its worker: a Date is refused where it is
 * recorded, naming where (docs/plugins.md said so; it was kept as its ISO string and failed at the user's
 * next message as "getTime is not a function"), and a key that is no string is refused naming the call (a
 * BigInt one failed inside JSON.stringify, naming nothing). And a Date returned as the reply is said as one.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createTestClient, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

const KEEPER = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'keeper',
  async handle(ctx) {
    const content = ctx.message.kind === 'text' ? ctx.message.content : ''
    try {
      if (content === 'session date') ctx.session.begin(300, { startedAt: new Date() } as never)
      if (content === 'stored date') await ctx.storage.user.set('at', { at: new Date() } as never)
      if (content === 'bigint key') await ctx.storage.user.set(5n as never, 1)
      if (content === 'bigint increment') await ctx.storage.user.increment(5n as never)
      if (content === 'return date') return new Date() as never
      return ctx.reply.text('kept')
    } catch (e) {
      return ctx.reply.text(e instanceof Error ? e.name + ': ' + e.message : String(e))
    }
  },
})
`
const RULES = 'rules:\n  - name: keeper\n    keywords: [session date, stored date, bigint key, bigint increment, return date]\n    plugin: keeper\n'

let client: TestClient
let project: PluginProject

before(async () => {
  project = pluginProject({ plugins: { keeper: KEEPER }, rules: { 'main.yaml': RULES } }, 'kept')
  client = await createTestClient({ root: project.root, log: createMemoryLogger('warn').logger })
})
after(async () => {
  await client.close()
  project.remove()
})

test('a Date in a session state or a stored value is refused where it is recorded, naming where and what to keep', async () => {
  const keep = 'a Date is not kept as one (it would come back as a string, with no getTime()); keep date.getTime() or date.toISOString()'
  await client.expectReply('session date', `TypeError: session.begin state: $.startedAt: ${keep}`)
  await client.expectReply('stored date', `TypeError: storage.set("at"): $.at: ${keep}`)
})

test('a storage key that is no string (a BigInt) is refused naming the rule for keys, not a JSON.stringify error', async () => {
  await client.expectReply('bigint key', 'TypeError: storage key must be a non-empty string')
  await client.expectReply('bigint increment', 'TypeError: storage key must be a non-empty string')
})

test('a Date returned as the reply is said as one, not as "a reply must be an object, got string"', async () => {
  const r = await client.send('return date')
  assert.equal(r.outcome, 'failed')
  assert.match(r.error ?? '', /PLUGIN_BAD_REPLY: .*a Date is not a reply: return text \(a string, or ctx\.reply\.text\(\.\.\.\)\) that says it/)
})
