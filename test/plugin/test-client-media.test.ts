/**
 * The test kit's `client.addMedia`: a user's file for `ctx.api.downloadMedia`, in the account the test names,
 * without the account's AppID. `client.platform.addMedia` wants the AppID, and a test kit account without an
 * AppSecret is given a stand-in one a newcomer could not find (a newcomer's review: errcode 40007).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createTestClient, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

let project: PluginProject
let client: TestClient

const PLUGIN = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'listener',
  async handle(ctx) {
    if (ctx.message.kind !== 'voice') return ctx.pass()
    const got = await ctx.api.downloadMedia(ctx.message.mediaId)
    return 'data' in got ? \`heard \${got.data.length} bytes of \${got.contentType}\` : 'a video?'
  },
})
`

before(async () => {
  project = pluginProject({ plugins: { listener: PLUGIN }, rules: { 'main.yaml': 'handlers:\n  - type: voice\n    plugin: listener\n' } }, 'testkit-media')
  client = await createTestClient({ root: project.root })
})
after(async () => {
  await client.close()
  project.remove()
})

test("client.addMedia gives downloadMedia a user's file, by media_id alone", async () => {
  client.addMedia('VOICE1', { contentType: 'audio/amr', bytes: new Uint8Array([1, 2, 3, 4, 5]) })
  await client.expectReply(push.message('u-voice', 'voice', { MediaId: 'VOICE1', Format: 'amr', MsgId: '7001' }), 'heard 5 bytes of audio/amr')
})

test('an account the project does not have is refused, naming it', () => {
  assert.throws(() => client.addMedia('VOICE2', { videoUrl: 'http://v.example/x.mp4' }, { account: 'nope' }), /nope/)
})
