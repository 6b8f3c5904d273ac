/** What `ctx` gives a plugin: session recording, storage through the KvStore, the platform API, logging. */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { KvStore } from '../../core/store/store.ts'
import { ACCOUNT, errorOf, loadPlugins, text, textOf, type Harness } from './plugin-test-kit.ts'

let h: Harness
let clock = 1_800_000_000_000

before(async () => {
  h = await loadPlugins({ only: ['session-recorder', 'storage', 'api-user'], now: () => clock })
  assert.deepEqual(h.errors, [])
})
after(() => h.dispose())

const parse = (s: string) => JSON.parse(s) as { before: unknown; after: unknown }

describe('session', () => {
  test('calls are recorded in order, ttl in ms, and active/state follow them within the call', async () => {
    const outcome = await h.call('session-recorder', text('begin'))
    assert.deepEqual(outcome.sessionOps, [
      { op: 'begin', ttlMs: 60_000, state: { n: 1 } },
      { op: 'update', state: { n: 2 } },
      { op: 'refresh', ttlMs: 1500 },
    ])
    assert.deepEqual(parse(textOf(outcome)), { before: { active: false, state: null }, after: { active: true, state: { n: 2 } } })
  })

  test('the snapshot the engine passes is what the plugin sees first', async () => {
    const outcome = await h.call('session-recorder', text('end'), { session: { active: true, state: { n: 5 } } })
    assert.deepEqual(outcome.sessionOps, [{ op: 'end' }])
    assert.deepEqual(parse(textOf(outcome)), { before: { active: true, state: { n: 5 } }, after: { active: false, state: null } })
  })

  test('update or refresh with no session is a TypeError saying to begin one; end with none does nothing (a plugin author review)', async () => {
    for (const call of ['update', 'refresh']) {
      const e = errorOf(await h.call('session-recorder', text(`${call}-without-begin`)))
      assert.match(e.reason, new RegExp(`^TypeError: session\\.${call}: this plugin holds no session for this user \\(session\\.active is false\\): start one with session\\.begin\\(ttlSeconds, state\\)`))
    }
    assert.deepEqual((await h.call('session-recorder', text('end-without-begin'))).sessionOps, [{ op: 'end' }])
    // With a session, both are recorded.
    const held = await h.call('session-recorder', text('update-without-begin'), { session: { active: true, state: { n: 0 } } })
    assert.deepEqual(held.sessionOps, [{ op: 'update', state: { n: 1 } }])
  })

  test('no session calls, no ops', async () => {
    assert.deepEqual((await h.call('session-recorder', text('look'))).sessionOps, [])
  })

  test('recorded state is a copy taken at the call', async () => {
    const outcome = await h.call('session-recorder', text('mutate'))
    assert.deepEqual(outcome.sessionOps, [{ op: 'begin', ttlMs: 5000, state: { list: [1] } }])
  })

  test('ops made before a throw come back with the error; the engine decides what to apply', async () => {
    const outcome = await h.call('session-recorder', text('begin-then-throw'))
    assert.equal(errorOf(outcome).code, 'PLUGIN_ERROR')
    assert.deepEqual(outcome.sessionOps, [{ op: 'begin', ttlMs: 10_000 }])
  })

  test('a bad ttl is the plugin\'s bug: PLUGIN_ERROR naming it', async () => {
    const e = errorOf(await h.call('session-recorder', text('bad-ttl')))
    assert.equal(e.code, 'PLUGIN_ERROR')
    assert.match(e.reason, /TypeError: session\.begin: ttlSeconds must be a number of seconds from 1 to 315360000 \(ten years\), got -1/)
  })

  test('a ttl under a second is refused, naming the call and the value: 0.0001 s was a lock over at once', async () => {
    // It was taken and sent as 0 ms: the user's next message went past the plugin, and nothing said why.
    const e = errorOf(await h.call('session-recorder', text('tiny-ttl')))
    assert.equal(e.code, 'PLUGIN_ERROR')
    assert.match(e.reason, /TypeError: session\.begin: ttlSeconds must be a number of seconds from 1 to 315360000 \(ten years\), got 0\.0001/)
  })

  test('refresh takes the same durations as begin: under a second is refused, a second is not', async () => {
    const e = errorOf(await h.call('session-recorder', text('refresh 0.5'), { session: { active: true, state: null } }))
    assert.match(e.reason, /TypeError: session\.refresh: ttlSeconds must be a number of seconds from 1 .*, got 0\.5/)
    const ok = await h.call('session-recorder', text('refresh 1'), { session: { active: true, state: null } })
    assert.deepEqual(ok.sessionOps, [{ op: 'refresh', ttlMs: 1000 }])
  })

  test('a ttl past ten years, or a state over 65,536 characters, is the plugin\'s bug too', async () => {
    const ttl = errorOf(await h.call('session-recorder', text('huge-ttl')))
    assert.match(ttl.reason, /TypeError: session\.begin: ttlSeconds must be a number of seconds from 1 to 315360000 \(ten years\), got 100000000000000000/)
    const state = errorOf(await h.call('session-recorder', text('huge-state')))
    assert.match(state.reason, /TypeError: session.begin state: \$\.blob: the value is over 65536 characters in all/)
  })
})

describe('storage', () => {
  test('round trip through the KvStore, in the plugin\'s own namespace', async () => {
    assert.equal(textOf(await h.call('storage', text('set colour blue'))), 'stored')
    assert.deepEqual(JSON.parse(textOf(await h.call('storage', text('get colour')))), { v: 'blue', n: [1, 2] })
    assert.deepEqual(await h.store.kv.get('plugin:storage', 'g:colour'), { v: 'blue', n: [1, 2] })
    assert.equal(textOf(await h.call('storage', text('del colour'))), 'deleted')
    assert.equal(JSON.parse(textOf(await h.call('storage', text('get colour')))), 'none')
  })

  test('storage.user is per user, under a prefix that purges one user only', async () => {
    await h.call('storage', text('uset city Paris', 'user-a'))
    await h.call('storage', text('uset city Lima', 'user-b'))
    assert.equal(JSON.parse(textOf(await h.call('storage', text('uget city', 'user-a')))), 'Paris')
    assert.equal(JSON.parse(textOf(await h.call('storage', text('uget city', 'user-b')))), 'Lima')
    assert.equal(JSON.parse(textOf(await h.call('storage', text('uget city', 'user-c')))), 'none')
    // A plugin-wide key of the same name is a different key.
    assert.equal(JSON.parse(textOf(await h.call('storage', text('get city', 'user-a')))), 'none')
    assert.equal(await h.store.kv.get('plugin:storage', 'u:user-a:city'), 'Paris')
    assert.equal(await h.store.kv.deletePrefix('plugin:storage', 'u:user-a:'), 1)
    assert.equal(JSON.parse(textOf(await h.call('storage', text('uget city', 'user-a')))), 'none')
    assert.equal(JSON.parse(textOf(await h.call('storage', text('uget city', 'user-b')))), 'Lima')
  })

  test('a ttl in seconds expires the key', async () => {
    await h.call('storage', text('ttl code 1234 10'))
    assert.equal(JSON.parse(textOf(await h.call('storage', text('get code')))), '1234')
    clock += 11_000
    assert.equal(JSON.parse(textOf(await h.call('storage', text('get code')))), 'none')
  })

  test('a storage ttl under a second is refused as a session one is, naming the call, the key and the value', async () => {
    const e = errorOf(await h.call('storage', text('ttl code 1234 0.0001')))
    assert.match(e.reason, /TypeError: storage\.set\("code"\): ttlSeconds must be a number of seconds from 1 to 315360000 \(ten years\), got 0\.0001/)
    assert.equal(await h.store.kv.get('plugin:storage', 'g:code'), undefined)
  })

  test('a value that is not JSON is refused in the plugin, as an Error it can catch', async () => {
    assert.equal(textOf(await h.call('storage', text('bad'))), 'caught Error: storage.set("f"): $: a function is not plain data')
  })

  test('a failing store reaches the plugin as an Error; uncaught, it is PLUGIN_ERROR', async () => {
    const failing = (kv: KvStore): KvStore => ({
      ...kv,
      get: async () => {
        throw new Error('STORE_UNAVAILABLE: connection refused')
      },
    })
    const down = await loadPlugins({ only: ['storage'], wrapKv: failing })
    try {
      const e = errorOf(await down.call('storage', text('get anything')))
      assert.equal(e.code, 'PLUGIN_ERROR')
      assert.equal(e.reason, 'Error: STORE_UNAVAILABLE: connection refused')
    } finally {
      await down.dispose()
    }
  })
})

describe('platform api', () => {
  test('post and get reach the account\'s api client; answers come back as data', async () => {
    const posted = JSON.parse(textOf(await h.call('api-user', text('post', 'user-z'))))
    assert.deepEqual(posted, { errcode: 0, echoed: { hello: 'user-z' } })
    assert.deepEqual(JSON.parse(textOf(await h.call('api-user', text('get')))), { errcode: 0, path: '/cgi-bin/info' })
    assert.deepEqual(h.apiCalls.slice(0, 2), [
      { accountId: ACCOUNT.id, method: 'post', args: ['/cgi-bin/test', { hello: 'user-z' }] },
      { accountId: ACCOUNT.id, method: 'get', args: ['/cgi-bin/info', { a: '1' }] },
    ])
  })

  test('sendToUser carries a validated reply', async () => {
    assert.deepEqual((await h.call('api-user', text('send', 'user-y'))).status, 'reply')
    assert.deepEqual(h.apiCalls.at(-1), { accountId: ACCOUNT.id, method: 'sendToUser', args: ['user-y', { type: 'text', content: 'later' }] })
  })

  test('work after the reply still reaches the api, past the call\'s deadline; session changes then are refused', async () => {
    const late = await loadPlugins({ only: ['api-user'], timeoutMs: 300 })
    try {
      const outcome = await late.call('api-user', text('later', 'user-late'))
      assert.equal(outcome.status, 'reply')
      // The plugin sends 600 ms after answering, twice the call's deadline.
      const refused = await late.log.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('late session change'))
      assert.equal(refused.msg, 'late session change refused')
      assert.match(String(refused.message), /session.begin after handle returned/)
      assert.deepEqual(late.apiCalls, [
        { accountId: ACCOUNT.id, method: 'sendToUser', args: ['user-late', { type: 'text', content: 'here is the result' }] },
      ])
    } finally {
      await late.dispose()
    }
  })

  test('an api failure is re-thrown in the plugin as an Error with the message', async () => {
    assert.equal(textOf(await h.call('api-user', text('fail'))), 'caught: API_ERROR 40001: invalid credential')
  })
})

test('ctx.log and console go to the engine log with the plugin name; ctx.log lines say the account and openId', async () => {
  await h.call('api-user', text('log', 'user-l'))
  const warn = await h.log.waitFor((l) => l.msg === 'look at this')
  assert.equal(warn.plugin, 'api-user')
  assert.equal(warn.level, 40)
  assert.equal(warn.user, 'user-l')
  // Which user's message it was about, without the plugin saying (a plugin author review).
  assert.equal(warn.openId, 'user-l')
  assert.equal(typeof warn.account, 'string')
  const fromConsole = await h.log.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('from console'))
  assert.equal(fromConsole.msg, 'from console { x: 1 }')
  assert.equal(fromConsole.plugin, 'api-user')
})

test('setup: api.accounts, and api.platform(id) sends from a timer outside any message; an unknown id is a TypeError in the plugin (a plugin author could not send a reminder)', async () => {
  const sender = await loadPlugins({ only: ['setup-sender'] })
  try {
    const deadline = Date.now() + 5_000
    while (sender.apiCalls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.deepEqual(sender.apiCalls, [
      { accountId: ACCOUNT.id, method: 'sendToUser', args: ['u-timer', { type: 'text', content: `from setup to ${ACCOUNT.id}/${ACCOUNT.appId}` }] },
    ])
    assert.equal(textOf(await sender.call('setup-sender', text('which error?'))), `true: api.platform("nope"): no such account; the engine serves "${ACCOUNT.id}" (api.accounts)`)
  } finally {
    await sender.dispose()
  }
})
