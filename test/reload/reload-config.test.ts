/**
 * A reload of a runtime given `rereadConfig` (as `start` and `dev` give it) reads engine.config.ts again:
 * its accounts' userGroups and its plugins section are applied, message by message (a message in flight
 * keeps the groups it started with); a configuration that does not load refuses the reload; any other change
 * is named, without values, in one warning for a restart. Without `rereadConfig` a reload reads rules/ and
 * plugins/ only, as before. A real runtime on a real project folder; messages through the engine itself.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { loadConfig } from '../../core/config/load-config.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { startRuntime, type Runtime } from '../../core/runtime.ts'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'

const ADMIN = 'oAdmin0000000000000000000001'
const USER = 'oUser00000000000000000000001'
const TOKEN = 'secrettoken0001'
const NEW_TOKEN = 'secrettoken0002'

const RULES = `
rules:
  - name: stats
    keywords: [stats]
    users: admins
    reply: {type: text, content: '42 followers'}
  - name: greet
    keywords: [greet]
    plugin: greeter
  - name: slow
    keywords: [slow]
    users: admins
    plugin: slow
default: {reply: {type: text, content: 'Sorry'}}
`
const GREETER = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({ name: 'greeter', handle: (ctx) => ctx.reply.text(String(ctx.config.greeting)) })
`
// Answers, after a while, with the groups the sender was in when the message came.
const SLOW = `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'slow',
  async handle(ctx) {
    await new Promise((r) => setTimeout(r, Number(ctx.config.ms)))
    return ctx.reply.text('groups: ' + ctx.user.groups.join('+'))
  },
})
`

interface Settings {
  admins?: string[]
  greeting?: string
  token?: string
  port?: number
  /** Replaces the file's text. */
  raw?: string
}

let dir: string
const configFile = () => path.join(dir, 'engine.config.ts')

function writeConfig(s: Settings = {}): void {
  if (s.raw !== undefined) return writeFileSync(configFile(), s.raw)
  const groups = s.admins ? `userGroups: { admins: ${JSON.stringify(s.admins)} },` : ''
  writeFileSync(
    configFile(),
    `export default {
  port: ${s.port ?? 0},
  host: '127.0.0.1',
  store: { kind: 'memory' },
  limits: { pluginIsolation: 'thread' },
  accounts: [
    { id: 'default', token: ${JSON.stringify(s.token ?? TOKEN)}, appId: 'wx1111111111111111', mode: 'plaintext', ${groups} },
  ],
  plugins: {
    greeter: { config: { greeting: ${JSON.stringify(s.greeting ?? 'hello')} } },
    // Long enough for a reload (thread workers) to end first on a busy machine; within the 4.5 s budget.
    slow: { config: { ms: 3000 } },
  },
}
`,
  )
}

const read = () => loadConfig({ root: dir, env: {} })

async function start(withReread: boolean) {
  const loaded = read()
  if (!loaded.ok) throw new Error(loaded.error.reason)
  const { logger, lines } = createMemoryLogger('info')
  const runtime = await startRuntime(loaded.value, { listen: false, log: logger, rereadConfig: withReread ? { file: configFile(), read } : undefined })
  const account: AccountConfig = loaded.value.accounts[0]
  const sim = createWeChatSimulator({ account })
  const say = async (openId: string, text: string): Promise<string> => {
    const req = sim.request(push.text(openId, text))
    const res = await runtime.engine.handle({ method: 'POST', accountId: 'default', query: req.query, body: req.body })
    assert.equal(res.status, 200)
    const opened = sim.openReply(res.body)
    return String(opened.fields?.Content)
  }
  return { runtime, lines, say }
}

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-reload-config-'))
  mkdirSync(path.join(dir, 'rules'))
  writeFileSync(path.join(dir, 'rules', 'main.yaml'), RULES)
  for (const [name, source] of [['greeter', GREETER], ['slow', SLOW]]) {
    mkdirSync(path.join(dir, 'plugins', name), { recursive: true })
    writeFileSync(path.join(dir, 'plugins', name, 'index.ts'), source)
  }
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('a runtime given rereadConfig', () => {
  let h: Awaited<ReturnType<typeof start>>
  beforeEach(async () => {
    await h?.runtime.close()
    writeConfig({ admins: [ADMIN] })
    h = await start(true)
  })
  after(async () => h?.runtime.close())

  it('a user added to userGroups.admins triggers the admin rule after a reload, and no longer once removed: no restart', async () => {
    assert.equal(await h.say(USER, 'stats'), 'Sorry')
    writeConfig({ admins: [ADMIN, USER] })
    assert.equal(await h.runtime.reload(), true)
    assert.equal(await h.say(USER, 'stats'), '42 followers')
    writeConfig({ admins: [ADMIN] })
    assert.equal(await h.runtime.reload(), true)
    assert.equal(await h.say(USER, 'stats'), 'Sorry')
    assert.equal(await h.say(ADMIN, 'stats'), '42 followers')
    // Nothing else changed: no restart warning.
    assert.equal(h.lines.filter((l) => l.level === 40 && /a restart applies/.test(String(l.msg))).length, 0)
  })

  it("a plugin's config changed in engine.config.ts reaches ctx.config after a reload", async () => {
    assert.equal(await h.say(USER, 'greet'), 'hello')
    writeConfig({ admins: [ADMIN], greeting: 'bonjour' })
    assert.equal(await h.runtime.reload(), true)
    assert.equal(await h.say(USER, 'greet'), 'bonjour')
  })

  it('a message in flight keeps the groups it started with; the next one sees the new ones', async () => {
    const inFlight = h.say(ADMIN, 'slow')
    let answered = false
    void inFlight.then(() => (answered = true))
    // ADMIN leaves the group while their message is with the plugin (the group stays: another admin in it).
    writeConfig({ admins: [USER] })
    assert.equal(await h.runtime.reload(), true)
    assert.equal(answered, false, 'the reload ended before the message did (else this proves nothing)')
    assert.equal(await inFlight, 'groups: admins')
    assert.equal(await h.say(ADMIN, 'slow'), 'Sorry')
  })

  it('an engine.config.ts that does not load refuses the reload, saying where; the old groups serve on', async () => {
    writeConfig({ raw: `export default {\n  accounts: [\n    { id: 'default', userGroups: { admins: ['${USER}'] }\n  ],\n}\n` })
    assert.equal(await h.runtime.reload(), false)
    const refused = h.lines.find((l) => l.code === 'BAD_CONFIG' && /^reload refused, keeping the last good set:\n {2}engine\.config\.ts:4:\d+: SyntaxError/.test(String(l.msg).replace(/\S*engine\.config\.ts/, 'engine.config.ts')))
    assert.ok(refused, `the refusal names the file and line:\n${h.lines.map((l) => l.msg).join('\n')}`)
    assert.equal(await h.say(USER, 'stats'), 'Sorry')
    assert.equal(await h.say(ADMIN, 'stats'), '42 followers')

    // A setting that is wrong: named by its path, as at start.
    writeConfig({ admins: [ADMIN, 'not an openid'] })
    assert.equal(await h.runtime.reload(), false)
    assert.ok(h.lines.some((l) => l.code === 'BAD_CONFIG' && String(l.msg).includes('accounts[0].userGroups.admins[1]: must be an OpenID')))
    assert.equal(await h.say(ADMIN, 'stats'), '42 followers')
    const refusals = (await h.runtime.metrics.reloads.get()).values.find((v) => v.labels.outcome === 'refused')
    assert.equal(refusals?.value, 2, 'counted as refused reloads')
  })

  it('a group a rule names, removed from engine.config.ts, refuses the reload with the rules check wording', async () => {
    writeConfig({})
    assert.equal(await h.runtime.reload(), false)
    assert.ok(h.lines.some((l) => l.code === 'RULE_INVALID' && /rule "stats": users: no account defines a group "admins"/.test(String(l.msg))))
    assert.equal(await h.say(ADMIN, 'stats'), '42 followers')
  })

  it('a changed port and token: the reload applies the rest and one warning names them, without the secret', async () => {
    writeConfig({ admins: [ADMIN, USER], token: NEW_TOKEN, port: 8081 })
    assert.equal(await h.runtime.reload(), true)
    const warnings = h.lines.filter((l) => l.level === 40 && /a restart applies/.test(String(l.msg)))
    assert.equal(warnings.length, 1)
    assert.match(String(warnings[0].msg), /^port, accounts\[0\]\.token: changed in \S*engine\.config\.ts; a restart applies them$/)
    const everything = JSON.stringify(h.lines)
    assert.ok(!everything.includes(NEW_TOKEN) && !everything.includes(TOKEN), 'no token in the log')
    // The groups were applied; the token was not (the simulator signs with the start's token).
    assert.equal(await h.say(USER, 'stats'), '42 followers')
  })
})

it('a runtime without rereadConfig (the test kit, send --local) reloads rules and plugins only, as before', async () => {
  writeConfig({ admins: [ADMIN] })
  const h = await start(false)
  try {
    writeConfig({ admins: [ADMIN, USER], greeting: 'bonjour', token: NEW_TOKEN })
    assert.equal(await h.runtime.reload(), true)
    assert.equal(await h.say(USER, 'stats'), 'Sorry')
    assert.equal(await h.say(USER, 'greet'), 'hello')
    assert.equal(h.lines.filter((l) => /a restart applies/.test(String(l.msg))).length, 0)
  } finally {
    await h.runtime.close()
  }
})
