/**
 * ctx.api.sendToUser from inside a plugin's worker, through the main thread's PlatformApi, to the fake
 * WeChat API: the customer-service-only messages (a menu, as a named agent) leave as WeChat documents
 * them, and one that cannot be sent is refused in the plugin with its code, before any request.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { CUSTOM_SEND_PATH } from '../../core/platform/platform-api.ts'
import { loadPlugins, startPlatformOnFakeApi, text, textOf } from './plugin-test-kit.ts'

const { fake, api } = await startPlatformOnFakeApi()
const h = await loadPlugins({ only: ['api-user'], api })
after(async () => {
  await h.dispose()
  await fake.close()
})

test('a menu message sent as a customer-service account reaches the platform as documented', async () => {
  const outcome = await h.call('api-user', text('menu', 'user-menu'))
  assert.equal(outcome.status, 'pass')
  assert.equal(
    fake.sent.at(-1)?.raw,
    '{"touser":"user-menu","msgtype":"msgmenu","msgmenu":{"head_content":"您对本次服务是否满意呢?","list":[{"id":"101","content":"满意"},{"id":"102","content":"不满意"}],"tail_content":"欢迎再次光临"},"customservice":{"kf_account":"test1@kftest"}}',
  )
  // Built with ctx.reply.msgMenu and sent, not returned: that is no missing `return`.
  assert.equal(h.log.lines.some((l) => /missing return/.test(String(l.msg))), false, JSON.stringify(h.log.lines))
})

test('a menu without options is refused in the plugin with PLUGIN_BAD_REPLY, without a request', async () => {
  const before = fake.requests.filter((r) => r.path === CUSTOM_SEND_PATH).length
  const seen = JSON.parse(textOf(await h.call('api-user', text('bad menu'))))
  assert.equal(seen.name, 'PlatformApiError')
  assert.equal(seen.code, 'PLUGIN_BAD_REPLY')
  assert.match(seen.message, /^sendToUser: invalid msgmenu message: list: list is empty/)
  assert.equal(fake.requests.filter((r) => r.path === CUSTOM_SEND_PATH).length, before)
})

test('returning a customer-service-only message from handle says how to send it', async () => {
  const outcome = await h.call('api-user', text('return menu'))
  assert.equal(outcome.status, 'error')
  if (outcome.status !== 'error') return
  assert.equal(outcome.error.code, 'PLUGIN_BAD_REPLY')
  assert.match(outcome.error.reason, /a msgmenu message has no passive-reply form: send it with ctx\.api\.sendToUser/)
})
