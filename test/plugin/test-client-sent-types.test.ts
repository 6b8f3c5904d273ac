/**
 * The test kit's `client.sent()` and `waitForSent()` are typed (core/testkit/sent-message-types.ts): a test
 * reads what a plugin sent without narrowing untyped JSON at every step. Checked by tsc (test/typecheck),
 * which compiles this file: each typed read below was a type error when sent() gave JsonObject, and each
 * `@ts-expect-error` is a mistake the types catch. The runtime assertions check the types say what the
 * stand-in platform really recorded.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createTestClient, type SentCustomMessage, type SentMessageBody, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

let project: PluginProject
let client: TestClient

const PLUGIN = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'sender',
  async handle(ctx) {
    const to = ctx.message.fromUser
    await ctx.api.sendToUser(to, ctx.reply.text('hello'), { kfAccount: 'kf1@mywxid' })
    await ctx.api.sendToUser(to, ctx.reply.msgMenu([{ id: 'y', content: 'Yes' }, { id: 'n', content: 'No' }], { headContent: 'Sure?' }))
    await ctx.api.sendToUser(to, ctx.reply.news([{ title: 'A', url: 'https://a.example' }]))
    await ctx.api.sendTemplate(to, { templateId: 'tpl-1', data: { thing1: 'shipped', amount2: 12 }, url: 'https://a.example/o/1' })
    await ctx.api.sendSubscribeMessage(to, { templateId: 'sub-1', data: { thing1: 'Meeting at 3' } })
    return ctx.reply.text('sent')
  },
})
`

before(async () => {
  project = pluginProject({ plugins: { sender: PLUGIN }, rules: { 'main.yaml': 'rules:\n  - name: send\n    keywords: [send]\n    plugin: sender\n' } }, 'testkit-sent-types')
  client = await createTestClient({ root: project.root })
})
after(async () => {
  await client.close()
  project.remove()
})

/** What a test writes to read any kind: a switch on msgtype is exhaustive over the customer-service kinds. */
function describe(m: SentMessageBody): string {
  if (m.msgtype === undefined) return `from template ${m.template_id}: ${Object.values(m.data).map((d) => d.value).join(', ')}`
  switch (m.msgtype) {
    case 'text':
      return `text ${m.text.content}${m.customservice ? ` as ${m.customservice.kf_account}` : ''}`
    case 'msgmenu':
      return `menu ${m.msgmenu.head_content ?? ''} ${m.msgmenu.list.map((o) => o.content).join('/')}`
    case 'news':
      return `news ${m.news.articles[0].title}`
    case 'image':
    case 'voice':
    case 'video':
    case 'music':
    case 'mpnews':
    case 'mpnewsarticle':
    case 'wxcard':
    case 'miniprogrampage':
      return m.msgtype
    default: {
      const none: never = m
      return none
    }
  }
}

test('sent() is typed: customer-service messages by msgtype, and via gives one kind its type', async () => {
  await client.expectReply('send', 'sent', { openId: 'u1' })

  const all = client.sent({ openId: 'u1' })
  assert.deepEqual(all.map(describe), ['text hello as kf1@mywxid', 'menu Sure? Yes/No', 'news A', 'from template tpl-1: shipped, 12', 'from template sub-1: Meeting at 3'])

  const [template] = client.sent({ openId: 'u1', via: 'template' })
  // A number given is sent as its text.
  const amount: string = template.data.amount2.value
  assert.equal(amount, '12')
  assert.equal(template.url, 'https://a.example/o/1')
  // @ts-expect-error: a template message has no msgtype payload
  assert.equal(template.text, undefined)

  const [notice] = client.sent({ openId: 'u1', via: 'subscribe' })
  assert.equal(notice.data.thing1.value, 'Meeting at 3')
  assert.equal(notice.template_id, 'sub-1')

  const custom: SentCustomMessage[] = client.sent({ openId: 'u1', via: 'custom' })
  assert.equal(custom.length, 3)
  const first = custom[0]
  // @ts-expect-error: narrowed by msgtype first; a menu has no text
  assert.equal(first.text.content, 'hello')
  if (first.msgtype !== 'text') assert.fail(`expected a text, got ${first.msgtype}`)
  assert.equal(first.text.content, 'hello')
})

test('waitForSent() resolves the same types', async () => {
  await client.expectReply('send', 'sent', { openId: 'u2' })
  const [notice] = await client.waitForSent({ openId: 'u2', via: 'subscribe' })
  assert.equal(notice.data.thing1.value, 'Meeting at 3')
  const custom = await client.waitForSent({ openId: 'u2', via: 'custom', count: 3 })
  assert.deepEqual(
    custom.map((m) => m.msgtype),
    ['text', 'msgmenu', 'news'],
  )
})
