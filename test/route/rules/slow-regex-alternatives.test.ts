import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkOverlappingAlternatives } from '../../../core/route/rules/slow-regex.ts'

// Alternatives that can start with the same character, under a repetition: exponential on a near-match, and
// no quantifier under a quantifier for checkBacktracking to see (a security review: `^(\w|\d)+$` 17 s on 29
// characters, `^([\u4e00-\u9fa5]|\S)+$` 7.6 s on 27).
const refused = [
  '^(\\w|\\d)+$',
  '^([\\u4e00-\\u9fa5]|\\S)+$',
  '^(\\p{Script=Han}|\\S)+$',
  '^(a|a)*$',
  '^(a|ab|b)*c$',
  // Case is folded, as the matcher folds by default; the choice may sit deeper inside the repetition.
  '^(?:x(a|A))+$',
  // Inside a lookahead the repetition still backtracks until the lookahead fails.
  '(?=(a|a)+$)x',
  '^(a|a){65}$',
]
const accepted = [
  '^(?:a|b)+$',
  '^(\\w|-|\\.)+@',
  '^(.|\\n)*$',
  '^([a-z]|[0-9])+$',
  '^(\\p{Script=Han}|\\w)+$',
  // A choice that no repetition encloses is made once.
  '^(?<cmd>note|notes)(?:\\s+(?<arg>.+))?$',
  '^(?:查询|query)\\s*(\\S+)$',
  // Few ways in all (at most 64), as checkBacktracking allows.
  '^(a|a){3}$',
  // A lookahead that matched is never backtracked into: the repetition around it does not multiply its choice.
  '(?:(?=(a|a))a)+',
  '^echo\\s+(?<text>.+)$',
]

for (const source of refused) {
  test(`refused: ${source}`, () => {
    assert.match(checkOverlappingAlternatives(source) ?? '', /repeats a choice whose alternatives .* can match the same text/)
  })
}

for (const source of accepted) {
  test(`accepted: ${source}`, () => {
    assert.equal(checkOverlappingAlternatives(source), undefined)
  })
}

test('what the check refuses is slow indeed, and what it accepts instead is not', () => {
  // Kept small: 2^18 paths take tens of milliseconds; each character more doubles it.
  const near = `${'1'.repeat(18)}!`
  let started = performance.now()
  assert.equal(/^(\w|\d)+$/iu.test(near), false)
  const slow = performance.now() - started
  started = performance.now()
  assert.equal(/^[\w\d]+$/iu.test(`${'1'.repeat(20000)}!`), false)
  const merged = performance.now() - started
  assert.ok(slow > merged, `the overlapping choice (${slow.toFixed(1)} ms on 19 characters) is slower than one class (${merged.toFixed(1)} ms on 20001)`)
})
