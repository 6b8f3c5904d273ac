/**
 * The order plugin (plugins/order): a dialogue written with `dialogue()`. The session lock, its state and
 * the plugin's storage are the real ones (SQLite), and the clock is the test's, so a lapse needs no wait.
 * Run: wxengine test test/plugins/order.test.ts
 * (in a source checkout also: node --import tsx --test test/plugins/order.test.ts)
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { DialogueState } from 'wxengine/plugin'
import { createTestClient, push, type TestClient } from 'wxengine/testkit'

/** What plugins/order asks for (its own interface is not exported). */
interface Order {
  size: 'S' | 'M' | 'L'
  count: number
  note: string
}

let client: TestClient
let t = Date.UTC(2030, 0, 1, 8)

before(async () => {
  client = await createTestClient({ root: fileURLToPath(new URL('../..', import.meta.url)), only: ['order', 'menu-click'], now: () => t })
})
after(() => client.close())

test('asks size, count and a note, asking again for what it cannot read, then saves the order and lets go', async () => {
  const ann = { openId: 'o-ann' }
  await client.expectReply('order', /^Which size: S, M or L\?/, ann)
  assert.deepEqual((await client.session<DialogueState<Order>>(ann))?.state, { asking: 'size', answers: {} })

  await client.expectReply('XL', 'S, M or L, please.', ann)
  await client.expectReply('m', 'How many M?', ann)
  await client.expectReply('lots', '"lots" is not a number from 1 to 99. How many?', ann)
  // "hello" is a rule keyword, but the dialogue holds the conversation: it is the note.
  await client.expectReply('3', 'Anything we should know? ("no" if nothing)', ann)
  await client.expectReply('hello', 'Ordered: 3 × M (hello).', ann)

  assert.equal(await client.session(ann), null)
  const saved = await client.storage('order', ann).user.get<Order & { at: number }>('order')
  assert.deepEqual(saved, { size: 'M', count: 3, note: 'hello', at: t / 1000 })
})

test('"order L" starts at the count: the size came with the rule', async () => {
  await client.expectReply('ORDER l', 'How many L?', { openId: 'o-bo' })
  await client.expectReply('1', /^Anything we should know\?/, { openId: 'o-bo' })
  await client.expectReply('no', 'Ordered: 1 × L.', { openId: 'o-bo' })
})

test('"cancel" or "取消" ends it and saves nothing', async () => {
  const cy = { openId: 'o-cy' }
  await client.expectReply('下单', /^Which size/, cy)
  await client.expectReply('s', 'How many S?', cy)
  await client.expectReply('Cancel', 'Order cancelled, nothing was saved.', cy)
  assert.equal(await client.session(cy), null)
  assert.equal(await client.storage('order', cy).user.get('order'), undefined)
  await client.expectReply('order', /^Which size/, cy)
  await client.expectReply('取消', 'Order cancelled, nothing was saved.', cy)
})

test('a picture gets the open question again; a menu press goes on to its own handler; the order stays open', async () => {
  const di = { openId: 'o-di' }
  await client.expectReply('order', /^Which size/, di)
  await client.expectReply('m', 'How many M?', di)
  const picture = push.message(di.openId, 'image', { PicUrl: 'https://example.com/cat.jpg', MediaId: 'media-1' })
  await client.expectReply(picture, 'Please answer in text. How many M?')
  await client.expectReply(push.click(di.openId, 'MENU_HELP'), /^Send "survey" to take the survey/)
  assert.deepEqual((await client.session<DialogueState<Order>>(di))?.state, { asking: 'count', answers: { size: 'M' } })
  await client.expectReply('2', /^Anything we should know\?/, di)
})

test('each answer gives 5 more minutes; past them the dialogue has lapsed and the text is routed as usual', async () => {
  const ed = { openId: 'o-ed' }
  await client.expectReply('order', /^Which size/, ed)
  t += 290_000
  await client.expectReply('l', 'How many L?', ed)
  t += 290_000
  await client.expectReply('x', /is not a number/, ed)
  t += 290_000
  await client.expectReply('4', /^Anything we should know\?/, ed)
  t += 301_000
  assert.equal(await client.session(ed), null)
  await client.expectReply('fragile', /^Sorry, I did not understand that\./, ed)
  assert.equal(await client.storage('order', ed).user.get('order'), undefined)
})
