/**
 * routeMessage in isolation: real YAML rules (loadRuleSet), a PluginSet whose plugins are plain functions,
 * the in-memory session store. The order every candidate is tried in, what a pass / error / missing plugin
 * does, and how session calls are applied. The same behaviour through the real engine and sandbox:
 * test/e2e/routing.test.ts.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { dedupKeyOf } from '../../core/dedup/dedup-key.ts'
import { createLogger } from '../../core/log/logger.ts'
import type { EngineError, ErrorCode } from '../../core/errors.ts'
import type { InboundMessage, RawFields } from '../../core/normalize/message-types.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'
import type { AccountInfo } from '../../core/plugin/plugin-api.ts'
import type { PluginCall, PluginOutcome, PluginSet, SessionOp } from '../../core/plugin/plugin-host-types.ts'
import { routeMessage, type RouteDeps } from '../../core/route/router.ts'
import type { RuleSet } from '../../core/route/rule-types.ts'
import { loadRuleSet } from '../../core/route/rules/load-rule-set.ts'
import { buildUserGroupIndex, NO_GROUPS } from '../../core/route/user-groups.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import type { SessionStore, Store } from '../../core/store/store.ts'
import { openRedisStore } from '../../core/store/redis-store.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'
import { until } from '../support/until.ts'
import { push, type PushFields } from '../../core/testkit/wechat-simulator.ts'

const ACCOUNT: AccountInfo = { id: 'acct', appId: 'wxacct' }
const tmpDirs: string[] = []
after(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true })
})

async function rulesFrom(files: Record<string, string>): Promise<RuleSet> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-router-'))
  tmpDirs.push(dir)
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text)
  const loaded = await loadRuleSet(dir)
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors))
  return loaded.ruleSet
}

function messageOf(fields: PushFields): InboundMessage {
  const raw: RawFields = {}
  for (const [k, v] of Object.entries(fields)) raw[k] = String(v)
  const m = normalizeMessage(raw)
  if (!m.ok) throw new Error(m.error.reason)
  return m.value
}

type Behaviour = (call: PluginCall) => PluginOutcome | Promise<PluginOutcome>
const answer = (content: string, sessionOps: SessionOp[] = []): PluginOutcome => ({ status: 'reply', reply: { type: 'text', content }, sessionOps })
const pass = (sessionOps: SessionOp[] = []): PluginOutcome => ({ status: 'pass', sessionOps })
const failure = (code: ErrorCode, sessionOps: SessionOp[] = []): PluginOutcome => ({ status: 'error', error: { code, reason: `${code} on purpose` }, sessionOps })

/** Plugins as functions; `calls` lists "plugin:rule" in the order they were tried. */
function pluginsOf(behaviours: Record<string, Behaviour>): PluginSet & { calls: string[]; lastCall: Map<string, PluginCall> } {
  const calls: string[] = []
  const lastCall = new Map<string, PluginCall>()
  return {
    calls,
    lastCall,
    has: (name) => name in behaviours,
    names: () => Object.keys(behaviours),
    manifest: () => undefined,
    sharedAreas: () => [],
    async invoke(call) {
      calls.push(`${call.plugin}:${call.match?.rule}`)
      lastCall.set(call.plugin, call)
      return behaviours[call.plugin](call)
    },
    dispose: async () => undefined,
    retire: () => undefined,
  }
}

/** `pluginErrors`: each fault told, with whether its plugin held the user's lock (which its failure ends). */
function depsOf(rules: RuleSet, plugins: PluginSet, sessions: SessionStore = createMemoryStore().sessions): RouteDeps & { pluginErrors: Array<[string, EngineError, boolean]> } {
  const pluginErrors: Array<[string, EngineError, boolean]> = []
  return { rules, plugins, sessions, now: Date.now, onPluginError: (p, e, _about, heldLock) => void pluginErrors.push([p, e, heldLock === true]), pluginErrors }
}

describe('the order candidates are tried in', () => {
  // One plugin per candidate, named like its rule, and all pass: the router walks the whole candidate list
  // and `calls` is that list. (A plugin is asked once per message: one shared plugin would hide the order.)
  const FILES = {
    'b.yaml': `
rules:
  - { name: b-first, keywords: [{ contains: go }], plugin: b-first }
  - { name: b-high, keywords: [{ prefix: go }], plugin: b-high, priority: 5 }
handlers:
  - { type: click, plugin: click-b, name: click-b }
default: { plugin: dflt }
`,
    'a.yaml': `
rules:
  - { name: a-first, keywords: [{ regex: '^g(o)' }], plugin: a-first }
  - { name: a-low, keywords: [go], plugin: a-low, priority: -1 }
  - { name: a-second, keywords: [go], plugin: a-second }
handlers:
  - { type: click, plugin: click-a, name: click-a }
  - { type: click, plugin: click-top, name: click-top, priority: 1 }
welcome: { plugin: wlc }
`,
  }
  const NAMES = ['b-first', 'b-high', 'a-first', 'a-low', 'a-second', 'click-a', 'click-b', 'click-top', 'dflt', 'wlc']
  const allPass = (overrides: Record<string, Behaviour> = {}) => pluginsOf({ ...Object.fromEntries(NAMES.map((n) => [n, () => pass()])), ...overrides })
  const rulesTried = (calls: string[]) => calls.map((c) => c.slice(c.indexOf(':') + 1))

  it('text: priority (higher first), then file name, then position; then default; no handlers for text', async () => {
    const plugins = allPass()
    const r = await routeMessage(messageOf(push.text('u1', 'go')), ACCOUNT, depsOf(await rulesFrom(FILES), plugins))
    assert.deepEqual(rulesTried(plugins.calls), ['b-high', 'a-first', 'a-second', 'b-first', 'a-low', 'default'])
    assert.deepEqual(r, { reply: null, handledBy: 'none', errors: [] })
  })

  it('click: text rules (fromClick) before click handlers (priority, then file, then position), then default', async () => {
    const plugins = allPass()
    await routeMessage(messageOf(push.event('u1', 'CLICK', { EventKey: 'go' })), ACCOUNT, depsOf(await rulesFrom(FILES), plugins))
    assert.deepEqual(rulesTried(plugins.calls), ['b-high', 'a-first', 'a-second', 'b-first', 'a-low', 'click-top', 'click-a', 'click-b', 'default'])
    assert.equal(plugins.lastCall.get('dflt')?.match?.fromClick, false, 'default is not a click match')
  })

  it('a session comes first, with its own match; subscribe gets welcome and never default', async () => {
    const plugins = allPass()
    const deps = depsOf(await rulesFrom(FILES), plugins)
    await deps.sessions.put({ account: 'acct', openId: 'u1', plugin: 'a-first', state: { step: 2 }, expiresAt: Date.now() + 60_000 })
    await routeMessage(messageOf(push.event('u1', 'subscribe')), ACCOUNT, deps)
    assert.deepEqual(plugins.calls, ['a-first:session:a-first', 'wlc:welcome'])
    assert.deepEqual(plugins.lastCall.get('a-first')?.session, { active: true, state: { step: 2 } })
  })

  it('a plugin is asked once per message: after it passed (or failed) as one candidate, its later ones are skipped', async () => {
    for (const first of [() => pass(), () => failure('PLUGIN_ERROR')]) {
      const plugins = allPass({ 'a-first': first })
      const deps = depsOf(await rulesFrom(FILES), plugins)
      // The lock holder's own rule (a-first) matches the text too.
      await deps.sessions.put({ account: 'acct', openId: 'u1', plugin: 'a-first', state: {}, expiresAt: Date.now() + 60_000 })
      await routeMessage(messageOf(push.text('u1', 'go')), ACCOUNT, deps)
      assert.deepEqual(rulesTried(plugins.calls), ['session:a-first', 'b-high', 'a-second', 'b-first', 'a-low', 'default'])
    }
  })

  it('an event that is not a user action gets neither welcome nor default', async () => {
    const plugins = allPass()
    const rules = await rulesFrom(FILES)
    for (const fields of [push.event('u1', 'unsubscribe'), push.event('u1', 'VIEW', { EventKey: 'https://x' }), push.event('u1', 'LOCATION', { Latitude: 1, Longitude: 2, Precision: 3 })]) {
      const r = await routeMessage(messageOf(fields), ACCOUNT, depsOf(rules, plugins))
      assert.equal(r.handledBy, 'none')
    }
    assert.deepEqual(plugins.calls, [])
  })

  it("a user's message of a type the engine does not read gets the default; an event it does not read does not (found by a routing review)", async () => {
    const plugins = allPass()
    const rules = await rulesFrom(FILES)
    // A MsgType the platform may add, and a known one whose fields do not fit (a location without its Scale):
    // both `unknown`, both sent by the user. They got nothing at all, where any other message gets the default.
    for (const fields of [push.message('u1', 'channels_card', { MsgId: '1' }), push.message('u1', 'location', { Location_X: 'a', Location_Y: '2', Scale: '3', Label: '', MsgId: '2' })]) {
      const message = messageOf(fields)
      assert.equal(message.kind, 'unknown')
      plugins.calls.length = 0
      await routeMessage(message, ACCOUNT, depsOf(rules, plugins))
      assert.deepEqual(rulesTried(plugins.calls), ['default'], String(fields.MsgType))
    }
    plugins.calls.length = 0
    await routeMessage(messageOf(push.event('u1', 'some_new_event')), ACCOUNT, depsOf(rules, plugins))
    assert.deepEqual(plugins.calls, [])
  })

  it('the first reply wins and is described: handledBy, rule, keyword, plugin', async () => {
    const plugins = allPass({ 'a-second': () => answer('second') })
    const r = await routeMessage(messageOf(push.text('u1', 'GO')), ACCOUNT, depsOf(await rulesFrom(FILES), plugins))
    assert.deepEqual(rulesTried(plugins.calls), ['b-high', 'a-first', 'a-second'])
    assert.deepEqual(r, { reply: { type: 'text', content: 'second' }, handledBy: 'rule', rule: 'a-second', keyword: 'go', plugin: 'a-second', errors: [] })
  })
})

describe('fall-through', () => {
  const FILES = {
    'r.yaml': `
rules:
  - { name: one, keywords: [x], plugin: one, priority: 4 }
  - { name: ghost, keywords: [x], plugin: ghost, priority: 3 }
  - { name: two, keywords: [x], plugin: two, priority: 2 }
  - { name: three, keywords: [x], plugin: three, priority: 1 }
  - { name: inline, keywords: [x], reply: { type: text, content: inline } }
default: { reply: { type: text, content: sorry } }
`,
  }

  it('errors, bad replies, timeouts and a plugin that is not loaded are recorded, reported, and the next candidate answers', async () => {
    const plugins = pluginsOf({ one: () => failure('PLUGIN_ERROR'), two: () => failure('PLUGIN_TIMEOUT'), three: () => failure('PLUGIN_BAD_REPLY') })
    const deps = depsOf(await rulesFrom(FILES), plugins)
    const r = await routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, deps)
    assert.deepEqual(r.reply, { type: 'text', content: 'inline' })
    assert.equal(r.rule, 'inline')
    assert.equal(r.plugin, undefined)
    assert.deepEqual(r.errors.map((e) => `${e.plugin}:${e.code}`), ['one:PLUGIN_ERROR', 'ghost:PLUGIN_LOAD', 'two:PLUGIN_TIMEOUT', 'three:PLUGIN_BAD_REPLY'])
    assert.deepEqual(deps.pluginErrors.map(([p, e]) => `${p}:${e.code}`), ['one:PLUGIN_ERROR', 'ghost:PLUGIN_LOAD', 'two:PLUGIN_TIMEOUT', 'three:PLUGIN_BAD_REPLY'])
    assert.match(r.errors[1].reason, /rule "ghost" names plugin "ghost", which is not loaded/)
  })

  it('session calls of a plugin that failed are not applied (no lock on a dialogue nobody started)', async () => {
    const sessions = createMemoryStore().sessions
    const plugins = pluginsOf({
      one: () => failure('PLUGIN_ERROR', [{ op: 'begin', ttlMs: 60_000, state: { step: 1 } }]),
      two: () => answer('two', []),
      three: () => answer('three'),
    })
    const r = await routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, depsOf(await rulesFrom(FILES), plugins, sessions))
    assert.equal(r.plugin, 'two')
    assert.equal(await sessions.get('acct', 'u1'), null)
  })

  it('once the engine has spent the reply budget, no further candidate is tried', async () => {
    const signal = { budgetSpent: false, key: 'k' }
    const plugins = pluginsOf({
      one: () => {
        signal.budgetSpent = true
        return pass()
      },
      two: () => answer('too late to try'),
      three: () => answer('never'),
    })
    const r = await routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, depsOf(await rulesFrom(FILES), plugins), signal)
    assert.deepEqual(plugins.calls, ['one:one'])
    assert.equal(r.reply, null)
  })

  it('a message whose budget was spent before routing began (queued behind its user) still gets its first plugin, and only that', async () => {
    const signal = { budgetSpent: true, key: 'k' }
    const plugins = pluginsOf({ one: () => pass(), two: () => answer('too late to try') })
    const r = await routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, depsOf(await rulesFrom(FILES), plugins), signal)
    assert.deepEqual(plugins.calls, ['one:one'])
    assert.equal(r.reply, null)
    const answering = pluginsOf({ one: () => answer('late but here') })
    const late = await routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, depsOf(await rulesFrom(FILES), answering), { budgetSpent: true, key: 'k' })
    assert.equal(late.plugin, 'one')
  })
})

describe('error: the reply when a plugin failed and nothing else answered', () => {
  const FILES = {
    'r.yaml': `
rules:
  - { name: broken, keywords: [x], plugin: broken }
  - { name: fine, keywords: [y], plugin: fine }
default: { reply: { type: text, content: did not understand } }
error: { reply: { type: text, content: went wrong } }
welcome: { reply: { type: text, content: welcome } }
handlers:
  - { type: subscribe, plugin: broken }
`,
  }

  it('a failed plugin: error instead of default; no failure: default', async () => {
    const plugins = pluginsOf({ broken: () => failure('PLUGIN_ERROR'), fine: () => pass() })
    const rules = await rulesFrom(FILES)
    const failed = await routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, depsOf(rules, plugins))
    assert.deepEqual([failed.reply, failed.handledBy, failed.rule], [{ type: 'text', content: 'went wrong' }, 'error', 'error'])
    assert.deepEqual(failed.errors.map((e) => `${e.plugin}:${e.code}`), ['broken:PLUGIN_ERROR'])
    const passed = await routeMessage(messageOf(push.text('u1', 'y')), ACCOUNT, depsOf(rules, plugins))
    assert.deepEqual([passed.reply, passed.handledBy], [{ type: 'text', content: 'did not understand' }, 'default'])
    const unmatched = await routeMessage(messageOf(push.text('u1', 'zzz')), ACCOUNT, depsOf(rules, plugins))
    assert.equal(unmatched.handledBy, 'default')
  })

  it('a rule naming a plugin that is not loaded (disabled, or left out by the test kit) is no failure: default', async () => {
    const r = await routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, depsOf(await rulesFrom(FILES), pluginsOf({ fine: () => pass() })))
    assert.deepEqual([r.reply, r.handledBy], [{ type: 'text', content: 'did not understand' }, 'default'])
    assert.deepEqual(r.errors.map((e) => `${e.plugin}:${e.code}`), ['broken:PLUGIN_LOAD'], 'still recorded')
  })

  it('a subscribe whose handler failed still gets the welcome', async () => {
    const r = await routeMessage(messageOf(push.event('u1', 'subscribe')), ACCOUNT, depsOf(await rulesFrom(FILES), pluginsOf({ broken: () => failure('PLUGIN_TIMEOUT') })))
    assert.deepEqual([r.reply, r.handledBy], [{ type: 'text', content: 'welcome' }, 'welcome'])
  })

  it('without an error target, a failure falls back to default as before', async () => {
    const files = { 'r.yaml': FILES['r.yaml'].replace(/^error:.*$/m, '') }
    const r = await routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, depsOf(await rulesFrom(files), pluginsOf({ broken: () => failure('PLUGIN_BAD_REPLY') })))
    assert.deepEqual([r.reply, r.handledBy], [{ type: 'text', content: 'did not understand' }, 'default'])
  })
})

describe("the message's key", () => {
  const FILES = {
    'r.yaml': `
rules:
  - { name: x, keywords: [x], plugin: broken }
  - { name: gone, keywords: [x], plugin: missing }
  - { name: fine, keywords: [x], plugin: fine }
`,
  }

  it("the signal's key (the engine's, made once) is the one the plugin call and every callback get: none is made again from the message", async () => {
    const plugins = pluginsOf({ broken: () => failure('PLUGIN_ERROR'), fine: () => answer('ok') })
    const deps = depsOf(await rulesFrom(FILES), plugins)
    const told: string[] = []
    deps.onPluginError = (plugin, _error, about) => void told.push(`${plugin} ${about.account} ${about.openId} ${about.key}`)
    const r = await routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, deps, { budgetSpent: false, key: 'the-engine-key' })
    assert.equal(r.plugin, 'fine')
    assert.deepEqual([plugins.lastCall.get('broken')?.key, plugins.lastCall.get('fine')?.key], ['the-engine-key', 'the-engine-key'])
    assert.deepEqual(told, ['broken acct u1 the-engine-key', 'missing acct u1 the-engine-key'])
  })

  it('without a signal (a caller other than the engine), the key is made as the engine makes it', async () => {
    const plugins = pluginsOf({ broken: () => failure('PLUGIN_ERROR'), fine: () => answer('ok') })
    const deps = depsOf(await rulesFrom(FILES), plugins)
    const keys: string[] = []
    deps.onPluginError = (_plugin, _error, about) => void keys.push(about.key)
    const message = messageOf(push.text('u1', 'x'))
    await routeMessage(message, ACCOUNT, deps)
    assert.deepEqual(keys, [dedupKeyOf(ACCOUNT.id, message), dedupKeyOf(ACCOUNT.id, message)])
    assert.equal(plugins.lastCall.get('fine')?.key, dedupKeyOf(ACCOUNT.id, message))
  })
})

describe('sessions', () => {
  const FILES = {
    'r.yaml': `
rules:
  - { name: hi, keywords: [hi], plugin: greeter }
  - { name: ask, keywords: [ask], plugin: asker }
default: { reply: { type: text, content: sorry } }
`,
  }

  it('begin by a rule plugin locks the user; the lock beats a matching rule; end releases it', async () => {
    const store = createMemoryStore()
    const plugins = pluginsOf({
      greeter: () => answer('hello'),
      asker: (c) => {
        const text = c.message.kind === 'text' ? c.message.content : ''
        if (!c.session.active) return answer('question?', [{ op: 'begin', ttlMs: 60_000, state: { q: 1 } }])
        if (text === 'done') return answer('bye', [{ op: 'end' }])
        return answer(`answer ${text} to ${JSON.stringify(c.session.state)}`, [{ op: 'update', state: { q: 2 } }])
      },
    })
    const deps = depsOf(await rulesFrom(FILES), plugins, store.sessions)
    const send = async (text: string) => routeMessage(messageOf(push.text('u1', text)), ACCOUNT, deps)
    assert.equal((await send('ask')).handledBy, 'rule')
    assert.deepEqual((await store.sessions.get('acct', 'u1'))?.state, { q: 1 })
    const locked = await send('hi')
    assert.deepEqual(locked.reply, { type: 'text', content: 'answer hi to {"q":1}' })
    assert.equal(locked.handledBy, 'session')
    assert.equal(locked.rule, undefined)
    assert.equal(locked.plugin, 'asker')
    assert.equal(plugins.lastCall.get('asker')?.match?.via, 'session')
    assert.deepEqual((await store.sessions.get('acct', 'u1'))?.state, { q: 2 })
    assert.deepEqual((await send('done')).reply, { type: 'text', content: 'bye' })
    assert.equal(await store.sessions.get('acct', 'u1'), null)
    assert.deepEqual((await send('hi')).reply, { type: 'text', content: 'hello' })
  })

  it('a lock holder that passes keeps the lock and routing continues; another plugin cannot end the lock', async () => {
    const store = createMemoryStore()
    const plugins = pluginsOf({ greeter: () => answer('hello', [{ op: 'end' }]), asker: () => pass() })
    const deps = depsOf(await rulesFrom(FILES), plugins, store.sessions)
    await store.sessions.put({ account: 'acct', openId: 'u1', plugin: 'asker', state: null, expiresAt: Date.now() + 60_000 })
    const r = await routeMessage(messageOf(push.text('u1', 'hi')), ACCOUNT, deps)
    assert.deepEqual(plugins.calls, ['asker:session:asker', 'greeter:hi'])
    assert.equal(r.handledBy, 'rule')
    assert.equal((await store.sessions.get('acct', 'u1'))?.plugin, 'asker')
  })

  it('session calls made before a pass are applied, as with a reply (docs/plugins.md), and routing goes on', async () => {
    const store = createMemoryStore()
    // asker: begins a lock on its rule's text, then passes; in the lock it records a new state and passes.
    const plugins = pluginsOf({
      greeter: () => answer('hello'),
      asker: (c) => (c.session.active ? pass([{ op: 'update', state: { q: 2 } }]) : pass([{ op: 'begin', ttlMs: 60_000, state: { q: 1 } }])),
    })
    const deps = depsOf(await rulesFrom(FILES), plugins, store.sessions)
    const begun = await routeMessage(messageOf(push.text('u1', 'ask')), ACCOUNT, deps)
    assert.deepEqual([begun.reply, begun.handledBy], [{ type: 'text', content: 'sorry' }, 'default'])
    assert.deepEqual((await store.sessions.get('acct', 'u1'))?.state, { q: 1 })
    const held = await routeMessage(messageOf(push.text('u1', 'hi')), ACCOUNT, deps)
    assert.deepEqual([held.reply, held.handledBy], [{ type: 'text', content: 'hello' }, 'rule'])
    const after = await store.sessions.get('acct', 'u1')
    assert.deepEqual([after?.plugin, after?.state], ['asker', { q: 2 }])
  })

  it("a lock in one account does not hold the same OpenID's messages to another, nor is it ended there", async () => {
    const store = createMemoryStore()
    const plugins = pluginsOf({ greeter: () => answer('hello'), asker: () => answer('in the dialogue', [{ op: 'end' }]) })
    const deps = depsOf(await rulesFrom(FILES), plugins, store.sessions)
    await store.sessions.put({ account: 'acct', openId: 'u1', plugin: 'asker', state: { q: 1 }, expiresAt: Date.now() + 60_000 })
    const other = await routeMessage(messageOf(push.text('u1', 'hi')), { id: 'other', appId: 'wxother' }, deps)
    assert.deepEqual([other.reply, other.handledBy], [{ type: 'text', content: 'hello' }, 'rule'])
    assert.deepEqual(plugins.calls, ['greeter:hi'])
    assert.deepEqual((await store.sessions.get('acct', 'u1'))?.state, { q: 1 })
    assert.equal((await routeMessage(messageOf(push.text('u1', 'hi')), ACCOUNT, deps)).handledBy, 'session')
  })

  for (const code of ['PLUGIN_ERROR', 'PLUGIN_TIMEOUT', 'PLUGIN_BAD_REPLY'] as const) {
    it(`a lock holder that fails (${code}) loses the lock; the message goes on down the routing order`, async () => {
      const store = createMemoryStore()
      const plugins = pluginsOf({ greeter: () => answer('hello'), asker: () => failure(code, [{ op: 'refresh', ttlMs: 60_000 }]) })
      const deps = depsOf(await rulesFrom(FILES), plugins, store.sessions)
      await store.sessions.put({ account: 'acct', openId: 'u1', plugin: 'asker', state: { q: 1 }, expiresAt: Date.now() + 60_000 })
      const r = await routeMessage(messageOf(push.text('u1', 'hi')), ACCOUNT, deps)
      assert.deepEqual(plugins.calls, ['asker:session:asker', 'greeter:hi'])
      assert.deepEqual(r.reply, { type: 'text', content: 'hello' })
      assert.deepEqual(r.errors.map((e) => `${e.plugin}:${e.code}`), [`asker:${code}`])
      assert.equal(await store.sessions.get('acct', 'u1'), null)
      // Told that the plugin held the lock, so the line can say the user's dialogue ended with the failure.
      assert.deepEqual(deps.pluginErrors.map(([p, e, held]) => `${p}:${e.code}:${held}`), [`asker:${code}:true`])
    })
  }

  it('a plugin that fails without holding the lock leaves the lock of another alone', async () => {
    const store = createMemoryStore()
    const plugins = pluginsOf({ greeter: () => failure('PLUGIN_ERROR'), asker: () => pass() })
    const deps = depsOf(await rulesFrom(FILES), plugins, store.sessions)
    await store.sessions.put({ account: 'acct', openId: 'u1', plugin: 'asker', state: null, expiresAt: Date.now() + 60_000 })
    await routeMessage(messageOf(push.text('u1', 'hi')), ACCOUNT, deps)
    assert.equal((await store.sessions.get('acct', 'u1'))?.plugin, 'asker')
    assert.deepEqual(deps.pluginErrors.map(([p, , held]) => `${p}:${held}`), ['greeter:false'])
  })

  it('a lock held by a plugin that is no longer loaded is ignored', async () => {
    const store = createMemoryStore()
    const plugins = pluginsOf({ greeter: () => answer('hello'), asker: () => answer('asker') })
    await store.sessions.put({ account: 'acct', openId: 'u1', plugin: 'removed', state: null, expiresAt: Date.now() + 60_000 })
    const r = await routeMessage(messageOf(push.text('u1', 'hi')), ACCOUNT, depsOf(await rulesFrom(FILES), plugins, store.sessions))
    assert.equal(r.handledBy, 'rule')
    assert.deepEqual(plugins.calls, ['greeter:hi'])
    assert.deepEqual(r.errors, [])
  })

})

describe("a session whose plugin is gone and whose delete fails (it failed silently, router.ts)", () => {
  const FILES = { 'r.yaml': 'rules:\n  - { name: hi, keywords: [hi], plugin: greeter }\n' }
  let redis: RedisServer
  let store: Store
  let admin: Redis
  before(async () => {
    redis = await startRedisServer()
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-router-redis-'))
    tmpDirs.push(dataDir)
    store = await openRedisStore({ url: redis.url, dataDir, log: createLogger({ level: 'silent' }) })
    admin = new Redis(redis.url)
  })
  after(async () => {
    admin.disconnect()
    await store.close()
    await redis.stop()
  })
  const reported = (deps: RouteDeps) => {
    const seen: Array<[string, EngineError, string, string]> = []
    deps.onOrphanSessionKept = (plugin, error, about) => void seen.push([plugin, error, about.account, about.openId])
    return seen
  }

  it('a Redis refusing writes (NOREPLICAS): the message is answered, the failure told with its reason, and the next message tries again', async () => {
    await store.sessions.put({ account: 'acct', openId: 'u1', plugin: 'removed', state: null, expiresAt: Date.now() + 60_000 })
    // Reads still work, every write is refused: the delete fails as it does on a real outage of the primary.
    await admin.config('SET', 'min-replicas-to-write', '1')
    const plugins = pluginsOf({ greeter: () => answer('hello') })
    const deps = depsOf(await rulesFrom(FILES), plugins, store.sessions)
    const seen = reported(deps)
    const r = await routeMessage(messageOf(push.text('u1', 'hi')), ACCOUNT, deps)
    assert.deepEqual([r.handledBy, r.reply], ['rule', { type: 'text', content: 'hello' }])
    await until('the failed delete told', () => seen.length > 0)
    const [plugin, error, account, openId] = seen[0]!
    assert.deepEqual([plugin, error.code, account, openId], ['removed', 'STORE_UNAVAILABLE', 'acct', 'u1'])
    assert.match(error.reason, /^deleting the session of plugin "removed", which is not loaded, failed: NOREPLICAS/)
    assert.equal((await store.sessions.get('acct', 'u1'))?.plugin, 'removed', 'still there')

    await admin.config('SET', 'min-replicas-to-write', '0')
    await routeMessage(messageOf(push.text('u1', 'hi')), ACCOUNT, deps)
    await until('the session deleted', async () => (await store.sessions.get('acct', 'u1')) === null)
    assert.equal(seen.length, 1)
  })

  it('a store whose delete throws at once: the message is still answered (the throw went out of the walk), and told', async () => {
    const throwing: SessionStore = {
      ...createMemoryStore().sessions,
      getSync: () => ({ account: 'acct', openId: 'u1', plugin: 'removed', state: null, expiresAt: Date.now() + 60_000 }),
      delete: () => {
        throw new Error('database is locked')
      },
    }
    const deps = depsOf(await rulesFrom(FILES), pluginsOf({ greeter: () => answer('hello') }), throwing)
    const seen = reported(deps)
    const r = await routeMessage(messageOf(push.text('u1', 'hi')), ACCOUNT, deps)
    assert.deepEqual(r.reply, { type: 'text', content: 'hello' })
    assert.deepEqual(seen.map(([p, e]) => `${p}: ${e.reason}`), ['removed: deleting the session of plugin "removed", which is not loaded, failed: database is locked'])
  })
})

describe('answered synchronously when nothing needs to wait', () => {
  const FILES = {
    'r.yaml': `
rules:
  - { name: ghost, keywords: [x], plugin: ghost, priority: 2 }
  - { name: inline, keywords: [x], reply: { type: text, content: inline } }
  - { name: by-plugin, keywords: [p], plugin: p }
default: { reply: { type: text, content: sorry } }
`,
  }
  /** The memory store's sessions without getSync: a store that must be asked over the network. */
  const remoteSessions = (): SessionStore => {
    const { get, put, delete: del, list } = createMemoryStore().sessions
    return { get, put, delete: del, list }
  }

  it('an inline reply (after a rule whose plugin is not loaded) comes back as a result, not a promise', async () => {
    const deps = depsOf(await rulesFrom(FILES), pluginsOf({}))
    const r = routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, deps)
    assert.ok(!(r instanceof Promise))
    assert.equal(r.rule, 'inline')
    assert.deepEqual(r.reply, { type: 'text', content: 'inline' })
    assert.deepEqual(r.errors.map((e) => `${e.plugin}:${e.code}`), ['ghost:PLUGIN_LOAD'])
    const d = routeMessage(messageOf(push.text('u1', 'nothing matches')), ACCOUNT, deps)
    assert.ok(!(d instanceof Promise))
    assert.equal(d.handledBy, 'default')
  })

  it('a plugin to run, or a session store without getSync, makes it a promise with the same answer', async () => {
    const rules = await rulesFrom(FILES)
    const plugins = pluginsOf({ p: () => answer('from p') })
    const viaPlugin = routeMessage(messageOf(push.text('u1', 'p')), ACCOUNT, depsOf(rules, plugins))
    assert.ok(viaPlugin instanceof Promise)
    assert.deepEqual((await viaPlugin).reply, { type: 'text', content: 'from p' })
    const remote = routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, depsOf(rules, plugins, remoteSessions()))
    assert.ok(remote instanceof Promise)
    const inline = routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, depsOf(rules, plugins))
    assert.deepEqual(await remote, inline)
  })

  it('a locked session is a plugin to run even when an inline rule matches', async () => {
    const store = createMemoryStore()
    const plugins = pluginsOf({ p: () => pass() })
    await store.sessions.put({ account: 'acct', openId: 'u1', plugin: 'p', state: null, expiresAt: Date.now() + 60_000 })
    const r = routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, depsOf(await rulesFrom(FILES), plugins, store.sessions))
    assert.ok(r instanceof Promise)
    assert.equal((await r).rule, 'inline', 'the lock holder passed; the walk went on to the inline rule')
    assert.deepEqual(plugins.calls, ['p:session:p'])
  })

  it('a session lookup that fails throws at once (the engine drops the message as STORE_UNAVAILABLE)', async () => {
    const broken: SessionStore = {
      ...createMemoryStore().sessions,
      getSync: () => {
        throw new Error('disk I/O error')
      },
    }
    const deps = depsOf(await rulesFrom(FILES), pluginsOf({}), broken)
    assert.throws(() => routeMessage(messageOf(push.text('u1', 'x')), ACCOUNT, deps), /disk I\/O error/)
  })
})

describe('a state store that fails after the plugin answered (found by a fleet review: Redis stalled on the session write)', () => {
  const FILES = {
    'r.yaml': `
rules:
  - { name: ask, keywords: [ask], plugin: asker }
  - { name: next, keywords: [ask], plugin: fallback }
`,
  }
  /** A failure after which the write may still land (a timeout): the store marks it so. */
  const timedOut = (message: string) => Object.assign(new Error(message), { mayHaveApplied: true })
  /** Memory sessions whose writes fail as `fault` says. */
  const failingWrites = (fault: () => Error): SessionStore & { store: ReturnType<typeof createMemoryStore> } => {
    const store = createMemoryStore()
    return { ...store.sessions, put: async () => Promise.reject(fault()), delete: async () => Promise.reject(fault()), store }
  }
  const withStoreErrors = (deps: RouteDeps) => {
    const seen: Array<[string, EngineError]> = []
    deps.onStoreError = (plugin, error) => void seen.push([plugin, error])
    return seen
  }

  it('a session write that may still land (timed out): the reply still goes out, the fault listed and reported', async () => {
    const sessions = failingWrites(() => timedOut('Command timed out'))
    const plugins = pluginsOf({ asker: () => answer('Question 1/3', [{ op: 'begin', ttlMs: 60_000, state: { step: 0 } }]), fallback: () => answer('never') })
    const deps = depsOf(await rulesFrom(FILES), plugins, sessions)
    const seen = withStoreErrors(deps)
    const r = await routeMessage(messageOf(push.text('u1', 'ask')), ACCOUNT, deps)
    assert.deepEqual(r.reply, { type: 'text', content: 'Question 1/3' })
    assert.equal(r.plugin, 'asker')
    assert.deepEqual(r.errors.map((e) => `${e.plugin}: ${e.code}: ${e.reason}`), ['asker: STORE_UNAVAILABLE: writing its session calls failed (it may yet be applied): Command timed out'])
    assert.deepEqual(seen.map(([p, e]) => `${p} ${e.code}`), ['asker STORE_UNAVAILABLE'])
  })

  it("the dialogue's plugin failed and its lock's release timed out: the message still goes on down the order", async () => {
    const sessions = failingWrites(() => timedOut('connection lost'))
    await sessions.store.sessions.put({ account: 'acct', openId: 'u1', plugin: 'asker', state: null, expiresAt: Date.now() + 60_000 })
    const plugins = pluginsOf({ asker: () => failure('PLUGIN_ERROR'), fallback: () => answer('from the fallback') })
    const deps = depsOf(await rulesFrom(FILES), plugins, sessions)
    const seen = withStoreErrors(deps)
    const r = await routeMessage(messageOf(push.text('u1', 'ask')), ACCOUNT, deps)
    assert.deepEqual(r.reply, { type: 'text', content: 'from the fallback' })
    assert.deepEqual(r.errors.map((e) => `${e.plugin}: ${e.code}`), ['asker: PLUGIN_ERROR', 'asker: STORE_UNAVAILABLE'])
    assert.match(seen[0]![1].reason, /releasing the user's lock failed \(it may yet be applied\): connection lost/)
  })

  it('a session write that surely failed (refused, never sent): routing fails, so the message is dropped and the dialogue stays where it was', async () => {
    // Sent, "thank you" would go out while the dialogue still waited for its last answer (a review).
    const sessions = failingWrites(() => new Error("Stream isn't writeable and enableOfflineQueue options is false"))
    const plugins = pluginsOf({ asker: () => answer('Thank you!', [{ op: 'end' }]) })
    await sessions.store.sessions.put({ account: 'acct', openId: 'u1', plugin: 'asker', state: { step: 2 }, expiresAt: Date.now() + 60_000 })
    await assert.rejects(Promise.resolve(routeMessage(messageOf(push.text('u1', 'ask')), ACCOUNT, depsOf(await rulesFrom(FILES), plugins, sessions))), /Stream isn't writeable/)
  })

  it('a bug of ours in the write is not taken for an outage: routing fails with it', async () => {
    const sessions = failingWrites(() => new TypeError("Cannot read properties of undefined (reading 'x')"))
    const plugins = pluginsOf({ asker: () => answer('q', [{ op: 'begin', ttlMs: 60_000 }]) })
    await assert.rejects(Promise.resolve(routeMessage(messageOf(push.text('u1', 'ask')), ACCOUNT, depsOf(await rulesFrom(FILES), plugins, sessions))), TypeError)
  })
})

describe('users: a rule for some groups does not exist for anyone else', () => {
  const FILES = {
    'a.yaml': `
rules:
  - name: broadcast
    keywords: [{prefix: 'broadcast '}]
    priority: 10
    users: admins
    plugin: broadcaster
  - name: stats
    keywords: [stats]
    users: [admins, staff]
    reply: {type: text, content: 'staff stats'}
  - name: anything
    keywords: [{regex: '^broadcast'}]
    plugin: chat
handlers:
  - type: image
    users: staff
    plugin: archiver
default: {reply: {type: text, content: 'sorry?'}}
`,
  }
  const groups = buildUserGroupIndex([{ id: 'acct', userGroups: { admins: ['boss'], staff: ['clerk', 'boss'] } }])
  const behaviours = () => ({ broadcaster: () => answer('sent to all'), chat: () => answer('chatting'), archiver: () => answer('archived') })

  it('answers a member, and the rest of the order answers everyone else (no sign the rule exists)', async () => {
    const plugins = pluginsOf(behaviours())
    const deps = { ...depsOf(await rulesFrom(FILES), plugins), userGroups: groups }
    const boss = await routeMessage(messageOf(push.text('boss', 'broadcast hi')), ACCOUNT, deps)
    assert.equal(boss.reply?.type === 'text' && boss.reply.content, 'sent to all')
    assert.equal(boss.rule, 'broadcast')
    const follower = await routeMessage(messageOf(push.text('someone', 'broadcast hi')), ACCOUNT, deps)
    assert.equal(follower.reply?.type === 'text' && follower.reply.content, 'chatting')
    assert.deepEqual(plugins.calls, ['broadcaster:broadcast', 'chat:anything'])
    const stats = await routeMessage(messageOf(push.text('someone', 'stats')), ACCOUNT, deps)
    assert.deepEqual([stats.handledBy, stats.reply?.type === 'text' && stats.reply.content], ['default', 'sorry?'])
    const clerk = await routeMessage(messageOf(push.text('clerk', 'stats')), ACCOUNT, deps)
    assert.equal(clerk.rule, 'stats')
  })

  it('a handler with users, the same way', async () => {
    const plugins = pluginsOf(behaviours())
    const deps = { ...depsOf(await rulesFrom(FILES), plugins), userGroups: groups }
    const clerk = await routeMessage(messageOf(push.message('clerk', 'image', { PicUrl: 'http://x/p.jpg', MediaId: 'MEDIA' })), ACCOUNT, deps)
    assert.equal(clerk.plugin, 'archiver')
    const other = await routeMessage(messageOf(push.message('someone', 'image', { PicUrl: 'http://x/p.jpg', MediaId: 'MEDIA' })), ACCOUNT, deps)
    assert.equal(other.handledBy, 'default')
    assert.deepEqual(plugins.calls, ['archiver:image@a.yaml:16'])
  })

  it('without a group index (no groups configured) a restricted rule exists for nobody', async () => {
    const plugins = pluginsOf(behaviours())
    const r = await routeMessage(messageOf(push.text('boss', 'broadcast hi')), ACCOUNT, depsOf(await rulesFrom(FILES), plugins))
    assert.equal(r.rule, 'anything')
  })

  it("a session held by the rule's plugin still reaches it: the plugin chose to talk to that user", async () => {
    const plugins = pluginsOf(behaviours())
    const deps = { ...depsOf(await rulesFrom(FILES), plugins), userGroups: groups }
    await deps.sessions.put({ account: 'acct', openId: 'someone', plugin: 'broadcaster', state: null, expiresAt: Date.now() + 60_000 })
    const r = await routeMessage(messageOf(push.text('someone', 'yes')), ACCOUNT, deps)
    assert.equal(r.handledBy, 'session')
    assert.equal(r.plugin, 'broadcaster')
  })

  it("the plugin call carries the sender's groups (the same frozen empty list for a sender in none)", async () => {
    const plugins = pluginsOf({ ...behaviours(), chat: () => answer('chatting') })
    const deps = { ...depsOf(await rulesFrom(FILES), plugins), userGroups: groups }
    await routeMessage(messageOf(push.text('boss', 'broadcast hi')), ACCOUNT, deps)
    assert.deepEqual(plugins.lastCall.get('broadcaster')?.groups, ['admins', 'staff'])
    await routeMessage(messageOf(push.text('someone', 'broadcast hi')), ACCOUNT, deps)
    assert.equal(plugins.lastCall.get('chat')?.groups, NO_GROUPS)
  })
})
