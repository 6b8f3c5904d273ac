import { test, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { createAccessTokenManager } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { CUSTOM_SEND_PATH, createPlatformApi, PlatformApiError, type PlatformClient } from '../../core/platform/platform-api.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { createLogger } from '../../core/log/logger.ts'
import type { Reply } from '../../core/reply/reply-types.ts'
import type { CustomMessage, SendOptions } from '../../core/reply/custom-message-types.ts'
import { FAKE_PATHS, startFakeWeChatApi, type JsonObject } from '../../core/testkit/fake-wechat-api.ts'

const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
after(() => fake.close())

let api: PlatformClient
let tokensBefore: number
let sentBefore: number
beforeEach(() => {
  const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 2000 })
  const tokens = createAccessTokenManager({
    appId: 'wxA',
    appSecret: 'secretA',
    client,
    tokens: createMemoryStore().tokens,
    log: createLogger({ level: 'silent' }),
  })
  api = createPlatformApi({ client, tokens })
  tokensBefore = fake.tokenRequests
  sentBefore = fake.sent.length
})
const sendRequests = () => fake.requests.filter((r) => r.path === CUSTOM_SEND_PATH)

const cases: Array<[string, Reply, JsonObject]> = [
  ['text', { type: 'text', content: '你好 <b>&' }, { touser: 'o1', msgtype: 'text', text: { content: '你好 <b>&' } }],
  ['image', { type: 'image', mediaId: 'IMG' }, { touser: 'o1', msgtype: 'image', image: { media_id: 'IMG' } }],
  ['voice', { type: 'voice', mediaId: 'VOX' }, { touser: 'o1', msgtype: 'voice', voice: { media_id: 'VOX' } }],
  [
    'video',
    { type: 'video', mediaId: 'VID', thumbMediaId: 'TH', title: 'T', description: 'D' },
    { touser: 'o1', msgtype: 'video', video: { media_id: 'VID', thumb_media_id: 'TH', title: 'T', description: 'D' } },
  ],
  [
    'music',
    { type: 'music', title: 'Song', musicUrl: 'http://m/1.mp3', hqMusicUrl: 'http://m/1hq.mp3', thumbMediaId: 'TH' },
    { touser: 'o1', msgtype: 'music', music: { title: 'Song', musicurl: 'http://m/1.mp3', hqmusicurl: 'http://m/1hq.mp3', thumb_media_id: 'TH' } },
  ],
  [
    'news',
    { type: 'news', articles: [{ title: 'A', description: 'd', url: 'http://a', picUrl: 'http://p' }] },
    { touser: 'o1', msgtype: 'news', news: { articles: [{ title: 'A', description: 'd', url: 'http://a', picurl: 'http://p' }] } },
  ],
]
for (const [name, reply, expected] of cases) {
  test(`sendToUser ${name}: the platform JSON reaches the fake`, async () => {
    await api.sendToUser('o1', reply)
    assert.equal(fake.sent.length, sentBefore + 1)
    const sent = fake.sent.at(-1)
    assert.deepEqual(sent?.body, expected)
    assert.equal(sent?.accessToken, fake.issuedTokens.at(-1))
  })
}

// The bodies WeChat documents for custom/send (客服接口-发消息), key for key and in its order: what goes over
// the wire is compared as text, not as parsed JSON.
const wire: Array<[string, Reply | CustomMessage, SendOptions | undefined, string]> = [
  [
    'msgmenu',
    {
      type: 'msgmenu',
      headContent: '您对本次服务是否满意呢? ',
      list: [
        { id: '101', content: '满意' },
        { id: '102', content: '不满意' },
      ],
      tailContent: '欢迎再次光临',
    },
    undefined,
    '{"touser":"o1","msgtype":"msgmenu","msgmenu":{"head_content":"您对本次服务是否满意呢? ","list":[{"id":"101","content":"满意"},{"id":"102","content":"不满意"}],"tail_content":"欢迎再次光临"}}',
  ],
  [
    'msgmenu without head and tail',
    { type: 'msgmenu', list: [{ id: 'a', content: 'A' }] },
    undefined,
    '{"touser":"o1","msgtype":"msgmenu","msgmenu":{"list":[{"id":"a","content":"A"}]}}',
  ],
  [
    'miniprogrampage',
    { type: 'miniprogrampage', title: 'title', appId: 'appid', pagePath: 'pages/index?foo=bar', thumbMediaId: 'thumb_media_id' },
    undefined,
    '{"touser":"o1","msgtype":"miniprogrampage","miniprogrampage":{"title":"title","appid":"appid","pagepath":"pages/index?foo=bar","thumb_media_id":"thumb_media_id"}}',
  ],
  ['mpnews', { type: 'mpnews', mediaId: 'MEDIA_ID' }, undefined, '{"touser":"o1","msgtype":"mpnews","mpnews":{"media_id":"MEDIA_ID"}}'],
  [
    'mpnewsarticle',
    { type: 'mpnewsarticle', articleId: 'ARTICLE_ID' },
    undefined,
    '{"touser":"o1","msgtype":"mpnewsarticle","mpnewsarticle":{"article_id":"ARTICLE_ID"}}',
  ],
  ['wxcard', { type: 'wxcard', cardId: '123dsdajkasd231jhksad' }, undefined, '{"touser":"o1","msgtype":"wxcard","wxcard":{"card_id":"123dsdajkasd231jhksad"}}'],
  [
    'text as a customer-service account',
    { type: 'text', content: 'Hello World' },
    { kfAccount: 'test1@kftest' },
    '{"touser":"o1","msgtype":"text","text":{"content":"Hello World"},"customservice":{"kf_account":"test1@kftest"}}',
  ],
  [
    'wxcard as a customer-service account',
    { type: 'wxcard', cardId: 'C' },
    { kfAccount: 'test1@kftest' },
    '{"touser":"o1","msgtype":"wxcard","wxcard":{"card_id":"C"},"customservice":{"kf_account":"test1@kftest"}}',
  ],
  ['no kfAccount given: no customservice', { type: 'image', mediaId: 'IMG' }, {}, '{"touser":"o1","msgtype":"image","image":{"media_id":"IMG"}}'],
]
for (const [name, message, opts, expected] of wire) {
  test(`sendToUser ${name}: the documented JSON, byte for byte`, async () => {
    await api.sendToUser('o1', message, opts)
    assert.equal(fake.sent.length, sentBefore + 1)
    assert.equal(fake.sent.at(-1)?.raw, expected)
  })
}

const refused: Array<[string, Reply | CustomMessage, SendOptions | undefined, RegExp]> = [
  ['a menu without options', { type: 'msgmenu', headContent: 'h', list: [] }, undefined, /^invalid msgmenu message: list: list is empty/],
  ['a menu option with an empty id', { type: 'msgmenu', list: [{ id: '', content: 'A' }] }, undefined, /list\.0\.id: id is empty/],
  [
    'two menu options with one id',
    { type: 'msgmenu', list: [{ id: '1', content: 'A' }, { id: '1', content: 'B' }] },
    undefined,
    /list\.1\.id: duplicate id "1"/,
  ],
  ['a menu option without content', { type: 'msgmenu', list: [{ id: '1', content: '' }] }, undefined, /list\.0\.content: content is empty/],
  [
    'a mini program page without its appId',
    { type: 'miniprogrampage', appId: '', pagePath: 'p', thumbMediaId: 't' },
    undefined,
    /^invalid miniprogrampage message: appId: appId is empty$/,
  ],
  ['a card without its id', { type: 'wxcard', cardId: '' }, undefined, /cardId: cardId is empty/],
  ['a kfAccount that is no account', { type: 'text', content: 'x' }, { kfAccount: 'alice' }, /send options: kfAccount must be a customer-service account, prefix@wechat-id \(a prefix of 1 to 10 letters, digits or _, e.g. "kf1@mywxid"\), got "alice"/],
  ['an empty kfAccount', { type: 'wxcard', cardId: 'C' }, { kfAccount: '' }, /kfAccount must be/],
]
for (const [name, message, opts, reason] of refused) {
  test(`sendToUser refuses ${name} with PLUGIN_BAD_REPLY, without a request`, async () => {
    const before = fake.requests.length
    await assert.rejects(api.sendToUser('o1', message, opts), (e: unknown) => {
      assert.ok(e instanceof PlatformApiError)
      assert.equal(e.code, 'PLUGIN_BAD_REPLY')
      assert.match(e.reason, reason)
      return true
    })
    assert.equal(fake.requests.length, before)
  })
}

test('42001 on send: one refresh, one retry, then success', async () => {
  await api.sendToUser('o1', { type: 'text', content: 'first' })
  fake.expireToken()
  const before = sendRequests().length
  await api.sendToUser('o1', { type: 'text', content: 'second' })
  assert.equal(fake.tokenRequests - tokensBefore, 2)
  assert.deepEqual(sendRequests().slice(before).map((r) => r.errcode), [42001, 0])
  assert.deepEqual(fake.sent.slice(sentBefore).map((s) => (s.body.text as JsonObject).content), ['first', 'second'])
})

test('40001 on send (token replaced elsewhere): one refresh, one retry, then success', async () => {
  await api.sendToUser('o1', { type: 'text', content: 'a' })
  fake.revokeToken()
  const before = sendRequests().length
  await api.sendToUser('o1', { type: 'text', content: 'b' })
  assert.deepEqual(sendRequests().slice(before).map((r) => r.errcode), [40001, 0])
  assert.equal(fake.tokenRequests - tokensBefore, 2)
})

test('a second 40001 is not retried again', async () => {
  fake.failNextSends(2, 40001)
  const before = sendRequests().length
  await assert.rejects(api.sendToUser('o1', { type: 'text', content: 'x' }), (e: unknown) => {
    assert.ok(e instanceof PlatformApiError)
    assert.equal(e.code, 'API_ERROR')
    assert.equal(e.errcode, 40001)
    return true
  })
  assert.equal(sendRequests().length - before, 2)
  assert.equal(fake.tokenRequests - tokensBefore, 2)
  assert.equal(fake.sent.length, sentBefore)
})

test('a platform refusal rejects with its errcode (45015: the 48 h window has closed)', async () => {
  fake.failNextSends(1, 45015)
  await assert.rejects(api.sendToUser('o1', { type: 'text', content: 'x' }), { name: 'PlatformApiError', code: 'API_ERROR', errcode: 45015 })
  assert.equal(fake.sent.length, sentBefore)
})

test('replies that cannot go out late are refused without a request', async () => {
  const before = fake.requests.length
  await assert.rejects(api.sendToUser('o1', { type: 'transfer_customer_service' }), { code: 'PLUGIN_BAD_REPLY' })
  await assert.rejects(api.sendToUser('o1', { type: 'none' }), { code: 'PLUGIN_BAD_REPLY' })
  // The platform would answer 40007: a passive video needs no thumbnail, a customer-service one does.
  await assert.rejects(api.sendToUser('o1', { type: 'video', mediaId: 'V' }), { code: 'PLUGIN_BAD_REPLY', message: /thumbMediaId/ })
  assert.equal(fake.requests.length, before)
})

test('get/post add the access_token (overriding any given) and resolve the answer', async () => {
  fake.route('GET', '/cgi-bin/user/info', ({ query, appId }) => ({ openid: query.openid, appId, lang: query.lang }))
  fake.route('POST', '/cgi-bin/tags/create', ({ body }) => ({ tag: { id: 100, name: (body as JsonObject).name } }))
  const info = await api.get('/cgi-bin/user/info', { openid: 'o1', lang: 'zh_CN', access_token: 'forged' })
  assert.deepEqual(info, { openid: 'o1', appId: 'wxA', lang: 'zh_CN' })
  assert.equal(fake.requests.at(-1)?.query.access_token, fake.issuedTokens.at(-1))
  const created = await api.post('/cgi-bin/tags/create', { name: 'vip' })
  assert.deepEqual(created, { tag: { id: 100, name: 'vip' } })
  fake.revokeToken()
  assert.deepEqual(await api.get('/cgi-bin/user/info', { openid: 'o2' }), { openid: 'o2', appId: 'wxA' })
})

test('paths that could leave the API host are refused without a request', async () => {
  const before = fake.requests.length
  for (const path of ['https://evil.example/x', '//evil.example/x', '/cgi-bin/x?access_token=a', '/cgi-bin/../x', 'cgi-bin/x']) {
    await assert.rejects(api.post(path, {}), { code: 'API_ERROR' }, path)
  }
  assert.equal(fake.requests.length, before)
})

test('token endpoint failures surface as the rejection', async () => {
  fake.revokeToken()
  // Every try of the refresh (a -1 is tried again within it: access-token-manager.ts).
  fake.failNext(FAKE_PATHS.token, 3, -1)
  await assert.rejects(api.sendToUser('o1', { type: 'text', content: 'x' }), { code: 'API_ERROR', errcode: -1 })
})

test('uploadMedia in this thread: data that is not bytes is a TypeError, as in a plugin worker, and nothing is sent', async () => {
  const before = fake.requests.length
  for (const data of ['a string', null, [0x89, 0x50], { length: 4 }]) {
    await assert.rejects(api.uploadMedia('image', data as unknown as Uint8Array), (e: Error) => {
      assert.ok(e instanceof TypeError, `${e.name}: ${e.message}`)
      assert.match(e.message, /^uploadMedia: data must be the file's bytes \(a Buffer, Uint8Array or ArrayBuffer\), got (string|null|object)$/)
      return true
    })
  }
  // Empty bytes are bytes: refused as empty, by the same check a worker's upload gets.
  await assert.rejects(api.uploadMedia('image', new ArrayBuffer(0)), (e: Error) => e instanceof PlatformApiError && /the data is empty/.test(e.message))
  assert.equal(fake.requests.length, before)
})
