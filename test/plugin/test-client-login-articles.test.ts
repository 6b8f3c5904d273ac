/**
 * A project whose rules have a news article with `login:` (docs/rules.md#articles-that-log-the-user-in):
 * the test kit (createTestClient) must still start for the project's plugin tests, with the project's own
 * accounts' pageDomains and publicUrl from engine.config.ts, and send the account's login link.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import { createTestClient } from '../../core/testkit/plugin-test-client.ts'
import { memberRules } from '../support/login-article-rules.ts'
import { pluginProject } from '../support/plugin-project.ts'

const RULES = memberRules()
const ORDERS = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'orders',
  handle(ctx) {
    return ctx.reply.news([{ title: 'Your orders', url: ctx.web.loginUrl('https://vip.example.com/orders') }])
  },
})
`
const project = pluginProject({ plugins: { orders: ORDERS }, rules: { 'main.yaml': RULES + "  - name: orders\n    keywords: [orders]\n    plugin: orders\n" } }, 'review-testkit-login')
after(() => project.remove())
writeFileSync(
  path.join(project.root, 'engine.config.ts'),
  `export default {
  publicUrl: 'https://wx.example.com',
  defaultAccount: 'shop',
  accounts: [{ id: 'shop', token: 't', appId: 'wxshop0000000001', appSecret: 'from-the-deploy', mode: 'plaintext', pageDomains: ['vip.example.com'] }],
}
`,
)

test("a project's login article: the test kit starts with the project's pageDomains and sends the account's link", async () => {
  const client = await createTestClient({ root: project.root })
  try {
    const reply = await client.send('会员')
    assert.equal(reply.type, 'news')
    assert.equal(reply.type === 'news' ? reply.articles?.[0]?.url : '', `https://wx.example.com/oauth/shop?to=${encodeURIComponent('https://vip.example.com/center')}&scope=userinfo`)
  } finally {
    await client.close()
  }
})

test("a plugin's ctx.web.loginUrl in the test kit: the project's pageDomains, as docs/web.md says (a test sets only publicUrl)", async () => {
  const client = await createTestClient({ root: project.root, config: { publicUrl: 'https://wx2.example.com' } })
  try {
    const reply = await client.send('orders')
    assert.equal(reply.type === 'news' ? reply.articles?.[0]?.url : reply.content, `https://wx2.example.com/oauth/shop?to=${encodeURIComponent('https://vip.example.com/orders')}`)
  } finally {
    await client.close()
  }
})
