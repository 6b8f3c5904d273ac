/**
 * The login links plugins build (core/web/login-link.ts): the link the login takes, and, where the login
 * would refuse it, the reason instead, so the plugin's line throws and no user meets the refusal.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loginLink, loginLinkSettingsOf, type LoginLinkSettings } from '../../core/web/login-link.ts'
import { MAX_LOGIN_TO } from '../../core/web/login-cookie.ts'

const SETTINGS: LoginLinkSettings = {
  publicUrl: 'https://wx.example.com/bot',
  accounts: [
    { id: 'shop', pageDomains: ['h5.example.com', 'm.example.com/mp'], hasAppSecret: true },
    { id: 'nodomains', pageDomains: [], hasAppSecret: true },
    { id: 'nosecret', pageDomains: ['h5.example.com'], hasAppSecret: false },
  ],
}

const urlOf = (r: ReturnType<typeof loginLink>) => {
  assert.ok('url' in r, JSON.stringify(r))
  return r.url
}
const problemOf = (r: ReturnType<typeof loginLink>) => {
  assert.ok('problem' in r, JSON.stringify(r))
  return r.problem
}

test('the login path of the account on publicUrl, with the page as the login will use it', () => {
  assert.equal(urlOf(loginLink(SETTINGS, 'shop', 'https://h5.example.com/orders?tab=open#/list')), 'https://wx.example.com/bot/oauth/shop?to=https%3A%2F%2Fh5.example.com%2Forders%3Ftab%3Dopen%23%2Flist')
  assert.equal(urlOf(loginLink(SETTINGS, 'shop', 'https://m.example.com/mp/a', 'userinfo')), 'https://wx.example.com/bot/oauth/shop?to=https%3A%2F%2Fm.example.com%2Fmp%2Fa&scope=userinfo')
  // As parsed: the browser's form (a / after the host, a lower-case host), which the login checks and keeps.
  assert.equal(urlOf(loginLink(SETTINGS, 'shop', 'https://H5.example.com?x=1')), 'https://wx.example.com/bot/oauth/shop?to=https%3A%2F%2Fh5.example.com%2F%3Fx%3D1')
  // The link reads back as the page: what the login's `to` will be.
  const link = new URL(urlOf(loginLink(SETTINGS, 'shop', 'https://h5.example.com/a b?q=中&r=1&s=a%26b')))
  assert.equal(link.searchParams.get('to'), 'https://h5.example.com/a%20b?q=%E4%B8%AD&r=1&s=a%26b')
  assert.equal(link.searchParams.get('scope'), null)
  // No scope is base, the silent login.
  assert.equal(urlOf(loginLink(SETTINGS, 'shop', 'https://h5.example.com/', undefined)), 'https://wx.example.com/bot/oauth/shop?to=https%3A%2F%2Fh5.example.com%2F')
})

test('what the login would refuse is said instead of a link', () => {
  assert.match(problemOf(loginLink({ ...SETTINGS, publicUrl: undefined }, 'shop', 'https://h5.example.com/')), /^the engine's public address is not set: set publicUrl in engine\.config\.ts \(or PUBLIC_URL\)/)
  assert.match(problemOf(loginLink(SETTINGS, 'nodomains', 'https://h5.example.com/')), /^account "nodomains" has no page domains/)
  assert.match(problemOf(loginLink(SETTINGS, 'nosecret', 'https://h5.example.com/')), /^account "nosecret" has no appSecret/)
  assert.equal(problemOf(loginLink(SETTINGS, 'ghost', 'https://h5.example.com/')), 'no account "ghost"')
  assert.match(problemOf(loginLink(SETTINGS, 'shop', 'https://evil.example.net/')), /^"evil\.example\.net\/" is not under the account's page domains \(h5\.example\.com, m\.example\.com\/mp\)/)
  assert.match(problemOf(loginLink(SETTINGS, 'shop', 'https://m.example.com/mpx')), /is not under the account's page domains/)
  assert.match(problemOf(loginLink(SETTINGS, 'shop', '/orders')), /^the to "\/orders" is not a full URL/)
  assert.match(problemOf(loginLink(SETTINGS, 'shop', 'https://h5.example.com:8443/')), /has a port/)
  assert.match(problemOf(loginLink(SETTINGS, 'shop', '')), /^no to/)
  assert.match(problemOf(loginLink(SETTINGS, 'shop', `https://h5.example.com/?q=${'x'.repeat(MAX_LOGIN_TO)}`)), /^the to is \d+ characters, over 1500/)
  // Its ticket would cross the network in the clear from a login that was encrypted (login-link.ts says why).
  assert.match(problemOf(loginLink(SETTINGS, 'shop', 'http://h5.example.com/orders')), /^the to "http:\/\/h5\.example\.com\/orders" is http while the login runs on https/)
  // From JavaScript, anything can be passed.
  assert.equal(problemOf(loginLink(SETTINGS, 'shop', 42)), "to must be the page's full URL, a string, not number")
  assert.equal(problemOf(loginLink(SETTINGS, 'shop', null)), "to must be the page's full URL, a string, not null")
  assert.equal(problemOf(loginLink(SETTINGS, 'shop', 'https://h5.example.com/', 'snsapi_login')), `scope must be 'base' or 'userinfo', not "snsapi_login"`)
})

test('an engine on plain http may log in to an http page: nothing was encrypted to begin with', () => {
  assert.equal(urlOf(loginLink({ ...SETTINGS, publicUrl: 'http://wx.example.com' }, 'shop', 'http://h5.example.com/a')), 'http://wx.example.com/oauth/shop?to=http%3A%2F%2Fh5.example.com%2Fa')
})

test("a configuration's settings carry whether there is an AppSecret, never the secret", () => {
  const settings = loginLinkSettingsOf({
    publicUrl: 'https://wx.example.com',
    accounts: [
      { id: 'a', token: 'tok', appId: 'wx1', appSecret: 'the-secret', mode: 'plaintext', pageDomains: ['h5.example.com'] },
      { id: 'b', token: 'tok', appId: 'wx2', mode: 'plaintext' },
    ],
  })
  assert.deepEqual(settings, {
    publicUrl: 'https://wx.example.com',
    accounts: [
      { id: 'a', pageDomains: ['h5.example.com'], hasAppSecret: true },
      { id: 'b', pageDomains: [], hasAppSecret: false },
    ],
  })
  assert.doesNotMatch(JSON.stringify(settings), /the-secret/)
})
