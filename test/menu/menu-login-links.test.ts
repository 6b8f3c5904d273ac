/**
 * A view button with `login:` (core/menu/menu-login-links.ts): checked as a file, then against the
 * configuration, sent as its login link, and read back from a fetched menu as the file had it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseMenuFile, toConditionalBody, toCreateBody, type LoadedMenu } from '../../core/menu/menu-file.ts'
import { menuLoginLinks, withLoginButtons } from '../../core/menu/menu-login-links.ts'
import type { LoginLinkSettings } from '../../core/web/login-link.ts'

const FILE = 'menus/shop.yaml'
const SETTINGS: LoginLinkSettings = { publicUrl: 'https://wx.example.com', accounts: [{ id: 'shop', pageDomains: ['h5.example.com', 'vip.example.com'], hasAppSecret: true }] }
const link = (to: string, scope = '') => `https://wx.example.com/oauth/shop?to=${encodeURIComponent(to)}${scope ? `&scope=${scope}` : ''}`

function loaded(text: string): LoadedMenu {
  const r = parseMenuFile(text, FILE)
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors))
  return r
}

const MENU = `button:
  - {type: view, name: 订单, url: 'https://h5.example.com/orders', login: base}
  - name: 会员
    sub_button:
      - {type: view, name: 会员中心, url: 'https://vip.example.com/', login: userinfo}
      - {type: view, name: 搜索, url: 'http://www.soso.com/'}
`

test('a login button is sent as its login link; a view button without login as its page', () => {
  const menu = loaded(MENU)
  assert.equal(menu.leaves[0]!.button.login, 'base')
  const links = menuLoginLinks(menu, SETTINGS, 'shop', FILE)
  assert.deepEqual(links.errors, [])
  assert.equal(
    JSON.stringify(toCreateBody(menu.menu, links.linkOf)),
    JSON.stringify({
      button: [
        { type: 'view', name: '订单', url: link('https://h5.example.com/orders') },
        { name: '会员', sub_button: [{ type: 'view', name: '会员中心', url: link('https://vip.example.com/', 'userinfo') }, { type: 'view', name: '搜索', url: 'http://www.soso.com/' }] },
      ],
    }),
  )
  // Never the bare page: that would open it without the login the file asks for.
  assert.throws(() => toCreateBody(menu.menu), /button "订单" opens its page through a login, and no link was given for it/)
})

test('login is a view button\'s, base or userinfo; anything else is an error at its line', () => {
  const bad = parseMenuFile(`button:\n  - {type: view, name: a, url: 'https://h5.example.com/', login: userinf}\n  - {type: click, name: b, key: k, login: base}\n`, FILE)
  assert.equal(bad.ok, false)
  const messages = bad.ok ? [] : bad.errors.map((e) => `${e.line}: ${e.message}`)
  assert.deepEqual(messages, [
    '2: button "a": login must be base (the user\'s openid, silently) or userinfo (their profile too, after WeChat asks them), got "userinf" (did you mean "userinfo"?)',
    '3: button "b": unknown key "login" for type click; login belongs to type view; allowed here: type, name, key',
  ])
})

test('what the login would refuse is an error at the button, before anything is sent', () => {
  const menu = loaded(`button:\n  - {type: view, name: 订单, url: 'https://evil.example.net/', login: base}\n  - name: 会员\n    sub_button:\n      - {type: view, name: 会员中心, url: 'https://vip.example.com/', login: userinfo}\n`)
  const off = menuLoginLinks(menu, SETTINGS, 'shop', FILE)
  assert.deepEqual(off.errors.map((e) => [e.line, e.message.replace(/ \(h5.*$/, '')]), [[2, 'button "订单": login: "evil.example.net/" is not under the account\'s page domains']])
  assert.throws(() => off.linkOf(menu.leaves[0]!.button), /has no login link/)
  const noPublic = menuLoginLinks(menu, { ...SETTINGS, publicUrl: undefined }, 'shop', FILE)
  assert.deepEqual(noPublic.errors.map((e) => e.line), [2, 5])
  assert.match(noPublic.errors[1]!.message, /^button "会员" > "会员中心": login: the engine's public address is not set: set publicUrl/)
  const long = menuLoginLinks(loaded(`button:\n  - {type: view, name: 订单, url: 'https://h5.example.com/${'a'.repeat(980)}', login: base}\n`), SETTINGS, 'shop', FILE)
  assert.match(long.errors[0]!.message, /^button "订单": its login link is \d+ bytes, over the 1024 a url may be \(WeChat refuses it with 40020\)/)
})

test("a personalized menu's login link counts publicUrl's host among its 3 domains, not the page's", () => {
  const conditional = (urls: string[]) => `button:\n  - {type: click, name: a, key: a}\nconditional:\n  - matchrule: {tag_id: '1'}\n    button:\n      - name: 链接\n        sub_button:\n${urls.map((u, i) => `          - {type: view, name: b${i}, url: '${u}'}\n`).join('')}`
  // Three page hosts, and a login button whose page is one of them: its link is on a 4th host, wx.example.com.
  const menu = loaded(conditional(['https://a.example.org/', 'https://b.example.org/', 'https://h5.example.com/x']).replace("- {type: view, name: b0", "- {type: view, name: z, url: 'https://h5.example.com/', login: base}\n          - {type: view, name: b0"))
  const links = menuLoginLinks(menu, SETTINGS, 'shop', FILE)
  assert.equal(links.errors.length, 1)
  assert.match(links.errors[0]!.message, /button "链接" > "b2": its url is on a 4th domain, h5\.example\.com: .* \(wx\.example\.com, a\.example\.org, b\.example\.org;/)
  // Without login, the same pages are 3 domains: fine.
  assert.equal(parseMenuFile(conditional(['https://a.example.org/', 'https://b.example.org/', 'https://h5.example.com/x']), FILE).ok, true)
  const ok = loaded(conditional(['https://a.example.org/', 'https://h5.example.com/x']).replace("url: 'https://h5.example.com/x'}", "url: 'https://h5.example.com/x', login: base}"))
  const sent = menuLoginLinks(ok, SETTINGS, 'shop', FILE)
  assert.deepEqual(sent.errors, [])
  assert.equal(JSON.stringify((toConditionalBody(ok.conditional[0]!, sent.linkOf).button[0] as { sub_button: unknown[] }).sub_button[1]), JSON.stringify({ type: 'view', name: 'b1', url: link('https://h5.example.com/x') }))
})

test("a fetched menu's login links read back as the file had them; any other url stays as it is", () => {
  const fetched = {
    button: [
      { type: 'view', name: '订单', url: link('https://h5.example.com/orders') },
      {
        name: '会员',
        sub_button: [
          { type: 'view', name: '会员中心', url: link('https://vip.example.com/', 'userinfo') },
          { type: 'view', name: '别的号', url: 'https://wx.example.com/oauth/other?to=https%3A%2F%2Fh5.example.com%2F' },
          { type: 'view', name: '多参数', url: `${link('https://h5.example.com/')}&x=1` },
          { type: 'view', name: '别的页', url: link('https://evil.example.net/') },
          { type: 'click', name: '点', key: 'k' },
        ],
      },
    ],
  }
  const asFile = withLoginButtons(fetched, SETTINGS, 'shop')
  assert.deepEqual(asFile.button[0], { type: 'view', name: '订单', url: 'https://h5.example.com/orders', login: 'base' })
  const subs = (asFile.button[1] as { sub_button: unknown[] }).sub_button
  assert.deepEqual(subs[0], { type: 'view', name: '会员中心', url: 'https://vip.example.com/', login: 'userinfo' })
  assert.deepEqual(subs.slice(1), fetched.button[1]!.sub_button!.slice(1))
  // The round trip: the file read back is the file sent.
  const again = loaded(`button:\n  - {type: view, name: 订单, url: '${(asFile.button[0] as { url: string }).url}', login: base}\n`)
  assert.equal((toCreateBody(again.menu, menuLoginLinks(again, SETTINGS, 'shop', FILE).linkOf).button[0] as { url: string }).url, fetched.button[0]!.url)
  // No publicUrl: nothing is a login link.
  assert.deepEqual(withLoginButtons(fetched, { ...SETTINGS, publicUrl: undefined }, 'shop'), fetched)
})
