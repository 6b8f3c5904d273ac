/**
 * ctx.api.sendSubscribeMessage from inside a plugin's worker, through the RPC (and its arrival check) and the
 * main thread's PlatformApi, to the fake WeChat API: the notice leaves as bizsend documents it; one that
 * cannot be sent is refused in the plugin with PLUGIN_BAD_REPLY naming what is wrong, before any request;
 * the platform's refusal (43101, no subscription left) reaches it with its errcode.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { SUBSCRIBE_SEND_PATH } from '../../core/reply/subscribe-message.ts'
import { loadPlugins, startPlatformOnFakeApi, text, textOf } from './plugin-test-kit.ts'

const { fake, api } = await startPlatformOnFakeApi()
const h = await loadPlugins({ only: ['api-user'], api })
after(async () => {
  await h.dispose()
  await fake.close()
})

const sends = () => fake.requests.filter((r) => r.path === SUBSCRIBE_SEND_PATH).length
const subscribe = async (body: unknown, openId = 'user-s'): Promise<string> => textOf(await h.call('api-user', text(`subscribe ${JSON.stringify(body)}`, openId)))
const MEETING = '9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU'

test('a subscription notice reaches the platform as bizsend documents it', async () => {
  const message = { templateId: MEETING, page: 'https://example.com/m/42', miniProgram: { appId: 'wxmini', pagePath: 'pages/m?id=42' }, data: { date2: '2026年12月3日 15:00', thing1: { value: 'TIT会议室' }, number3: 42 } }
  assert.equal(await subscribe({ message }), 'sent')
  const last = fake.sent.at(-1)
  assert.equal(last?.via, 'subscribe')
  assert.equal(
    last?.raw,
    '{"touser":"user-s","template_id":"9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU","page":"https://example.com/m/42","miniprogram":{"appid":"wxmini","pagepath":"pages/m?id=42"},"data":{"date2":{"value":"2026年12月3日 15:00"},"thing1":{"value":"TIT会议室"},"number3":{"value":"42"}}}',
  )
})

test('a notice that cannot be sent is refused in the plugin with PLUGIN_BAD_REPLY naming each problem (a value over its keyword type\'s length among them), without a request', async () => {
  const before = sends()
  const seen = JSON.parse(await subscribe({ message: { templateId: '', data: { thing1: '巧克力礼盒（双层，含贺卡与丝带包装，限量版）', 'thing 2': 'x' }, page: 'pages/index' } }))
  assert.deepEqual(seen, {
    name: 'PlatformApiError',
    code: 'PLUGIN_BAD_REPLY',
    message:
      'sendSubscribeMessage: invalid subscription notice: templateId: templateId is empty; data.thing 2: "thing 2" is not a template field name (such as thing1, as in {{thing1.DATA}}); data.thing1: thing1 is a thing keyword: at most 20 characters, got 22; page: page must be an http(s) URL (a mini program page goes in miniProgram.pagePath)',
  })
  const nobody = JSON.parse(await subscribe({ message: { templateId: MEETING, data: { thing1: 'x' } }, to: null }))
  assert.equal(nobody.message, "sendSubscribeMessage: openId must be a user's OpenID (such as ctx.message.fromUser), got undefined")
  assert.equal(sends(), before)
})

test("with the account's subscription templates listed, an unknown templateId or keyword is refused in the plugin with a did-you-mean, without a send", async () => {
  // Every test above sent unchecked: the fake cannot list subscription templates (48001) until a test sets them.
  fake.setSubscribeTemplates('wxA', [{ templateId: MEETING, title: '报名结果通知', content: '会议时间:{{date2.DATA}}\n会议地点:{{thing1.DATA}}\n' }])
  const before = sends()
  const unknown = JSON.parse(await subscribe({ message: { templateId: MEETING.slice(0, -1), data: { thing1: 'x' } } }))
  assert.equal(unknown.code, 'PLUGIN_BAD_REPLY')
  assert.equal(unknown.message, `sendSubscribeMessage: templateId "${MEETING.slice(0, -1)}" is not one of the account's subscription templates (did you mean "${MEETING}"?); it has 1: "${MEETING}" (报名结果通知)`)
  const misspelt = JSON.parse(await subscribe({ message: { templateId: MEETING, data: { date2: '2026年12月3日', thing01: 'TIT会议室' } } }))
  assert.equal(misspelt.message, `sendSubscribeMessage: template "${MEETING}" (报名结果通知) has no field "thing01" (did you mean "thing1"?); its fields: date2, thing1`)
  assert.equal(sends(), before)
  assert.equal(await subscribe({ message: { templateId: MEETING, data: { date2: '2026年12月3日', thing1: 'TIT会议室' } } }), 'sent')
  assert.equal(sends(), before + 1)
})

test("the platform's refusal reaches the plugin with its errcode: 43101 once a one-time subscription is used", async () => {
  fake.subscribe('wxA', 'user-once', MEETING)
  const message = { templateId: MEETING, data: { date2: '2026年12月3日', thing1: 'TIT会议室' } }
  assert.equal(await subscribe({ message }, 'user-once'), 'sent')
  const seen = JSON.parse(await subscribe({ message }, 'user-once'))
  assert.deepEqual({ name: seen.name, code: seen.code, errcode: seen.errcode }, { name: 'PlatformApiError', code: 'API_ERROR', errcode: 43101 })
  assert.match(seen.message, /^POST \/cgi-bin\/message\/subscribe\/bizsend: errcode 43101 user refuse to accept the msg rid: /)
})
