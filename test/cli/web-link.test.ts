/**
 * `wxengine web link <page>` as a user runs it: the login link of a page for where no plugin builds one (a
 * console menu, an article, a poster), the same link ctx.web.loginUrl builds, or why there is none (exit 2).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { makeProject, type Project } from './cli-harness.ts'

let project: Project
before(() => {
  project = makeProject()
})
after(() => project.remove())

const WEB = { PUBLIC_URL: 'https://wx.example.com/wx/', WECHAT_PAGE_DOMAINS: 'h5.example.com', WECHAT_APPSECRET: 'the-secret' }

test('prints the link on publicUrl for the default account (stdout alone), and how it works on stderr', async () => {
  const r = await project.run(['web', 'link', 'https://h5.example.com/center?from=poster#/me', '--scope', 'userinfo'], { env: WEB })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, `https://wx.example.com/wx/oauth/default?to=${encodeURIComponent('https://h5.example.com/center?from=poster#/me')}&scope=userinfo\n`)
  assert.match(r.stderr, /logs the user in \(userinfo: WeChat asks them for their profile\) and opens https:\/\/h5\.example\.com\/center\?from=poster#\/me with wxe_ticket= added.*wx\.example\.com must be account default's 网页授权域名/)
  const base = await project.run(['web', 'link', 'https://h5.example.com/'], { env: WEB })
  assert.equal(base.stdout, `https://wx.example.com/wx/oauth/default?to=${encodeURIComponent('https://h5.example.com/')}\n`)
})

test('what the login would refuse is said instead, exit 2, nothing on stdout', async () => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['https://h5.example.com/'], { ...WEB, PUBLIC_URL: '' }, /^wxengine web link: the engine's public address is not set: set publicUrl in engine\.config\.ts \(or PUBLIC_URL\)/],
    [['https://evil.example.net/'], WEB, /^wxengine web link: "evil\.example\.net\/" is not under the account's page domains \(h5\.example\.com\)/],
    [['https://h5.example.com/', '--scope', 'all'], WEB, /^wxengine web link: scope must be 'base' or 'userinfo', not "all"/],
    [['https://h5.example.com/', '--account', 'shop'], WEB, /^wxengine web link: no account "shop"/],
  ]
  for (const [args, env, expected] of cases) {
    const r = await project.run(['web', 'link', ...args], { env })
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, expected)
  }
})
