/**
 * The checkin and points plugins (plugins/checkin, plugins/points): two plugins that share a storage area
 * (`points`) and code (plugins/_shared/points.ts). Checked through the project's rules and menu keys, the
 * plugins in their sandboxes, a real SQLite file; the engine's clock is the test's, to move between days.
 * Run: wxengine test test/plugins/points.test.ts
 * (in a source checkout also: node --import tsx --test test/plugins/points.test.ts)
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createTestClient, push, type TestClient } from 'wxengine/testkit'

const DAY_MS = 86_400_000
/** 2026-03-02 10:00 in Beijing (02:00 UTC). */
let t = Date.UTC(2026, 2, 2, 2, 0, 0)
let client: TestClient

before(async () => {
  client = await createTestClient({ root: fileURLToPath(new URL('../..', import.meta.url)), now: () => t })
})
after(() => client.close())

test('a check-in a day earns 10 points, the 7th day in a row 20; a second one the same day earns nothing', async () => {
  const bo = { openId: 'o-bo' }
  await client.expectReply('checkin', 'Checked in: +10 points (day 1 in a row). You have 10. Send "points" to spend them.', bo)
  await client.expectReply('签到', 'You have checked in today already (day 1 in a row). Come back tomorrow!', bo)
  for (let day = 2; day <= 6; day++) {
    t += DAY_MS
    await client.expectReply('checkin', `Checked in: +10 points (day ${day} in a row). You have ${day * 10}. Send "points" to spend them.`, bo)
  }
  t += DAY_MS
  await client.expectReply('checkin', 'Checked in: +20 points (day 7 in a row). You have 80. Send "points" to spend them.', bo)
  // A day missed starts the streak again.
  t += 2 * DAY_MS
  await client.expectReply('checkin', 'Checked in: +10 points (day 1 in a row). You have 90. Send "points" to spend them.', bo)
})

test("the day is Beijing's: 07:00 there (23:00 UTC the day before) is a new day after a check-in at 23:00 Beijing time", async () => {
  const cy = { openId: 'o-cy' }
  t = Date.UTC(2026, 3, 1, 15, 0, 0) // 23:00 in Beijing
  await client.expectReply('checkin', /^Checked in: \+10 points \(day 1 in a row\)/, cy)
  t = Date.UTC(2026, 3, 1, 23, 0, 0) // 07:00 the next morning in Beijing, still April 1 in UTC
  await client.expectReply('checkin', /^Checked in: \+10 points \(day 2 in a row\)/, cy)
})

test('the points plugin sees what checkin awarded, and trades 30 for a coupon when there are 30', async () => {
  const di = { openId: 'o-di' }
  await client.expectReply('points', 'You have 0 points. A coupon takes 30: send "checkin" every day to earn more.', di)
  await client.expectReply('redeem', 'A coupon takes 30 points, and you have 0. Send "checkin" every day to earn more.', di)
  // The menu's button (key checkin), on the engine's day.
  for (let day = 0; day < 3; day++, t += DAY_MS) {
    await client.expectReply(push.click(di.openId, 'checkin', { CreateTime: Math.floor(t / 1000) }), /^Checked in: \+10 points/)
  }
  await client.expectReply('积分', 'You have 30 points. Send "redeem" to trade 30 of them for a coupon.', di)
  const got = await client.expectReply('兑换', /^Your coupon: C\d{6}\. 0 points left\.$/, di)
  await client.expectReply('points', /^You have 0 points\./, di)

  // The balance is in the shared area, not in either plugin's own storage; the coupon in points' own.
  const area = client.storage('points', di).shared('points')
  assert.equal(await area.user.get('balance'), 0)
  assert.equal(await client.storage('checkin', di).user.get('balance'), undefined)
  assert.deepEqual(await client.storage('points', di).user.get('coupons'), [got.content?.slice('Your coupon: '.length, -'. 0 points left.'.length)])
  // Another user's balance is their own.
  await area.user.set('balance', 45)
  await client.expectReply('points', /^You have 0 points\./, { openId: 'o-else' })
})
