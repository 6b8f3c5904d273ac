import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkBoundedRepetitions } from '../../../core/route/rules/bounded-repetitions.ts'
import { slowRegexProblem } from '../../../core/route/rules/slow-regex.ts'

// Bounded repetitions in a row that can take the same characters: recheck reads them as linear, and they loaded.
// Each is slow on a text of 2,000-4,000 characters that almost matches (timings in docs/rules.md and the commit
// message, not asserted here), with the parts the message must name.
const refused: Array<[string, string[]]> = [
  ['\\s(.{0,60})\\s(.{0,60})\\s(.{0,60})!', ['.{0,60}']],
  ['(.{0,100})x(.{0,100})y(.{0,100})z', ['.{0,100}']],
  ['(.{0,60})(.{0,60})(.{0,60})!', ['.{0,60}']],
  ['.{0,500}.{0,500}!', ['.{0,500}']],
  ['[\\s\\S]{0,200}[\\s\\S]{0,200}!', ['[\\s\\S]{0,200}']],
  ['.{0,30}.{0,30}.{0,30}.{0,30}!', ['.{0,30}']],
  // An unbounded one before a bounded one: recheck says quadratic, the bound multiplies it.
  ['.*.{0,60}!', ['.*', '.{0,60}']],
  ['\\d{1,20}\\d{1,20}\\d{1,20}x', ['\\d{1,20}']],
  // The search from every start reaches the bounded ones through \d{1,3}, which takes what `.` takes.
  ['\\d{1,3}\\s(.{0,60})\\s(.{0,60})\\s(.{0,60})!', ['.{0,60}']],
]
// Safe patterns (docs/rules.md, rules/default.yaml, fixtures), and bounded ones measured fast enough.
const accepted = [
  '^cmd\\s+(\\S+)\\s+(.*)$', '^(?:\\d{1,3}\\.){3}\\d{1,3}$', '^绑定\\s*(.+)$', '^\\s*(.*?)\\s*$', '(\\d{11})', '^.{1,20}$',
  '^echo\\s+(?<text>.+)$', '^\\d{4}-\\d{2}-\\d{2}$', '^\\d{8,12}$', '^1[3-9]\\d{9}$', '^[\\u4e00-\\u9fa5]{2,4}$',
  '^[A-Za-z0-9]{6,20}$', '^(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}$', '^(?:\\d{1,2}:){2}\\d{1,2}$', '^天气\\s*(?<city>\\S+)(?:\\s+(?<day>\\S+))?$',
  '(.*)天气(.*)', '^(?<cmd>note|notes)(?:\\s+(?<arg>.+))?$', '\\d{3}', '^.{3}$', '^(?=.*\\d)(?=.*[a-z]).{8,}$',
  // No end that can fail: the first way tried matches.
  '.{0,100}.{0,100}', '(.{0,60})(.{0,60})(.{0,60})',
  // Anchored: one start. 61^4 ways, 31 ms on 4,000 characters; 101^3, 7 ms.
  '^(.{0,60})\\s(.{0,60})\\s(.{0,60})\\s(.{0,60})!', '^(.{0,100})(.{0,100})(.{0,100})!', '^(.{1,50})[:：](.{1,50})[:：](.{1,50})$',
  '^[\\s\\S]{0,1000}x[\\s\\S]{0,1000}y',
  // Neighbours that cannot take the same characters: \S{1,30} stops at the space.
  '\\S{1,30}\\s\\S{1,30}\\s\\S{1,30}!',
  // \D{0,50} and \d{0,50} never both take a character: 51 x 51 ways from each start, 27 ms on 4,000 digits.
  '(\\d{0,50})\\D{0,50}(\\d{0,50})!',
  // Two bounded ones from every start, 64 ms on 4,000 characters; an unbounded one and two bounded, anchored, 54 ms.
  '.{0,60}.{0,60}!', '^(.*)\\s(.{0,60})\\s(.{0,60})!',
]

for (const [source, parts] of refused) {
  test(`bounded repetitions in a row, refused: ${source}`, () => {
    const problem = checkBoundedRepetitions(source) ?? ''
    assert.match(problem, /repetitions in a row that can take the same characters/)
    for (const part of parts) assert.ok(problem.includes(JSON.stringify(part)), `names ${part}: ${problem}`)
    assert.match(problem, /on a text of 4,096 characters/)
    assert.match(slowRegexProblem(source) ?? '', /stall every account/)
  })
}
for (const source of accepted) {
  test(`bounded repetitions in a row, accepted: ${source}`, () => {
    assert.equal(checkBoundedRepetitions(source), undefined)
    assert.equal(slowRegexProblem(source), undefined)
  })
}

test('the message says what to do: anchor an unanchored regex, narrow the classes, or trust it', () => {
  const unanchored = checkBoundedRepetitions('\\s(.{0,60})\\s(.{0,60})\\s(.{0,60})!') ?? ''
  assert.match(unanchored, /the search from every start/)
  assert.match(unanchored, /anchor it with \^/)
  assert.match(unanchored, /different characters/)
  assert.match(unanchored, /trusted: true/)
  // Anchored, but still too many ways (62^5, more than 100 ms): no advice to anchor.
  const anchored = checkBoundedRepetitions('^(.{0,61})(.{0,61})(.{0,61})(.{0,61})(.{0,61})!') ?? ''
  assert.match(anchored, /repetitions in a row/)
  assert.doesNotMatch(anchored, /anchor it/)
})

test('case folding counts: [A-Z]{0,60} and [a-z]{0,60} take the same letters only when case is folded', () => {
  const source = '[A-Z]{0,60}[a-z]{0,60}[a-z]{0,60}!'
  assert.match(checkBoundedRepetitions(source) ?? '', /repetitions in a row/)
  assert.equal(checkBoundedRepetitions(source, false), undefined)
})

test('a search from every start that a neighbour pins does not multiply: (\\S+)\\s+(.{0,60})(.{0,60})$', () => {
  // \S+ cannot take the spaces \s+ takes, so few starts reach the bounded ones: 16 ms on 4,000 characters. Not
  // this check's refusal; recheck's, read unbounded after its timeout, still refuses it (a 4th power).
  assert.equal(checkBoundedRepetitions('(\\S+)\\s+(.{0,60})(.{0,60})$'), undefined)
})

test('what only unbounded repetitions make is left to recheck (its degree), and a backreference with them loads as before', () => {
  assert.equal(checkBoundedRepetitions('^(.*)\\s+(.*)$'), undefined)
  assert.equal(checkBoundedRepetitions('(a)\\1+(.*)\\s+(.*)$'), undefined)
})
