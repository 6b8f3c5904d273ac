import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkBacktracking, checkOverlappingAlternatives, slowRegexProblem } from '../../../core/route/rules/slow-regex.ts'

// A quantifier that can repeat, under another that can repeat: refused (exponential on a near-match).
const nestedRefused = ['^(a+)+$', '^(\\w+\\s?)*$', '(x*)*', '^(?:(?:a+)?)+$', '(a{2,})+', '((ab)*c)+', '(?:a|(b+))*',
  // Optional parts under a repetition: each iteration may take them or not (a review: 30 s and 44 s on 24 characters).
  '^(?:a?a?)+$', '^(?:\\s?\\s?)+x$', '(a{0,1}b?)*', '(a{0,1})+',
  // A bounded repetition around an unbounded one, or the other way round; and behind a lookbehind (a review:
  // 4 s on 28 characters, when any lookbehind turned the check off).
  '(a+){3}$', '^(a{1,2})+$', '^(?<!x)(?:a+)+$', '(?<=y)(b*)*']
// `?` and {0,1} match once at most: no nesting of repetition, whatever they wrap.
const nestedAccepted = [
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


const choiceRefused = [
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
const choiceAccepted = [
  '^(?:a|b)+$',
  '^(\\w|-|\\.)+@',
  '^(.|\\n)*$',
  '^([a-z]|[0-9])+$',
  '^(\\p{Script=Han}|\\w)+$',
  // A choice that no repetition encloses is made once.
  '^(?<cmd>note|notes)(?:\\s+(?<arg>.+))?$',
  '^(?:查询|query)\\s*(\\S+)$',
  // Few ways in all (at most 64), as the nesting check allows.
  '^(a|a){3}$',
  // A lookahead that matched is never backtracked into: the repetition around it does not multiply its choice.
  '(?:(?=(a|a))a)+',
  '^echo\\s+(?<text>.+)$',
]


const cases = [
  { shape: 'nested repetition', check: checkBacktracking, said: /repeats a repeated part/, refused: nestedRefused, accepted: nestedAccepted },
  { shape: 'overlapping choice', check: checkOverlappingAlternatives, said: /repeats a choice whose alternatives .* can match the same text/, refused: choiceRefused, accepted: choiceAccepted },
]
for (const { shape, check, said, refused, accepted } of cases) {
  for (const source of refused) {
    test(`${shape}, refused: ${source}`, () => {
      assert.match(check(source) ?? '', said)
      assert.match(slowRegexProblem(source) ?? '', /stall every account/)
    })
  }
  for (const source of accepted) {
    test(`${shape}, accepted: ${source}`, () => assert.equal(check(source), undefined))
  }
}

test('what both checks accept, the rule loader accepts', () => {
  for (const source of nestedAccepted.filter((s) => choiceAccepted.includes(s) || checkOverlappingAlternatives(s) === undefined)) {
    assert.equal(slowRegexProblem(source), undefined, source)
  }
})

test('the optional-argument command regex accepted here fails fast on a long near-match (not exponential)', () => {
  const re = new RegExp('^(?<cmd>note|notes)(?:\\s+(?<arg>.+))?$', 'u')
  // The worst text for it: the command, many spaces, then a line break `.` cannot cross. Quadratic at most.
  const text = `notes${' '.repeat(2000)}\n`
  const started = performance.now()
  assert.equal(re.test(text), false)
  assert.ok(performance.now() - started < 1000, 'a 2000-character near-match must not take seconds')
})

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
