/**
 * Pushes no reply can reach (an unsubscribe: the user has left; the platform's reports on a template message,
 * a mass send, a publish job) get `success`, whatever answers them: found by a router review. A handler
 * `type: unsubscribe` with an inline reply, or a dialogue's plugin answering "please answer the question" to
 * every push while it held the user, had its text sent as the passive reply to the unsubscribe and to the
 * template message's delivery report; past the budget the same reply went out through the customer-service
 * API, to a user who had unfollowed (43004) or who never said anything. The plugins still see the push.
 * Real engine, real plugin workers, a throwaway SQLite file (the test kit).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createTestClient, push, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { keyOfPush } from '../support/message-key.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

let project: PluginProject
let client: TestClient
const memory = createMemoryLogger('info')

// "lock" begins a dialogue; in it, every push is answered (the mistake docs/plugins.md warns of), and each
// kind it saw is counted in the user's storage, so the test can tell that it was asked. "slow" answers late.
const LOCKER = `import { definePlugin } from 'wxengine/plugin'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
export default definePlugin({
  name: 'locker',
  async handle(ctx) {
    const m = ctx.message
    if (m.kind === 'text' && m.content.startsWith('lock')) {
      ctx.session.begin(600, { slow: m.content === 'lock slow' })
      return ctx.reply.text('locked')
    }
    await ctx.storage.user.set('saw:' + m.kind, true)
    if ((ctx.session.state as { slow?: boolean } | undefined)?.slow) await sleep(300)
    return ctx.reply.text('please answer the question (' + m.kind + ')')
  },
})
`

const RULES = `
rules:
  - { name: lock, keywords: [{ prefix: lock }], plugin: locker }
handlers:
  - { type: unsubscribe, reply: { type: text, content: sorry to see you go } }
  - { type: masssend_job_finish, reply: { type: text, content: mass sent } }
welcome: { reply: { type: text, content: welcome! } }
default: { reply: { type: text, content: default! } }
`

before(async () => {
  project = pluginProject({ plugins: { locker: LOCKER }, rules: { 'main.yaml': RULES } }, 'no-reply-events')
  client = await createTestClient({ root: project.root, log: memory.logger, config: { limits: { replyBudgetMs: 150 } } })
})
after(async () => {
  await client.close()
  project.remove()
})

const withheldLines = () => memory.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('reply withheld'))

test('an unsubscribe handler with an inline reply: success, and a line says why the reply was not sent', async () => {
  const before = withheldLines().length
  const unsubscribe = push.event('u-gone', 'unsubscribe')
  const r = await client.send(unsubscribe, { openId: 'u-gone' })
  assert.equal(r.body, 'success')
  assert.equal(r.outcome, 'no_reply')
  assert.equal(r.handledBy, 'type', 'the handler still took it: routing stops there')
  const lines = withheldLines().slice(before)
  assert.equal(lines.length, 1, JSON.stringify(memory.lines))
  assert.equal(lines[0].kind, 'unsubscribe')
  assert.equal(lines[0].openId, 'u-gone')
  // The message's account and key, as every line about one message has them, and why, as a reason: it had neither.
  assert.equal(lines[0].account, 'default')
  assert.equal(lines[0].key, keyOfPush('default', unsubscribe))
  assert.equal(lines[0].reason, 'the user has unfollowed')
  assert.match(String(lines[0].msg), /^reply withheld: rule "unsubscribe@main.yaml:\d+" answered the unsubscribe push, which no reply can reach \(the user has unfollowed\)/)
})

test('a platform report (a mass send finished) with a handler reply: success', async () => {
  const before = withheldLines().length
  const report = push.event('mphelper', 'MASSSENDJOBFINISH', { MsgID: '1000001625', Status: 'send success', TotalCount: 1, FilterCount: 1, SentCount: 1, ErrorCount: 0 })
  const r = await client.send(report, { openId: 'mphelper' })
  assert.equal(r.body, 'success')
  const [line] = withheldLines().slice(before)
  assert.equal(line?.key, keyOfPush('default', report), JSON.stringify(line))
  assert.equal(line?.reason, 'it is a report of the platform, not something a user said')
})

test("a dialogue's plugin answering an unsubscribe and a template message's report: it saw both, neither got a reply", async () => {
  await client.expectReply('lock', 'locked', { openId: 'u-dialogue' })
  const report = await client.send(push.event('u-dialogue', 'TEMPLATESENDJOBFINISH', { MsgID: '200163840', Status: 'success' }), { openId: 'u-dialogue' })
  assert.equal(report.body, 'success')
  assert.equal(report.handledBy, 'session')
  // Still a user message: the dialogue's answer goes out.
  await client.expectReply('hi', 'please answer the question (text)', { openId: 'u-dialogue' })
  const gone = await client.send(push.event('u-dialogue', 'unsubscribe'), { openId: 'u-dialogue' })
  assert.equal(gone.body, 'success')
  const storage = client.storage('locker', { openId: 'u-dialogue' }).user
  assert.equal(await storage.get('saw:template_send_job_finish'), true)
  assert.equal(await storage.get('saw:unsubscribe'), true)
})

test('a reply past the budget to an unsubscribe is not sent through the customer-service API', async () => {
  await client.expectReply('lock slow', 'locked', { openId: 'u-slow' })
  const gone = await client.send(push.event('u-slow', 'unsubscribe'), { openId: 'u-slow' })
  assert.equal(gone.body, 'success')
  assert.equal(gone.late, undefined, JSON.stringify(gone))
  assert.equal(gone.outcome, 'no_reply')
  assert.deepEqual(client.sent({ openId: 'u-slow' }), [])
})
