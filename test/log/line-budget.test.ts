/**
 * The budget of per-request lines (core/log/line-budget.ts): the first lines of a key in a window are
 * written in full, the rest counted and said in one line when the window ends; keys have budgets of their
 * own, and a new window starts afresh. Over HTTP, a flood of bad signatures: test/e2e/refusal-flood.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createLineBudget } from '../../core/log/line-budget.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('line budget', () => {
  it('the first perKey lines of a key are written one by one, as given', () => {
    const { logger, lines } = createMemoryLogger('info')
    const b = createLineBudget(logger, { perKey: 3, windowMs: 60_000 })
    for (let i = 0; i < 3; i++) b.warn('BAD_SIGNATURE', { code: 'BAD_SIGNATURE', reason: `sig ${i}`, status: 401, account: 'a' }, `request refused: sig ${i}`)
    assert.deepEqual(
      lines.map((l) => [l.level, l.code, l.reason, l.account, l.status, l.msg]),
      [0, 1, 2].map((i) => [40, 'BAD_SIGNATURE', `sig ${i}`, 'a', 401, `request refused: sig ${i}`]),
    )
    b.close()
    assert.equal(lines.length, 3, 'nothing held, nothing more to say at close')
  })

  it('each call says whether its line was written (true) or held and counted (false)', () => {
    const { logger } = createMemoryLogger('info')
    const b = createLineBudget(logger, { perKey: 1, windowMs: 60_000 })
    assert.deepEqual(
      [b.error('k', { reason: '1' }, 'm'), b.error('k', { reason: '2' }, 'm'), b.warn('other', { reason: '3' }, 'm')],
      [true, false, true],
    )
    b.close()
  })

  it('past the budget lines are counted, and the count is said once per key when the window ends', async () => {
    const { logger, lines } = createMemoryLogger('info')
    const b = createLineBudget(logger, { perKey: 2, windowMs: 150 })
    for (let i = 0; i < 7; i++) b.warn('BAD_SIGNATURE', { code: 'BAD_SIGNATURE', reason: `sig ${i}`, status: 401 }, `refused: sig ${i}`)
    for (let i = 0; i < 3; i++) b.error('PLUGIN_TIMEOUT weather', { code: 'PLUGIN_TIMEOUT', plugin: 'weather', reason: `slow ${i}` }, 'plugin weather failed')
    assert.deepEqual(
      lines.map((l) => l.reason),
      ['sig 0', 'sig 1', 'slow 0', 'slow 1'],
    )
    await sleep(300)
    const summaries = lines.slice(4)
    assert.deepEqual(
      summaries.map((l) => [l.level, l.code, l.plugin ?? null, l.held, l.lastReason, l.reason ?? null]),
      [
        [40, 'BAD_SIGNATURE', null, 5, 'sig 6', null],
        [50, 'PLUGIN_TIMEOUT', 'weather', 1, 'slow 2', null],
      ],
    )
    assert.match(String(summaries[0].msg), /^5 more like this in the last \d+ s, not logged one by one: refused: sig 6$/)
    // A new window: the budget is whole again.
    b.warn('BAD_SIGNATURE', { code: 'BAD_SIGNATURE', reason: 'sig again', status: 401 }, 'refused')
    assert.equal(lines.at(-1)?.reason, 'sig again')
    b.close()
  })

  it('a key whose held lines include an error is summed up at error', () => {
    const { logger, lines } = createMemoryLogger('info')
    const b = createLineBudget(logger, { perKey: 1, windowMs: 60_000 })
    b.warn('k', { reason: 'w1' }, 'first')
    b.error('k', { reason: 'e' }, 'second')
    b.warn('k', { reason: 'w2' }, 'third')
    b.close()
    assert.deepEqual(
      lines.map((l) => [l.level, l.held ?? null, l.lastReason ?? null]),
      [
        [40, null, null],
        [50, 2, 'w2'],
      ],
    )
  })

  it('close() says what is still held, and no timer outlives it', async () => {
    const { logger, lines } = createMemoryLogger('info')
    const b = createLineBudget(logger, { perKey: 1, windowMs: 100 })
    b.warn('BAD_HTTP', { code: 'BAD_HTTP', reason: 'a', status: 400 }, 'refused')
    b.warn('BAD_HTTP', { code: 'BAD_HTTP', reason: 'b', status: 400 }, 'refused')
    b.close()
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
