/**
 * storage.update and storage.increment: plugin-wide keys written by many users' messages at once (a plugin
 * author's review: 20 subscribes at once through get-then-set counted 1). The plugin runs in its worker and
 * the store is the project's SQLite file, as deployed; test/store/store-contract.ts covers compareAndSet on
 * every store, Redis included.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { createTestClient, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

let project: PluginProject
let client: TestClient
let t = Date.now()

before(async () => {
  project = pluginProject(
    {
      plugins: {
        tally: `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'tally',
  async handle(ctx) {
    const m = ctx.message
    if (m.kind === 'subscribe') {
      const racy = ((await ctx.storage.get('racy')) ?? 0) + 1
      await new Promise((r) => setTimeout(r, 5))
      await ctx.storage.set('racy', racy)
      const n = await ctx.storage.increment('subscribers')
      // A list changed in place and returned: what was read is still what is compared.
      await ctx.storage.update('names', (list = []) => {
        list.push(m.fromUser)
        return list
      })
      return ctx.reply.text('you are #' + n)
    }
    if (m.kind !== 'text') return ctx.pass()
    if (m.content === 'limit') {
      const n = await ctx.storage.user.increment('sent', 1, 60)
      return ctx.reply.text(n > 3 ? 'slow down' : 'ok ' + n)
    }
    if (m.content === 'bad increment') return ctx.reply.text(String(await ctx.storage.increment('names')))
    if (m.content === 'bad update') return ctx.reply.text(String(await ctx.storage.update('x', 'not a function')))
    if (m.content === 'clear') return ctx.reply.text(String(await ctx.storage.update('names', () => undefined)))
    return ctx.pass()
  },
})
`,
      },
      rules: {
        'main.yaml':
          'rules:\n  - name: tally\n    keywords: [limit, bad increment, bad update, clear]\n    plugin: tally\nhandlers:\n  - type: subscribe\n    plugin: tally\n',
      },
    },
    'storage-update',
  )
  client = await createTestClient({ root: project.root, now: () => t })
})
after(async () => {
  await client.close()
  project.remove()
})

test('20 users subscribing at once: increment and update count every one; get-then-set does not', async () => {
  const users = Array.from({ length: 20 }, (_, i) => `u${i}`)
  const replies = await Promise.all(users.map((u) => client.send(push.event(u, 'subscribe'), { openId: u })))
  const storage = client.storage('tally')
  assert.equal(await storage.get('subscribers'), 20)
  assert.deepEqual(((await storage.get<string[]>('names')) ?? []).slice().sort(), users.slice().sort())
  // Every user got a distinct place: no two increments saw the same value.
  assert.deepEqual(replies.map((r) => Number(r.content?.slice('you are #'.length))).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1))
  // The lost updates the review found, still there for get-then-set (so the test above is not vacuous).
  assert.ok(((await storage.get<number>('racy')) ?? 0) < 20, `get-then-set kept ${await storage.get('racy')}`)
})

test('increment with a ttl counts in a fixed window: a rate limit', async () => {
  for (const expected of ['ok 1', 'ok 2', 'ok 3', 'slow down']) await client.expectReply('limit', expected, { openId: 'chatty' })
  t += 30_000
  await client.expectReply('limit', 'slow down', { openId: 'chatty' }) // later increments kept the first one's expiry
  t += 31_000
  await client.expectReply('limit', 'ok 1', { openId: 'chatty' })
  assert.equal(await client.storage('tally', { openId: 'chatty' }).user.get('sent'), 1)
})

test('misuse fails in the plugin with a reason: a stored value that is not a number, an update without a function', async () => {
  const notNumber = await client.send('bad increment')
  assert.match(notNumber.error ?? '', /TypeError: storage\.increment\("names"\): the stored value is not a number \(\["u/)
  const noFunction = await client.send('bad update')
  assert.match(noFunction.error ?? '', /TypeError: storage\.update\("x"\): the second argument must be a function/)
})

test('300 updates of one key at once all land (retries wait their turn until the deadline, not a fixed count); each resolves with what was stored', async () => {
  const storage = client.storage('tally')
  await Promise.all(Array.from({ length: 300 }, (_, i) => storage.update<number[]>('crowd', (l = []) => [...l, i])))
  assert.equal((await storage.get<number[]>('crowd'))?.length, 300)
  assert.deepEqual(await storage.update('shape', () => ({ kept: 1, dropped: undefined }) as never), { kept: 1 })
})

test('update returning undefined deletes the key; the test kit offers the same calls', async () => {
  await client.expectReply('clear', 'undefined')
  const storage = client.storage('tally')
  assert.equal(await storage.get('names'), undefined)
  assert.equal(await storage.increment('from-test', 5), 5)
  assert.deepEqual(await storage.update<number[]>('from-test-list', (l = []) => [...l, 1]), [1])
  await assert.rejects(storage.increment('from-test-list'), (e: Error) => e instanceof TypeError && e.message === 'storage.increment("from-test-list"): the stored value is not a number ([1])')
})
