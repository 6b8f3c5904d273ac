/**
 * Broken YAML gets a clear error with file and line (the brief's standard), checked over generated edits
 * (fast-check) of the shipped rules file and menu file: lines removed, repeated, re-indented, and YAML's own
 * punctuation put in. Each edited file loads, or is refused with errors that each name the file, a line
 * inside it and a reason; nothing throws.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import fc from '../../support/fast-check.ts'
import { loadRuleSet, parseRuleFile } from '../../../core/route/rules/load-rule-set.ts'
import { parseMenuFile } from '../../../core/menu/menu-file.ts'

const RULES = readFileSync(new URL('../../../rules/default.yaml', import.meta.url), 'utf8')
const MENU = readFileSync(new URL('../../../menus/default.yaml', import.meta.url), 'utf8')

type LineEdit = { line: number; how: 'drop' | 'repeat' | 'indent' | 'dedent' | 'insert' | 'append'; text: string }

/** YAML that goes wrong in the ways people write it wrong, and some that merely changes types. */
const TOKEN = fc.constantFrom(
  ':', '- ', '-', '[', ']', '{', '}', '"', "'", '#', '&a ', '*a', '<<: *a', '!!js/function ', '!!binary ', '|', '>', '\t', '  ', '?',
  'null', '~', 'true', '0x1F', '1e400', '.nan', '- - -', '%YAML 1.1', '---', '...', '@', '`', '\u0000', '\uFEFF', 'ü', '中',
  'regex: "(a+)+$"', 'regex: "["', 'exact: ""', 'type: nope', 'reply: 5', 'plugin: ../etc', 'priority: -1e9', 'users: [nobody]',
  'file: ../../etc/passwd', 'key: ""', 'type: click', 'name: x', 'sub_button: []', 'url: javascript:1',
)
const lineEdit = fc.record({
  line: fc.nat(),
  how: fc.constantFrom('drop', 'repeat', 'indent', 'dedent', 'insert', 'append'),
  text: fc.array(TOKEN, { minLength: 1, maxLength: 3 }).map((t) => t.join('')),
}) as fc.Arbitrary<LineEdit>

function edit(text: string, edits: LineEdit[]): string {
  const lines = text.split('\n')
  for (const e of edits) {
    const i = e.line % lines.length
    const l = lines[i]
    if (e.how === 'drop') lines.splice(i, 1)
    else if (e.how === 'repeat') lines.splice(i, 0, l)
    else if (e.how === 'indent') lines[i] = `  ${l}`
    else if (e.how === 'dedent') lines[i] = l.replace(/^ {1,2}/, '')
    else if (e.how === 'insert') lines.splice(i, 0, `${l.match(/^\s*/)![0]}${e.text}`)
    else lines[i] = `${l}${e.text}`
    if (lines.length === 0) lines.push('')
  }
  return lines.join('\n')
}

function checkErrors(errors: readonly { file: string; line: number; column?: number; message: string }[], file: string, text: string): void {
  assert.ok(errors.length > 0)
  const lineCount = text.split('\n').length
  for (const e of errors) {
    assert.equal(e.file, file)
    assert.ok(Number.isInteger(e.line) && e.line >= 1 && e.line <= lineCount + 1, `line ${e.line} of ${lineCount}: ${e.message}`)
    if (e.column !== undefined) assert.ok(Number.isInteger(e.column) && e.column >= 1, `column ${e.column}`)
    assert.equal(typeof e.message, 'string')
    assert.ok(e.message.trim().length > 0, 'an error without a reason')
  }
}

test('an edited rules file loads (and compiles) or is refused with errors naming the file, a line in it and a reason; it never throws', async () => {
  const seen = { loaded: 0, refused: 0 }
  await fc.assert(
    fc.asyncProperty(fc.array(lineEdit, { minLength: 1, maxLength: 4 }), async (edits) => {
      const text = edit(RULES, edits)
      const r = parseRuleFile(text, { path: 'rules/default.yaml', rel: 'default.yaml' })
      if ('errors' in r) {
        seen.refused++
        checkErrors(r.errors, 'rules/default.yaml', text)
      } else {
        seen.loaded++
        for (const w of r.warnings) assert.ok(typeof w === 'string' && w.length > 0)
        // The file as the engine takes it: compiled into a rule set with the news limits checked.
        const set = await loadRuleSet('rules', { newsLimits: { newsMaxArticles: 8, newsMaxArticlesForUserMessage: 1 } }, async () => ({ ok: true, files: [r], warnings: [] }))
        assert.ok(set.ok)
      }
    }),
    { numRuns: 1500 },
  )
  assert.ok(seen.loaded > 50 && seen.refused > 50, JSON.stringify(seen))
})

test('an edited menu file loads or is refused with errors naming the file, a line in it and a reason; it never throws', () => {
  const seen = { loaded: 0, refused: 0 }
  fc.assert(
    fc.property(fc.array(lineEdit, { minLength: 1, maxLength: 4 }), (edits) => {
      const text = edit(MENU, edits)
      const r = parseMenuFile(text, 'menus/default.yaml')
      if (!r.ok) {
        seen.refused++
        checkErrors(r.errors, 'menus/default.yaml', text)
      } else seen.loaded++
    }),
    { numRuns: 1500 },
  )
  assert.ok(seen.loaded > 50 && seen.refused > 50, JSON.stringify(seen))
})
