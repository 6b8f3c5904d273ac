/**
 * Where `wxengine send --url` posts (core/cli/commands/send.ts sendTarget): a base URL gets the account's
 * path added; a URL that already ends in the engine's path (as typed into the console) is used as it is.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { reachableHost, sendTarget } from '../../core/cli/commands/send.ts'

test('a base URL, with or without a proxy prefix: /wechat/<account> is added', () => {
  assert.deepEqual(sendTarget('http://127.0.0.1:8080', undefined, 'default'), { endpoint: 'http://127.0.0.1:8080/wechat/default', account: 'default' })
  assert.deepEqual(sendTarget('https://wx.example.com/', 'shop', 'default'), { endpoint: 'https://wx.example.com/wechat/shop', account: 'shop' })
  assert.deepEqual(sendTarget('https://example.com/bots/', undefined, 'main'), { endpoint: 'https://example.com/bots/wechat/main', account: 'main' })
})

test('a server URL: used as it is, and its account is the one it serves', () => {
  assert.deepEqual(sendTarget('https://wx.example.com/wechat', undefined, 'main'), { endpoint: 'https://wx.example.com/wechat', account: 'main' })
  assert.deepEqual(sendTarget('https://wx.example.com/bots/wechat/shop/', undefined, 'main'), { endpoint: 'https://wx.example.com/bots/wechat/shop', account: 'shop' })
  // The flag agreeing with the URL is fine.
  assert.deepEqual(sendTarget('https://wx.example.com/wechat/shop', 'shop', 'main'), { endpoint: 'https://wx.example.com/wechat/shop', account: 'shop' })
  assert.deepEqual(sendTarget('https://wx.example.com/wechat', 'main', 'main'), { endpoint: 'https://wx.example.com/wechat', account: 'main' })
})

test('an account segment that does not decode: an error, not a throw', () => {
  const r = sendTarget('https://wx.example.com/wechat/%E0', undefined, 'main')
  assert.ok('error' in r)
  assert.match(r.error, /not valid percent-encoding/)
})

test('not a URL: the usage, with both forms', () => {
  const r = sendTarget('wx.example.com', undefined, 'main')
  assert.ok('error' in r)
  assert.match(r.error, /--url takes the engine's base URL, e\.g\. http:\/\/127\.0\.0\.1:8080, or its server URL as in the console, e\.g\. https:\/\/wx\.example\.com\/wechat \(got "wx\.example\.com"\)/)
})

test("send's default host is where start listens with the same HOST: the address itself (IPv6 in brackets), the loopback for every interface; it was always 127.0.0.1", () => {
  assert.equal(reachableHost('192.168.1.5'), '192.168.1.5')
  assert.equal(reachableHost('::1'), '[::1]')
  assert.equal(reachableHost('fe80::1'), '[fe80::1]')
  for (const every of ['0.0.0.0', '::', '']) assert.equal(reachableHost(every), '127.0.0.1')
  assert.equal(reachableHost('127.0.0.1'), '127.0.0.1')
})
