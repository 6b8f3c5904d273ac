/**
 * A text the test client builds carries the client's clock as its CreateTime (found by a plugin-author
 * review: a sign-in plugin reads "today" off ctx.message.createTime, and moving `now` a day forward moved
 * the session and storage expiry but not the day the plugin saw).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createTestClient, push, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

let project: PluginProject
let client: TestClient
let t = Date.UTC(2030, 0, 1, 4)
const CLOCK = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({ name: 'clock', handle: (ctx) => String(ctx.message.createTime) })
`
before(async () => {
  project = pluginProject({ plugins: { clock: CLOCK }, rules: { 'main.yaml': 'rules:\n  - name: when\n    keywords: [when]\n    plugin: clock\n' } }, 'test-client-clock')
  client = await createTestClient({ root: project.root, now: () => t })
})
after(async () => {
  await client.close()
  project.remove()
})

test("a text sent as a string is sent at the client's clock, and moves with it", async () => {
  await client.expectReply('when', String(Date.UTC(2030, 0, 1, 4) / 1000))
  t += 86_400_000
  await client.expectReply('when', String(Date.UTC(2030, 0, 2, 4) / 1000))
})

test('a push built with push.text keeps the CreateTime it was given', async () => {
  await client.expectReply(push.text(client.openId, 'when', { CreateTime: 1_000 }), '1000')
})
