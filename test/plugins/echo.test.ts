/**
 * The echo plugin (plugins/echo) through the real engine, as a plugin author tests a plugin: the project's
 * rules (rules/default.yaml), the plugin in its sandbox, a throwaway SQLite file.
 * Run: wxengine test test/plugins/echo.test.ts
 * (in a source checkout also: node --import tsx --test test/plugins/echo.test.ts)
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createTestClient, push, type TestClient } from 'wxengine/testkit'

let client: TestClient

before(async () => {
  client = await createTestClient({ root: fileURLToPath(new URL('../..', import.meta.url)) })
})
after(() => client.close())

test('says back what follows "echo"', async () => {
  await client.expectReply('echo hi', 'hi')
  await client.expectReply('echo 你好 世界', '你好 世界')
})

test('the keyword matches in any case; the text comes back as written', async () => {
  await client.expectReply('ECHO Hello World', 'Hello World')
})

test('"echo" alone comes back whole', async () => {
  await client.expectReply('echo', 'echo')
})

test('the reply is a text message to the sender', async () => {
  const reply = await client.send('echo ping', { openId: 'o-alice' })
  assert.equal(reply.type, 'text')
  assert.equal(reply.fields?.ToUserName, 'o-alice')
})

test('text without the keyword is not echoed', async () => {
  const reply = await client.send('say hi')
  assert.notEqual(reply.content, 'say hi')
})

test('a picture is not text: echo is not asked', async () => {
  const reply = await client.send(push.message(client.openId, 'image', { PicUrl: 'https://example.com/a.jpg', MediaId: 'media-1' }))
  assert.doesNotMatch(reply.content ?? '', /example\.com/)
})
