/**
 * The __PLUGIN_NAME__ plugin through the real engine in-process: the project's rules, the plugin sandbox and
 * a throwaway SQLite file. Run: wxengine test test/plugins/__PLUGIN_NAME__.test.ts
 * (in a source checkout also: node --import tsx --test test/plugins/__PLUGIN_NAME__.test.ts)
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createTestClient, type TestClient } from 'wxengine/testkit'

let client: TestClient

before(async () => {
  // only: this plugin, not every plugin of the project (faster; rules naming the others fall through).
  client = await createTestClient({ root: fileURLToPath(new URL('../..', import.meta.url)), only: ['__PLUGIN_NAME__'] })
})
after(() => client.close())

test('answers with what follows its keyword', async () => {
  await client.expectReply('__PLUGIN_NAME__ good morning', '__PLUGIN_NAME__: good morning')
})

test('says hello to the bare keyword', async () => {
  await client.expectReply('__PLUGIN_NAME__', /Hello from __PLUGIN_NAME__/)
})

test('is not asked about words that only begin with its name', async () => {
  const reply = await client.send('__PLUGIN_NAME__s are great')
  assert.doesNotMatch(reply.content ?? '', /^__PLUGIN_NAME__:/)
})

test('is not asked about texts without its keyword', async () => {
  const reply = await client.send('good morning')
  assert.doesNotMatch(reply.content ?? '', /__PLUGIN_NAME__/)
})
