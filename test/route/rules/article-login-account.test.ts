/**
 * docs/rules.md#articles-that-log-the-user-in: what the login would refuse is an error at the `login:`,
 * naming the account, also for a rule of one account written in a file at the top of rules/ (`account: shop`).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadRuleSet } from '../../../core/route/rules/index.ts'
import { memberRules } from '../../support/login-article-rules.ts'
import { tempRulesDirs } from '../../support/rules-dir.ts'

const rulesDir = tempRulesDirs('review-login-account')

test('a rule of one account: the error at login: names the account', async () => {
  const dir = await rulesDir({
    'main.yaml': `account: shop\n${memberRules('https://blog.example.com/center', 'base')}`,
  })
  const r = await loadRuleSet(dir, { loginLinks: { publicUrl: 'https://wx.example.com', accounts: [{ id: 'shop', pageDomains: ['vip.example.com'], hasAppSecret: true }] } })
  assert.equal(r.ok, false)
  assert.match(r.ok ? '' : r.errors[0]!.message, /^rule "member": login \(for account "shop"\): "blog\.example\.com\/center" is not under the account's page domains/)
})
