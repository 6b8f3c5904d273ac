/**
 * News articles with `login:` in a rules file (core/route/rules/article-logins.ts): the page sent as the
 * account's own login link, per account for a rule of every account; what the login would refuse for an
 * account the rule serves is an error at the `login:`, when the rules are loaded with the configuration.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TextMessage } from '../../../core/normalize/message-types.ts'
import { candidatesWithoutSession } from '../../../core/route/router.ts'
import { formatRuleErrors, loadRuleSet } from '../../../core/route/rules/index.ts'
import type { RuleSet } from '../../../core/route/rule-types.ts'
import type { LoginLinkSettings } from '../../../core/web/login-link.ts'
import { memberRules } from '../../support/login-article-rules.ts'
import { tempRulesDirs } from '../../support/rules-dir.ts'

const rulesDir = tempRulesDirs('article-logins')
const SETTINGS: LoginLinkSettings = {
  publicUrl: 'https://wx.example.com',
  accounts: [
    { id: 'shop', pageDomains: ['vip.example.com'], hasAppSecret: true },
    { id: 'news', pageDomains: ['vip.example.com', 'blog.example.com'], hasAppSecret: true },
  ],
}
const RULES = memberRules(undefined, undefined, "        - {title: 说明, url: 'https://help.example.org/'}\n")
const link = (account: string, to: string, scope = '') => `https://wx.example.com/oauth/${account}?to=${encodeURIComponent(to)}${scope ? `&scope=${scope}` : ''}`

function replyTo(ruleSet: RuleSet, account: string, text: string) {
  const message: TextMessage = { kind: 'text', toUser: 'gh_x', fromUser: 'oUser', createTime: 1, msgId: '1', content: text, raw: {} }
  const [first] = candidatesWithoutSession(message, account, ruleSet, [])
  assert.ok(first, `something answers ${text}`)
  return first.candidate.target
}

describe('news articles with login:', () => {
  it("a rule for every account sends each account its own link; the other articles and the page in the file's reply stay", async () => {
    const r = await loadRuleSet(await rulesDir({ 'main.yaml': RULES }), { loginLinks: SETTINGS })
    assert.ok(r.ok, r.ok ? '' : formatRuleErrors(r.errors))
    const target = replyTo(r.ruleSet, 'shop', '会员')
    assert.ok('reply' in target)
    assert.deepEqual(target.byAccount?.shop, {
      type: 'news',
      articles: [
        { title: '会员中心', url: link('shop', 'https://vip.example.com/center', 'userinfo') },
        { title: '说明', url: 'https://help.example.org/' },
      ],
    })
    assert.equal((target.byAccount?.news as { articles: Array<{ url: string }> }).articles[0]!.url, link('news', 'https://vip.example.com/center', 'userinfo'))
    // A Reply has no login: it is taken out of the article.
    assert.deepEqual(target.reply, { type: 'news', articles: [{ title: '会员中心', url: 'https://vip.example.com/center' }, { title: '说明', url: 'https://help.example.org/' }] })
  })

  it('what the login would refuse for an account the rule serves is an error at login:, naming the account', async () => {
    const dir = await rulesDir({ 'main.yaml': RULES.replace('https://vip.example.com/center', 'https://blog.example.com/center') })
    const r = await loadRuleSet(dir, { loginLinks: SETTINGS })
    assert.equal(r.ok, false)
    const errors = r.ok ? [] : r.errors
    assert.equal(errors.length, 1, formatRuleErrors(errors))
    assert.equal(errors[0]!.file, join(dir, 'main.yaml'))
    assert.equal(errors[0]!.line, 7)
    assert.match(errors[0]!.message, /^rule "member": login \(for account "shop", as the rule is for every account\): "blog\.example\.com\/center" is not under the account's page domains \(vip\.example\.com\)/)
    // For the account that has the page: fine.
    const own = await loadRuleSet(await rulesDir({ 'news/main.yaml': RULES.replace('https://vip.example.com/center', 'https://blog.example.com/center') }), { loginLinks: SETTINGS })
    assert.ok(own.ok, own.ok ? '' : formatRuleErrors(own.errors))
    const none = await loadRuleSet(await rulesDir({ 'main.yaml': RULES }), { loginLinks: { ...SETTINGS, publicUrl: undefined } })
    assert.equal(none.ok, false)
    assert.match(none.ok ? '' : none.errors[0]!.message, /login \(for account "shop".*\): the engine's public address is not set: set publicUrl/)
  })

  it('login is base or userinfo, on an article with a url', async () => {
    const bad = await loadRuleSet(await rulesDir({ 'main.yaml': RULES.replace('login: userinfo', 'login: everyone') }), { loginLinks: SETTINGS })
    assert.match(bad.ok ? '' : formatRuleErrors(bad.errors), /main\.yaml:7:\d+: rule "member": reply\.articles\[0\]\.login must be one of base, userinfo, got "everyone"/)
    const noUrl = await loadRuleSet(await rulesDir({ 'main.yaml': RULES.replace("url: 'https://vip.example.com/center', ", '') }), { loginLinks: SETTINGS })
    assert.match(noUrl.ok ? '' : formatRuleErrors(noUrl.errors), /main\.yaml:7:\d+: .*login needs the url of the page to open/)
  })

  it('loaded without the configuration, the rule has no link and the reply is never the bare page', async () => {
    const r = await loadRuleSet(await rulesDir({ 'main.yaml': RULES }))
    assert.ok(r.ok)
    const target = replyTo(r.ruleSet, 'shop', '会员')
    assert.ok('reply' in target && target.logins?.length === 1 && target.byAccount === undefined)
  })
})
