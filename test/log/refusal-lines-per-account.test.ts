/**
 * A refusal's line is budgeted (log/line-budget.ts), and its budget is its code's for each configured
 * account. Keyed by the code alone, a flood of bad signatures to one account's URL (anyone can POST there)
 * held back the first line of another account whose pushes WeChat signs with a token the configuration no
 * longer has: its refusals were said only as a count under the flood's example, which named the other account.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { startHarness } from '../support/engine-harness.ts'

test("one account's flood of refused requests does not hold back another account's first refusal line", async () => {
  const h = await startHarness()
  try {
    const refusedPost = async (account: string) => {
      const res = await fetch(`${h.url}/wechat/${account}?signature=forged&timestamp=${Math.floor(Date.now() / 1000)}&nonce=1`, { method: 'POST', body: '<xml/>' })
      await res.text()
      assert.equal(res.status, 401)
    }
    for (let i = 0; i < LINES_PER_KEY + 5; i++) await refusedPost('plain')
    await refusedPost('compat')
    const refused = h.lines.filter((l) => l.code === 'BAD_SIGNATURE' && l.held === undefined)
    assert.equal(refused.filter((l) => l.account === 'plain').length, LINES_PER_KEY, 'the flood used its budget of lines')
    assert.equal(refused.filter((l) => l.account === 'compat').length, 1, "the other account's refusal has its own line")
  } finally {
    await h.close()
  }
})

test('unknown accounts share one budget: the id in the URL is anyone\'s to choose', async () => {
  const h = await startHarness()
  try {
    for (let i = 0; i < LINES_PER_KEY + 5; i++) {
      const res = await fetch(`${h.url}/wechat/nobody-${i}?signature=x&timestamp=1&nonce=1`, { method: 'POST', body: '<xml/>' })
      await res.text()
      assert.equal(res.status, 404)
    }
    assert.equal(h.lines.filter((l) => l.code === 'UNKNOWN_ACCOUNT' && l.held === undefined).length, LINES_PER_KEY)
  } finally {
    await h.close()
  }
})
