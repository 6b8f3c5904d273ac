/** core/store/key-fifo.ts: first in, first out, and the array is cut down as keys are taken. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KeyFifo } from '../../core/store/key-fifo.ts'

test('keys come out in the order they went in', () => {
  const q = new KeyFifo()
  assert.equal(q.peek(), undefined)
  q.shift() // nothing to take: no error, still empty
  assert.equal(q.size, 0)
  for (const k of ['a', 'b', 'c']) q.push(k)
  assert.equal(q.size, 3)
  const out: string[] = []
  for (let k = q.peek(); k !== undefined; k = q.peek()) {
    out.push(k)
    q.shift()
  }
  assert.deepEqual(out, ['a', 'b', 'c'])
  assert.equal(q.size, 0)
})

test('order and size hold across the cut-downs of a long run', () => {
  const q = new KeyFifo()
  let next = 0
  let expected = 0
  // Push three, take two, many times: the queue grows slowly while its front is cut off again and again.
  for (let round = 0; round < 20_000; round++) {
    for (let i = 0; i < 3; i++) q.push(`k${next++}`)
    for (let i = 0; i < 2; i++) {
      assert.equal(q.peek(), `k${expected++}`)
      q.shift()
    }
  }
  assert.equal(q.size, next - expected)
  assert.equal(q.size, 20_000)
  // The backing array holds about what is queued, not everything ever pushed.
  const held = (q as unknown as { keys: string[] }).keys.length
  assert.ok(held < 2 * q.size + 1024, `array of ${held} for ${q.size} queued keys`)
})
