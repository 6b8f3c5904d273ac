/**
 * A plugin author's test of a login link (docs/web.md#login-links-from-a-plugin): the test kit takes
 * publicUrl and the account's pageDomains from `config`, as the engine does from engine.config.ts.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createTestClient, TEST_PUBLIC_URL } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject } from '../support/plugin-project.ts'

const ORDERS = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'orders',
  handle(ctx) {
    try {
      return ctx.reply.news([{ title: 'Your orders', url: ctx.web.loginUrl('https://h5.example.com/orders') }])
    } catch (e) {
      return String(e)
    }
  },
})
`
const project = pluginProject({ plugins: { orders: ORDERS }, rules: { 'main.yaml': 'rules:\n  - name: orders\n    keywords: [orders]\n    plugin: orders\n' } }, 'test-client-web')
after(() => project.remove())
const ACCOUNT = { id: 'shop', token: 'shoptoken', appId: 'wxshop0000000001', mode: 'plaintext' as const, pageDomains: ['h5.example.com'] }

test('with publicUrl and pageDomains in config, the link is the login on that address', async () => {
  const client = await createTestClient({ root: project.root, config: { publicUrl: 'https://wx.example.com', accounts: [ACCOUNT], defaultAccount: 'shop' } })
  try {
    const reply = await client.send('orders')
    assert.equal(reply.type, 'news')
    assert.equal(reply.type === 'news' ? reply.articles?.[0]?.url : '', `https://wx.example.com/oauth/shop?to=${encodeURIComponent('https://h5.example.com/orders')}`)
  } finally {
    await client.close()
  }
})

test('without publicUrl (a deploy that sets PUBLIC_URL alone), the link is on the test kit\'s stand-in address; a page off pageDomains is refused at the call', async () => {
  const client = await createTestClient({ root: project.root, config: { accounts: [ACCOUNT], defaultAccount: 'shop' } })
  try {
    const reply = await client.send('orders')
    assert.equal(reply.type === 'news' ? reply.articles?.[0]?.url : '', `${TEST_PUBLIC_URL}/oauth/shop?to=${encodeURIComponent('https://h5.example.com/orders')}`)
  } finally {
    await client.close()
  }
  const elsewhere = await createTestClient({ root: project.root, config: { accounts: [{ ...ACCOUNT, pageDomains: ['m.example.com'] }], defaultAccount: 'shop' } })
  try {
    await elsewhere.expectReply('orders', /^TypeError: web\.loginUrl: "h5\.example\.com\/orders" is not under the account's page domains \(m\.example\.com\)/)
  } finally {
    await elsewhere.close()
  }
})
