/**
 * toPlain (core/plugin/sandbox/to-plain.ts): what a plugin hands back becomes plain JSON data, within a
 * depth and, for replies, a character budget.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { toPlain } from '../../core/plugin/sandbox/to-plain.ts'

test('plain data is copied; undefined keys are dropped as JSON drops them', () => {
  assert.deepEqual(toPlain({ a: [1, 'x', true, null], b: undefined, c: { d: 2 } }), { ok: true, value: { a: [1, 'x', true, null], c: { d: 2 } } })
})

test('functions, non-finite numbers and cycles are refused with where they are', () => {
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  for (const [value, reason] of [
    [{ f: () => 1 }, /^\$\.f: a function is not plain data/],
    [{ n: [1, Infinity] }, /^\$\.n\[1\]: Infinity is not a JSON number/],
    [cyclic, /nested deeper than 64 \(a cycle\?\)/],
  ] as const) {
    const r = toPlain(value)
    assert.equal(r.ok, false)
    if (!r.ok) assert.match(r.error.reason, reason)
  }
})

test('a character budget counts strings and keys together, and stops at the first place past it', () => {
  assert.equal(toPlain({ ab: 'cdef' }, 6).ok, true)
  const over = toPlain({ ab: 'cdef', g: 'h' }, 6)
  assert.equal(over.ok, false)
  if (!over.ok) assert.match(over.error.reason, /^\$: the value is over 6 characters in all \(strings and keys\)$/)
  const deep = toPlain({ list: ['x'.repeat(5), 'y'.repeat(5)] }, 12)
  assert.equal(deep.ok, false)
  if (!deep.ok) assert.match(deep.error.reason, /^\$\.list\[1\]: /)
  // The budget belongs to one copy: the next starts afresh, and no budget means none.
  assert.equal(toPlain({ ab: 'cdef' }, 6).ok, true)
  assert.equal(toPlain('z'.repeat(100_000)).ok, true)
})

test('as JSON.stringify sees it: a Date is its ISO string (not {}), undefined in an array is null', () => {
  const at = new Date(Date.UTC(2026, 11, 1, 8, 30))
  const value = { at, list: [1, undefined, at], custom: { toJSON: () => ({ v: 1 }) } }
  assert.deepEqual(toPlain(value), { ok: true, value: JSON.parse(JSON.stringify(value)) })
  assert.deepEqual(toPlain(value), { ok: true, value: { at: '2026-12-01T08:30:00.000Z', list: [1, null, '2026-12-01T08:30:00.000Z'], custom: { v: 1 } } })
})
