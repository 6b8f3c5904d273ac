// The HTTP bench's rule for reusing its pool of pushes: a run that sends a MsgId twice within the engine's
// reply cache window measures cache hits, not messages, and must not count.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { poolMisuse } from '../../bench/support/load.ts'

test('a run inside the pool counts, wherever it starts', () => {
  assert.equal(poolMisuse(1000, 0, 1000, 50), null)
  assert.equal(poolMisuse(1000, 400, 600, 50), null)
})

test('without a wrap allowance, running past the end of the pool is refused', () => {
  assert.match(poolMisuse(1000, 0, 1001, 50) ?? '', /pool of 1000 exhausted \(1001 requests\)/)
  assert.match(poolMisuse(1000, 600, 401, 50) ?? '', /exhausted \(1001 requests\)/)
})

test('with a wrap allowance, a pool may wrap round when a push comes back no sooner than allowed', () => {
  // 1000 pushes at 20/s: each comes back after 50 s.
  assert.equal(poolMisuse(1000, 900, 500, 20, 40_000), null)
  assert.equal(poolMisuse(1000, 900, 500, 20, 50_000), null)
})

test('with a wrap allowance, a pool that wraps sooner than allowed is refused with the period it had', () => {
  // 1000 pushes at 40/s: each comes back after 25 s, inside a 40 s window.
  const why = poolMisuse(1000, 900, 500, 40, 40_000)
  assert.match(why ?? '', /wraps round every 25000 ms at 40 req\/s, sooner than 40000 ms/)
})
