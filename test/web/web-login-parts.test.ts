import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createApiClient } from '../../core/platform/api-client.ts'
import { authorizeUrl, identityFromCode, WEB_CODE_PATH, WEB_USERINFO_PATH } from '../../core/platform/web-authorization.ts'
import { startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { withParam } from '../../core/web/web-login-endpoint.ts'

test('withParam adds to the query, before the fragment, keeping the rest as it is', () => {
  assert.equal(withParam('https://h5.example.com/a', 'wxe_ticket', 'T'), 'https://h5.example.com/a?wxe_ticket=T')
  assert.equal(withParam('https://h5.example.com/a?x=1', 'wxe_ticket', 'T'), 'https://h5.example.com/a?x=1&wxe_ticket=T')
  assert.equal(withParam('https://h5.example.com/a?', 'wxe_ticket', 'T'), 'https://h5.example.com/a?wxe_ticket=T')
  assert.equal(withParam('https://h5.example.com/a?x=%7e&', 'k', 'a b'), 'https://h5.example.com/a?x=%7e&k=a%20b')
  assert.equal(withParam('https://h5.example.com/#/pay?x=1', 'k', 'v'), 'https://h5.example.com/?k=v#/pay?x=1')
})

test("authorizeUrl: WeChat's parameters in its order, the redirect_uri encoded, #wechat_redirect last", () => {
  assert.equal(
    authorizeUrl('https://open.weixin.qq.com/', 'wx520c15f417810387', 'https://wx.example.com/oauth/shop', 'snsapi_base', 'S1'),
    'https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx520c15f417810387&redirect_uri=https%3A%2F%2Fwx.example.com%2Foauth%2Fshop&response_type=code&scope=snsapi_base&state=S1#wechat_redirect',
  )
})

const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
after(() => fake.close())
const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 2000 })

async function codeFor(scope: 'snsapi_base' | 'snsapi_userinfo'): Promise<string> {
  const res = await fetch(`${fake.baseUrl}/connect/oauth2/authorize?appid=wxA&redirect_uri=${encodeURIComponent('https://wx.example.com/oauth')}&response_type=code&scope=${scope}&state=s`, { redirect: 'manual' })
  return new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? ''
}

test('a code is exchanged once: the second exchange is the platform refusing it (40163)', async () => {
  const code = await codeFor('snsapi_base')
  const first = await identityFromCode(client, 'wxA', 'secretA', code, 'snsapi_base')
  assert.ok(first.ok)
  const again = await identityFromCode(client, 'wxA', 'secretA', code, 'snsapi_base')
  assert.equal(!again.ok && again.error.errcode, 40163)
})

test('a wrong AppSecret is the platform refusing the exchange (40125); the secret is not in the reason', async () => {
  const r = await identityFromCode(client, 'wxA', 'not-the-secret', await codeFor('snsapi_base'), 'snsapi_base')
  assert.equal(!r.ok && r.error.errcode, 40125)
  assert.ok(!r.ok && !r.error.reason.includes('not-the-secret'))
})

test('answers of the wrong shape are API errors, not identities', async () => {
  void fake.answerRawNext(WEB_CODE_PATH, { status: 200, body: '{"access_token":"w","expires_in":7200}' })
  const noOpenid = await identityFromCode(client, 'wxA', 'secretA', await codeFor('snsapi_base'), 'snsapi_base')
  assert.match(!noOpenid.ok ? noOpenid.error.reason : '', /the answer has no openid\/access_token/)
  void fake.answerRawNext(WEB_USERINFO_PATH, { status: 200, body: '{"openid":"someone-else","nickname":"x"}' })
  const other = await identityFromCode(client, 'wxA', 'secretA', await codeFor('snsapi_userinfo'), 'snsapi_userinfo')
  assert.match(!other.ok ? other.error.reason : '', /not for the user who logged in/)
})
