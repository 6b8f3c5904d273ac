/**
 * The menu-click plugin (plugins/menu-click): custom-menu CLICK buttons answered from configuration.
 * The project's engine.config.ts sets a reply for MENU_HELP; this test adds its own keys through the
 * test client's `config` (merged over the project's), as a deployment would in engine.config.ts.
 * Run: wxengine test test/plugins/menu-click.test.ts
 * (in a source checkout also: node --import tsx --test test/plugins/menu-click.test.ts)
 */
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createTestClient, push, type TestClient } from 'wxengine/testkit'

let client: TestClient

before(async () => {
  client = await createTestClient({
    root: fileURLToPath(new URL('../..', import.meta.url)),
    config: { plugins: { 'menu-click': { config: { replies: { V1001_TODAY: 'Today: sunny, 25°C' } } } } },
  })
})
after(() => client.close())

test('a button is answered with the text configured for its EventKey', async () => {
  await client.expectReply(push.click(client.openId, 'V1001_TODAY'), 'Today: sunny, 25°C')
})

test('keys from the project config are kept', async () => {
  await client.expectReply(push.click(client.openId, 'MENU_HELP'), /^Send "survey" to take the survey/)
})

test('a key with no reply configured gets the fallback', async () => {
  await client.expectReply(push.click(client.openId, 'V9999_NOT_YET'), 'This button is not set up yet.')
})

test('a key named like an Object.prototype member gets the fallback, not a function', async () => {
  for (const key of ['constructor', 'toString', '__proto__']) await client.expectReply(push.click(client.openId, key), 'This button is not set up yet.')
})

test('a key that is a text keyword is routed like the text first (here: the survey)', async () => {
  await client.expectReply(push.click('o-menu-user', 'survey'), /^Question 1\/3/)
  await client.expectReply('cancel', /cancelled/, { openId: 'o-menu-user' })
})

test('an empty fallback passes the click on: the default reply answers', async () => {
  const quiet = await createTestClient({
    root: fileURLToPath(new URL('../..', import.meta.url)),
    config: { plugins: { 'menu-click': { config: { fallback: '' } } } },
  })
  try {
    await quiet.expectReply(push.click(quiet.openId, 'V9999_NOT_YET'), /^Sorry, I did not understand that/)
  } finally {
    await quiet.close()
  }
})
