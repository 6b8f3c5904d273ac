/**
 * ctx.api.sendTemplate from inside a plugin's worker, through the main thread's PlatformApi, to the fake
 * WeChat API: the body leaves as WeChat documents it, the 64-bit msgid comes back with all its digits, and a
 * message that cannot be sent is refused in the plugin with its code, before any request.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { TEMPLATE_SEND_PATH } from '../../core/reply/template-message.ts'
import { loadPlugins, startPlatformOnFakeApi, text, textOf } from './plugin-test-kit.ts'

const { fake, api } = await startPlatformOnFakeApi()
const h = await loadPlugins({ only: ['api-user'], api })
after(async () => {
  await h.dispose()
  await fake.close()
})

const templateRequests = () => fake.requests.filter((r) => r.path === TEMPLATE_SEND_PATH).length

test('a template message reaches the platform as documented, and its 64-bit msgid comes back exact, as text', async () => {
  const reply = textOf(await h.call('api-user', text('template', 'user-t')))
  const last = fake.sent.at(-1)
  assert.equal(last?.via, 'template')
  assert.equal(
    last?.raw,
    '{"touser":"user-t","template_id":"tpl-order-shipped","url":"https://example.com/orders/42","miniprogram":{"appid":"wxmini","pagepath":"pages/order?id=42"},"client_msg_id":"order-42-shipped","data":{"thing1":{"value":"巧克力"},"amount2":{"value":"39.8元"},"number3":{"value":"42"}}}',
  )
  // The fake numbers its msgids from 2963446620935323648 on (past 2^53): read as a double, it would end in ...3600 or so.
  const msgid = (2963446620935323648n + BigInt(fake.sent.length)).toString()
  assert.equal(reply, `msgid ${msgid} (string)`)
})

test('a template message that cannot be sent is refused in the plugin with PLUGIN_BAD_REPLY naming each problem, without a request', async () => {
  const before = templateRequests()
  const seen = JSON.parse(textOf(await h.call('api-user', text('bad template'))))
  assert.equal(seen.name, 'PlatformApiError')
  assert.equal(seen.code, 'PLUGIN_BAD_REPLY')
  assert.equal(
    seen.message,
    'sendTemplate: invalid template message: templateId: templateId is empty; data.thing 1: "thing 1" is not a template field name (such as thing1, as in {{thing1.DATA}}); url: url must be an http(s) URL',
  )
  assert.equal(templateRequests(), before)
})

test("the platform's refusal reaches the plugin with its errcode (43004: the user does not follow the account)", async () => {
  fake.setUserError('user-gone', 43004)
  const seen = JSON.parse(textOf(await h.call('api-user', text('refused template', 'user-gone'))))
  assert.deepEqual(seen, { code: 'API_ERROR', errcode: 43004 })
})

test('an openId that is no OpenID (a misspelt field, undefined) is refused in the plugin naming the call, without a request', async () => {
  const before = templateRequests()
  const seen = JSON.parse(textOf(await h.call('api-user', text('template to nobody'))))
  assert.equal(seen.message, "sendTemplate: openId must be a user's OpenID (such as ctx.message.fromUser), got undefined")
  assert.equal(templateRequests(), before)
})

test("with the account's templates listed, a misspelt field is refused in the plugin with PLUGIN_BAD_REPLY and a did-you-mean, without a send", async () => {
  // Every test above sent unchecked: the fake cannot list templates (48001) until a test sets them.
  fake.setTemplates('wxA', [{ templateId: 'tpl-order-shipped', title: '订单发货通知', fields: ['thing1', 'amount2', 'number3'] }])
  const before = templateRequests()
  const seen = JSON.parse(textOf(await h.call('api-user', text('misspelt template'))))
  assert.deepEqual(seen, {
    name: 'PlatformApiError',
    code: 'PLUGIN_BAD_REPLY',
    message: 'sendTemplate: template "tpl-order-shipped" (订单发货通知) has no field "thing01" (did you mean "thing1"?); its fields: thing1, amount2, number3',
  })
  assert.equal(templateRequests(), before)
  // The message that names them all goes out.
  assert.match(textOf(await h.call('api-user', text('template', 'user-t'))), /^msgid \d+ \(string\)$/)
  assert.equal(templateRequests(), before + 1)
})
