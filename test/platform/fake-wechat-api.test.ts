// The fake is what every platform test trusts, so its platform behaviours are pinned here.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { FAKE_PATHS, startFakeWeChatApi, validateCustomMessage, type JsonObject } from '../../core/testkit/fake-wechat-api.ts'

let t = 1_700_000_000_000
const now = () => t
const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA', now, graceMs: 300_000 })
after(() => fake.close())

async function getJson(path: string, query: Record<string, string>): Promise<{ status: number; json: JsonObject }> {
  const res = await fetch(`${fake.baseUrl}${path}?${new URLSearchParams(query)}`)
  return { status: res.status, json: (await res.json()) as JsonObject }
}
async function postJson(path: string, query: Record<string, string>, body: unknown): Promise<JsonObject> {
  const res = await fetch(`${fake.baseUrl}${path}?${new URLSearchParams(query)}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return (await res.json()) as JsonObject
}
const token = async () => (await getJson(FAKE_PATHS.token, { grant_type: 'client_credential', appid: 'wxA', secret: 'secretA' })).json

test('token endpoint checks grant_type, appid and secret like the platform', async () => {
  const cases: Array<[Record<string, string>, number]> = [
    [{ grant_type: 'password', appid: 'wxA', secret: 'secretA' }, 40002],
    [{ grant_type: 'client_credential', secret: 'secretA' }, 41002],
    [{ grant_type: 'client_credential', appid: 'wxA' }, 41004],
    [{ grant_type: 'client_credential', appid: 'wxB', secret: 'secretA' }, 40013],
    [{ grant_type: 'client_credential', appid: 'wxA', secret: 'wrong' }, 40125],
  ]
  const before = fake.tokenRequests
  for (const [query, errcode] of cases) {
    const { status, json } = await getJson(FAKE_PATHS.token, query)
    assert.equal(status, 200, 'the platform answers errors with HTTP 200')
    assert.equal(json.errcode, errcode, JSON.stringify(query))
    assert.match(String(json.errmsg), / rid: /)
  }
  assert.equal(fake.tokenRequests, before + cases.length)
  const ok = await token()
  assert.equal(typeof ok.access_token, 'string')
  assert.equal(ok.expires_in, 7200)
})

test('a new token leaves the old one valid for the grace period, then 40001', async () => {
  const first = String((await token()).access_token)
  const second = String((await token()).access_token)
  assert.notEqual(first, second)
  const body = { touser: 'u1', msgtype: 'text', text: { content: 'hi' } }
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token: first }, body)).errcode, 0)
  t += 300_001
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token: first }, body)).errcode, 40001)
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token: second }, body)).errcode, 0)
})

test('token checks on the send endpoint: missing, malformed, revoked, expired', async () => {
  const body = { touser: 'u1', msgtype: 'text', text: { content: 'hi' } }
  assert.equal((await postJson(FAKE_PATHS.customSend, {}, body)).errcode, 41001)
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token: 'garbage' }, body)).errcode, 40014)
  const a = String((await token()).access_token)
  fake.revokeToken(a)
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token: a }, body)).errcode, 40001)
  const b = String((await token()).access_token)
  t += 7200 * 1000
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token: b }, body)).errcode, 42001)
  const c = String((await token()).access_token)
  fake.expireToken(c)
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token: c }, body)).errcode, 42001)
})

test('stable_token returns the same token until expiry or force_refresh', async () => {
  const req = { grant_type: 'client_credential', appid: 'wxA', secret: 'secretA', force_refresh: false }
  const a = await postJson(FAKE_PATHS.stableToken, {}, req)
  const b = await postJson(FAKE_PATHS.stableToken, {}, req)
  assert.equal(a.access_token, b.access_token)
  const c = await postJson(FAKE_PATHS.stableToken, {}, { ...req, force_refresh: true })
  assert.notEqual(c.access_token, a.access_token)
  assert.equal((await postJson(FAKE_PATHS.stableToken, {}, { ...req, secret: 'x' })).errcode, 40125)
})

test('send validates the JSON per msgtype and records only accepted messages', async () => {
  const access_token = String((await token()).access_token)
  const sentBefore = fake.sent.length
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token }, '{not json')).errcode, 47001)
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token }, { touser: 'u1', msgtype: 'text', text: { content: '' } })).errcode, 44004)
  assert.equal(fake.sent.length, sentBefore)
  const good = { touser: 'u1', msgtype: 'image', image: { media_id: 'M1' } }
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token }, good)).errcode, 0)
  assert.deepEqual(fake.sent.at(-1)?.body, good)
  assert.equal(fake.sent.at(-1)?.accessToken, access_token)
  assert.equal(fake.sent.at(-1)?.appId, 'wxA')
})

test('validateCustomMessage table', () => {
  const cases: Array<[JsonObject, number | null]> = [
    [{ touser: 'u', msgtype: 'text', text: { content: 'x' } }, null],
    [{ msgtype: 'text', text: { content: 'x' } }, 40003],
    [{ touser: 'u', msgtype: 'sticker', sticker: {} }, 40008],
    [{ touser: 'u', msgtype: 'text' }, 47001],
    [{ touser: 'u', msgtype: 'voice', voice: {} }, 40007],
    [{ touser: 'u', msgtype: 'video', video: { media_id: 'm' } }, 40007],
    [{ touser: 'u', msgtype: 'video', video: { media_id: 'm', thumb_media_id: 't', title: 'T' } }, null],
    [{ touser: 'u', msgtype: 'music', music: { musicurl: 'http://a' } }, 40007],
    [{ touser: 'u', msgtype: 'music', music: { thumb_media_id: 't', title: 3 } }, 47001],
    [{ touser: 'u', msgtype: 'news', news: { articles: [] } }, 44003],
    [{ touser: 'u', msgtype: 'news', news: { articles: [{ title: 'a', url: 'http://x' }] } }, null],
    [{ touser: 'u', msgtype: 'news', news: { articles: [{ title: 'a' }, { title: 'b' }] } }, 45008],
    [{ touser: 'u', msgtype: 'news', news: { articles: [{ description: 'no title' }] } }, 47001],
    [{ touser: 'u', msgtype: 'msgmenu', msgmenu: { head_content: 'h', list: [{ id: '1', content: 'a' }], tail_content: 't' } }, null],
    [{ touser: 'u', msgtype: 'msgmenu', msgmenu: { list: [] } }, 47001],
    [{ touser: 'u', msgtype: 'msgmenu', msgmenu: { list: [{ id: '', content: 'a' }] } }, 47001],
    [{ touser: 'u', msgtype: 'miniprogrampage', miniprogrampage: { appid: 'wx', pagepath: 'p', thumb_media_id: 't' } }, null],
    [{ touser: 'u', msgtype: 'miniprogrampage', miniprogrampage: { appid: 'wx', pagepath: 'p' } }, 47001],
    [{ touser: 'u', msgtype: 'text', text: { content: 'x' }, customservice: { kf_account: 'kf@wx' } }, null],
    [{ touser: 'u', msgtype: 'text', text: { content: 'x' }, customservice: {} }, 47001],
  ]
  for (const [body, expected] of cases) assert.equal(validateCustomMessage(body), expected, JSON.stringify(body))
})

test('knobs: failNext, dropNext, setUserError, unknown path, route', async () => {
  const access_token = String((await token()).access_token)
  const body = { touser: 'u9', msgtype: 'text', text: { content: 'x' } }
  fake.failNextSends(2, -1)
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token }, body)).errcode, -1)
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token }, body)).errcode, -1)
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token }, body)).errcode, 0)
  fake.dropNext(FAKE_PATHS.customSend, 1)
  await assert.rejects(postJson(FAKE_PATHS.customSend, { access_token }, body))
  fake.setUserError('u9', 45015)
  assert.equal((await postJson(FAKE_PATHS.customSend, { access_token }, body)).errcode, 45015)
  fake.setUserError('u9', null)
  const missing = await getJson('/cgi-bin/nothing', { access_token })
  assert.equal(missing.status, 404)
  assert.equal(missing.json.errcode, 40066)
  fake.route('GET', '/cgi-bin/user/info', ({ appId, query }) => ({ openid: query.openid, appId }))
  assert.deepEqual((await getJson('/cgi-bin/user/info', { access_token, openid: 'o1' })).json, { openid: 'o1', appId: 'wxA' })
  assert.equal((await getJson('/cgi-bin/user/info', { access_token: 'nope' })).json.errcode, 40014)
})

test('qrcode/create: the four action names, their scenes and expire_seconds checked as WeChat does; showqrcode answers the image of a live ticket', async () => {
  const { access_token } = await token()
  const q = { access_token: String(access_token) }
  const temp = await postJson(FAKE_PATHS.qrcodeCreate, q, { expire_seconds: 604800, action_name: 'QR_SCENE', action_info: { scene: { scene_id: 123 } } })
  assert.equal(temp.expire_seconds, 604800)
  assert.match(String(temp.ticket), /^gQ[A-Za-z0-9+/]+=*$/)
  assert.match(String(temp.ticket), /\+.*=$/, 'a ticket needs URL-encoding, as real ones do')
  assert.match(String(temp.url), /^http:\/\/weixin\.qq\.com\/q\/\w+$/)
  const record = fake.qrcodes.at(-1)!
  assert.deepEqual({ appId: record.appId, actionName: record.actionName, scene: record.scene, expireSeconds: record.expireSeconds }, { appId: 'wxA', actionName: 'QR_SCENE', scene: 123, expireSeconds: 604800 })
  // WeChat's default when expire_seconds is left out.
  assert.equal((await postJson(FAKE_PATHS.qrcodeCreate, q, { action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: 'test' } } })).expire_seconds, 60)
  const permanent = await postJson(FAKE_PATHS.qrcodeCreate, q, { action_name: 'QR_LIMIT_STR_SCENE', action_info: { scene: { scene_str: 'poster' } } })
  assert.equal(permanent.expire_seconds, undefined)
  assert.equal(fake.qrcodes.at(-1)!.expireSeconds, undefined)

  const invalid: unknown[] = [
    { action_name: 'QR_FOREVER', action_info: { scene: { scene_id: 1 } } },
    { action_name: 'QR_SCENE', action_info: { scene: { scene_id: 0 } } },
    { action_name: 'QR_SCENE', action_info: { scene: { scene_id: 4294967296 } } },
    { action_name: 'QR_SCENE', action_info: { scene: { scene_str: 'x' } } },
    { action_name: 'QR_LIMIT_SCENE', action_info: { scene: { scene_id: 100001 } } },
    { action_name: 'QR_LIMIT_STR_SCENE', action_info: { scene: { scene_str: 'a'.repeat(65) } } },
    { action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: '' } } },
    { expire_seconds: 2592001, action_name: 'QR_SCENE', action_info: { scene: { scene_id: 1 } } },
    { action_name: 'QR_SCENE' },
  ]
  const made = fake.qrcodes.length
  for (const body of invalid) assert.equal((await postJson(FAKE_PATHS.qrcodeCreate, q, body)).errcode, 40097, JSON.stringify(body))
  assert.equal((await postJson(FAKE_PATHS.qrcodeCreate, q, '{')).errcode, 47001)
  assert.equal((await postJson(FAKE_PATHS.qrcodeCreate, {}, { action_name: 'QR_SCENE', action_info: { scene: { scene_id: 1 } } })).errcode, 41001)
  assert.equal(fake.qrcodes.length, made, 'refused codes are not recorded')

  const image = await fetch(`${fake.baseUrl}${FAKE_PATHS.showQrcode}?ticket=${encodeURIComponent(String(temp.ticket))}`)
  assert.equal(image.status, 200)
  assert.equal(image.headers.get('content-type'), 'image/jpg')
  const bytes = Buffer.from(await image.arrayBuffer())
  assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff])
  assert.deepEqual(bytes, record.image)
  // The ticket not URL-encoded: its + read as a space, an unknown ticket.
  assert.equal((await fetch(`${fake.baseUrl}${FAKE_PATHS.showQrcode}?ticket=${String(temp.ticket)}`)).status, 404)
  assert.equal((await fetch(`${fake.baseUrl}${FAKE_PATHS.showQrcode}?ticket=nope`)).status, 404)
  t += 604800 * 1000
  assert.equal((await fetch(`${fake.baseUrl}${FAKE_PATHS.showQrcode}?ticket=${encodeURIComponent(String(temp.ticket))}`)).status, 404, 'an expired code has no image')
  assert.equal((await fetch(`${fake.baseUrl}${FAKE_PATHS.showQrcode}?ticket=${encodeURIComponent(String(permanent.ticket))}`)).status, 200)
})

test('get_all_private_template: 48001 until a test sets the app\'s templates, then its list as the platform writes it; template/send then refuses another template_id with 40037', async () => {
  const access_token = String((await token()).access_token)
  const list = (query: Record<string, string>) => getJson(FAKE_PATHS.templateList, query)
  assert.equal((await list({})).json.errcode, 41001)
  assert.equal((await list({ access_token })).json.errcode, 48001)
  const send = (template_id: string) => postJson(FAKE_PATHS.templateSend, { access_token }, { touser: 'u1', template_id, data: { thing1: { value: 'x' } } })
  assert.equal((await send('anything')).errcode, 0)

  fake.setTemplates('wxA', [
    { templateId: 'tpl-a', title: '领取奖金提醒', content: '{ {result.DATA} }\n\n领奖金额:{ {withdrawMoney.DATA} }' },
    { templateId: 'tpl-b', fields: ['thing1', 'time2'] },
  ])
  const answer = await list({ access_token })
  assert.deepEqual(answer.json, {
    template_list: [
      { template_id: 'tpl-a', title: '领取奖金提醒', primary_industry: 'IT科技', deputy_industry: '互联网|电子商务', content: '{ {result.DATA} }\n\n领奖金额:{ {withdrawMoney.DATA} }', example: '' },
      { template_id: 'tpl-b', title: 'tpl-b', primary_industry: 'IT科技', deputy_industry: '互联网|电子商务', content: '{{thing1.DATA}}\n{{time2.DATA}}', example: '' },
    ],
  })
  assert.equal((await send('anything')).errcode, 40037)
  assert.equal((await send('tpl-b')).errcode, 0)
  fake.setTemplates('wxA', null)
  assert.equal((await list({ access_token })).json.errcode, 48001)
  assert.equal((await send('anything')).errcode, 0)
})

test("bizsend and gettemplate: the subscription templates a test sets (48001 until then), bizsend's refusals (47001, 40003, 40037, 41030, 47003 naming the keyword) and one-time subscriptions (43101 once used)", async () => {
  const access_token = String((await token()).access_token)
  const list = () => getJson(FAKE_PATHS.subscribeTemplateList, { access_token })
  const send = (body: JsonObject) => postJson(FAKE_PATHS.subscribeSend, { access_token }, body)
  const notice = (over: JsonObject = {}): JsonObject => ({ touser: 'u-sub', template_id: 'sub-a', data: { thing1: { value: '会议室' } }, ...over })
  assert.equal((await getJson(FAKE_PATHS.subscribeTemplateList, {})).json.errcode, 41001)
  assert.equal((await list()).json.errcode, 48001)
  const sentBefore = fake.sent.length
  assert.deepEqual(await send(notice({ template_id: 'anything', page: 'https://example.com/a', miniprogram: { appid: 'wxm', pagepath: 'pages/a' } })), { errcode: 0, errmsg: 'ok' })
  assert.equal(fake.sent.length, sentBefore + 1)
  assert.equal(fake.sent.at(-1)?.via, 'subscribe')

  assert.equal((await send({ touser: 'u-sub', template_id: 'sub-a' })).errcode, 47001)
  assert.equal((await send(notice({ data: { thing1: 'not { value }' } }))).errcode, 47001)
  assert.equal((await send(notice({ touser: '' }))).errcode, 40003)
  assert.equal((await send(notice({ template_id: '' }))).errcode, 40037)
  assert.equal((await send(notice({ page: 'pages/index' }))).errcode, 41030)
  const long = await send(notice({ data: { thing1: { value: 'x'.repeat(21) }, phrase2: { value: '配送中' } } }))
  assert.equal(long.errcode, 47003)
  assert.match(String(long.errmsg), /^argument invalid! data\.thing1\.value exceeds limit rid: /)
  assert.equal((await send(notice({ data: { thing1: { value: '😀'.repeat(20) }, time2: { value: 'any length at all, not checked' } } }))).errcode, 0)

  fake.setSubscribeTemplates('wxA', [
    { templateId: '9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU', title: '报名结果通知', content: '会议时间:{{date2.DATA}}\n会议地点:{{thing1.DATA}}\n' },
    { templateId: 'sub-a', fields: ['thing1'], type: 'long-term' },
  ])
  assert.deepEqual((await list()).json, {
    errcode: 0,
    errmsg: 'ok',
    data: [
      { priTmplId: '9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU', title: '报名结果通知', content: '会议时间:{{date2.DATA}}\n会议地点:{{thing1.DATA}}\n', example: '', type: 2 },
      { priTmplId: 'sub-a', title: 'sub-a', content: 'thing1:{{thing1.DATA}}\n', example: '', type: 3 },
    ],
  })
  assert.equal((await send(notice({ template_id: 'anything' }))).errcode, 40037)
  assert.equal((await send(notice())).errcode, 0)

  // A user given subscriptions takes as many notices of each template as they allow: one for a one-time one.
  fake.subscribe('wxA', 'u-once', '9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU')
  fake.subscribe('wxA', 'u-once', 'sub-a', Infinity)
  const once = notice({ touser: 'u-once', template_id: '9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU', data: { thing1: { value: 'TIT会议室' }, date2: { value: '2026年12月3日' } } })
  assert.equal((await send(once)).errcode, 0)
  assert.equal((await send(once)).errcode, 43101)
  for (let i = 0; i < 3; i++) assert.equal((await send(notice({ touser: 'u-once' }))).errcode, 0)
  fake.subscribe('wxA', 'u-once', 'sub-a', 0)
  assert.equal((await send(notice({ touser: 'u-once' }))).errcode, 43101)
  fake.setUserError('u-gone', 43101)
  assert.equal((await send(notice({ touser: 'u-gone' }))).errcode, 43101)

  fake.setSubscribeTemplates('wxA', null)
  assert.equal((await list()).json.errcode, 48001)
  assert.equal((await send(notice({ template_id: 'anything' }))).errcode, 0)
})
