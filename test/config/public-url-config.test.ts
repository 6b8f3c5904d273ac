/**
 * publicUrl (PUBLIC_URL): where browsers reach the engine, which web logins send WeChat back to and plugins
 * build login links on (core/web/login-link.ts). Links are made by adding `/oauth/...` to it, so it must be
 * an http(s) URL with nothing after its path, and is kept without a trailing slash.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { publicUrlWarning } from '../../core/config/account-warnings.ts'
import { loadConfig } from '../../core/config/load-config.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-publicurl-'))
after(() => rmSync(root, { recursive: true, force: true }))
const ACCOUNT = { WECHAT_TOKEN: 'tok123', WECHAT_APPID: 'wx1' }

test('unset by default; PUBLIC_URL sets it, kept without a trailing slash and with the host as URLs write it', () => {
  const none = loadConfig({ root, env: ACCOUNT })
  assert.ok(none.ok, none.ok ? '' : none.error.reason)
  assert.equal(none.value.publicUrl, undefined)
  for (const [given, kept] of [
    ['https://wx.example.com', 'https://wx.example.com'],
    ['https://wx.example.com/', 'https://wx.example.com'],
    ['https://WX.Example.com/wx//', 'https://wx.example.com/wx'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['https://wx.example.com:443/wx/', 'https://wx.example.com/wx'],
  ]) {
    const r = loadConfig({ root, env: { ...ACCOUNT, PUBLIC_URL: given } })
    assert.ok(r.ok, r.ok ? '' : r.error.reason)
    assert.equal(r.value.publicUrl, kept, given)
  }
})

test('the file sets it too, and PUBLIC_URL wins over the file', () => {
  const file = loadConfig({ root, env: ACCOUNT, overrides: { publicUrl: 'https://a.example.com/' } })
  assert.ok(file.ok, file.ok ? '' : file.error.reason)
  assert.equal(file.value.publicUrl, 'https://a.example.com')
  const both = loadConfig({ root, env: { ...ACCOUNT, PUBLIC_URL: 'https://b.example.com' }, overrides: { publicUrl: 'https://a.example.com' } })
  assert.ok(both.ok, both.ok ? '' : both.error.reason)
  assert.equal(both.value.publicUrl, 'https://b.example.com')
})

test('not an http(s) URL with nothing after its path: refused naming publicUrl and PUBLIC_URL, the value not echoed when it has a password', () => {
  const cases: Array<[string, RegExp]> = [
    ['wx.example.com', /publicUrl: must be where browsers reach the engine, such as https:\/\/wx\.example\.com \(PUBLIC_URL, from the environment\)/],
    ['ftp://wx.example.com', /publicUrl: must be an http:\/\/ or https:\/\/ URL \(PUBLIC_URL, from the environment\)/],
    ['https://user:hunter2@wx.example.com', /publicUrl: must not contain a user or password \(PUBLIC_URL, from the environment\)/],
    ['https://wx.example.com/?from=menu', /publicUrl: must not have a query or fragment: links are built by adding paths to it \(PUBLIC_URL, from the environment\)/],
    ['https://wx.example.com/#top', /publicUrl: must not have a query or fragment/],
    ['https://wx.example.com/?', /publicUrl: must not have a query or fragment/],
    ['https://wx.example.com/a;b', /publicUrl: must not have a ; in its path: the login cookie's Path would end there \(PUBLIC_URL, from the environment\)/],
  ]
  for (const [value, expected] of cases) {
    const r = loadConfig({ root, env: { ...ACCOUNT, PUBLIC_URL: value } })
    assert.equal(r.ok, false, value)
    if (r.ok) continue
    assert.equal(r.error.code, 'BAD_CONFIG')
    assert.match(r.error.reason, expected, value)
    assert.doesNotMatch(r.error.reason, /hunter2/)
  }
})

test('a publicUrl with a port or an IP address, while an account has pages, is warned about: WeChat will not come back to it', () => {
  const pages = [{ pageDomains: ['h5.example.com'] }]
  for (const [given, said] of [
    ['http://127.0.0.1:8080', /^publicUrl is an IP address \(127\.0\.0\.1\): web logins tell WeChat to come back there.* errcode 10003/],
    ['https://[2001:db8::1]', /^publicUrl is an IP address \(2001:db8::1\)/],
    ['https://wx.example.com:8443/wx', /^publicUrl has a port \(8443\): .*\(PUBLIC_URL\)$/],
  ] as const) {
    const r = loadConfig({ root, env: { ...ACCOUNT, PUBLIC_URL: given } })
    assert.ok(r.ok, r.ok ? '' : r.error.reason)
    assert.match(publicUrlWarning({ publicUrl: r.value.publicUrl, accounts: pages }) ?? '', said, given)
  }
  // A domain name on the default port, however written, is what WeChat takes.
  for (const given of ['https://wx.example.com', 'https://wx.example.com:443/wx', 'http://wx.example.com:80']) {
    const r = loadConfig({ root, env: { ...ACCOUNT, PUBLIC_URL: given } })
    assert.ok(r.ok, r.ok ? '' : r.error.reason)
    assert.equal(publicUrlWarning({ publicUrl: r.value.publicUrl, accounts: pages }), undefined, given)
  }
  // No account has pages (no login can start), or no publicUrl: nothing to say.
  assert.equal(publicUrlWarning({ publicUrl: 'http://127.0.0.1:8080', accounts: [{ pageDomains: [] }, {}] }), undefined)
  assert.equal(publicUrlWarning({ publicUrl: undefined, accounts: pages }), undefined)
})
