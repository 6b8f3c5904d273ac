/**
 * tableLines, the tables of `stats`, `followers`, `mass tags` and `mass results`: columns are as wide as a
 * terminal shows their cells (string-width), so Chinese tag names, scenes and keywords, two columns a
 * character, line up with the ASCII around them.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { displayWidth, padDisplay, tableLines } from '../../core/cli/cli-context.ts'

test('tableLines: ASCII cells as before, counts right-aligned, no trailing spaces', () => {
  assert.deepEqual(tableLines([['HITS', 'RULE', 'KEYWORD'], ['12', 'greet', '"hi"'], ['3', 'help', '-']], new Set([0])), [
    'HITS  RULE   KEYWORD',
    '  12  greet  "hi"',
    '   3  help   -',
  ])
})

test('tableLines: a Chinese cell takes two columns a character, so the columns after it line up', () => {
  const rows = [
    ['ID', 'NAME', 'FOLLOWERS'],
    ['2', '星标组', '3'],
    ['100', 'VIP 客户', '12'],
    ['101', '北京用户', '1234'],
    ['7', 'vip', '5'],
  ]
  assert.deepEqual(tableLines(rows, new Set([0, 2])), [
    ' ID  NAME      FOLLOWERS',
    '  2  星标组            3',
    '100  VIP 客户         12',
    '101  北京用户       1234',
    '  7  vip               5',
  ])
})

test('tableLines: Chinese in a right-aligned column, and in the last column (no trailing spaces)', () => {
  const rows = [
    ['SCENE', 'COUNT', 'NOTE'],
    ['春季活动', '二', 'a'],
    ['x', '十一', '全角（括号）'],
  ]
  assert.deepEqual(tableLines(rows, new Set([1])), [
    'SCENE     COUNT  NOTE',
    '春季活动     二  a',
    'x          十一  全角（括号）',
  ])
})

test('displayWidth and padDisplay: as string-width says, emoji two columns, a combining mark none', () => {
  assert.equal(displayWidth('北京用户'), 8)
  assert.equal(displayWidth('VIP 客户'), 8)
  assert.equal(displayWidth('e\u0301'), 1)
  assert.equal(displayWidth('👍'), 2)
  assert.equal(padDisplay('北京', 6, 'end'), '北京  ')
  assert.equal(padDisplay('北京', 6, 'start'), '  北京')
  // Wider already: as it is, as padEnd leaves it.
  assert.equal(padDisplay('北京用户', 6, 'end'), '北京用户')
  assert.deepEqual(tableLines([['A', 'B'], ['👍', 'x'], ['e\u0301e', 'y'], ['abc', 'z']], new Set()), ['A    B', '👍   x', 'e\u0301e   y', 'abc  z'])
})

test('tableLines: control characters in a cell (a stored key, a tag name) are shown escaped, not sent to the terminal', () => {
  assert.deepEqual(tableLines([['KEY', 'VALUE'], ['a\x1b[2J\nb', '1'], ['c\u202ed', '2']], new Set()), [
    'KEY            VALUE',
    'a\\u001b[2J\\nb  1',
    'c\\u202ed       2',
  ])
})
