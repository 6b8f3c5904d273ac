import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkRegex } from '../../../core/route/rules/rule-file-schema.ts'
import { shownPattern } from '../../../core/route/rules/shown-pattern.ts'

test('a pattern is shown as YAML single quotes write it: one backslash stays one (found by a newcomer\'s walkthrough)', () => {
  // `regex: '^x\-y$'` in a rules file: the message showed "^x\\-y$", another pattern than the one written.
  assert.match(checkRegex('^x\\-y$') ?? '', /^invalid regular expression '\^x\\-y\$': Invalid escape \(regexes use the u flag/)
  assert.equal(shownPattern("it's"), "'it''s'", 'a quote doubled, as YAML reads it back')
  assert.equal(shownPattern('a\nb'), '"a\\nb"', 'a line break has no single-quoted form: JSON')
})

test("the u flag's two refusals a newcomer meets say what to write instead (a newcomer's review)", () => {
  // V8 says only "Invalid escape": `\-` outside [...] is none under the u flag, and inside one it is.
  assert.equal(
    checkRegex('^price\\-(\\d+)$'),
    `invalid regular expression '^price\\-(\\d+)$': Invalid escape (regexes use the u flag: \\- is no escape outside [...], write "-" alone; a \\ escapes only ^ $ \\ . * + ? ( ) [ ] { } | /)`,
  )
  assert.match(checkRegex('[\\-a]\\_') ?? '', /\\_ is no escape outside \[\.\.\.\], write "_" alone/, 'the \\- in [...] is fine: the \\_ after it is the one')
  assert.match(checkRegex('[\\a]') ?? '', /\\a is no escape in \[\.\.\.\], write "a" alone; .* and, in \[\.\.\.\], -\)$/)
  // "Invalid property name": a script needs Script=.
  assert.match(checkRegex('^\\p{Han}+$') ?? '', /Invalid property name \(regexes use the u flag: a script is written \\p\{Script=Han\}; /)
  assert.match(checkRegex('\\P{Latin}') ?? '', /a script is written \\P\{Script=Latin\}/)
  // Neither: V8's words alone.
  assert.equal(checkRegex('\\p{Foo}'), "invalid regular expression '\\p{Foo}': Invalid property name (regexes use the u flag)")
  assert.equal(checkRegex('(a'), "invalid regular expression '(a': Unterminated group (regexes use the u flag)")
  // A lone \ at the end: no hint (it named a NUL, "\\\u0000 is no escape").
  assert.equal(checkRegex('abc\\'), "invalid regular expression 'abc\\': \\ at end of pattern (regexes use the u flag)")
  assert.equal(checkRegex('[a\\'), "invalid regular expression '[a\\': \\ at end of pattern (regexes use the u flag)")
  assert.equal(checkRegex('\\p{Script=Han}[\\-\\]]\\.'), undefined)
})
