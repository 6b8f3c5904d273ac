import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createApiClient } from '../../core/platform/api-client.ts'
import { authorizeUrl, identityFromCode, WEB_CODE_PATH, WEB_USERINFO_PATH } from '../../core/platform/web-authorization.ts'
import { startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { loginCookieName, loginKey, openLogin, sealLogin } from '../../core/web/login-cookie.ts'
import { backToPage } from '../../core/web/web-login-endpoint.ts'

test('backToPage adds to the query, before the fragment, keeping the page\'s own query as it was', () => {
  assert.equal(backToPage('https://h5.example.com/a', 'wxe_ticket', 'T'), 'https://h5.example.com/a?wxe_ticket=T')
  assert.equal(backToPage('https://h5.example.com/a?x=1', 'wxe_ticket', 'T'), 'https://h5.example.com/a?x=1&wxe_ticket=T')
  assert.equal(backToPage('https://h5.example.com/a?', 'wxe_ticket', 'T'), 'https://h5.example.com/a?wxe_ticket=T')
  assert.equal(backToPage('https://h5.example.com/a?x=%7e&y=a+b', 'k', 'a b'), 'https://h5.example.com/a?x=%7e&y=a+b&k=a%20b')
  assert.equal(backToPage('https://h5.example.com/#/pay?x=1', 'k', 'v'), 'https://h5.example.com/?k=v#/pay?x=1')
  // Parsed: what a browser would read as a path on the engine's host is the page's URL here.
  assert.equal(backToPage('https:h5.example.com/x', 'k', 'v'), 'https://h5.example.com/x?k=v')
  // Another's wxe_ parameters are dropped: one ticket in the URL, the engine's.
  assert.equal(backToPage('https://h5.example.com/?wxe_ticket=A&b=1&wxe_login=refused', 'wxe_ticket', 'T'), 'https://h5.example.com/?b=1&wxe_ticket=T')
})

test('a login cookie opens with its account key, for its state, until it expires; nothing else opens', () => {
  const key = loginKey('wxA', 'secretA')
  const login = { state: '0123456789abcdef0123456789abcdef', to: 'https://h5.example.com/', scope: 'snsapi_userinfo' as const, expiresAt: 1_000_000 }
  const cookie = sealLogin(key, login, '/oauth')
  assert.deepEqual(openLogin(key, cookie, login.state, 999_999), login)
  assert.equal(loginCookieName(login.state), 'wxe_login_0123456789ab')
  const problem = (r: ReturnType<typeof openLogin>) => ('problem' in r ? r.problem : 'opened')
  assert.match(problem(openLogin(key, cookie, login.state, 1_000_000)), /older than 10 minutes/)
  assert.match(problem(openLogin(key, cookie, 'ffffffffffffffffffffffffffffffff', 0)), /of another login/)
  assert.match(problem(openLogin(loginKey('wxA', 'rotated'), cookie, login.state, 0)), /not this account's/)
  assert.match(problem(openLogin(loginKey('wxB', 'secretA'), cookie, login.state, 0)), /not this account's/)
  assert.match(problem(openLogin(key, undefined, login.state, 0)), /not started in this browser/)
  // A cookie edited to send the user elsewhere no longer matches its MAC.
  const [payload, mac] = cookie.split('.')
  const edited = Buffer.from(Buffer.from(payload, 'base64url').toString().replace('h5.example.com', 'evil.example')).toString('base64url')
  assert.match(problem(openLogin(key, `${edited}.${mac}`, login.state, 0)), /not this account's/)
  assert.match(problem(openLogin(key, 'no-dot-at-all', login.state, 0)), /not this account's/)
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

test("the scope is the one WeChat granted; a snapshot page's virtual user is said to be one, with no profile asked", async () => {
  fake.setBrowserUser({ openId: 'oVirtual', snapshot: true })
  try {
    const before = fake.requests.filter((r) => r.path === WEB_USERINFO_PATH).length
    const r = await identityFromCode(client, 'wxA', 'secretA', await codeFor('snsapi_userinfo'), 'snsapi_userinfo')
    assert.ok(r.ok)
    assert.deepEqual(r.value, { openid: 'oVirtual', scope: 'snsapi_userinfo', snapshot: true })
    assert.equal(fake.requests.filter((r) => r.path === WEB_USERINFO_PATH).length, before)
  } finally {
    fake.setBrowserUser({ openId: 'oWebUser00000000000000000001' })
  }
  void fake.answerRawNext(WEB_CODE_PATH, { status: 200, body: '{"access_token":"w","expires_in":7200,"openid":"o1","scope":"snsapi_base"}' })
  const granted = await identityFromCode(client, 'wxA', 'secretA', 'any', 'snsapi_userinfo')
  assert.deepEqual(granted.ok && granted.value, { openid: 'o1', scope: 'snsapi_base' })
})

test('answers of the wrong shape are API errors, not identities', async () => {
  void fake.answerRawNext(WEB_CODE_PATH, { status: 200, body: '{"access_token":"w","expires_in":7200}' })
  const noOpenid = await identityFromCode(client, 'wxA', 'secretA', await codeFor('snsapi_base'), 'snsapi_base')
  assert.match(!noOpenid.ok ? noOpenid.error.reason : '', /the answer has no openid\/access_token/)
  void fake.answerRawNext(WEB_USERINFO_PATH, { status: 200, body: '{"openid":"someone-else","nickname":"x"}' })
  const other = await identityFromCode(client, 'wxA', 'secretA', await codeFor('snsapi_userinfo'), 'snsapi_userinfo')
  assert.match(!other.ok ? other.error.reason : '', /not for the user who logged in/)
})
