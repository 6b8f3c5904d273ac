/**
 * `accounts[].pageDomains`: the JS接口安全域名 whose pages get a wx.config signature (core/web/). Written as the
 * console takes them; a URL or a port stops the start naming the setting. WECHAT_PAGE_DOMAINS sets the
 * default account's.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { accountWarnings } from '../../core/config/account-warnings.ts'
import { loadConfig } from '../../core/config/load-config.ts'

const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function project(domains?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-jssdk-'))
  dirs.push(dir)
  const extra = domains === undefined ? '' : `, pageDomains: ${domains}`
  writeFileSync(
    path.join(dir, 'engine.config.ts'),
    `import { defineConfig } from 'wxengine/config'\nexport default defineConfig({\n  accounts: [{ id: 'default', token: 'tok123', appId: 'wx1'${extra} }],\n})\n`,
  )
  return dir
}

test('hosts and host/paths load as written; none is the endpoint off', () => {
  const r = loadConfig({ root: project(`['h5.example.com', 'shop.example.com/mp']`), env: {} })
  assert.ok(r.ok, r.ok ? '' : r.error.reason)
  assert.deepEqual(r.value.accounts[0].pageDomains, ['h5.example.com', 'shop.example.com/mp'])
  const none = loadConfig({ root: project(), env: {} })
  assert.ok(none.ok)
  assert.equal(none.value.accounts[0].pageDomains, undefined)
})

test('a URL, a port or a query is refused, naming the setting and the variable', () => {
  for (const bad of [`'https://h5.example.com'`, `'h5.example.com:8080'`, `'h5.example.com/?a=1'`]) {
    const r = loadConfig({ root: project(`[${bad}]`), env: {} })
    assert.equal(r.ok, false, bad)
    assert.match(r.ok ? '' : r.error.reason, /accounts\[0\]\.pageDomains\[0\]: must be a host or a host and a path .*\(WECHAT_PAGE_DOMAINS\)/, bad)
  }
})

test("WECHAT_PAGE_DOMAINS sets the default account's, between commas or spaces, over the file's", () => {
  const r = loadConfig({ root: project(`['old.example.com']`), env: { WECHAT_PAGE_DOMAINS: 'h5.example.com, pay.example.com/mp  m.example.com' } })
  assert.ok(r.ok, r.ok ? '' : r.error.reason)
  assert.deepEqual(r.value.accounts[0].pageDomains, ['h5.example.com', 'pay.example.com/mp', 'm.example.com'])
  const bad = loadConfig({ root: project(), env: { WECHAT_PAGE_DOMAINS: 'https://h5.example.com' } })
  assert.equal(bad.ok, false)
  assert.match(bad.ok ? '' : bad.error.reason, /pageDomains\[0\]: must be a host/)
  const empty = loadConfig({ root: project(), env: { WECHAT_PAGE_DOMAINS: ' ' } })
  assert.equal(empty.ok, false)
  assert.match(empty.ok ? '' : empty.error.reason, /WECHAT_PAGE_DOMAINS: is set but empty/)
})

test('WECHAT_PAGE_DOMAINS with more than 20 items is one problem, not one per item', () => {
  const r = loadConfig({ root: project(), env: { WECHAT_PAGE_DOMAINS: 'x '.repeat(3000) } })
  assert.equal(r.ok, false)
  assert.equal(r.ok ? '' : r.error.reason.split('\n').filter((l) => l.includes('WECHAT_PAGE_DOMAINS')).length, 1)
  assert.match(r.ok ? '' : r.error.reason, /WECHAT_PAGE_DOMAINS: has 3000 items, at most 20/)
})

test('an account with pageDomains and no appSecret is warned about at start, once, not per page view', () => {
  const warned = accountWarnings([
    { id: 'default', token: 'tok123', appId: 'wx0123456789abcdef', pageDomains: ['h5.example.com'] },
    { id: 'shop', token: 'tok456', appId: 'wx0123456789abcdee', pageDomains: ['h5.example.com'], appSecret: 's' },
    { id: 'bare', token: 'tok789', appId: 'wx0123456789abcded' },
  ])
  assert.deepEqual(warned, [
    { account: 'default', setting: 'pageDomains', message: 'account "default" has pageDomains but no appSecret: /jssdk-config and /oauth answer its pages 503, as the jsapi_ticket and a web login\'s code exchange need it (WECHAT_APPSECRET for the default account)' },
  ])
})
