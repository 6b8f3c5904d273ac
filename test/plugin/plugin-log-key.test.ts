/**
 * A plugin's own `ctx.log` lines in `handle` carry the message's `key`, as every engine line about one message
 * does, so an operator (and `wxengine log`) can join them with the engine's lines and the message's log entry.
 * Before, they said only `account` and `openId`: a user's busy minute had several messages, and a plugin's
 * line could not be told to belong to one of them. Real engine, real plugin worker (the test kit); the key is
 * made from the push as the engine reads it (test/support/message-key.ts), for a text (its MsgId) and an event
 * (a digest of its fields): the engine's, made once and sent with the call, whatever the plugin does to its
 * ctx.message.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createTestClient, push, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { keyOfPush } from '../support/message-key.ts'
import { until } from '../support/until.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

let project: PluginProject
let client: TestClient
const memory = createMemoryLogger('info')

// Logs one line about each message it gets, naming the message in the line so the test can find it.
const LOGGER = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'logger',
  handle(ctx) {
    const m = ctx.message
    ctx.log.info('saw ' + (m.kind === 'text' ? m.content : m.kind))
    return ctx.reply.text('logged')
  },
})
`

// Rewrites the message it was handed (its sender and its raw MsgId) before its first line: its own copy,
// which the engine's key for the message must not follow.
const REWRITER = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'rewriter',
  handle(ctx) {
    ctx.message.fromUser = 'someone-else'
    ctx.message.raw.MsgId = '1'
    ctx.log.info('rewrote the message')
    return ctx.reply.text('rewritten')
  },
})
`

// Writes with console, as most first plugins do: in handle at once, after an await, and from a timer handle
// started; and from a timer setup started, which is about no message.
const CONSOLER = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'consoler',
  setup(api) {
    api.after(1, () => console.log('console from setup'))
  },
  async handle(ctx) {
    const said = ctx.message.kind === 'text' ? ctx.message.content : ''
    console.log('at once: ' + said)
    await new Promise((resolve) => setTimeout(resolve, 30))
    console.info('after an await: ' + said)
    setTimeout(() => console.warn('from a timer: ' + said), 5)
    return ctx.reply.text('consoled')
  },
})
`

const RULES = `
rules:
  - { name: logged, keywords: [{ prefix: log }], plugin: logger }
  - { name: rewritten, keywords: [{ prefix: rewrite }], plugin: rewriter }
  - { name: consoled, keywords: [{ prefix: console }], plugin: consoler }
handlers:
  - { type: click, plugin: logger }
`

before(async () => {
  project = pluginProject({ plugins: { logger: LOGGER, rewriter: REWRITER, consoler: CONSOLER }, rules: { 'main.yaml': RULES } }, 'plugin-log-key')
  client = await createTestClient({ root: project.root, log: memory.logger })
})
after(async () => {
  await client.close()
  project.remove()
})

const lineSaying = (msg: string) => memory.lines.find((l) => l.msg === msg)

test("a text's line carries its key (MsgId): the same as the engine's lines about it", async () => {
  const hello = push.text('u-text', 'log hello')
  await client.expectReply(hello, 'logged', { openId: 'u-text' })
  const line = lineSaying('saw log hello')
  assert.ok(line, JSON.stringify(memory.lines))
  assert.equal(line.plugin, 'logger')
  assert.equal(line.account, 'default')
  assert.equal(line.openId, 'u-text')
  assert.equal(line.key, keyOfPush('default', hello))
  assert.match(String(line.key), /^default:m:u-text:\d+$/)
})

test("an event's line carries its key (a digest of its fields), the engine's, sent with the call", async () => {
  const click = push.click('u-click', 'MENU_LOG')
  await client.expectReply(click, 'logged', { openId: 'u-click' })
  const line = lineSaying('saw click')
  assert.ok(line, JSON.stringify(memory.lines))
  assert.equal(line.openId, 'u-click')
  assert.equal(line.key, keyOfPush('default', click))
  assert.match(String(line.key), /^default:e:u-click:\d+:CLICK:MENU_LOG:[\w-]{16}$/)
})

test("a plugin that rewrites ctx.message before its first line does not change the key its lines carry: the engine's, made once", async () => {
  const hello = push.text('u-rewrite', 'rewrite me')
  await client.expectReply(hello, 'rewritten', { openId: 'u-rewrite' })
  const line = lineSaying('rewrote the message')
  assert.ok(line, JSON.stringify(memory.lines))
  assert.equal(line.openId, 'u-rewrite')
  assert.equal(line.key, keyOfPush('default', hello))
})

test("console lines in handle carry the message's fields as ctx.log's do, each call its own, through awaits and timers; setup's have none", async () => {
  // Two users' calls in flight in one worker at once: each line must name its own message, not the last one in.
  const a = push.text('u-console-a', 'console a')
  const b = push.text('u-console-b', 'console b')
  await Promise.all([client.expectReply(a, 'consoled', { openId: 'u-console-a' }), client.expectReply(b, 'consoled', { openId: 'u-console-b' })])
  const said = ['at once', 'after an await', 'from a timer'].flatMap((when) => [`${when}: console a`, `${when}: console b`])
  await until('the console lines', () => said.every((msg) => lineSaying(msg) !== undefined), 10_000)
  for (const msg of said) {
    const line = lineSaying(msg)!
    const [openId, sent] = msg.endsWith(' a') ? ['u-console-a', a] : ['u-console-b', b]
    assert.equal(line.plugin, 'consoler', msg)
    assert.equal(line.account, 'default', msg)
    assert.equal(line.openId, openId, msg)
    assert.equal(line.key, keyOfPush('default', sent), msg)
  }
  const fromSetup = lineSaying('console from setup')
  assert.ok(fromSetup, JSON.stringify(memory.lines))
  assert.equal(fromSetup.plugin, 'consoler')
  assert.equal(fromSetup.key, undefined)
  assert.equal(fromSetup.openId, undefined)
})
