/**
 * The survey plugin (plugins/survey): a conversation over several messages. The session lock, the
 * session state and the plugin's storage are the real ones (SQLite), so this is what a user would see.
 * Run: wxengine test test/plugins/survey.test.ts
 * (in a source checkout also: node --import tsx --test test/plugins/survey.test.ts)
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

test('asks three questions, then saves the answers with the user and lets go', async () => {
  const alice = { openId: 'o-alice' }
  await client.expectReply('survey', /^Question 1\/3: how did you hear about us\?/, alice)

  // From here on Alice's messages go to the survey, whatever the rules say.
  const session = await client.session(alice)
  assert.equal(session?.plugin, 'survey')
  assert.deepEqual(session?.state, { step: 0, answers: [] })

  await client.expectReply('a friend', /^Question 2\/3/, alice)
  await client.expectReply('hello', /^Question 3\/3/, alice) // "hello" is a rule keyword, but the survey holds the conversation
  await client.expectReply('more cats', 'Thank you! Your answers:\n1. a friend\n2. hello\n3. more cats', alice)

  assert.equal(await client.session(alice), null)
  const saved = await client.storage('survey', alice).user.get<{ answers: string[]; at: number }>('survey')
  assert.deepEqual(saved?.answers, ['a friend', 'hello', 'more cats'])

  // The lock is gone: "hello" reaches its rule again.
  await client.expectReply('hello', /^你好！/, alice)
})

test('"cancel" or "取消" stops it and saves nothing', async () => {
  const bob = { openId: 'o-bob' }
  await client.expectReply('survey', /^Question 1\/3/, bob)
  await client.expectReply('取消', 'Survey cancelled. Nothing was saved.', bob)
  assert.equal(await client.session(bob), null)
  assert.equal(await client.storage('survey', bob).user.get('survey'), undefined)

  await client.expectReply('SURVEY', /^Question 1\/3/, bob)
  await client.expectReply('Cancel', 'Survey cancelled. Nothing was saved.', bob)
})

test('a picture while the survey is open gets a reminder and changes nothing', async () => {
  const carol = { openId: 'o-carol' }
  await client.expectReply('survey', /^Question 1\/3/, carol)
  const picture = push.message(carol.openId, 'image', { PicUrl: 'https://example.com/cat.jpg', MediaId: 'media-1' })
  await client.expectReply(picture, 'Please answer in text. Question 1/3: how did you hear about us?')
  assert.deepEqual((await client.session(carol))?.state, { step: 0, answers: [] })
  await client.expectReply('cancel', /cancelled/, carol)
})

test('each user has their own survey', async () => {
  await client.expectReply('survey', /^Question 1\/3/, { openId: 'o-dan' })
  await client.expectReply('hello', /^你好！/, { openId: 'o-erin' })
  await client.expectReply('by mail', /^Question 2\/3/, { openId: 'o-dan' })
  assert.equal(await client.session({ openId: 'o-erin' }), null)
})
