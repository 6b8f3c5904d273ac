/**
 * trustProxy (TRUST_PROXY) and limits.webRequestsPerMinute: the web endpoints' per-client allowance
 * (core/web/web-rate-limit.ts). Each has a default, the file sets it, and a wrong value stops the start with
 * a message that names the setting.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'
import { addressKey } from '../../core/web/web-rate-limit.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-ratelimit-'))
after(() => rmSync(root, { recursive: true, force: true }))
const ACCOUNT = { WECHAT_TOKEN: 'tok123', WECHAT_APPID: 'wx1' }

test('defaults: proxy headers not trusted, 600 web requests a minute per client', () => {
  const r = loadConfig({ root, env: ACCOUNT })
  assert.ok(r.ok, r.ok ? '' : r.error.reason)
  assert.equal(r.value.trustProxy, false)
  assert.equal(r.value.limits.webRequestsPerMinute, 600)
})

test('TRUST_PROXY takes 1/0, true/false, yes/no, or how many proxies are in front, and wins over the file; anything else names the variable', () => {
  for (const [given, trusted] of [['1', true], ['true', true], ['YES', true], ['0', false], ['false', false], ['no', false], ['2', 2], ['10', 10]] as const) {
    const r = loadConfig({ root, env: { ...ACCOUNT, TRUST_PROXY: given }, overrides: { trustProxy: trusted === false } })
    assert.ok(r.ok, r.ok ? '' : r.error.reason)
    assert.equal(r.value.trustProxy, trusted, given)
  }
  for (const given of ['nginx', '11', '-1', '1.5', '02x']) {
    const bad = loadConfig({ root, env: { ...ACCOUNT, TRUST_PROXY: given } })
    assert.equal(bad.ok, false, given)
    assert.match(bad.ok ? '' : bad.error.reason, /TRUST_PROXY: must be 1 or 0 \(true or false\), or how many proxies are in front \(2 to 10\), got "/, given)
  }
})

test('trustProxy in the file: true, false or a count of proxies from 0 to 10; anything else is refused by its path', () => {
  for (const given of [true, false, 0, 1, 3, 10]) {
    const r = loadConfig({ root, env: ACCOUNT, overrides: { trustProxy: given } })
    assert.ok(r.ok, r.ok ? '' : r.error.reason)
    assert.equal(r.value.trustProxy, given)
  }
  for (const given of ['yes', 11, -1, 1.5, null]) {
    const r = loadConfig({ root, env: ACCOUNT, overrides: { trustProxy: given as unknown as boolean } })
    assert.equal(r.ok, false, String(given))
    assert.match(r.ok ? '' : r.error.reason, /trustProxy: must be true or false, or how many proxies are in front: 0 to 10 \(TRUST_PROXY\)/, String(given))
  }
})

test('webRequestsPerMinute: 0 turns it off; a negative or fractional number is refused by name', () => {
  const off = loadConfig({ root, env: ACCOUNT, overrides: { limits: { webRequestsPerMinute: 0 } } })
  assert.ok(off.ok, off.ok ? '' : off.error.reason)
  assert.equal(off.value.limits.webRequestsPerMinute, 0)
  for (const n of [-1, 1.5]) {
    const r = loadConfig({ root, env: ACCOUNT, overrides: { limits: { webRequestsPerMinute: n } } })
    assert.equal(r.ok, false, String(n))
    assert.match(r.ok ? '' : r.error.reason, /limits\.webRequestsPerMinute/)
  }
})

test('a client is its IPv4 address, an IPv4-mapped IPv6 one as IPv4, an IPv6 one by its /64 however written', () => {
  assert.equal(addressKey('203.0.113.9'), '203.0.113.9')
  assert.equal(addressKey('::ffff:203.0.113.9'), '203.0.113.9')
  assert.equal(addressKey('2001:db8:1:2::1'), '2001:db8:1:2::/64')
  assert.equal(addressKey('2001:0DB8:0001:0002:ffff:0:0:9'), '2001:db8:1:2::/64')
  assert.equal(addressKey('::1'), '0:0:0:0::/64')
  assert.equal(addressKey('2001:db8::'), '2001:db8:0:0::/64')
  assert.notEqual(addressKey('2001:db8:1:3::1'), addressKey('2001:db8:1:2::1'))
  // Not an address at all (a proxy that writes a name): kept, cut short.
  assert.equal(addressKey('x'.repeat(100)), 'x'.repeat(64))
})
