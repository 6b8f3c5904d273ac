/**
 * sendTemplate checks a template message against the account's own templates (get_all_private_template)
 * before sending: the platform drops a misspelt field without a word and answers a bare 40037 for a
 * template that is not the account's. The list is kept 10 minutes, read again on a miss, and when it cannot
 * be read the message goes out unchecked (for 1 minute after a passing failure, 10 after 48001).
 */
import { test, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createAccessTokenManager } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { createPlatformApi, type PlatformClient } from '../../core/platform/platform-api.ts'
import { TEMPLATE_SEND_PATH, type TemplateMessage } from '../../core/reply/template-message.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { createLogger, createMemoryLogger } from '../../core/log/logger.ts'
import { FAKE_PATHS, startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { until } from '../support/until.ts'

const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
after(() => fake.close())

const BONUS = {
  templateId: 'iPk5sOIt5X_flOVKn5GrTFpncEYTojx6ddbt8WYoV5s',
  title: '领取奖金提醒',
  // As the platform's documentation shows it, with spaces inside the braces.
  content: '{ {result.DATA} }\n\n领奖金额:{ {withdrawMoney.DATA} }\n领奖  时间:    { {withdrawTime.DATA} }\n银行信息:{ {cardInfo.DATA} }\n到账时间:  { {arrivedTime.DATA} }\n{ {remark.DATA} }',
}
const SHIPPED = { templateId: 'tpl-order-shipped', title: '订单发货通知', content: '{{first.DATA}}\n商品名称:{{thing1.DATA}}\n订单金额:{{amount2.DATA}}\n订单号:{{number3.DATA}}\n{{remark.DATA}}' }
const shipped = (data: TemplateMessage['data']): TemplateMessage => ({ templateId: SHIPPED.templateId, data })

let t = 1_800_000_000_000
/**
 * Waits for the list as long as a loopback read can take on a loaded machine: with 200 ms, a CI run's first
 * read (a token, then the list) came too late, and the message went out unchecked (40037, not the refusal).
 */
let api: PlatformClient
/** An API on the same token and log that waits `templateWaitMs` for a list read: for the reads held on purpose. */
let apiWaiting: (templateWaitMs: number) => PlatformClient
let lines: Array<Record<string, unknown>>
let mark: number
beforeEach(() => {
  fake.setTemplates('wxA', [SHIPPED, BONUS])
  const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 2000 })
  const tokens = createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: createMemoryStore().tokens, log: createLogger({ level: 'silent' }) })
  const memory = createMemoryLogger('debug')
  lines = memory.lines
  apiWaiting = (templateWaitMs) => createPlatformApi({ client, tokens, log: memory.logger, now: () => t, templateWaitMs })
  api = apiWaiting(10_000)
  mark = fake.requests.length
})
const requests = (path: string) => fake.requests.slice(mark).filter((r) => r.path === path).length
const listRequests = () => requests(FAKE_PATHS.templateList)
const sends = () => requests(TEMPLATE_SEND_PATH)
const refusal = async (p: Promise<unknown>): Promise<{ code: string; reason: string }> => {
  try {
    await p
  } catch (e) {
    const { code, reason } = e as { code: string; reason: string }
    return { code, reason }
  }
  assert.fail('sent, not refused')
}

test("a templateId that is not the account's is refused with PLUGIN_BAD_REPLY naming it and up to 5 of the account's templates, without a send", async () => {
  const seven = Array.from({ length: 7 }, (_, i) => ({ templateId: `tpl-${i + 1}`, title: `通知 ${i + 1}`, fields: ['thing1'] }))
  fake.setTemplates('wxA', seven)
  const seen = await refusal(api.sendTemplate('o1', { templateId: 'tpl-order-shiped', data: { thing1: 'x' } }))
  assert.deepEqual(seen, {
    code: 'PLUGIN_BAD_REPLY',
    reason:
      'sendTemplate: templateId "tpl-order-shiped" is not one of the account\'s templates; it has 7: "tpl-1" (通知 1), "tpl-2" (通知 2), "tpl-3" (通知 3), "tpl-4" (通知 4), "tpl-5" (通知 5) and 2 more (the console\'s 模板消息 > 我的模板 lists them all)',
  })
  // Just read: not read again for the miss.
  assert.equal(listRequests(), 1)
  assert.equal(sends(), 0)

  fake.setTemplates('wxA', [])
  t += 60_000
  // A miss a minute later reads the list again, and finds none.
  const none = await refusal(api.sendTemplate('o1', { templateId: 'tpl-8', data: { thing1: 'x' } }))
  assert.equal(listRequests(), 2)
  assert.equal(none.reason, 'sendTemplate: templateId "tpl-8" is not one of the account\'s templates; it has none: add one in the console (模板消息 > 模板库)')
})

test('a templateId one slip from one of the account\'s is refused with a did-you-mean', async () => {
  const seen = await refusal(api.sendTemplate('o1', { templateId: 'tpl-order-shiped', data: { thing1: 'x' } }))
  assert.match(seen.reason, /^sendTemplate: templateId "tpl-order-shiped" is not one of the account's templates \(did you mean "tpl-order-shipped"\?\); it has 2: "tpl-order-shipped" \(订单发货通知\), "iPk5sOIt5X_flOVKn5GrTFpncEYTojx6ddbt8WYoV5s" \(领取奖金提醒\)$/)
})

test("a data field the template does not have is refused naming it, with a did-you-mean and the template's fields, without a send", async () => {
  const seen = await refusal(api.sendTemplate('o1', shipped({ thing01: '巧克力', amount2: '39.8元', number3: 42 })))
  assert.deepEqual(seen, {
    code: 'PLUGIN_BAD_REPLY',
    reason: 'sendTemplate: template "tpl-order-shipped" (订单发货通知) has no field "thing01" (did you mean "thing1"?); its fields: first, thing1, amount2, number3, remark',
  })
  // The documentation's spelling, spaces inside the braces, is read too; every unknown field is named.
  const bonus = await refusal(api.sendTemplate('o1', { templateId: BONUS.templateId, data: { result: 'ok', withdrawMony: '100', first: 'x' } }))
  assert.equal(
    bonus.reason,
    'sendTemplate: template "iPk5sOIt5X_flOVKn5GrTFpncEYTojx6ddbt8WYoV5s" (领取奖金提醒) has no field "withdrawMony" (did you mean "withdrawMoney"?), no field "first" (WeChat has not shown first or remark since May 2023: drop it); its fields: result, withdrawMoney, withdrawTime, cardInfo, arrivedTime, remark',
  )
  assert.equal(sends(), 0)
})

test('a template field not given is sent anyway (WeChat shows it blank) with a warning line naming the template and the field; first and remark are not asked for', async () => {
  const msgid = await api.sendTemplate('o1', shipped({ thing1: '巧克力', amount2: '39.8元' }))
  assert.match(msgid, /^\d+$/)
  assert.equal(sends(), 1)
  assert.deepEqual(fake.sent.at(-1)?.body.data, { thing1: { value: '巧克力' }, amount2: { value: '39.8元' } })
  const warnings = lines.filter((l) => l.level === 40)
  assert.equal(warnings.length, 1)
  assert.deepEqual(
    { ...warnings[0], time: undefined },
    {
      level: 40,
      time: undefined,
      appId: 'wxA',
      templateId: 'tpl-order-shipped',
      title: '订单发货通知',
      missing: ['number3'],
      msg: 'template message sent without number3: template "tpl-order-shipped" (订单发货通知) has that field and data gives it no value, so WeChat shows it blank',
    },
  )
  // Said once for the template and field while the list is kept, not for every notice.
  await api.sendTemplate('o2', shipped({ thing1: '巧克力', amount2: '39.8元' }))
  assert.equal(lines.filter((l) => l.level === 40).length, 1)
  // Every field given, first and remark left out: nothing to say.
  await api.sendTemplate('o3', shipped({ thing1: '巧克力', amount2: '39.8元', number3: 42 }))
  assert.equal(lines.filter((l) => l.level === 40).length, 1)
  assert.equal(sends(), 3)
})

test('a list that cannot be read does not block sending: 48001 (the fake\'s default), a dropped connection, an answer without template_list; why is said once at info, and asked again later (after 48001, 10 minutes on)', async () => {
  fake.setTemplates('wxA', null)
  await api.sendTemplate('o1', { templateId: 'any-id', data: { whatever: 'x' } })
  await api.sendTemplate('o1', { templateId: 'other-id', data: { thing01: 'x' } })
  assert.equal(sends(), 2)
  assert.equal(listRequests(), 1)
  const said = lines.filter((l) => l.level === 30 && String(l.msg).includes('unchecked'))
  assert.equal(said.length, 1)
  assert.equal(said[0].appId, 'wxA')
  assert.equal(said[0].errcode, 48001)
  assert.match(
    String(said[0].msg),
    /^template messages go out unchecked for 10 minutes: the account's templates could not be read \(GET \/cgi-bin\/template\/get_all_private_template: errcode 48001 api unauthorized rid: [^)]+\): the account may not read its template list \(not verified\?\)$/,
  )

  t += 10 * 60_000
  fake.dropNext(FAKE_PATHS.templateList, 1)
  await api.sendTemplate('o1', { templateId: 'any-id', data: { whatever: 'x' } })
  assert.equal(listRequests(), 2)
  assert.equal(sends(), 3)

  t += 10 * 60_000
  void fake.answerRawNext(FAKE_PATHS.templateList, { status: 200, contentType: 'application/json', body: '{"errcode":0,"errmsg":"ok"}' })
  await api.sendTemplate('o1', { templateId: 'any-id', data: { whatever: 'x' } })
  assert.equal(listRequests(), 3)
  assert.equal(sends(), 4)
  const reasons = lines.filter((l) => l.level === 30 && String(l.msg).includes('unchecked')).map((l) => l.reason)
  assert.equal(reasons.length, 3)
  assert.match(String(reasons[1]), /GET \/cgi-bin\/template\/get_all_private_template/)
  assert.equal(reasons[2], 'the answer has no template_list')
})

test('a template added in the console after the list was read is found: a miss reads the list again (at most every 30 s)', async () => {
  await api.sendTemplate('o1', shipped({ thing1: 'a', amount2: '1元', number3: 1 }))
  assert.equal(listRequests(), 1)
  fake.setTemplates('wxA', [SHIPPED, BONUS, { templateId: 'tpl-new', title: '新模板', fields: ['thing1'] }])
  // A miss just after a read is not read again (a plugin sending an unknown id in a loop spends no quota).
  t += 5_000
  await refusal(api.sendTemplate('o1', { templateId: 'tpl-new', data: { thing1: 'x' } }))
  assert.equal(listRequests(), 1)
  t += 30_000
  await api.sendTemplate('o1', { templateId: 'tpl-new', data: { thing1: 'x' } })
  assert.equal(listRequests(), 2)
  assert.equal(fake.sent.at(-1)?.body.template_id, 'tpl-new')
})

test('the list is read once for several sends, concurrent ones too, and again after 10 minutes', async () => {
  const message = shipped({ thing1: 'a', amount2: '1元', number3: 1 })
  await Promise.all([api.sendTemplate('o1', message), api.sendTemplate('o2', message), api.sendTemplate('o3', message)])
  await api.sendTemplate('o4', message)
  t += 9 * 60_000
  await api.sendTemplate('o5', message)
  assert.equal(listRequests(), 1)
  assert.equal(sends(), 5)
  t += 60_000
  await api.sendTemplate('o6', message)
  assert.equal(listRequests(), 2)
  assert.equal(sends(), 6)
})

test('a read that failed in passing (a 502, a dropped connection, -1) is kept 1 minute, not 10: the check is back once the list answers; 48001 stays 10 minutes', async () => {
  const misspelt = shipped({ thing01: 'x', amount2: '1元', number3: 1 })
  void fake.answerRawNext(FAKE_PATHS.templateList, { status: 502, contentType: 'text/html', body: '<html>502 Bad Gateway</html>' })
  await api.sendTemplate('o1', misspelt)
  assert.equal(sends(), 1)
  const said = lines.filter((l) => l.level === 30 && String(l.msg).includes('unchecked'))
  assert.match(String(said.at(-1)?.msg), /^template messages go out unchecked for 1 minute: the account's templates could not be read \(GET \/cgi-bin\/template\/get_all_private_template: HTTP 502/)
  t += 59_000
  await api.sendTemplate('o1', misspelt)
  assert.equal(listRequests(), 1)
  assert.equal(sends(), 2)

  // A minute on, the list is read again and the check is back.
  t += 1_000
  assert.equal((await refusal(api.sendTemplate('o1', misspelt))).code, 'PLUGIN_BAD_REPLY')
  assert.equal(listRequests(), 2)
  assert.equal(sends(), 2)

  // Once a list was read, a read that fails in passing does not turn the check off: the list read before
  // is kept, and read again a minute on.
  for (const fault of [() => fake.dropNext(FAKE_PATHS.templateList, 1), () => fake.failNext(FAKE_PATHS.templateList, 1, -1)]) {
    t += 10 * 60_000
    fault()
    assert.equal((await refusal(api.sendTemplate('o1', misspelt))).code, 'PLUGIN_BAD_REPLY')
    t += 59_000
    assert.equal((await refusal(api.sendTemplate('o1', misspelt))).code, 'PLUGIN_BAD_REPLY')
    t += 1_000
    assert.equal((await refusal(api.sendTemplate('o1', misspelt))).code, 'PLUGIN_BAD_REPLY')
  }
  assert.equal(listRequests(), 6)
  assert.equal(sends(), 2)

  // The platform's refusal is its answer for as long as the account stays as it is: kept 10 minutes.
  t += 10 * 60_000
  fake.failNext(FAKE_PATHS.templateList, 1, 48001)
  await api.sendTemplate('o1', misspelt)
  t += 9 * 60_000
  await api.sendTemplate('o1', misspelt)
  assert.equal(listRequests(), 7)
  t += 60_000
  assert.equal((await refusal(api.sendTemplate('o1', misspelt))).code, 'PLUGIN_BAD_REPLY')
  assert.equal(listRequests(), 8)
})

test('a list read before is kept when reading it again fails in passing, its 10 minutes over: the check goes on against it, said once, and it is read again a minute on', async () => {
  const misspelt = shipped({ thing01: 'x', amount2: '1元', number3: 1 })
  await api.sendTemplate('o1', shipped({ thing1: 'a', amount2: '1元', number3: 1 }))
  t += 12 * 60_000
  void fake.answerRawNext(FAKE_PATHS.templateList, { status: 502, contentType: 'text/html', body: '<html>502 Bad Gateway</html>' })
  assert.match((await refusal(api.sendTemplate('o1', misspelt))).reason, /has no field "thing01"/)
  const said = lines.filter((l) => l.level === 30 && String(l.msg).startsWith('template messages'))
  assert.equal(said.length, 1)
  assert.match(String(said[0].msg), /^template messages are checked against the account's templates as read 12 min ago: reading them again failed \(GET \/cgi-bin\/template\/get_all_private_template: HTTP 502.*\); read again in 1 minute$/)
  assert.equal(listRequests(), 2)
  t += 59_000
  await refusal(api.sendTemplate('o1', misspelt))
  assert.equal(listRequests(), 2)
  // A minute on it is read again, and what it reads is kept (a new template, found without a miss's wait).
  fake.setTemplates('wxA', [SHIPPED, { templateId: 'tpl-new', title: '新模板', fields: ['thing1'] }])
  t += 1_000
  await api.sendTemplate('o1', { templateId: 'tpl-new', data: { thing1: 'x' } })
  assert.equal(listRequests(), 3)
  assert.equal(sends(), 2)
})

test('a list read before, its 10 minutes over, is checked against while reading it again is slow; a miss then goes out unchecked', async () => {
  const misspelt = shipped({ thing01: 'x', amount2: '1元', number3: 1 })
  // Waits a second for the held read, not the default ten.
  const api = apiWaiting(1_000)
  await api.sendTemplate('o1', shipped({ thing1: 'a', amount2: '1元', number3: 1 }))
  t += 11 * 60_000
  const release = fake.hold(FAKE_PATHS.templateList)
  try {
    assert.equal((await refusal(api.sendTemplate('o1', misspelt))).code, 'PLUGIN_BAD_REPLY')
    await api.sendTemplate('o2', { templateId: 'tpl-maybe-new', data: { thing1: 'x' } }).catch(() => undefined)
    // Sent, unchecked (the fake, knowing only SHIPPED and BONUS, refuses it with 40037 as WeChat would).
    assert.equal((fake.requests.slice(mark).filter((r) => r.path === TEMPLATE_SEND_PATH).at(-1)?.body as { template_id?: string } | undefined)?.template_id, 'tpl-maybe-new')
    assert.equal(listRequests(), 2)
  } finally {
    release()
  }
})

test("a miss's read that fails in passing sends that id unchecked (it may be new) and keeps the list for the others' checks; the next minute's misses do not read again", async () => {
  const misspelt = shipped({ thing01: 'x', amount2: '1元', number3: 1 })
  await api.sendTemplate('o1', shipped({ thing1: 'a', amount2: '1元', number3: 1 }))
  // Added in the console after the list was read.
  fake.setTemplates('wxA', [SHIPPED, BONUS, { templateId: 'tpl-added', title: '新模板', fields: ['thing1'] }])
  t += 30_000
  fake.failNext(FAKE_PATHS.templateList, 1, -1)
  await api.sendTemplate('o1', { templateId: 'tpl-added', data: { thing1: 'x' } })
  assert.equal(listRequests(), 2)
  assert.equal(fake.sent.at(-1)?.body.template_id, 'tpl-added')
  assert.match(String(lines.filter((l) => l.level === 30).at(-1)?.msg), /^template messages are checked against the account's templates as read 30 s ago: reading them again failed/)
  // Still checked against the list read before: it was not given up for a read that failed.
  assert.equal((await refusal(api.sendTemplate('o1', misspelt))).code, 'PLUGIN_BAD_REPLY')
  t += 40_000
  await api.sendTemplate('o2', { templateId: 'tpl-added', data: { thing1: 'y' } })
  assert.equal(listRequests(), 2)
  assert.equal(sends(), 3)
  // A minute after the failure: read again, and the new template is checked like the others.
  t += 20_000
  assert.match((await refusal(api.sendTemplate('o3', { templateId: 'tpl-added', data: { thing01: 'z' } }))).reason, /^sendTemplate: template "tpl-added" \(新模板\) has no field "thing01"/)
  assert.equal(listRequests(), 3)
  assert.equal(sends(), 3)
})

test('a send waits for a slow list read only so long (here 1 s, not the API timeout of 10 s), then goes out unchecked; later sends do not wait; the read goes on and its list is kept', async () => {
  // Its own client and wait, so the bounds below are far apart: a send that waited takes the whole second,
  // one that did not takes a loopback request.
  const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 10_000 })
  const tokens = createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: createMemoryStore().tokens, log: createLogger({ level: 'silent' }) })
  const slowApi = createPlatformApi({ client, tokens, log: createMemoryLogger('debug').logger, now: () => t, templateWaitMs: 1000 })
  const misspelt = shipped({ thing01: 'x', amount2: '1元', number3: 1 })
  await slowApi.sendToUser('o0', { type: 'text', content: 'a token first' })
  const release = fake.hold(FAKE_PATHS.templateList)
  try {
    const begun = Date.now()
    await slowApi.sendTemplate('o1', misspelt)
    const first = Date.now() - begun
    assert.ok(first >= 900 && first < 8000, `the first send took ${first} ms: it waits the 1 s, not the API's 10 s`)
    assert.equal(sends(), 1)
    // The read is known to be slow: another send does not wait for it.
    const again = Date.now()
    await slowApi.sendTemplate('o2', misspelt)
    assert.ok(Date.now() - again < 900, `the second send took ${Date.now() - again} ms: it waited for the read`)
    assert.equal(sends(), 2)
    assert.equal(listRequests(), 1)
  } finally {
    release()
  }
  // The read answers: its list is the one kept, without another read.
  await until('the list read to be kept', async () => (await refusal(slowApi.sendTemplate('o3', misspelt)).catch(() => undefined))?.code === 'PLUGIN_BAD_REPLY')
  assert.equal(listRequests(), 1)
})

test("the line a slow list read leaves says how long it was waited for, once", async () => {
  const misspelt = shipped({ thing01: 'x', amount2: '1元', number3: 1 })
  const api = apiWaiting(1_000)
  const release = fake.hold(FAKE_PATHS.templateList)
  try {
    await api.sendTemplate('o1', misspelt)
    await api.sendTemplate('o2', misspelt)
    const said = lines.filter((l) => l.level === 30 && String(l.msg).includes('unchecked'))
    assert.deepEqual(said.map((l) => l.msg), ["template messages go out unchecked while the account's templates are read: get_all_private_template has not answered in 1000 ms"])
  } finally {
    release()
  }
})

test("a list read that failed for want of an access_token (the token's own refusal: 40164) is not the list's refusal: the list read before is kept, and the check is back once the token is", async () => {
  const misspelt = shipped({ thing01: 'x', amount2: '1元', number3: 1 })
  const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 2000 })
  // The token manager holds a refusal no time here: the IP whitelist is fixed as soon as it is refused.
  const tokens = createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: createMemoryStore().tokens, log: createLogger({ level: 'silent' }), configErrorCooldownMs: 0 })
  const memory = createMemoryLogger('debug')
  const own = createPlatformApi({ client, tokens, log: memory.logger, now: () => t, templateWaitMs: 2000 })
  assert.equal((await refusal(own.sendTemplate('o1', misspelt))).code, 'PLUGIN_BAD_REPLY')
  assert.equal(listRequests(), 1)

  // Ten minutes on the list is read again, and the token under it has expired and cannot be fetched anew.
  t += 10 * 60_000
  fake.expireToken()
  fake.failNext('/cgi-bin/token', 1, 40164, 'invalid ip')
  // Checked against the list read before, as when a read fails in passing (held as the list's refusal, the
  // list was dropped and the check off for 10 minutes: misspelt fields went out blank once the token was back).
  assert.equal((await refusal(own.sendTemplate('o1', misspelt))).code, 'PLUGIN_BAD_REPLY')
  assert.doesNotMatch(JSON.stringify(memory.lines), /go out unchecked/)
  assert.match(JSON.stringify(memory.lines), /are checked against the account's templates as read 10 min ago: reading them again failed \(GET \/cgi-bin\/token: errcode 40164/)

  // A minute on, the token is back: the list is read again, and the misspelt field still refused.
  t += 60_000
  assert.equal((await refusal(own.sendTemplate('o1', misspelt))).code, 'PLUGIN_BAD_REPLY')
  assert.equal(listRequests(), 3)
  assert.equal(sends(), 0)
})
