/**
 * Who may trigger a rule, end to end over HTTP: a real engine on loopback, userGroups in its configuration,
 * a rules file with an admin-only command and a plugin that reads ctx.user. An admin's OpenID gets the
 * command; anyone else's message falls through to the default, as if the rule were not there.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { ACCOUNTS, startHarness, type Harness } from '../support/engine-harness.ts'

const ADMIN = 'oAdmin0000000000000000000001'
const RULES = `
rules:
  - name: broadcast
    keywords: [{regex: '^broadcast (?<text>.+)$'}]
    users: admins
    plugin: broadcaster
  - name: stats
    keywords: [stats]
    users: [admins]
    reply: {type: text, content: '42 followers'}
default: {reply: {type: text, content: 'Sorry, I did not understand.'}}
`
const BROADCASTER = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'broadcaster',
  handle(ctx) {
    // A second check of its own, as a plugin reached another way would make (a session, a shared rule).
    if (!ctx.user.inGroup('admins')) return ctx.pass()
    return ctx.reply.text(\`queued for everyone: \${ctx.match.groups.text} (by \${ctx.user.groups.join('+')})\`)
  },
})
`

let h: Harness
let plugins: string

before(async () => {
  plugins = mkdtempSync(path.join(os.tmpdir(), 'wxengine-groups-plugins-'))
  mkdirSync(path.join(plugins, 'broadcaster'))
  writeFileSync(path.join(plugins, 'broadcaster', 'index.ts'), BROADCASTER)
  h = await startHarness({
    rules: { 'admin.yaml': RULES },
    plugins,
    accounts: [{ ...ACCOUNTS[0], userGroups: { admins: [ADMIN] } }],
  })
})
after(async () => {
  await h.close()
  rmSync(plugins, { recursive: true, force: true })
})

async function say(openId: string, text: string): Promise<string> {
  const res = await h.post('plain', push.text(openId, text))
  assert.equal(res.status, 200, res.body)
  return String(res.reply?.Content)
}

test("an admin's OpenID gets the admin-only rule, answered by its plugin", async () => {
  assert.equal(await say(ADMIN, 'broadcast sale today'), 'queued for everyone: sale today (by admins)')
  assert.equal(await say(ADMIN, 'stats'), '42 followers')
})

test('anyone else falls through to the default: nothing says the rule exists', async () => {
  assert.equal(await say('oFollower000000000000000001', 'broadcast sale today'), 'Sorry, I did not understand.')
  assert.equal(await say('oFollower000000000000000001', 'stats'), 'Sorry, I did not understand.')
})

test('a reload checks users: against the same groups: an undefined one is refused and the last good rules stay', async () => {
  const file = path.join(h.dir, 'rules', 'more.yaml')
  writeFileSync(file, 'rules:\n  - name: purge\n    keywords: [purge]\n    users: ghosts\n    reply: {type: text, content: purged}\n')
  try {
    assert.equal(await h.runtime.reload(), false)
    // Parsed in the reload's worker thread: the group names reach it with the other options.
    const refused = h.lines.find((l) => l.code === 'RULE_INVALID' && String(l.msg).includes('more.yaml:4:12: rule "purge": users: no account defines a group "ghosts"'))
    assert.ok(refused, 'the reload names the file, the line and the undefined group')
    assert.equal(await say(ADMIN, 'stats'), '42 followers')
  } finally {
    rmSync(file)
  }
})
