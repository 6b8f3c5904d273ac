import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkRegex } from '../../../core/route/rules/rule-file-schema.ts'
import { shownPattern } from '../../../core/route/rules/shown-pattern.ts'

test('a pattern is shown as YAML single quotes write it: one backslash stays one (found by a newcomer\'s walkthrough)', () => {
  // `regex: '^x\-y$'` in a rules file: the message showed "^x\\-y$", another pattern than the one written.
  assert.equal(checkRegex('^x\\-y$'), "invalid regular expression '^x\\-y$': Invalid escape (regexes use the u flag)")
  assert.equal(shownPattern("it's"), "'it''s'", 'a quote doubled, as YAML reads it back')
  assert.equal(shownPattern('a\nb'), '"a\\nb"', 'a line break has no single-quoted form: JSON')
})
