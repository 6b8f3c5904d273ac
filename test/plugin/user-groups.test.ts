/**
 * `ctx.user` (core/plugin/plugin-api.ts): the sender's groups of the account's userGroups, sent with each call
 * to the plugin's worker (and nothing sent for a sender in none). The test kit's `userGroups` option says
 * which simulated users are in which group.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createTestClient, type TestClient } from '../../core/testkit/plugin-test-client.ts'
import { pluginProject, type PluginProject } from '../support/plugin-project.ts'

const WHO = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'who',
  handle(ctx) {
    const groups: readonly string[] = ctx.user.groups
    return \`\${ctx.user.openId} in [\${groups.join(',')}] admin=\${ctx.user.inGroup('admins')} ghost=\${ctx.user.inGroup('ghosts')} sneaky=\${(groups as string[]).push('admins') > 0 && ctx.user.inGroup('admins')}\`
  },
})
`
const RULES = `rules:
  - name: who
    keywords: [who]
    plugin: who
  - name: broadcast
    keywords: [{prefix: 'broadcast '}]
    users: admins
    reply: {type: text, content: broadcast sent}
default: {reply: {type: text, content: sorry?}}
`

let project: PluginProject
let client: TestClient

before(async () => {
  project = pluginProject({ plugins: { who: WHO }, rules: { 'main.yaml': RULES } }, 'groups')
  client = await createTestClient({ root: project.root, userGroups: { admins: ['boss'], staff: ['boss', 'clerk'] } })
})
after(async () => {
  await client.close()
  project.remove()
})

test("a plugin reads the sender's groups and asks about one", async () => {
  await client.expectReply('who', 'boss in [admins,staff] admin=true ghost=false sneaky=true', { openId: 'boss' })
  await client.expectReply('who', 'clerk in [staff] admin=false ghost=false sneaky=false', { openId: 'clerk' })
  await client.expectReply('who', 'test-user in [] admin=false ghost=false sneaky=false')
})

test("the test kit's userGroups restricts rules as engine.config.ts's does", async () => {
  await client.expectReply('broadcast hi', 'broadcast sent', { openId: 'boss' })
  const r = await client.send('broadcast hi', { openId: 'clerk' })
  assert.deepEqual([r.content, r.handledBy], ['sorry?', 'default'])
})
