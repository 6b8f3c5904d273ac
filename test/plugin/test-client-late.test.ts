/**
 * The test kit and the platform API: a reply that misses the budget is visible to the test (found by a
 * plugin-author audit: `send` gave `{ type: null }`, expectNoReply passed, and a late reply logged
 * UNKNOWN_ACCOUNT because the test account had no AppSecret). The platform is the local stand-in
 * (core/testkit/fake-wechat-api.ts) on 127.0.0.1.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createTestClient, push, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

let project: PluginProject
/** Replies past 100 ms are late here: for the tests of late replies. */
let client: TestClient
/**
 * The default budget (4.5 s): for the tests of replies that must not be late. With 100 ms, a loaded CI
 * machine made "tell" (a request to the stand-in API, then the reply) late, and its reply went out as a
 * second message in sent().
 */
let prompt: TestClient
const memory = createMemoryLogger('warn')

const PLUGIN = `import { definePlugin } from 'wxengine/plugin'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
export default definePlugin({
  name: 'slow',
  async handle(ctx) {
    const text = ctx.message.kind === 'text' ? ctx.message.content : ''
    if (text === 'tell') {
      await ctx.api.sendToUser(ctx.message.fromUser, ctx.reply.text('told you'))
      return ctx.reply.text('passive')
    }
    if (text === 'notify') {
      const msgid = await ctx.api.sendTemplate(ctx.message.fromUser, { templateId: 'tpl-1', data: { thing1: 'shipped' } })
      return ctx.reply.text('notice ' + msgid.length + ' digits')
    }
    if (text === 'remind') {
      try {
        await ctx.api.sendSubscribeMessage(ctx.message.fromUser, { templateId: 'sub-1', data: { thing1: 'Meeting at 3' } })
        return ctx.reply.text('reminded')
      } catch (e) {
        return ctx.reply.text('not reminded: ' + (e as { errcode?: number; message: string }).message)
      }
    }
    if (text === 'tell later') {
      // Answer at once, send later: the send follows the reply. A second later, so that on a loaded machine
      // too the reply has come back before (the test says it was not sent yet then).
      void (async () => {
        await sleep(1000)
        await ctx.api.sendToUser(ctx.message.fromUser, ctx.reply.text('here it is'))
      })()
      return ctx.reply.text('working on it')
    }
    if (ctx.message.kind === 'click') return ctx.reply.text('clicked ' + ctx.message.eventKey + ' at ' + ctx.message.createTime)
    await sleep(400)
    if (text === 'slow video') return ctx.reply.video('MEDIA', { title: 'T' })
    if (text === 'slow news') return ctx.reply.news([{ title: 'A', url: 'https://a.example' }])
    if (text === 'slow nothing') return ctx.reply.none()
    if (text === 'slow transfer') return ctx.reply.transfer()
    return ctx.reply.text('late ' + text)
  },
})
`

before(async () => {
  project = pluginProject(
    {
      plugins: { slow: PLUGIN },
      rules: { 'main.yaml': 'rules:\n  - name: slow\n    keywords: [{ prefix: slow }, tell, tell later, notify, remind]\n    plugin: slow\nhandlers:\n  - type: click\n    plugin: slow\n' },
    },
    'testkit-late',
  )
  // A budget of 100 ms: the plugin's 400 ms sleep misses it.
  client = await createTestClient({ root: project.root, log: memory.logger, config: { limits: { replyBudgetMs: 100 } } })
  prompt = await createTestClient({ root: project.root, log: memory.logger })
})
after(async () => {
  await client.close()
  await prompt.close()
  project.remove()
})

test('a reply past the budget: send waits for it and returns it as late, with the customer-service JSON', async () => {
  const r = await client.send('slow one', { openId: 'u-late' })
  assert.equal(r.body, 'success')
  assert.equal(r.fields, null)
  assert.equal(r.outcome, 'late')
  assert.equal(r.type, 'text')
  assert.equal(r.content, 'late slow one')
  assert.deepEqual(r.late, { touser: 'u-late', msgtype: 'text', text: { content: 'late slow one' } })
  assert.deepEqual(client.sent({ openId: 'u-late' }), [r.late])
  // Not the UNKNOWN_ACCOUNT of an account without an AppSecret: the kit gives the test account one.
  assert.ok(!memory.lines.some((l) => l.code === 'UNKNOWN_ACCOUNT'), JSON.stringify(memory.lines))
})

test('expectReply passes on a late reply; expectNoReply fails on one', async () => {
  const r = await client.expectReply('slow two', 'late slow two', { openId: 'u-late2' })
  assert.equal(r.outcome, 'late')
  await client.expectReply('slow three', { msgtype: 'text', text: { content: 'late slow three' } }, { openId: 'u-late2' })
  await assert.rejects(client.expectNoReply('slow four', { openId: 'u-late2' }), /expected no reply, but one went out late: .*late slow four/)
})

test('a late news reply: its article; a late none: nothing sent, and expectNoReply passes', async () => {
  const news = await client.send('slow news', { openId: 'u-news' })
  assert.equal(news.type, 'news')
  assert.deepEqual(news.articles, [{ title: 'A', url: 'https://a.example' }])
  await client.expectNoReply('slow nothing', { openId: 'u-none' })
  assert.deepEqual(client.sent({ openId: 'u-none' }), [])
})

test('a late reply the platform refuses: the reason comes with the reply', async () => {
  client.platform.failNextSends(1, 45015)
  const refused = await client.send('slow five', { openId: 'u-refused' })
  assert.equal(refused.late, undefined)
  assert.equal(refused.type, null)
  assert.match(refused.error ?? '', /^late reply failed: API_ERROR: .*45015/)
  // A video without a thumbnail cannot go out late at all: refused before any request.
  const video = await client.send('slow video', { openId: 'u-video' })
  assert.match(video.error ?? '', /^late reply failed: PLUGIN_BAD_REPLY: video reply has no thumbMediaId/)
  await assert.rejects(client.expectReply('slow video', /x/, { openId: 'u-video2' }), /got no reply \(success; outcome late: late reply failed: PLUGIN_BAD_REPLY/)
})

test('a late transfer to customer service: it cannot be done after the budget, and the message says so, with a line, not a quiet no_reply', async () => {
  // Only a passive reply hands a user to the agents (protocol.md §4); past the 5 s there is no API for it.
  const r = await client.send('slow transfer', { openId: 'u-transfer' })
  assert.equal(r.late, undefined)
  assert.match(r.error ?? '', /^late reply failed: PLUGIN_BAD_REPLY: transfer_customer_service only works as a passive reply/)
  const line = memory.lines.find((l) => l.msg === 'late reply failed' && l.openId === 'u-transfer')
  assert.equal(line?.code, 'PLUGIN_BAD_REPLY', JSON.stringify(memory.lines.filter((l) => l.openId === 'u-transfer')))
  assert.deepEqual(client.sent({ openId: 'u-transfer' }), [])
})

test("a plugin's ctx.api.sendToUser is in sent(), beside its passive reply", async () => {
  await prompt.expectReply('tell', 'passive', { openId: 'u-tell' })
  assert.deepEqual(prompt.sent({ openId: 'u-tell' }), [{ touser: 'u-tell', msgtype: 'text', text: { content: 'told you' } }])
})

test("a plugin's ctx.api.sendTemplate is in sent() too, in the template API's JSON", async () => {
  await prompt.expectReply('notify', 'notice 19 digits', { openId: 'u-notify' })
  assert.deepEqual(prompt.sent({ openId: 'u-notify' }), [{ touser: 'u-notify', template_id: 'tpl-1', data: { thing1: { value: 'shipped' } } }])
})

test("prompt.setTemplates: sendTemplate is then checked against the account's templates, even after an unchecked send (the engine keeps its list 10 minutes)", async () => {
  // The test above sent tpl-1 unchecked: the stand-in could not list templates (48001) until now.
  prompt.setTemplates([{ templateId: 'tpl-1', title: 'Order shipped', fields: ['thing1', 'time2'] }])
  await prompt.expectReply('notify', 'notice 19 digits', { openId: 'u-checked' })
  const warning = memory.lines.find((l) => l.templateId === 'tpl-1')
  assert.equal(warning?.msg, 'template message sent without time2: template "tpl-1" (Order shipped) has that field and data gives it no value, so WeChat shows it blank')
  prompt.setTemplates([{ templateId: 'tpl-2', title: 'Refund', fields: ['thing1'] }])
  const refused = await prompt.send('notify', { openId: 'u-checked' })
  assert.match(refused.error ?? '', /^slow: PLUGIN_ERROR: PlatformApiError: sendTemplate: templateId "tpl-1" is not one of the account's templates \(did you mean "tpl-2"\?\); it has 1: "tpl-2" \(Refund\)/)
  assert.equal(prompt.sent({ openId: 'u-checked' }).length, 1)
  prompt.setTemplates(null)
  await prompt.expectReply('notify', 'notice 19 digits', { openId: 'u-checked' })
})

test("a plugin's ctx.api.sendSubscribeMessage is in sent(), told apart by via: 'subscribe'; setSubscribeTemplates turns its check on, subscribe() its subscriptions", async () => {
  await prompt.expectReply('notify', 'notice 19 digits', { openId: 'u-remind' })
  await prompt.expectReply('remind', 'reminded', { openId: 'u-remind' })
  const notice = { touser: 'u-remind', template_id: 'sub-1', data: { thing1: { value: 'Meeting at 3' } } }
  assert.deepEqual(prompt.sent({ openId: 'u-remind', via: 'subscribe' }), [notice])
  assert.deepEqual(prompt.sent({ openId: 'u-remind', via: 'template' }).map((m) => m.template_id), ['tpl-1'])
  assert.equal(prompt.sent({ openId: 'u-remind' }).length, 2)

  // Sent unchecked above: the stand-in could not list subscription templates (48001) until now.
  prompt.setSubscribeTemplates([{ templateId: 'sub-2', title: 'Reminder', fields: ['thing1'] }])
  await prompt.expectReply('remind', /^not reminded: sendSubscribeMessage: templateId "sub-1" is not one of the account's subscription templates \(did you mean "sub-2"\?\); it has 1: "sub-2" \(Reminder\)$/, { openId: 'u-remind' })
  prompt.setSubscribeTemplates([{ templateId: 'sub-1', title: 'Reminder', fields: ['thing1'] }])
  // A one-time subscription allows one notice, then 43101.
  prompt.subscribe('sub-1', { openId: 'u-once' })
  await prompt.expectReply('remind', 'reminded', { openId: 'u-once' })
  await prompt.expectReply('remind', /^not reminded: POST \/cgi-bin\/message\/subscribe\/bizsend: errcode 43101 /, { openId: 'u-once' })
  assert.equal(prompt.sent({ openId: 'u-once', via: 'subscribe' }).length, 1)
  prompt.setSubscribeTemplates(null)
})

test('waitForSent: a send that follows the reply (answer at once, send later), and a clear failure when none comes', async () => {
  await prompt.expectReply('tell later', 'working on it', { openId: 'u-later' })
  assert.deepEqual(prompt.sent({ openId: 'u-later' }), [], 'not sent yet when the reply came')
  assert.deepEqual(await prompt.waitForSent({ openId: 'u-later' }), [{ touser: 'u-later', msgtype: 'text', text: { content: 'here it is' } }])
  await assert.rejects(prompt.waitForSent({ openId: 'u-later', count: 2, timeoutMs: 300 }), /^AssertionError.*expected 2 sent messages to u-later within 300 ms, got 1$/s)
  // Counted from the latest send: the earlier send is not taken for this one's (review of this stop's diff).
  await prompt.expectReply('tell', 'passive', { openId: 'u-later' })
  assert.deepEqual(await prompt.waitForSent({ openId: 'u-later' }), [{ touser: 'u-later', msgtype: 'text', text: { content: 'told you' } }])
  assert.equal(prompt.sent({ openId: 'u-later' }).length, 2, 'sent() still lists them all')
})

test('two clicks built one after the other are two clicks; the same push sent again is a replay', async () => {
  const first = push.click('u-click', 'K')
  const second = push.click('u-click', 'K')
  assert.notEqual(first.CreateTime, second.CreateTime)
  const a = await prompt.send(first)
  const b = await prompt.send(second)
  assert.equal(a.outcome, 'replied')
  assert.equal(b.outcome, 'replied')
  assert.notEqual(a.content, b.content)
  const again = await prompt.send(first)
  assert.equal(again.replayed, true)
  assert.equal(again.content, a.content)
  assert.equal(again.outcome, undefined)
})

test('session() takes the state type', async () => {
  type State = { step: number }
  const none = await prompt.session<State>({ openId: 'nobody' })
  assert.equal(none, null)
})
