/**
 * describeThrown (core/plugin/sandbox/describe-thrown.ts): what a plugin threw, said in its failure line,
 * whatever it is.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeThrown } from '../../core/plugin/sandbox/describe-thrown.ts'

test('an object without a prototype is said by its JSON (String() throws on it: it was "a value that cannot be described")', () => {
  assert.equal(describeThrown(Object.assign(Object.create(null), { code: 42 })), 'a thrown Object, not an Error: {"code":42}')
})

test('an Error, a plain object, a string', () => {
  assert.equal(describeThrown(new TypeError('bad')), 'TypeError: bad')
  assert.equal(describeThrown({ code: 1 }), 'a thrown Object, not an Error: {"code":1}')
  assert.equal(describeThrown('oops'), 'oops')
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  assert.equal(describeThrown(cyclic), '[object Object]')
})
