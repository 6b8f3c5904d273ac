/**
 * `wxengine send --local` of a rules file's news article with `login:` (docs/rules.md#articles-that-log-the-user-in):
 * a try-out refuses what the engine's start refuses. With --wait the run talks to a stand-in for the platform
 * that gives accounts without an appSecret one, but the login needs the account's own: the link printed would be
 * one the engine never sends (its start refuses the rules), so the try-out must refuse it too.
 */
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { memberRules } from '../support/login-article-rules.ts'
import { makeProject, type Project } from './cli-harness.ts'

let project: Project
before(() => {
  project = makeProject()
  mkdirSync(path.join(project.dir, 'rules', 'default'), { recursive: true })
  writeFileSync(
    path.join(project.dir, 'rules', 'default', 'member.yaml'),
    memberRules(),
  )
})
after(() => project.remove())

const WEB = { PUBLIC_URL: 'https://wx.example.com', WECHAT_PAGE_DOMAINS: 'vip.example.com' }

test('with the appSecret: the account\'s login link is printed', async () => {
  const r = await project.run(['send', '会员', '--local'], { env: { ...WEB, WECHAT_APPSECRET: 's' } })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, new RegExp(`Url: https://wx\\.example\\.com/oauth/default\\?to=${encodeURIComponent('https://vip.example.com/center').replace(/\./g, '\\.')}&scope=userinfo`))
})

test('without the appSecret the engine does not start, with --wait or without', async () => {
  for (const wait of [[], ['--wait', '0.1']]) {
    const r = await project.run(['send', '会员', '--local', ...wait], { env: WEB })
    assert.notEqual(r.code, 0, `${wait.join(' ')}: ${r.stdout}`)
    assert.match(r.stderr, /account "default" has no appSecret, which a web login needs/, wait.join(' '))
    assert.doesNotMatch(r.stdout, /oauth/)
  }
})
