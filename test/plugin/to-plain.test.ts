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

test('the budget is the size as JSON writes it: exactly enough passes, one character less is refused', () => {
  const values: unknown[] = [
    { ab: 'cdef' },
    { a: [1, 'x', true, false, null, -2.5e-7], b: undefined, c: { d: {}, e: [] } },
    [[], {}, [null, undefined], 'z'],
    { at: new Date(Date.UTC(2026, 11, 1)), n: 12345678901234 },
    '中文 😀',
  ]
  for (const value of values) {
    const size = JSON.stringify(value).length
    assert.equal(toPlain(value, size).ok, true, JSON.stringify(value))
    const over = toPlain(value, size - 1)
    assert.equal(over.ok, false, JSON.stringify(value))
    if (!over.ok) assert.match(over.error.reason, new RegExp(`the value is over ${size - 1} characters in all, as JSON$`))
  }
  const deep = toPlain({ list: ['x'.repeat(5), 'y'.repeat(5)] }, 20)
  assert.equal(deep.ok, false)
  if (!deep.ok) assert.match(deep.error.reason, /^\$\.list\[1\]: /)
  // The budget belongs to one copy: the next starts afresh, and no budget means none.
  assert.equal(toPlain({ ab: 'cdef' }, 13).ok, true)
  assert.equal(toPlain('z'.repeat(100_000)).ok, true)
})

test('structure counts as well as text: a million empty objects or nulls stop at the budget, quickly', () => {
  for (const value of [{ type: 'news', articles: new Array(1_000_000).fill({}) }, new Array(1_000_000).fill(null), new Array(1_000_000)]) {
    const r = toPlain(value, 65_536)
    assert.equal(r.ok, false)
    // Stopped where the budget ran out, about 20,000 elements in, not at the end of the array.
    if (!r.ok) assert.match(r.error.reason, /\[(\d{4,5})\]: the value is over 65536 characters/)
  }
})

test('as JSON.stringify sees it: a Date is its ISO string (not {}), undefined in an array is null', () => {
  const at = new Date(Date.UTC(2026, 11, 1, 8, 30))
  const value = { at, list: [1, undefined, at], custom: { toJSON: () => ({ v: 1 }) } }
  assert.deepEqual(toPlain(value), { ok: true, value: JSON.parse(JSON.stringify(value)) })
  assert.deepEqual(toPlain(value), { ok: true, value: { at: '2026-12-01T08:30:00.000Z', list: [1, null, '2026-12-01T08:30:00.000Z'], custom: { v: 1 } } })
})

test('a value kept (a session state, a stored value) with a Date in it is refused naming where; sent, it is its ISO string', () => {
  // Kept as a string, it came back one: state.startedAt.getTime() failed at the user's next message.
  const value = { startedAt: new Date(Date.UTC(2026, 11, 1)), custom: { toJSON: () => 1 } }
  const kept = toPlain(value, Infinity, { kept: true })
  assert.equal(kept.ok, false)
  if (!kept.ok) assert.equal(kept.error.reason, '$.startedAt: a Date is not kept as one (it would come back as a string, with no getTime()); keep date.getTime() or date.toISOString()')
  assert.deepEqual(toPlain({ custom: value.custom }, Infinity, { kept: true }), { ok: true, value: { custom: 1 } }, "another toJSON is the author's own choice")
  assert.deepEqual(toPlain(value), { ok: true, value: { startedAt: '2026-12-01T00:00:00.000Z', custom: 1 } })
})

test('undefined is refused saying JSON has none (it said "a undefined")', () => {
  const r = toPlain(undefined, Infinity, { kept: true })
  assert.equal(r.ok ? '' : r.error.reason, '$: undefined is not plain data (JSON has no undefined: keep null, or delete the key with storage.delete)')
})

test("a __proto__ key (as JSON.parse of a user's text makes) is copied as a key, not made the copy's prototype", () => {
  const text = '{"__proto__":{"admin":true},"b":2}'
  const r = toPlain(JSON.parse(text))
  assert.ok(r.ok)
  if (!r.ok) return
  const copy = r.value as Record<string, unknown>
  assert.equal(JSON.stringify(copy), text, 'the key survives, as JSON has it')
  assert.equal(Object.getPrototypeOf(copy), Object.prototype)
  assert.equal((copy as { admin?: unknown }).admin, undefined, 'nothing inherited from it')
  assert.deepEqual(structuredClone(copy), JSON.parse(text), 'and across the worker boundary')
})

test('a Map, a Set, an Error, a RegExp or a Promise (JSON makes each {}) is refused with where it is and what to keep, from the sandbox too', async () => {
  const { VM } = await import('vm2')
  const fromSandbox = new VM().run('({ m: new Map([[1, 2]]), s: new Set([1]), e: new Error("boom"), r: /x/g, p: Promise.resolve(1), u: new Uint8Array([1]) })') as Record<string, unknown>
  const here: Record<string, unknown> = { m: new Map([[1, 2]]), s: new Set([1]), e: new Error('boom'), r: /x/g, p: Promise.resolve(1), u: new Uint8Array([1]) }
  const expected: Record<string, RegExp> = {
    m: /^\$\.v\.m: a Map is not plain data .*Object\.fromEntries\(map\)/,
    s: /^\$\.v\.s: a Set is not plain data .*\[\.\.\.set\]/,
    e: /^\$\.v\.e: an Error is not plain data .*e\.message/,
    r: /^\$\.v\.r: a RegExp is not plain data .*source/,
    p: /^\$\.v\.p: a Promise is not plain data .*await it/,
    u: /^\$\.v\.u: a Uint8Array is not plain data .*plain object or array/,
  }
  for (const values of [here, fromSandbox]) {
    for (const [key, reason] of Object.entries(expected)) {
      const r = toPlain({ v: { [key]: values[key] } })
      assert.equal(r.ok, false, key)
      if (!r.ok) assert.match(r.error.reason, reason)
    }
  }
  // What JSON keeps as it is stays copied: a class instance's own fields, an object without a prototype, a Buffer (its toJSON).
  class Point {
    constructor(public x: number, public y: number) {}
  }
  const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 })
  assert.deepEqual(toPlain({ p: new Point(1, 2), bare, b: Buffer.from('hi') }), { ok: true, value: { p: { x: 1, y: 2 }, bare: { a: 1 }, b: { type: 'Buffer', data: [104, 105] } } })
})
