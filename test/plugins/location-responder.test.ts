/**
 * The location-responder plugin (plugins/location-responder): answers a location shared in the chat,
 * routed by the `location` type handler in rules/default.yaml.
 * Run: wxengine test test/plugins/location-responder.test.ts
 * (in a source checkout also: node --import tsx --test test/plugins/location-responder.test.ts)
 */
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createTestClient, push, type TestClient } from 'wxengine/testkit'

let client: TestClient

before(async () => {
  client = await createTestClient({ root: fileURLToPath(new URL('../..', import.meta.url)) })
})
after(() => client.close())

test('a shared place is answered with its label and coordinates', async () => {
  const place = push.location(client.openId, { latitude: 23.134521, longitude: 113.358803, scale: 20, label: '广州市天河区' })
  await client.expectReply(place, '广州市天河区 is at latitude 23.134521, longitude 113.358803.')
})

test('a place without a label is still answered', async () => {
  await client.expectReply(push.location(client.openId, { latitude: 39.9, longitude: 116.4 }), 'That place is at latitude 39.9, longitude 116.4.')
})

test('the automatic location report is not something the user wrote: no reply', async () => {
  await client.expectNoReply(push.event(client.openId, 'LOCATION', { Latitude: 23.13, Longitude: 113.26, Precision: 65 }))
})
