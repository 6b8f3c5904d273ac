/**
 * What a plugin sends through ctx.api is bounded where it calls (sandbox/build-context.ts): a post's body, a
 * send's message, and the OpenID a send goes to. Unbounded, a 200-million-character body held every other
 * user's answer 2.7 s on the main thread, and an OpenID of 5 million characters, or `<y>`, went to the
 * platform (a review of plugin API misuse). Each is a TypeError in the plugin naming the call.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createTestClient, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

const MISUSE = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'misuse',
  async handle(ctx) {
    const calls: Record<string, () => Promise<unknown>> = {
      'big post': () => ctx.api.post('cgi-bin/draft/add', { big: 'x'.repeat(9_000_000) }),
      'big send': () => ctx.api.sendToUser(ctx.message.fromUser, ctx.reply.text('x'.repeat(2_000_000))),
      'odd openid': () => ctx.api.sendToUser('<y>', ctx.reply.text('hi')),
      'long openid': () => ctx.api.sendTemplate('o'.repeat(5_000_000), { templateId: 't', data: {} }),
      'empty openid': () => ctx.api.sendSubscribeMessage('', { templateId: 't', data: {} }),
    }
    const call = calls[ctx.message.kind === 'text' ? ctx.message.content : '']
    if (!call) return ctx.pass()
    try {
      await call()
      return ctx.reply.text('sent')
    } catch (e) {
      return ctx.reply.text(e instanceof Error ? e.name + ': ' + e.message : String(e))
    }
  },
})
`
const RULES = 'rules:\n  - name: misuse\n    keywords: [big post, big send, odd openid, long openid, empty openid]\n    plugin: misuse\n'

let client: TestClient
let project: PluginProject

before(async () => {
  project = pluginProject({ plugins: { misuse: MISUSE }, rules: { 'main.yaml': RULES } }, 'api-bounds')
  client = await createTestClient({ root: project.root, log: createMemoryLogger('warn').logger })
})
after(async () => {
  await client.close()
  project.remove()
})

test('an api.post body past 8 Mi characters is refused in the plugin, before it crosses to the engine', async () => {
  await client.expectReply('big post', /^TypeError: api\.post body: \$\.big: the value is over 8388608 characters in all, as JSON$/)
})

test("a send's message past 1 Mi characters is refused in the plugin", async () => {
  await client.expectReply('big send', /^TypeError: sendToUser message: .*over 1048576 characters/)
})

test('an OpenID with other letters, too long, or empty is refused naming the call, not sent to the platform', async () => {
  await client.expectReply('odd openid', `TypeError: sendToUser: openId must be a user's OpenID (such as ctx.message.fromUser), got "<y>", which has other characters than an OpenID's (A-Z a-z 0-9 _ -)`)
  await client.expectReply('long openid', "TypeError: sendTemplate: openId must be a user's OpenID (such as ctx.message.fromUser), got a string of 5000000 characters")
  await client.expectReply('empty openid', "TypeError: sendSubscribeMessage: openId must be a user's OpenID (such as ctx.message.fromUser), got an empty string")
  assert.equal(client.sent().length, 0)
})
