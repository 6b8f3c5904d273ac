/**
 * Floods that used to write a log line per request, over real HTTP: forged pushes (anyone can POST to
 * /wechat) and a plugin that fails for every message. Each request is handled as before (answered, counted,
 * in the message log), but only a budget of lines is written one by one and the rest is said in one line
 * (core/log/line-budget.ts), so a flood cannot outrun journald's rate limit and silence the engine's other
 * lines.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, it } from 'node:test'
import { LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'

const RULES = {
  'main.yaml': 'rules:\n  - name: hello\n    keywords: [hello]\n    reply: { type: text, content: hi }\n  - name: boom\n    keywords: [boom]\n    plugin: thrower\n',
}
let h: Harness
let plugins: string
before(async () => {
  plugins = mkdtempSync(path.join(os.tmpdir(), 'wxengine-floods-'))
  cpSync(path.resolve(import.meta.dirname, '../fixtures/admin-plugins/thrower'), path.join(plugins, 'thrower'), { recursive: true })
  h = await startHarness({ rules: RULES, plugins })
})
after(async () => {
  await h.close()
  rmSync(plugins, { recursive: true, force: true })
})

const forged = () => {
  const q = new URLSearchParams({ signature: 'f'.repeat(40), timestamp: String(Math.floor(Date.now() / 1000)), nonce: 'n' })
  return fetch(`${h.url}/wechat/plain?${q}`, { method: 'POST', body: '<xml/>' })
}

it('200 forged pushes and 60 messages to a failing plugin: each handled, 20 lines a kind, the rest in one line each at close', async () => {
  const FORGED = 200
  const FAILING = 60
  const statuses: number[] = []
  for (let i = 0; i < FORGED / 2; i++) statuses.push((await forged()).status)
  assert.equal((await h.post('plain', push.text('u-flood', 'hello'))).reply?.Content, 'hi', 'a genuine message in the middle of the flood')
  for (let i = 0; i < FORGED / 2; i++) statuses.push((await forged()).status)
  for (let i = 0; i < FAILING; i++) assert.equal((await h.post('plain', push.text(`u-boom-${i}`, 'boom'))).status, 200)
  assert.deepEqual(new Set(statuses), new Set([401]))

  // Every request is still counted, every message still in the message log with its error.
  assert.equal(h.events.filter((e) => e.type === 'rejected' && e.code === 'BAD_SIGNATURE').length, FORGED)
  assert.equal(h.events.filter((e) => e.type === 'plugin_error' && e.plugin === 'thrower').length, FAILING)
  const logged = (await h.runtime.store.log.query({ limit: 1_000 })).filter((e) => e.openId.startsWith('u-boom-'))
  assert.equal(logged.length, FAILING)
  assert.ok(logged.every((e) => e.outcome === 'failed' && /^thrower: PLUGIN_ERROR: .*always throws/.test(e.error ?? '')), `each failure in the message log: ${JSON.stringify(logged[0])}`)

  const oneByOne = (code: string) => h.lines.filter((l) => l.code === code && typeof l.reason === 'string')
  assert.equal(oneByOne('BAD_SIGNATURE').length, LINES_PER_KEY)
  assert.equal(oneByOne('PLUGIN_ERROR').length, LINES_PER_KEY)

  // The 10 s window outlasts the test: the rest is said at close.
  await h.close()
  const held = (code: string) => h.lines.filter((l) => l.code === code && l.held !== undefined)
  assert.deepEqual(
    held('BAD_SIGNATURE').map((l) => l.held),
    [FORGED - LINES_PER_KEY],
  )
  assert.deepEqual(
    held('PLUGIN_ERROR').map((l) => [l.held, l.plugin]),
    [[FAILING - LINES_PER_KEY, 'thrower']],
  )
  assert.match(String(held('PLUGIN_ERROR')[0].lastReason), /always throws/)
  assert.match(String(held('PLUGIN_ERROR')[0].msg), /^40 more like this in the last \d+ s, not logged one by one: plugin thrower failed/)
})
