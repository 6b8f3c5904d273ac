/**
 * A flood of forged requests (anyone can POST to /wechat) over real HTTP: every one is answered 401 and
 * counted, but only the budget of lines is written one by one and the rest is said in one line, so the
 * flood cannot outrun journald's rate limit and silence the engine's other lines. A genuine message in
 * the middle of it is answered as usual.
 */
import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { REFUSAL_LINES_PER_CODE } from '../../core/log/refusal-lines.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'

const RULES = { 'main.yaml': 'rules:\n  - name: hello\n    keywords: [hello]\n    reply: { type: text, content: hi }\n' }
let h: Harness
before(async () => {
  h = await startHarness({ rules: RULES })
})
after(() => h.close())

it('200 forged pushes: 401 each, all counted, 20 lines and one line with the rest at close', async () => {
  const FLOOD = 200
  const forged = () => {
    const q = new URLSearchParams({ signature: 'f'.repeat(40), timestamp: String(Math.floor(Date.now() / 1000)), nonce: 'n' })
    return fetch(`${h.url}/wechat/plain?${q}`, { method: 'POST', body: '<xml/>' })
  }
  const statuses: number[] = []
  for (let i = 0; i < FLOOD / 2; i++) statuses.push((await forged()).status)
  assert.equal((await h.post('plain', push.text('u-flood', 'hello'))).reply?.Content, 'hi', 'a genuine message in the middle of the flood')
  for (let i = 0; i < FLOOD / 2; i++) statuses.push((await forged()).status)
  assert.deepEqual(new Set(statuses), new Set([401]))
  assert.equal(h.events.filter((e) => e.type === 'rejected' && e.code === 'BAD_SIGNATURE').length, FLOOD, 'every refusal reaches the metrics')
  const oneByOne = h.lines.filter((l) => l.code === 'BAD_SIGNATURE' && typeof l.reason === 'string')
  assert.equal(oneByOne.length, REFUSAL_LINES_PER_CODE)

  await h.close()
  const held = h.lines.filter((l) => l.code === 'BAD_SIGNATURE' && l.held !== undefined)
  assert.equal(held.length, 1, 'one line for the rest (the 10 s window outlasts the test: said at close)')
  assert.equal(held[0].held, FLOOD - REFUSAL_LINES_PER_CODE)
  assert.equal(typeof held[0].lastReason, 'string')
})
