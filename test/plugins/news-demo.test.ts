/**
 * The news-demo plugin (plugins/news-demo): a news card with one article, reached by a `contains` rule.
 * Run: wxengine test test/plugins/news-demo.test.ts
 * (in a source checkout also: node --import tsx --test test/plugins/news-demo.test.ts)
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createTestClient, type TestClient } from 'wxengine/testkit'

let client: TestClient

before(async () => {
  client = await createTestClient({ root: fileURLToPath(new URL('../..', import.meta.url)) })
})
after(() => client.close())

test('"news" anywhere in the text gets a news card with one article', async () => {
  const reply = await client.expectReply('any news today?', { MsgType: 'news', ArticleCount: '1' })
  assert.deepEqual(reply.articles, [
    {
      title: 'wxengine',
      description: 'A plugin-based chatbot engine for WeChat Official Accounts.',
      picUrl: 'https://example.com/wxengine/cover.png',
      url: 'https://example.com/wxengine',
    },
  ])
})

test('the Chinese keyword works too', async () => {
  const reply = await client.send('今天有什么新闻')
  assert.equal(reply.type, 'news')
  assert.equal(reply.articles?.length, 1)
})

test('the article comes from the rule args: another rule file can change it without code', async () => {
  const rules = fileURLToPath(new URL('../fixtures/plugin-rules', import.meta.url))
  const custom = await createTestClient({ root: fileURLToPath(new URL('../..', import.meta.url)), config: { rulesDir: rules } })
  try {
    const reply = await custom.expectReply('docs', { MsgType: 'news' })
    assert.deepEqual(reply.articles, [
      {
        title: 'Read the docs',
        description: 'A plugin-based chatbot engine for WeChat Official Accounts.',
        picUrl: 'https://example.com/wxengine/cover.png',
        url: 'https://example.com/docs',
      },
    ])
  } finally {
    await custom.close()
  }
})
