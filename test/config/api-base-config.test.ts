/**
 * platform.apiBase must be a base fetch can call: http(s), no user or password in it. fetch refuses a URL
 * with credentials ("Request cannot be constructed from a URL that includes credentials: <the URL>", the
 * URL with the AppSecret or access_token in its query) and knows no other scheme, so such a base would
 * fail every late reply and plugin call at run time: refused at start, naming the setting.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-apibase-'))
after(() => rmSync(root, { recursive: true, force: true }))
const env = (apiBase: string) => ({ WECHAT_TOKEN: 'tok123', WECHAT_APPID: 'wx1', WECHAT_API_BASE: apiBase })

test('a base with a user and password, or not http(s), is refused naming platform.apiBase', () => {
  for (const apiBase of ['https://user:hunter2@proxy.example/wx', 'ftp://api.weixin.qq.com', 'file:///tmp/x']) {
    const r = loadConfig({ root, env: env(apiBase) })
    assert.equal(r.ok, false, apiBase)
    if (r.ok) continue
    assert.equal(r.error.code, 'BAD_CONFIG')
    assert.match(r.error.reason, /platform\.apiBase: /, apiBase)
    assert.doesNotMatch(r.error.reason, /hunter2/, 'the password is not echoed')
  }
})

test('http and https bases, with a path prefix, are accepted', () => {
  for (const apiBase of ['https://api.weixin.qq.com', 'http://127.0.0.1:8080/wx/']) {
    const r = loadConfig({ root, env: env(apiBase) })
    assert.ok(r.ok, r.ok ? '' : r.error.reason)
  }
})

test('platform.mpBase (showqrcode\'s host) is https://mp.weixin.qq.com unless WECHAT_MP_BASE sets it, checked as apiBase is', () => {
  const plain = loadConfig({ root, env: env('https://api.weixin.qq.com') })
  assert.ok(plain.ok, plain.ok ? '' : plain.error.reason)
  assert.equal(plain.value.platform.mpBase, 'https://mp.weixin.qq.com')
  const local = loadConfig({ root, env: { ...env('http://127.0.0.1:9/'), WECHAT_MP_BASE: 'http://127.0.0.1:9/' } })
  assert.ok(local.ok, local.ok ? '' : local.error.reason)
  assert.equal(local.value.platform.mpBase, 'http://127.0.0.1:9/')
  const bad = loadConfig({ root, env: { ...env('https://api.weixin.qq.com'), WECHAT_MP_BASE: 'https://user:hunter2@mp.example/' } })
  assert.equal(bad.ok, false)
  if (bad.ok) return
  assert.match(bad.error.reason, /platform\.mpBase: .*WECHAT_MP_BASE/)
  assert.doesNotMatch(bad.error.reason, /hunter2/)
})

test("platform.openBase (a web login's consent page) is https://open.weixin.qq.com unless WECHAT_OPEN_BASE sets it", () => {
  const plain = loadConfig({ root, env: env('https://api.weixin.qq.com') })
  assert.ok(plain.ok, plain.ok ? '' : plain.error.reason)
  assert.equal(plain.value.platform.openBase, 'https://open.weixin.qq.com')
  const local = loadConfig({ root, env: { ...env('http://127.0.0.1:9/'), WECHAT_OPEN_BASE: 'http://127.0.0.1:9/' } })
  assert.ok(local.ok, local.ok ? '' : local.error.reason)
  assert.equal(local.value.platform.openBase, 'http://127.0.0.1:9/')
})

test('a base that is no URL at all (a space, a control character, a word) is refused naming the setting, not thrown on', () => {
  for (const [variable, setting] of [['WECHAT_API_BASE', 'apiBase'], ['WECHAT_MP_BASE', 'mpBase'], ['WECHAT_OPEN_BASE', 'openBase']]) {
    for (const value of ['api weixin', '\u0000', 'not a url', 'https://']) {
      const r = loadConfig({ root, env: { WECHAT_TOKEN: 'tok123', WECHAT_APPID: 'wx1', [variable]: value } })
      assert.equal(r.ok, false, JSON.stringify(value))
      if (r.ok) continue
      assert.match(r.error.reason, new RegExp(`platform\\.${setting}: must be a URL such as https://\\S+ \\(${variable}, from the environment\\)`), JSON.stringify(value))
    }
  }
})
