import assert from 'node:assert/strict'
import { test } from 'node:test'
import { worstCaseOf } from '../../../core/route/rules/regex-worst-case.ts'
import { checkBacktracking, checkOverlappingAlternatives, slowRegexProblem } from '../../../core/route/rules/slow-regex.ts'
import { checkSuperLinearTime } from '../../../core/route/rules/super-linear-time.ts'
import { parseRuleFile } from '../../../core/route/rules/load-rule-set.ts'

// A quantifier that can repeat, under another that can repeat: refused (exponential on a near-match).
const nestedRefused = ['^(a+)+$', '^(\\w+\\s?)*$', '(x*)*', '^(?:(?:a+)?)+$', '(a{2,})+', '((ab)*c)+', '(?:a|(b+))*',
  // Optional parts under a repetition: each iteration may take them or not (a review: 30 s and 44 s on 24 characters).
  '^(?:a?a?)+$', '^(?:\\s?\\s?)+x$', '(a{0,1}b?)*', '(a{0,1})+',
  // A bounded repetition around an unbounded one, or the other way round; and behind a lookbehind (a review:
  // 4 s on 28 characters, when any lookbehind turned the check off).
  '(a+){3}$', '^(a{1,2})+$', '^(?<!x)(?:a+)+$', '(?<=y)(b*)*',
  // Bounded inside bounded: the inner choices to the power of the outer runs, not the product of the bounds (a
  // review: 8^8 ways, 1 s on 64 letters and a `!`, loaded when 8 x 8 <= 64 was asked).
  '^(\\w{1,8}\\s?){1,8}$', '^(?:\\w{1,4}){16}$', '^(?:\\d{1,3}){4}$']
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
  // A fixed count makes no choice, whatever encloses it.
  '^(?:\\d{3})+$', '^(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}$',
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
  // A bounded repetition doubles the ways at each run: 2^64 here (a review: 5.4 s on 26 digits and a `!`).
  '^(\\w|\\d){1,64}$', '^([\\u4e00-\\u9fa5]|\\S){1,50}$', '^(a|a){7}$',
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
  '^(a|a){3}$', '^(a|a){6}$',
  // A lookahead that matched is never backtracked into: the repetition around it does not multiply its choice.
  '(?:(?=(a|a))a)+',
  '^echo\\s+(?<text>.+)$',
]


// Three or more repetitions in a row that can take the same characters (the search from each start of an
// unanchored regex counts as one): time grows with the text's length to that power (recheck's degree).
const cubicRefused = ['^(.*)\\s+(.*)$', '.*.*x', '^\\d+\\d+\\d+$', '^(.*?)\\s*(\\d+)\\s*(.*)$', '^[A-Z]+[a-z]+[a-z]+$',
  // recheck cannot read lookarounds: it is asked without them, and about each one's body.
  '^(?=.*\\d)(.*)\\s+(.*)$', '^(?=(.*)\\s+(.*)$)x',
  // Trimmed ends taken out, what is left is still cubic.
  '^\\s*(.*)\\s+(.*)\\s*$',
  // A lookahead runs once for each way what comes before it matches: `\w+` times `.*x`, from every start (a review:
  // 13 s on 4,000 letters), though each alone is quadratic at most. Also inside an optional group.
  '\\w+(?=.*x)', '(\\S+)(?=.*\\d)', '(?:\\w+(?=.*x))?y',
  // Bounded repetitions took recheck past its 2 s (unknown, and loaded): asked again with them unbounded. This one
  // took more than a minute on 3,962 characters (a review).
  '(.{1,60})\\s+(.{1,60})\\s+(.{1,60})$']
// Quadratic at most: milliseconds on the longest texts. Some have three repetitions and are asked of recheck.
const cubicAccepted = ['^cmd\\s+(\\S+)\\s+(.*)$', '^绑定\\s*(.+)$', '(.*)天气(.*)', '^(\\S+)\\s+(.+)$', '\\s*\\S+\\s*$', '^(\\d+)\\s*(\\d+)$', '^echo\\s+(?<text>.+)$',
  '^(?=.*\\d)(?=.*[a-z]).{8,}$', '(?<=^|\\s)(\\d+)\\s+(\\d+)$', '^(?!.*foo)\\w+\\s+\\w+$',
  // Spaces at the ends of the text are trimmed before matching: the trim idiom's own \s* there never repeat.
  '^\\s*(.*?)\\s*$', '^\\s*(\\S+)\\s+(.*?)\\s*$', '^\\s*$', '^(?=.*订单)(?=.*\\d).*$', '^(?!.*广告).*优惠.*$']

const cases = [
  { shape: 'nested repetition', check: checkBacktracking, said: /repeats a repeated part/, refused: nestedRefused, accepted: nestedAccepted },
  { shape: 'overlapping choice', check: checkOverlappingAlternatives, said: /repeats a choice whose alternatives .* can match the same text/, refused: choiceRefused, accepted: choiceAccepted },
  { shape: 'repetitions in a row', check: (s: string) => checkSuperLinearTime(s), said: /has \d repetitions in a row that can take the same characters/, refused: cubicRefused, accepted: cubicAccepted },
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

test('the degree is said in words, with the parts to blame; an unanchored regex is told to anchor', () => {
  const fifth = slowRegexProblem('^\\d+\\d+\\d+\\d+\\d+$') ?? ''
  assert.match(fifth, /has 5 repetitions in a row that can take the same characters \("\\\\d"\): its time grows with the 5th power of the text's length/)
  assert.doesNotMatch(fifth, /anchor it/)
  const cubic = slowRegexProblem('^(.*)\\s+(.*)$') ?? ''
  assert.match(cubic, /\("\.", "\\\\s"\): its time grows with the cube/)
  assert.match(slowRegexProblem('.*.*x') ?? '', /the search from every start\): .* anchor it with \^/)
})

test('fewer than three repetitions are never more than quadratic, so recheck is not asked about them (and agrees)', () => {
  // The check skips recheck below three repetitions (counting an unanchored search as one). recheck itself on such
  // regexes: never past the second degree.
  for (const source of ['^a*a*$', '^(.+)(.+)$', '.*x.*', '^\\w+\\d+$', '^(\\d+)\\s*(\\d+)$', '^绑定\\s*(.+)$', '\\d+x']) {
    const worst = worstCaseOf(source, 'iu')
    assert.ok(worst.kind === 'linear' || (worst.kind === 'polynomial' && worst.degree <= 2), `${source}: ${JSON.stringify(worst)}`)
    assert.equal(checkSuperLinearTime(source), undefined, source)
  }
})

test('what recheck cannot read comes back unknown: a lookaround is taken out and asked about apart, a backreference left to the other two checks', () => {
  assert.equal(worstCaseOf('(?<=a)b+c+d+', 'iu').kind, 'unknown')
  assert.equal(slowRegexProblem('(?<=a)b+c+d+'), undefined)
  assert.equal(worstCaseOf('(a)\\1+(.*)\\s+(.*)$', 'iu').kind, 'unknown')
  assert.equal(slowRegexProblem('(a)\\1+(.*)\\s+(.*)$'), undefined)
})

test('recheck is asked with its pure JavaScript build, and the variable that chooses it is put back', () => {
  assert.equal(process.env.RECHECK_SYNC_BACKEND, undefined)
  assert.equal(worstCaseOf('^x+y+\\s*(\\d+)$', 'u').kind !== 'unknown', true)
  assert.equal(process.env.RECHECK_SYNC_BACKEND, undefined)
})

test('the cubic regex refused is slow indeed, and the rewrite the message suggests is not', () => {
  // recheck's attack shape for ^(.*)\s+(.*)$: tabs, a line break, tabs, and a tail that cannot match.
  const text = `${'\t'.repeat(300)}\n${'\t'.repeat(300)}\u0000\n`
  let started = performance.now()
  assert.equal(/^(.*)\s+(.*)$/iu.test(text), false)
  const cubic = performance.now() - started
  started = performance.now()
  assert.equal(/^(\S+)\s+(.*)$/iu.test(text), false)
  const rewritten = performance.now() - started
  assert.equal(checkSuperLinearTime('^(\\S+)\\s+(.*)$'), undefined)
  assert.ok(cubic > 10 * rewritten, `the cubic regex (${cubic.toFixed(1)} ms on ${text.length} characters) is far slower than the rewrite (${rewritten.toFixed(2)} ms)`)
})

test('a regex recheck fails on, or cannot finish with in 2 s, is unknown and loads (it passed the other two checks)', () => {
  // recheck's parser overflows the stack here: thrown out of it, this failed the whole rules load.
  const overflowing = '^[\\s\\S]{0,500}(\\d+)[\\s\\S]{0,500}(\\d+)[\\s\\S]*$'
  assert.equal(worstCaseOf(overflowing, 'iu').kind, 'unknown')
  assert.equal(slowRegexProblem(overflowing), undefined)
  // A 200-word alternation before three repetitions took recheck its default 10 s.
  const words = Array.from({ length: 200 }, (_, i) => `词${i}abc`).join('|')
  const started = performance.now()
  const worst = worstCaseOf(`(${words})\\s*(\\d+)\\s*(.*)$`, 'iu')
  const ms = performance.now() - started
  assert.deepEqual(worst, { kind: 'unknown', reason: 'timeout' })
  assert.ok(ms < 6_000, `bounded: ${ms.toFixed(0)} ms`)
})

test('a regex is checked as width folding rewrites it: (?:，|,)+ reads folded text as (?:,|,)+', () => {
  const file = (extra: string) => `rules:\n  - name: commas\n    keywords: [{regex: '^(?:，|,)+x$'${extra}}]\n    reply: {type: text, content: ok}\n`
  const refused = parseRuleFile(file(''), { path: 'rules/a.yaml', rel: 'a.yaml' })
  assert.ok('errors' in refused)
  assert.match(refused.errors[0]!.message, /can match the same text.*as the regex reads width-folded text/s)
  // Without width folding the alternatives start differently, as written.
  assert.ok(!('errors' in parseRuleFile(file(', foldWidth: false'), { path: 'rules/a.yaml', rel: 'a.yaml' })))
})
