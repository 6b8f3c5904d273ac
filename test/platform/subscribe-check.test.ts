/**
 * sendSubscribeMessage checks a subscription notice against the account's subscription templates
 * (/wxaapi/newtmpl/gettemplate) by the machinery sendTemplate's check uses (account-templates.ts, whose
 * timing template-check.test.ts covers at length): an unknown templateId or keyword refused, a keyword left
 * out warned, a list that cannot be read blocking nothing, a list read before kept when reading it again
 * fails in passing. And what it sends is bizsend's JSON, the platform's refusals reaching the caller with
 * their errcode.
 */
import { test, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createAccessTokenManager } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { createPlatformApi, type PlatformClient } from '../../core/platform/platform-api.ts'
import { SUBSCRIBE_SEND_PATH, type SubscribeMessage } from '../../core/reply/subscribe-message.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { createLogger, createMemoryLogger } from '../../core/log/logger.ts'
import { FAKE_PATHS, startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import type { EngineError } from '../../core/errors.ts'

const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
after(() => fake.close())

const MEETING = { templateId: '9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU', title: '报名结果通知', content: '会议时间:{{date2.DATA}}\n会议地点:{{thing1.DATA}}\n' }
const SHIPPED = { templateId: 'sub-order-shipped', title: '订单发货通知', fields: ['thing1', 'character_string2', 'phrase3'] }
const meeting = (data: SubscribeMessage['data']): SubscribeMessage => ({ templateId: MEETING.templateId, data })

let t = 1_800_000_000_000
let api: PlatformClient
let lines: Array<Record<string, unknown>>
let mark: number
beforeEach(() => {
  fake.setSubscribeTemplates('wxA', [MEETING, SHIPPED])
  const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 2000 })
  const tokens = createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: createMemoryStore().tokens, log: createLogger({ level: 'silent' }) })
  const memory = createMemoryLogger('debug')
  lines = memory.lines
  api = createPlatformApi({ client, tokens, log: memory.logger, now: () => t, templateWaitMs: 200 })
  mark = fake.requests.length
})
const requests = (path: string) => fake.requests.slice(mark).filter((r) => r.path === path).length
const listRequests = () => requests(FAKE_PATHS.subscribeTemplateList)
const sends = () => requests(SUBSCRIBE_SEND_PATH)
const refusal = async (message: unknown, openId = 'o1'): Promise<EngineError> => {
  const r = await api.sendSubscribeMessageResult(openId, message as SubscribeMessage)
  if (r.ok) assert.fail('sent, not refused')
  return r.error
}
const sent = async (message: SubscribeMessage, openId = 'o1'): Promise<void> => {
  const r = await api.sendSubscribeMessageResult(openId, message)
  assert.ok(r.ok, r.ok ? '' : r.error.reason)
}

test('a notice goes out as bizsend documents it, after its template is found in the list', async () => {
  await sent({ ...meeting({ date2: '2026年12月3日 15:00', thing1: 'TIT会议室' }), page: 'https://example.com/m/42' }, 'o-ok')
  assert.equal(listRequests(), 1)
  assert.equal(fake.sent.at(-1)?.via, 'subscribe')
  assert.equal(fake.sent.at(-1)?.raw, '{"touser":"o-ok","template_id":"9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU","page":"https://example.com/m/42","data":{"date2":{"value":"2026年12月3日 15:00"},"thing1":{"value":"TIT会议室"}}}')
})

test("a templateId that is not one of the account's subscription templates is refused with a did-you-mean and its templates listed, without a send", async () => {
  const seen = await refusal({ templateId: 'sub-order-shiped', data: { thing1: 'x' } })
  assert.deepEqual(seen, {
    code: 'PLUGIN_BAD_REPLY',
    reason:
      'sendSubscribeMessage: templateId "sub-order-shiped" is not one of the account\'s subscription templates (did you mean "sub-order-shipped"?); it has 2: "9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU" (报名结果通知), "sub-order-shipped" (订单发货通知)',
  })
  // A template message's id is not a subscription template's: the lists are apart.
  fake.setTemplates('wxA', [{ templateId: 'tpl-1', fields: ['thing1'] }])
  fake.setSubscribeTemplates('wxA', [])
  t += 60_000
  assert.equal((await refusal({ templateId: 'tpl-1', data: { thing1: 'x' } })).reason, 'sendSubscribeMessage: templateId "tpl-1" is not one of the account\'s subscription templates; it has none: add one in the console (订阅通知 > 公共模板库)')
  assert.equal(sends(), 0)
  fake.setTemplates('wxA', null)
})

test('a keyword the template does not have is refused naming it, with a did-you-mean and its keywords; one left out goes out with a warning, once', async () => {
  const seen = await refusal(meeting({ date2: '2026年12月3日', thing01: 'TIT会议室' }))
  assert.equal(seen.reason, 'sendSubscribeMessage: template "9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU" (报名结果通知) has no field "thing01" (did you mean "thing1"?); its fields: date2, thing1')
  assert.equal(sends(), 0)

  await sent(meeting({ thing1: 'TIT会议室' }))
  await sent(meeting({ thing1: 'TIT会议室' }), 'o2')
  const warnings = lines.filter((l) => l.level === 40)
  assert.equal(warnings.length, 1)
  assert.deepEqual(warnings[0].missing, ['date2'])
  assert.equal(warnings[0].msg, 'subscription notice sent without date2: template "9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU" (报名结果通知) has that field and data gives it no value, so WeChat shows it blank')
  assert.equal(sends(), 2)
})

test('a value over its keyword type\'s length is refused before the list is read or anything is sent', async () => {
  const seen = await refusal({ templateId: SHIPPED.templateId, data: { thing1: '巧克力礼盒（双层，含贺卡与丝带包装，限量版）', character_string2: 'A42', phrase3: '已发货' } })
  assert.deepEqual(seen, { code: 'PLUGIN_BAD_REPLY', reason: 'invalid subscription notice: data.thing1: thing1 is a thing keyword: at most 20 characters, got 22' })
  assert.equal(listRequests(), 0)
  assert.equal(sends(), 0)
})

test('a list that cannot be read blocks nothing (48001: said once at info, asked again 10 minutes on); a list read before is kept when reading it again fails in passing', async () => {
  fake.setSubscribeTemplates('wxA', null)
  await sent({ templateId: 'any-id', data: { whatever: 'x' } })
  await sent({ templateId: 'other-id', data: { thing01: 'x' } })
  assert.equal(listRequests(), 1)
  const said = lines.filter((l) => l.level === 30 && String(l.msg).includes('unchecked'))
  assert.equal(said.length, 1)
  assert.match(
    String(said[0].msg),
    /^subscription notices go out unchecked for 10 minutes: the account's subscription templates could not be read \(GET \/wxaapi\/newtmpl\/gettemplate: errcode 48001 api unauthorized rid: [^)]+\): the account may not read its subscription templates \(subscription notices not enabled, or the account not verified\?\)$/,
  )

  t += 10 * 60_000
  fake.setSubscribeTemplates('wxA', [MEETING])
  assert.equal((await refusal(meeting({ thing01: 'x' }))).code, 'PLUGIN_BAD_REPLY')
  assert.equal(listRequests(), 2)
  // Its 10 minutes over, a read that fails in passing (-1) does not give the list up: the check goes on.
  t += 11 * 60_000
  fake.failNext(FAKE_PATHS.subscribeTemplateList, 1, -1)
  assert.match((await refusal(meeting({ thing01: 'x' }))).reason, /has no field "thing01"/)
  assert.equal(listRequests(), 3)
  assert.match(String(lines.filter((l) => l.level === 30).at(-1)?.msg), /^subscription notices are checked against the account's subscription templates as read 11 min ago: reading them again failed \(GET \/wxaapi\/newtmpl\/gettemplate: errcode -1 .*\); read again in 1 minute$/)
  // A miss meanwhile goes out unchecked: it may be a template added since (as this one was).
  fake.setSubscribeTemplates('wxA', [MEETING, { templateId: 'sub-added', fields: ['thing1'] }])
  await sent({ templateId: 'sub-added', data: { thing1: 'x' } })
  assert.equal(listRequests(), 3)
  assert.equal(sends(), 3)
})

test("an answer without data is a list that cannot be read; the platform's refusals reach the caller with their errcode (43101: no subscription left)", async () => {
  void fake.answerRawNext(FAKE_PATHS.subscribeTemplateList, { status: 200, contentType: 'application/json', body: '{"errcode":0,"errmsg":"ok"}' })
  await sent(meeting({ thing01: 'unchecked' }))
  assert.equal(lines.filter((l) => l.level === 30).at(-1)?.reason, 'the answer has no data (the list of templates)')
  t += 60_000

  fake.subscribe('wxA', 'o-once', MEETING.templateId)
  await sent(meeting({ date2: '2026年12月3日', thing1: 'TIT会议室' }), 'o-once')
  const again = await refusal(meeting({ date2: '2026年12月3日', thing1: 'TIT会议室' }), 'o-once')
  assert.equal(again.code, 'API_ERROR')
  assert.equal(again.errcode, 43101)
})
