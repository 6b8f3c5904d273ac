/**
 * `ctx.web.loginUrl(to, opts)` (core/plugin/sandbox/build-context.ts createWebLinks): docs/web.md says a
 * scope other than `base` or `userinfo` throws a TypeError at the call. Plugins are not type-checked when
 * loaded, so a JavaScript mistake such as `loginUrl(page, 'userinfo')` or `{ scope: null }` must not turn
 * silently into a `base` login (the page would then never get the profile it asked for).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createWebLinks } from '../../core/plugin/sandbox/build-context.ts'
import type { LoginLinkSettings } from '../../core/web/login-link.ts'

const SETTINGS: LoginLinkSettings = { publicUrl: 'https://wx.example.com', accounts: [{ id: 'shop', pageDomains: ['h5.example.com'], hasAppSecret: true }] }
const PAGE = 'https://h5.example.com/orders'

test('no opts, or no scope in them, is base; userinfo is userinfo', () => {
  const web = createWebLinks(SETTINGS, 'shop')
  assert.equal(web.loginUrl(PAGE), `https://wx.example.com/oauth/shop?to=${encodeURIComponent(PAGE)}`)
  assert.equal(web.loginUrl(PAGE, {}), `https://wx.example.com/oauth/shop?to=${encodeURIComponent(PAGE)}`)
  assert.equal(web.loginUrl(PAGE, { scope: undefined }), `https://wx.example.com/oauth/shop?to=${encodeURIComponent(PAGE)}`)
  assert.equal(web.loginUrl(PAGE, { scope: 'userinfo' }), `https://wx.example.com/oauth/shop?to=${encodeURIComponent(PAGE)}&scope=userinfo`)
})

test('a scope given as null, or opts that are not an object (null is none), throw a TypeError instead of a silent base login', () => {
  const web = createWebLinks(SETTINGS, 'shop')
  const call = (opts: unknown) => () => web.loginUrl(PAGE, opts as { scope?: 'base' | 'userinfo' })
  assert.throws(call({ scope: null }), (e: Error) => e instanceof TypeError && /scope must be 'base' or 'userinfo', not null/.test(e.message))
  assert.throws(call('userinfo'), (e: Error) => e instanceof TypeError && /web\.loginUrl: .*\{ scope: 'userinfo' \}/.test(e.message))
  assert.throws(call(2), TypeError)
})
