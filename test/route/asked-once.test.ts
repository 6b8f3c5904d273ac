/**
 * Routing asks each plugin at most once per message, and forgets a dialogue whose plugin is gone. Found by
 * a sessions audit and a plugin-author audit: a dialogue's plugin that passed (or failed) on its own user's
 * message was asked again through its own rule, repeating its side effects; and a lock of a plugin removed
 * in a reload came back with its old state when the folder was restored.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createTestClient, push, type TestClient } from '../../core/testkit/plugin-test-client.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-asked-once-'))
let client: TestClient
const memory = createMemoryLogger('info')

before(async () => {
  mkdirSync(path.join(root, 'plugins', 'lockpass'), { recursive: true })
  mkdirSync(path.join(root, 'rules'))
  // Counts its calls; "lock" begins a session; in the session it passes on everything but "stop".
  writeFileSync(
    path.join(root, 'plugins', 'lockpass', 'index.ts'),
    `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'lockpass',
  async handle(ctx) {
    const calls = ((await ctx.storage.get<number>('calls')) ?? 0) + 1
    await ctx.storage.set('calls', calls)
    const text = ctx.message.kind === 'text' ? ctx.message.content : ''
    if (!ctx.session.active) {
      ctx.session.begin(60, { n: 1 })
      return ctx.reply.text('locked')
    }
    if (text === 'lock fail') throw new Error('broken dialogue')
    return ctx.pass()
  },
})
`,
  )
  writeFileSync(
    path.join(root, 'rules', 'main.yaml'),
    'rules:\n  - name: lock\n    keywords: [{ prefix: lock }]\n    plugin: lockpass\ndefault:\n  reply: { type: text, content: fallback }\n',
  )
  client = await createTestClient({ root, log: memory.logger })
})
after(async () => {
  await client.close()
  rmSync(root, { recursive: true, force: true })
})

const calls = async () => (await client.storage('lockpass').get<number>('calls')) ?? 0

test('a dialogue plugin that passes is not asked again through its own rule', async () => {
  const u = { openId: 'u-pass' }
  await client.expectReply('lock', 'locked', u)
  const before = await calls()
  // In the session it passes; its own rule would route the same text to it again.
  await client.expectReply('lock again', 'fallback', u)
  assert.equal(await calls(), before + 1)
})

test('one that fails is not asked again either (its lock is released, the message goes on)', async () => {
  const u = { openId: 'u-fail' }
  await client.expectReply('lock', 'locked', u)
  const before = await calls()
  const r = await client.send(push.text('u-fail', 'lock fail', { MsgId: '4242' }), u)
  assert.equal(r.content, 'fallback')
  assert.equal(await calls(), before + 1)
  assert.equal(await client.session(u), null)
  // The line says the user's conversation ended with the failure: it had said only that the plugin failed,
  // and nothing in the log pointed at why the user's next answer got the default reply.
  const line = memory.lines.find((l) => l.code === 'PLUGIN_ERROR' && l.openId === 'u-fail')
  assert.equal(line?.lockReleased, true, JSON.stringify(line))
  assert.match(String(line?.msg), /^plugin lockpass failed: Error: broken dialogue .*; it held the user's conversation, which is ended \(its lock released/)
  // And the message's key, as the engine's other lines about a message carry it: it had none.
  assert.equal(line?.key, 'default:m:u-fail:4242')
})

test('a lock whose plugin is gone is deleted, so restoring the plugin does not bring the dialogue back', async () => {
  const u = { openId: 'u-gone' }
  await client.expectReply('lock', 'locked', u)
  const saved = path.join(root, 'lockpass-saved')
  cpSync(path.join(root, 'plugins', 'lockpass'), saved, { recursive: true })
  // The plugin and its rule, both gone (a reload refuses to take away a plugin its rules still name).
  const rulesFile = path.join(root, 'rules', 'main.yaml')
  const rules = readFileSync(rulesFile, 'utf8')
  rmSync(path.join(root, 'plugins', 'lockpass'), { recursive: true })
  writeFileSync(rulesFile, 'default:\n  reply: { type: text, content: fallback }\n')
  assert.equal(await client.runtime.reload(), true)
  await client.expectReply('hello', 'fallback', u)
  cpSync(saved, path.join(root, 'plugins', 'lockpass'), { recursive: true })
  writeFileSync(rulesFile, rules)
  assert.equal(await client.runtime.reload(), true)
  // A fresh start: the old lock would have made the plugin pass (it holds a session) and the default answer.
  assert.equal(await client.session(u), null)
  await client.expectReply('lock', 'locked', u)
})
