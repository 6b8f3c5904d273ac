/**
 * The budget of refusal lines (core/log/refusal-lines.ts): the first refusals of a code in a window are
 * logged in full, the rest counted and said in one line when the window ends; codes have budgets of their
 * own, and a new window starts afresh. Over HTTP, a flood of bad signatures: test/e2e/refusal-flood.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createRefusalLines } from '../../core/log/refusal-lines.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('refusal lines', () => {
  it('the first perCode refusals of a code are logged one by one, with code, reason, account and status', () => {
    const { logger, lines } = createMemoryLogger('info')
    const r = createRefusalLines(logger, { perCode: 3, windowMs: 60_000 })
    for (let i = 0; i < 3; i++) r.refused({ code: 'BAD_SIGNATURE', reason: `sig ${i}`, status: 401, account: 'a' }, `request refused: sig ${i}`)
    assert.deepEqual(
      lines.map((l) => [l.level, l.code, l.reason, l.account, l.status, l.msg]),
      [0, 1, 2].map((i) => [40, 'BAD_SIGNATURE', `sig ${i}`, 'a', 401, `request refused: sig ${i}`]),
    )
    r.close()
    assert.equal(lines.length, 3, 'nothing held, nothing more to say at close')
  })

  it('past the budget refusals are counted, and the count is said once per code when the window ends', async () => {
    const { logger, lines } = createMemoryLogger('info')
    const r = createRefusalLines(logger, { perCode: 2, windowMs: 150 })
    for (let i = 0; i < 7; i++) r.refused({ code: 'BAD_SIGNATURE', reason: `sig ${i}`, status: 401 }, 'refused')
    for (let i = 0; i < 3; i++) r.refused({ code: 'BAD_XML', reason: `xml ${i}`, status: 400 }, 'refused')
    assert.deepEqual(
      lines.map((l) => l.reason),
      ['sig 0', 'sig 1', 'xml 0', 'xml 1'],
    )
    await sleep(300)
    const summaries = lines.slice(4)
    assert.deepEqual(
      summaries.map((l) => [l.level, l.code, l.held, l.lastReason]),
      [
        [40, 'BAD_SIGNATURE', 5, 'sig 6'],
        [40, 'BAD_XML', 1, 'xml 2'],
      ],
    )
    assert.match(String(summaries[0].msg), /^request refused: 5 more BAD_SIGNATURE in the last \d+ s, not logged one by one/)
    // A new window: the budget is whole again.
    r.refused({ code: 'BAD_SIGNATURE', reason: 'sig again', status: 401 }, 'refused')
    assert.equal(lines.at(-1)?.reason, 'sig again')
    r.close()
  })

  it('close() says what is still held, and no timer outlives it', async () => {
    const { logger, lines } = createMemoryLogger('info')
    const r = createRefusalLines(logger, { perCode: 1, windowMs: 100 })
    r.refused({ code: 'BAD_HTTP', reason: 'a', status: 400 }, 'refused')
    r.refused({ code: 'BAD_HTTP', reason: 'b', status: 400 }, 'refused')
    r.close()
    assert.deepEqual(
      lines.map((l) => [l.reason ?? null, l.held ?? null]),
      [
        ['a', null],
        [null, 1],
      ],
    )
    await sleep(200)
    assert.equal(lines.length, 2, 'the window closed once, at close()')
  })
})
