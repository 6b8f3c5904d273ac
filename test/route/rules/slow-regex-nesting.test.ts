import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkBacktracking } from '../../../core/route/rules/slow-regex.ts'

// A quantifier that can repeat, under another that can repeat: refused (exponential on a near-match).
const refused = ['^(a+)+$', '^(\\w+\\s?)*$', '(x*)*', '^(?:(?:a+)?)+$', '(a{2,})+', '((ab)*c)+', '(?:a|(b+))*',
  // Optional parts under a repetition: each iteration may take them or not (a review: 30 s and 44 s on 24 characters).
  '^(?:a?a?)+$', '^(?:\\s?\\s?)+x$', '(a{0,1}b?)*', '(a{0,1})+',
  // A bounded repetition around an unbounded one, or the other way round; and behind a lookbehind (a review:
  // 4 s on 28 characters, when any lookbehind turned the check off).
  '(a+){3}$', '^(a{1,2})+$', '^(?<!x)(?:a+)+$', '(?<=y)(b*)*']
// `?` and {0,1} match once at most: no nesting of repetition, whatever they wrap.
const accepted = [
  '^(?<cmd>note|notes)(?:\\s+(?<arg>.+))?$',
  '^(a+)?$',
  '^(?:天气\\s*)?(?<city>\\S+)$',
  '^\\d{4}-\\d{2}-\\d{2}$',
  '(ab)+c*',
  // Small bounded repetitions inside each other: at most the product of their bounds ways to try.
  '^(?:\\d{1,3}\\.){3}\\d{1,3}$',
  '^(?:\\d{1,2}:){2}\\d{1,2}$',
  '(?<=天气)\\S+',
]

for (const source of refused) {
  test(`refused: ${source}`, () => {
    assert.match(checkBacktracking(source) ?? '', /repeats a repeated part/)
  })
}

for (const source of accepted) {
  test(`accepted: ${source}`, () => {
    assert.equal(checkBacktracking(source), undefined)
  })
}

test('the optional-argument command regex accepted here fails fast on a long near-match (not exponential)', () => {
  const re = new RegExp('^(?<cmd>note|notes)(?:\\s+(?<arg>.+))?$', 'u')
  // The worst text for it: the command, many spaces, then a line break `.` cannot cross. Quadratic at most.
  const text = `notes${' '.repeat(2000)}\n`
  const started = performance.now()
  assert.equal(re.test(text), false)
  assert.ok(performance.now() - started < 1000, 'a 2000-character near-match must not take seconds')
})
