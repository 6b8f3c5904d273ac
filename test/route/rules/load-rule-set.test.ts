import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatRuleErrors, loadRuleSet } from '../../../core/route/rules/index.ts'
import { parseRuleFile } from '../../../core/route/rules/load-rule-set.ts'
import { missingRulesDirWarning } from '../../../core/route/rules/list-rule-files.ts'
import { namedAt, type RuleLoadError } from '../../../core/route/rule-types.ts'
import { tempRulesDirs } from '../../support/rules-dir.ts'

const rulesDir = tempRulesDirs('rules')

async function errorsOf(files: Record<string, string>): Promise<{ dir: string; errors: RuleLoadError[] }> {
  const dir = await rulesDir(files)
  const result = await loadRuleSet(dir)
  assert.equal(result.ok, false, 'expected the rules to be rejected')
  return { dir, errors: result.ok ? [] : result.errors }
}

/** The single error of a one-file directory, checked for file and line; returns its message. */
async function singleError(text: string, line: number): Promise<string> {
  const { dir, errors } = await errorsOf({ 'main.yaml': text })
  assert.equal(errors.length, 1, formatRuleErrors(errors))
  assert.equal(errors[0].file, join(dir, 'main.yaml'))
  assert.equal(errors[0].line, line, formatRuleErrors(errors))
  return errors[0].message
}

const valid = (body: string) => `rules:\n  - name: ok\n    keywords: [ok]\n    plugin: p\n${body}`

describe('loadRuleSet errors: file, line and plain words', () => {
  it('bad YAML syntax', async () => {
    let message = await singleError('rules:\n  - name: a\n    keywords: [a]\n     plugin: p\n', 4)
    assert.equal(message, "YAML syntax error: All mapping items must start at the same column: indent this key exactly as the other keys of its mapping above (the keys of one rule, or of one menu button, start in one column)")
    message = await singleError('rules:\n  - name: a\n    keywords: [a]\n    name: b\n    plugin: p\n', 4)
    assert.equal(message, 'YAML syntax error: duplicate key "name" (first at line 2): a mapping takes each key once; if this starts another item, begin it with "- "')
  })

  it('an indentation error is placed at the first character of its line, not at column 1, where the parser puts it (a plugin author\'s walkthrough)', async () => {
    // `plugin:` one space off, and `plugin:` back at the list's column: the key, at 5:6 and 5:3.
    let { errors } = await errorsOf({ 'main.yaml': 'rules:\n  - name: a\n    keywords:\n    - exact: a\n     plugin: p\n' })
    assert.deepEqual(errors.map((e) => [e.line, e.column]), [[5, 6]], formatRuleErrors(errors))
    assert.match(errors[0].message, /^YAML syntax error: Sequence item without - indicator: check the indentation here/)
    ;({ errors } = await errorsOf({ 'main.yaml': 'rules:\n  - name: a\n    keywords:\n      - exact: a\n  plugin: p\n' }))
    assert.deepEqual(errors.map((e) => [e.line, e.column]), [[5, 3]], formatRuleErrors(errors))
    assert.match(errors[0].message, /^YAML syntax error: All mapping items must start at the same column: indent this key exactly as/)
  })

  it("`account: *` unquoted and a second document (---): said in the file's terms, not the parser's (\"Alias cannot be an empty string\", \"please use YAML.parseAllDocuments()\")", async () => {
    let message = await singleError('account: *\nrules: []\n', 1)
    assert.equal(message, "YAML syntax error: Alias cannot be an empty string: a * there starts an alias (*name); for the text *, such as every account (account: '*'), put it in quotes")
    message = await singleError(valid('---\nrules:\n  - name: b\n    keywords: [b]\n    plugin: p\n'), 5)
    assert.equal(message, 'YAML syntax error: a second document starts here (---): the file is one document; put what follows under the keys above, or in a file of its own')
  })

  it('args that contain themselves through an alias are refused at their line; an alias used twice side by side (shared data) loads', async () => {
    let message = await singleError('rules:\n  - &r\n    name: a\n    keywords: [a]\n    plugin: p\n    args: {self: *r}\n', 6)
    assert.match(message, /^rule "a": args contain themselves through an alias/)
    message = await singleError('rules:\n  - name: b\n    keywords: [b]\n    plugin: p\n    args: &x {n: 1, again: *x}\n', 5)
    assert.match(message, /^rule "b": args contain themselves/)
    const dir = await rulesDir({ 'main.yaml': 'rules:\n  - name: c\n    keywords: [c]\n    plugin: p\n    args: {one: &s {n: 1}, two: *s}\n' })
    const loaded = await loadRuleSet(dir)
    assert.ok(loaded.ok, loaded.ok ? '' : formatRuleErrors(loaded.errors))
  })

  it('a duplicate key is named, with the line of its twin (it was "Map keys must be unique", naming neither)', async () => {
    const message = await singleError(valid('welcome: {plugin: p}\nrules:\n  - name: b\n    keywords: [b]\n    plugin: p\n'), 6)
    assert.equal(message, 'YAML syntax error: duplicate key "rules" (first at line 1): a mapping takes each key once')
    // A flow mapping, `{...}`, is not two list items run together: no "- " to add.
    const flow = await singleError(valid('  - {name: b, keywords: [b], plugin: p, plugin: q}\n'), 5)
    assert.equal(flow, 'YAML syntax error: duplicate key "plugin" (first at line 5): a mapping takes each key once')
  })

  it('an alias naming no anchor is said at the alias, with why (it was 1:1 "Unresolved alias", and a merge key\'s "takes a mapping")', async () => {
    let message = await singleError('rules:\n  - name: a\n    keywords: *kw\n    plugin: p\n', 3)
    assert.equal(message, 'YAML error: *kw names no anchor: no &kw is set above it: write &kw on the mapping or value to copy, before its aliases')
    message = await singleError('rules:\n  - &base\n    name: a\n    keywords: [a]\n    plugin: p\n  - <<: *bsae\n    name: b\n', 6)
    assert.equal(message, 'YAML error: *bsae names no anchor: no &bsae is set above it (did you mean "base"?): write &bsae on the mapping or value to copy, before its aliases')
    // The template written after the rules that use it: the anchor's own line, not its mapping's first key's.
    message = await singleError('rules:\n  - <<: *base\n    name: b\n  - &base\n    name: a\n    keywords: [a]\n    plugin: p\n', 2)
    assert.equal(message, 'YAML error: *base names no anchor: its anchor &base is set below, at line 4: an anchor comes before its aliases, so move that entry above this one')
  })

  it("the parser's words for the usual slips, said in the file's terms, once a place (found by a newcomer's walkthrough)", async () => {
    // A list indented under `plugin: echo` (two errors at one place, before) and a key without its colon.
    let message = await singleError('rules:\n  - name: a\n    keywords:\n      - exact: x\n    plugin: echo\n      - prefix: y\n', 5)
    assert.equal(message, "YAML syntax error: Nested mappings are not allowed in compact mappings: a key without ': ' after it here, or the next line indented deeper than this one (a key with its value on its line takes nothing under it)")
    message = await singleError('rules:\n  - name: a\n    keywords: [a]\n    plugin: echo\n  - name b\n    keywords: [b]\n', 5)
    assert.match(message, /^YAML syntax error: Implicit keys need to be on a single line: a key without ': ' after it here/)
    // An unclosed bracket: said at the bracket, not at the next key's line, where the parser gave up and
    // "a [ or { opened here" sent the reader to a line with no bracket on it (an operator's review).
    message = await singleError('rules:\n  - name: a\n    keywords: [a\n    plugin: echo\n', 3)
    assert.equal(message, 'YAML syntax error: this [ is not closed (the parser gave up at line 4): add its ] where the list ends, or indent the lines inside it deeper than its key')
    const { errors } = await errorsOf({ 'main.yaml': 'rules:\n  - name: a\n    keywords: [a]\n    reply: {type: text, content: hi\n  - name: b\n' })
    assert.deepEqual(errors.map((e) => [e.line, e.column, e.message]), [[4, 12, 'YAML syntax error: this { is not closed (the parser gave up at line 5): add its } where the mapping ends, or indent the lines inside it deeper than its key']])
  })

  it('unknown key, with a suggestion', async () => {
    const message = await singleError(valid('  - name: b\n    keywords: [b]\n    prority: 2\n    plugin: p\n'), 7)
    assert.match(message, /rule "b": unknown key "prority" \(did you mean "priority"\?\)/)
  })

  it('a keyword kind by the name other tools give it is suggested as this one (startsWith: "unknown key" and the list, before; a plugin author\'s walkthrough)', async () => {
    const { errors } = await errorsOf({ 'main.yaml': 'rules:\n  - name: b\n    keywords:\n      - startsWith: fb\n      - starts_with: fb\n      - includes: x\n      - pattern: y\n    plugin: p\n' })
    assert.deepEqual(
      errors.map((e) => /unknown key "(\w+)" \(did you mean "(\w+)"\?\)/.exec(e.message)?.slice(1)),
      [['startsWith', 'prefix'], ['starts_with', 'prefix'], ['includes', 'contains'], ['pattern', 'regex']],
      formatRuleErrors(errors),
    )
  })

  it("unknown key in an inline reply or a news article: the suggestion and list are that reply type's", async () => {
    const { errors } = await errorsOf({
      'main.yaml':
        'default:\n  reply: {type: text, contnet: hi}\nrules:\n  - name: a\n    keywords: [x]\n    reply: {type: news, articles: [{title: t, uri: "https://a.example.com/"}]}\n  - name: b\n    keywords: [y]\n    reply: {type: image, fiel: a.png}\n',
    })
    const unknown = errors.filter((e) => e.message.includes('unknown key')).map((e) => [e.line, e.message])
    unknown.sort((a, b) => Number(a[0]) - Number(b[0]))
    assert.deepEqual(unknown, [
      [2, 'default.reply: unknown key "contnet" (did you mean "content"?); allowed here: type, content'],
      [6, 'rule "a": unknown key "uri" (did you mean "url"?); allowed here: title, description, picUrl, url, login'],
      [9, 'rule "b": unknown key "fiel" (did you mean "file"?); allowed here: type, mediaId, file'],
    ])
  })

  it('unknown key at the top of the file', async () => {
    const message = await singleError(valid('handler:\n  - type: image\n'), 5)
    assert.match(message, /unknown key "handler" \(did you mean "handlers"\?\)/)
  })

  it('a keyword with an invisible character at an end (pasted from a web page): it could never match, and the message shows it', async () => {
    let message = await singleError(valid('  - name: b\n    keywords: ["帮助\\u200b"]\n    plugin: p\n'), 6)
    assert.equal(message, 'rule "b": keyword "帮助\\u200b" has leading or trailing spaces or invisible characters; texts are trimmed before matching, so it could never match')
    message = await singleError(valid('  - name: b\n    keywords:\n      - exact: "\\ufeff帮助"\n    plugin: p\n'), 7)
    assert.match(message, /exact keyword "\\ufeff帮助" has leading or trailing spaces or invisible characters;/)
    message = await singleError(valid('  - name: b\n    keywords:\n      - prefix: "\\u200becho "\n    plugin: p\n'), 7)
    assert.match(message, /prefix keyword "\\u200becho " starts with spaces or invisible characters;/)
    message = await singleError(valid('  - name: b\n    keywords: [" 帮助"]\n    plugin: p\n'), 6)
    assert.match(message, /keyword " 帮助" has leading or trailing spaces;/)
  })

  it('wrong type', async () => {
    const message = await singleError(valid('  - name: b\n    keywords: [b]\n    priority: high\n    plugin: p\n'), 7)
    assert.equal(message, 'rule "b": priority must be a whole number, got "high"')
  })

  it('a list item written -a, without the space after its dash: said (it read as a text "-a - b", or a key "-name")', async () => {
    let message = await singleError(valid('  - name: b\n    keywords:\n      -b\n      - c\n    plugin: p\n'), 7)
    assert.equal(message, 'rule "b": keywords must be a list, got "-b - c"; a list item starts with "- ", a dash and a space (- a, not -a)')
    message = await singleError('rules:\n  -name: a\n', 2)
    assert.equal(message, 'rules must be a list, got a mapping; a list item starts with "- ", a dash and a space (- a, not -a)')
    // A negative number is no dash without its space.
    message = await singleError(valid('  - name: b\n    keywords: -1\n    plugin: p\n'), 6)
    assert.equal(message, 'rule "b": keywords must be a list, got -1')
  })

  it('one keyword without its list, and rules without their "- ": said how a list is written (a plugin author\'s walkthrough)', async () => {
    let message = await singleError(valid('  - name: b\n    keywords: feedback\n    plugin: p\n'), 6)
    assert.equal(message, 'rule "b": keywords must be a list, got "feedback"; one keyword is a list of one: keywords: [feedback]')
    // Quoted where YAML would read the bare text otherwise.
    message = await singleError(valid('  - name: b\n    keywords: "hi, there"\n    plugin: p\n'), 6)
    assert.equal(message, 'rule "b": keywords must be a list, got "hi, there"; one keyword is a list of one: keywords: ["hi, there"]')
    message = await singleError('rules:\n  name: a\n  keywords: [a]\n  plugin: p\n', 2)
    assert.equal(message, 'rules must be a list, got a mapping; begin each rule with "- ", as in: - name: a')
    message = await singleError('handlers:\n  type: image\n  plugin: p\n', 2)
    assert.equal(message, 'handlers must be a list, got a mapping; begin each handler with "- ", as in: - type: image')
  })

  it('wrong type inside a keyword', async () => {
    const message = await singleError(valid('  - name: b\n    keywords:\n      - exact: b\n      - foldCase: yes please\n        exact: c\n    plugin: p\n'), 8)
    assert.equal(message, 'rule "b": keywords[1].foldCase must be true or false, got "yes please"')
  })

  it('a regex in double quotes whose backslash YAML reads as an escape: says to use single quotes (a plugin author review)', async () => {
    const message = await singleError(valid('  - name: b\n    keywords:\n      - regex: "^todo\\s+(.+)$"\n    plugin: p\n'), 7)
    assert.equal(message, "YAML syntax error: Invalid escape sequence \\s (in double quotes a backslash starts a YAML escape: write regexes in single quotes, '^todo\\s+(.+)$')")
  })

  it('a regex that looks like a JavaScript literal (/.../i, or anchored inside the slashes): a warning at its line, not an error', async () => {
    const warningsOf = async (regex: string) => {
      const r = await loadRuleSet(await rulesDir({ 'main.yaml': valid(`  - name: b\n    keywords:\n      - regex: '${regex}'\n    plugin: p\n`) }))
      assert.equal(r.ok, true, `${regex} still loads`)
      return r.ok ? r.warnings : []
    }
    const flagged = await warningsOf('/^foo$/i')
    assert.equal(flagged.length, 1, flagged.join('\n'))
    assert.match(flagged[0], /main\.yaml:7:\d+: rule "b": regex '\/\^foo\$\/i' looks like a JavaScript literal \/\.\.\.\/i: as written it matches no text at all \(an anchor after a slash\); write the pattern alone, '\^foo\$'/)
    assert.match((await warningsOf('/hello/i'))[0], /as written it matches only texts containing '\/hello\/i' itself; write the pattern alone, 'hello'/)
    assert.match((await warningsOf('/^start/'))[0], /looks like a JavaScript literal \/\.\.\.\/: as written it matches no text at all/)
    // Real patterns with slashes (a review of this stop's diff found them refused as errors): no warning.
    for (const real of ['/start/', '/bind/(\\d+)/confirm', '/start/help', '/cancel/all', '/price\\$/', '/a/ii']) {
      assert.deepEqual(await warningsOf(real), [], real)
    }
  })

  it('invalid regex, at its line', async () => {
    const message = await singleError(valid('  - name: b\n    keywords:\n      - exact: b\n      - regex: "(?<x>a"\n    plugin: p\n'), 8)
    assert.match(message, /^rule "b": invalid regular expression '\(\?<x>a': /)
  })

  it('a regex with nested repetition (catastrophic backtracking), at its line', async () => {
    const message = await singleError(valid("  - name: b\n    keywords:\n      - regex: '^(a+)+$'\n    plugin: p\n"), 7)
    assert.match(message, /^rule "b": regex '\^\(a\+\)\+\$' repeats a repeated part \(like \(a\+\)\+\): .* add trusted: true/)
    const words = await singleError(valid("  - name: c\n    keywords:\n      - regex: '^(\\w+\\s?)*$'\n    plugin: p\n"), 7)
    assert.match(words, /repeats a repeated part/)
  })

  it('a regex repeating alternatives that can match the same text (catastrophic backtracking), at its line; trusted accepts it', async () => {
    const message = await singleError(valid("  - name: b\n    keywords:\n      - regex: '^([\\u4e00-\\u9fa5]|\\S)+$'\n    plugin: p\n"), 7)
    assert.match(message, /^rule "b": regex .* repeats a choice whose alternatives '\[.*u4e00-.*u9fa5\]' and '.*S' can match the same text: .* add trusted: true/)
    const dir = await rulesDir({ 'main.yaml': valid("  - name: b\n    keywords:\n      - { regex: '^(\\w|\\d)+$', trusted: true }\n    plugin: p\n") })
    const loaded = await loadRuleSet(dir)
    assert.equal(loaded.ok, true, loaded.ok ? '' : formatRuleErrors(loaded.errors))
  })

  it('a regex with three repetitions in a row over the same characters (cubic), at its line; foldCase: false and trusted are read', async () => {
    const message = await singleError(valid("  - name: b\n    keywords:\n      - regex: '^(.*)\\s+(.*)$'\n    plugin: p\n"), 7)
    assert.match(message, /^rule "b": regex '\^\(\.\*\)\\s\+\(\.\*\)\$' has 3 repetitions in a row that can take the same characters .*grows with the cube of the text's length.* add trusted: true/)
    // Two of the three overlap only when case is folded: with foldCase: false the regex is quadratic, and loads.
    const caseKept = await loadRuleSet(await rulesDir({ 'main.yaml': valid("  - name: b\n    keywords:\n      - { regex: '^[A-Z]+[a-z]+[a-z]+$', foldCase: false }\n    plugin: p\n") }))
    assert.equal(caseKept.ok, true, caseKept.ok ? '' : formatRuleErrors(caseKept.errors))
    assert.match(await singleError(valid("  - name: b\n    keywords:\n      - regex: '^[A-Z]+[a-z]+[a-z]+$'\n    plugin: p\n"), 7), /has 3 repetitions in a row/)
    const trusted = await loadRuleSet(await rulesDir({ 'main.yaml': valid("  - name: b\n    keywords:\n      - { regex: '^(.*)\\s+(.*)$', trusted: true }\n    plugin: p\n") }))
    assert.equal(trusted.ok, true, trusted.ok ? '' : formatRuleErrors(trusted.errors))
  })

  it('bounded repetitions in a row over the same characters, too many ways to try, at its line; trusted accepts it', async () => {
    const message = await singleError(valid("  - name: b\n    keywords:\n      - regex: '\\s(.{0,60})\\s(.{0,60})\\s(.{0,60})!'\n    plugin: p\n"), 7)
    assert.match(message, /^rule "b": regex .* has repetitions in a row that can take the same characters \(".\{0,60\}" x3, and, as it is not anchored with \^, the search from every start\): .* ways on a text of 4,096 characters .* anchor it with \^, or add trusted: true/)
    const trusted = await loadRuleSet(await rulesDir({ 'main.yaml': valid("  - name: b\n    keywords:\n      - { regex: '\\s(.{0,60})\\s(.{0,60})\\s(.{0,60})!', trusted: true }\n    plugin: p\n") }))
    assert.equal(trusted.ok, true, trusted.ok ? '' : formatRuleErrors(trusted.errors))
  })

  it('trusted: true accepts a nested repetition; on another kind of keyword it is an error', async () => {
    const dir = await rulesDir({ 'main.yaml': valid("  - name: b\n    keywords:\n      - { regex: '^(ab+)+$', trusted: true }\n    plugin: p\n") })
    const loaded = await loadRuleSet(dir)
    assert.equal(loaded.ok, true, loaded.ok ? '' : formatRuleErrors(loaded.errors))
    const message = await singleError(valid("  - name: c\n    keywords:\n      - { exact: c, trusted: true }\n    plugin: p\n"), 7)
    assert.match(message, /trusted applies to regex keywords only/)
  })

  it('a rules file over 2 MB is refused before it is read (it would hold the serving thread for seconds)', async () => {
    const big = 'rules:\n' + '# ' + 'x'.repeat(2 * 1_048_576) + '\n'
    const dir = await rulesDir({ 'big.yaml': big, 'ok.yaml': valid('') })
    const loaded = await loadRuleSet(dir)
    assert.equal(loaded.ok, false)
    if (loaded.ok) return
    assert.equal(loaded.errors.length, 1)
    assert.match(loaded.errors[0]!.file, /big\.yaml$/)
    assert.match(loaded.errors[0]!.message, /^the file is 2\.1 MB, over the 2 MB a rules file may be .*split it/)
  })

  it('a file nested thousands of mappings deep: a YAML error at its file, not a stack overflow out of the loader', async () => {
    // 12 MB, which the size bound refuses before reading: the file's parser is called directly.
    const deep = 'x:' + Array.from({ length: 4999 }, (_, i) => '\n' + ' '.repeat(i + 1) + `k${i + 1}:`).join('') + ' 1\nrules: []\n'
    const parsed = parseRuleFile(deep, { path: 'rules/deep.yaml', rel: 'deep.yaml' })
    assert.ok('errors' in parsed)
    assert.equal(parsed.errors.length, 1)
    assert.equal(parsed.errors[0]!.file, 'rules/deep.yaml')
    assert.match(parsed.errors[0]!.message, /^nested deeper than 64 levels/)
  })

  it('flow brackets nested 100,000 deep: refused before the parser (which aborted the process after a first deep file)', () => {
    for (const n of [1000, 100_000]) {
      const parsed = parseRuleFile('rules: ' + '['.repeat(n) + ']'.repeat(n) + '\n', { path: 'rules/deep.yaml', rel: 'deep.yaml' })
      assert.ok('errors' in parsed)
      assert.deepEqual(parsed.errors.map((e) => [e.line, e.column]), [[1, 8 + 64]])
      assert.match(parsed.errors[0]!.message, /^nested deeper than 64 levels/)
    }
    // Brackets in quotes and comments are text, not nesting.
    const text = valid(`  - name: t\n    keywords: ['${'['.repeat(100)}']\n    reply: { type: text, content: "${'{'.repeat(100)}" } # ${'['.repeat(100)}\n`)
    const ok = parseRuleFile(text, { path: 'rules/ok.yaml', rel: 'ok.yaml' })
    assert.ok(!('errors' in ok), JSON.stringify(ok))
  })

  it('lookbehind and other syntax the backtracking check cannot read are left to JS, which accepts them', async () => {
    const dir = await rulesDir({ 'main.yaml': valid("  - name: b\n    keywords:\n      - regex: '(?<=天气)\\S+'\n    plugin: p\n") })
    assert.equal((await loadRuleSet(dir)).ok, true)
  })

  it('unknown message type', async () => {
    const message = await singleError(valid('handlers:\n  - type: image\n    plugin: p\n  - type: locaton\n    plugin: p\n'), 8)
    assert.equal(message, 'handler #2 (locaton): unknown message type "locaton" (did you mean "location"?)')
  })

  it('a handler with no type: "type is missing", not "unknown message type undefined" and the 50 kinds', async () => {
    const message = await singleError(valid('handlers:\n  - name: pictures\n    plugin: p\n'), 6)
    assert.equal(message, 'handler "pictures": type is missing: a handler says which message kind it takes (type: image, type: subscribe, type: click, ...; docs/rules.md lists them)')
  })

  it('key on a type that is not a menu event', async () => {
    const message = await singleError(valid('handlers:\n  - type: subscribe\n    key: K\n    plugin: p\n'), 7)
    assert.match(message, /key applies only to menu event handlers \(click, view, .*\), not subscribe: a QR code is told apart by scene/)
    const text = await singleError(valid('handlers:\n  - type: text\n    key: K\n    plugin: p\n'), 7)
    assert.match(text, /key applies only to menu event handlers .*, not text$/)
  })

  it('scene on a type that has none', async () => {
    const message = await singleError(valid('handlers:\n  - type: image\n    scene: 3\n    plugin: p\n'), 7)
    assert.match(message, /scene applies only to subscribe and scan handlers, not image/)
  })

  it('a scene written with qrscene_, as a follow pushes its EventKey: it answered neither push, and loaded silently (found by a routing review)', async () => {
    for (const type of ['subscribe', 'scan']) {
      const message = await singleError(valid(`handlers:\n  - type: ${type}\n    scene: qrscene_1001\n    plugin: p\n`), 7)
      assert.match(message, /^handler #1 \(\w+\): scene "qrscene_1001": write it without qrscene_, scene: 1001 \(/)
    }
  })

  it('invalid inline reply: unknown type, missing field, wrong field type', async () => {
    let message = await singleError(valid('  - name: b\n    keywords: [b]\n    reply:\n      type: txt\n      content: hi\n'), 8)
    assert.match(message, /^rule "b": reply type must be one of text, image/)
    message = await singleError(valid('  - name: b\n    keywords: [b]\n    reply:\n      type: image\n'), 8)
    // In a rules file an image may name a file instead (rules.md "Images, voice and video from a file").
    assert.equal(message, 'rule "b": an image reply needs mediaId: (a media_id from the platform) or file: (a file the engine uploads)')
    message = await singleError(valid('default:\n  reply:\n    type: text\n    content: 42\n'), 8)
    assert.equal(message, 'default.reply.content must be text, got 42; YAML reads an unquoted number as a number: put the text in quotes')
  })

  it('an inline reply with a link that is not http(s) or an agent account of another form: at its line, naming the field', async () => {
    let message = await singleError(valid('  - name: b\n    keywords: [b]\n    reply:\n      type: news\n      articles:\n        - {title: A, url: "https://a.example"}\n        - {title: B, url: "javascript:alert(1)"}\n'), 11)
    // The line (and column, in the file's own terms) is the second article's url.
    assert.match(message, /^rule "b": url must be an absolute http:\/\/ or https:\/\/ URL, got "javascript:alert\(1\)"/)
    message = await singleError(valid('  - name: b\n    keywords: [b]\n    reply: {type: transfer_customer_service, kfAccount: alice}\n'), 7)
    assert.match(message, /^rule "b": .*kfAccount must be a customer-service account, prefix@wechat-id .*got "alice"/)
  })

  it('numbers and true/false where text goes say why they are not text (keywords: [1, 2, 3], a WeEngine menu of choices)', async () => {
    const { errors } = await errorsOf({ 'main.yaml': 'rules:\n  - name: menu\n    keywords: [1, true, {exact: 2}]\n    plugin: p\n' })
    assert.deepEqual(errors.map((e) => e.message), [
      'rule "menu": keywords[0] must be text or a mapping (key: value), got 1; YAML reads an unquoted number as a number: put the text in quotes',
      'rule "menu": keywords[1] must be text or a mapping (key: value), got true; YAML reads an unquoted true as true or false: put the text in quotes',
      'rule "menu": keywords[2].exact must be text, got 2; YAML reads an unquoted number as a number: put the text in quotes',
    ])
  })

  it('a reply written as its text alone says how a text reply is written (WeEngine habit)', async () => {
    let message = await singleError(valid('  - name: b\n    keywords: [b]\n    reply: 你好\n'), 7)
    assert.equal(message, 'rule "b": reply must be a mapping (key: value), got "你好"; a text reply is written reply: {type: text, content: "你好"}')
    message = await singleError(valid('welcome: 欢迎关注\n'), 5)
    assert.equal(message, 'welcome must be a mapping (key: value), got "欢迎关注"; a text reply is written welcome: {reply: {type: text, content: "欢迎关注"}}')
  })

  it('a text with a comma inside {...} says the comma cut it, and to quote the text (the docs/rules.md error example did this)', async () => {
    // YAML ends a plain value at the comma of a flow mapping: the rest of the text became a key of its own.
    const message = await singleError(valid('error: {reply: {type: text, content: Sorry, something went wrong. Try again.}}\n'), 5)
    assert.equal(
      message,
      'error.reply: unknown key "something went wrong. Try again."; inside {...} a comma ends a value, so the text after it was read as a key: put a text with a comma in quotes (content: \'Sorry, ...\')',
    )
    // A misspelt key is no cut text: no hint.
    const { errors } = await errorsOf({ 'main.yaml': valid('error: {reply: {type: text, contnet: hi}}\n') })
    assert.ok(errors.some((e) => e.message.startsWith('error.reply: unknown key "contnet" (did you mean "content"?)')), formatRuleErrors(errors))
    assert.ok(errors.every((e) => !/comma/.test(e.message)), formatRuleErrors(errors))
  })

  it('a keyword with ": " says YAML made it a key and its value, and to quote it (a newcomer\'s review); a misspelt kind is still a typo', async () => {
    const { errors } = await errorsOf({ 'main.yaml': 'rules:\n  - name: price\n    keywords: [价格: 多少, {exatc: hi}]\n    plugin: p\n' })
    assert.deepEqual(errors.map((e) => e.message), [
      'rule "price": unknown key "价格"; YAML read "价格: 多少" as a key and its value (": " makes a pair): put a keyword with ": " in quotes (\'价格: 多少\')',
      'rule "price": unknown key "exatc" (did you mean "exact"?); allowed here: exact, contains, prefix, regex, trusted, foldCase, foldWidth',
    ])
  })

  it('reply fields one level too high: names welcome, default or error, and says to put them under reply:', async () => {
    const { errors } = await errorsOf({ 'main.yaml': valid('default: {type: text, content: hi}\n') })
    assert.deepEqual(
      errors.map((e) => e.message),
      ['type', 'content'].map(
        (key) => `default: unknown key "${key}"; the fields of an inline reply go under reply: (reply: {type: text, content: ...}); allowed here: plugin, args, reply`,
      ),
    )
    const message = (await errorsOf({ 'main.yaml': valid('  - name: b\n    keywords: [b]\n    type: text\n    content: hi\n') })).errors[0].message
    assert.match(message, /^rule "b": unknown key "type"; the fields of an inline reply go under reply:/)
  })

  it('an empty welcome names itself', async () => {
    const message = await singleError(valid('error: {}\n'), 5)
    assert.match(message, /^error: this reply needs a target/)
  })

  it('a value YAML made from an explicit tag is said as what it is, not "a mapping" (a review of bad input)', async () => {
    const binary = await singleError(valid('  - name: b\n    keywords: [b]\n    reply: { type: text, content: !!binary aGk= }\n'), 7)
    assert.match(binary, /^rule "b": reply\.content must be text, got binary data \(a !!binary tag\)/)
    const set = await singleError(valid('  - name: b\n    keywords: [b]\n    reply: { type: text, content: !!set { a } }\n'), 7)
    assert.match(set, /^rule "b": reply\.content must be text, got a set \(a !!set tag\)/)
    // Where a mapping is taken too: one line, not each index and Buffer method as an unknown key (109 lines).
    const keyword = await singleError(valid('  - name: b\n    keywords: [!!binary aGVsbG8=]\n    plugin: p\n'), 6)
    assert.equal(keyword, 'rule "b": keywords[0] must be text or a mapping (key: value), got binary data (a !!binary tag)')
    const reply = await singleError(valid('  - name: b\n    keywords: [b]\n    reply: !!binary aGk=\n'), 7)
    assert.match(reply, /^rule "b": reply must be a mapping \(key: value\), got binary data \(a !!binary tag\)/)
    // An ordered mapping where a mapping is taken was "got a mapping".
    const omap = await singleError(valid('  - name: b\n    keywords: [b]\n    plugin: p\n    args: {o: !!omap [a: 1, b: 2]}\n'), 8)
    assert.equal(omap, 'rule "b": args.o must be text or a number or true or false or null or a list or a mapping (key: value), got an ordered mapping (a !!omap or !!pairs tag): write a plain mapping')
  })

  it('a text over its limit says how long it is and what the limit counts (it was "must be at most 65536, got ...")', async () => {
    const message = await singleError(valid(`  - name: b\n    keywords: [b]\n    reply: { type: text, content: ${'x'.repeat(65_537)} }\n`), 7)
    assert.equal(message, 'rule "b": reply.content is 65537 characters, more than the 65536 it may have')
  })

  it('a target is required, and only one', async () => {
    // Named once: the line's subject names the rule or handler (it was `rule "b": rule "b" needs a target`).
    let message = await singleError(valid('  - name: b\n    keywords: [b]\n'), 5)
    assert.equal(message, 'rule "b": the rule needs a target: `plugin: <name>` or `reply: {...}`')
    message = await singleError(valid('  - name: b\n    keywords: [b]\n    plugin: p\n    reply: {type: none}\n'), 8)
    assert.equal(message, 'rule "b": the rule has both plugin and reply; choose one')
    message = await singleError(valid('handlers:\n  - type: image\n'), 6)
    assert.equal(message, 'handler #1 (image): the handler needs a target: `plugin: <name>` or `reply: {...}`')
  })

  it('duplicate name, naming both places', async () => {
    const { dir, errors } = await errorsOf({
      'a.yaml': valid(''),
      'b.yaml': '# second file\nrules:\n  - name: ok\n    keywords: [x]\n    plugin: p\n',
    })
    assert.equal(formatRuleErrors(errors), `${join(dir, 'b.yaml')}:3:5: duplicate name "ok": also defined at ${join(dir, 'a.yaml')}:2:5`)
  })

  it('duplicate name between * and an account, but not between two accounts', async () => {
    const { dir, errors } = await errorsOf({
      'a.yaml': valid(''),
      'x/r.yaml': valid(''),
    })
    assert.equal(errors.length, 1)
    assert.equal(errors[0].file, join(dir, 'x/r.yaml'))
    assert.match(errors[0].message, /share names with every account/)
    const ok = await loadRuleSet(await rulesDir({ 'x/r.yaml': valid(''), 'y/r.yaml': valid('') }))
    assert.equal(ok.ok, true)
  })

  it('a second welcome for the same account', async () => {
    const { dir, errors } = await errorsOf({
      'a.yaml': 'welcome: {plugin: w}\n',
      'b.yaml': '\nwelcome: {plugin: v}\n',
    })
    assert.equal(formatRuleErrors(errors), `${join(dir, 'b.yaml')}:2:10: a second welcome for every account: the first is at ${join(dir, 'a.yaml')}:1:10`)
  })

  it('an account folder file that names another account', async () => {
    const { errors } = await errorsOf({ 'acct/a.yaml': 'account: other\n' })
    assert.match(errors[0].message, /in the folder of account "acct" but says account: other/)
  })

  it('refuses a YAML alias bomb instead of expanding it', async () => {
    let text = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n'
    for (let i = 0, prev = 'a'; i < 8; prev = `b${i}`, i++) text += `b${i}: &b${i} [${Array(10).fill(`*${prev}`).join(', ')}]\n`
    // At the alias where the expansion passes the bound (b5: 10^7 values), not at 1:1 ("Excessive alias count").
    const message = await singleError(text, 7)
    assert.equal(message, 'YAML error: the aliases up to here expand the file to more than 2,000,000 values (an alias of a list or mapping that holds aliases multiplies them): write those parts out, or split the file')
  })

  it('reports every broken file in one run, formatted one per line', async () => {
    const { dir, errors } = await errorsOf({
      'a.yaml': 'rules: [\n',
      'b.yaml': valid('  - name: c\n    keywords: []\n    plugin: p\n'),
    })
    const lines = formatRuleErrors(errors).split('\n')
    assert.equal(lines.length, 2)
    assert.ok(lines[0].startsWith(`${join(dir, 'a.yaml')}:`))
    assert.equal(lines[1], `${join(dir, 'b.yaml')}:6:15: rule "c": keywords is an empty list`)
  })
})

describe('loadRuleSet', () => {
  it('treats a missing or empty directory as an empty rule set', async () => {
    const missing = join(tmpdir(), 'wxengine-no-such-dir-7f3a')
    for (const dir of [missing, await rulesDir({})]) {
      const result = await loadRuleSet(dir)
      assert.ok(result.ok)
      assert.deepEqual(result.ruleSet.size, { textRules: 0, keywords: 0, typeHandlers: 0 })
      assert.deepEqual(result.ruleSet.matchText('a', 'hi', false), [])
      // Only the missing one is warned about: an empty directory is a choice, a missing one a typo.
      assert.deepEqual(result.warnings, dir === missing ? [missingRulesDirWarning(missing)] : [])
    }
  })

  it('scopes files by account key and by folder', async () => {
    const dir = await rulesDir({
      'all.yaml': 'rules:\n  - {name: g, keywords: [hi], plugin: p}\n',
      'one.yaml': 'account: a\nrules:\n  - {name: a1, keywords: [hi], plugin: p}\n',
      'b/rules.yml': 'rules:\n  - {name: b1, keywords: [hi], plugin: p}\nwelcome: {reply: {type: text, content: b}}\n',
      'notes.txt': 'not a rules file',
      'b/deeper/x.yaml': 'rules: oops',
    })
    const result = await loadRuleSet(dir)
    assert.ok(result.ok)
    const names = (account: string) => result.ruleSet.matchText(account, 'hi', false).map((c) => c.rule)
    assert.deepEqual(names('a'), ['g', 'a1'])
    assert.deepEqual(names('b'), ['g', 'b1']) // all.yaml < b/rules.yml
    assert.deepEqual(names('c'), ['g'])
    assert.deepEqual(result.ruleSet.system('b'), { welcome: { reply: { type: 'text', content: 'b' } } })
    assert.deepEqual(result.ruleSet.system('a'), {})
    assert.equal(result.warnings.length, 1)
    assert.match(result.warnings[0], /deeper.*ignored/)
  })

  it('a nested folder holding no rules files (media a reply names: rules/images/events/qr.png) is no warning; one holding YAML at any depth is', async () => {
    const dir = await rulesDir({
      'main.yaml': 'rules:\n  - {name: g, keywords: [hi], reply: {type: image, file: images/events/qr.png}}\n',
      'images/events/qr.png': '\x89PNG not really',
      'b/media/old/hello.amr': 'amr',
      'b/deep/er/x.yaml': 'rules: oops',
    })
    const result = await loadRuleSet(dir)
    assert.ok(result.ok, result.ok ? '' : formatRuleErrors(result.errors))
    assert.deepEqual(result.warnings, [`${join(dir, 'b/deep')}: ignored: rules folders are one level deep (rules/<account-id>/*.yaml)`])
  })

  it('a rules file that is a symbolic link to nothing is refused, naming it (it was skipped without a word: its rules gone, at a reload too)', async () => {
    const dir = await rulesDir({ 'main.yaml': 'rules:\n  - {name: a, keywords: [a], plugin: p}\n', 'shop/keep.yaml': 'rules: []\n' })
    await symlink('../releases/old/promo.yaml', join(dir, 'promo.yaml'))
    let result = await loadRuleSet(dir)
    assert.equal(result.ok, false, 'a set without promo.yaml would have served')
    assert.equal(result.ok ? '' : formatRuleErrors(result.errors), `${join(dir, 'promo.yaml')}:1: the file is a symbolic link to ../releases/old/promo.yaml, which does not exist: its rules cannot be read (restore its target, or remove the link)`)
    await rm(join(dir, 'promo.yaml'))
    await symlink('missing.yml', join(dir, 'shop', 'gone.yml'))
    result = await loadRuleSet(dir)
    assert.equal(result.ok ? '' : formatRuleErrors(result.errors), `${join(dir, 'shop', 'gone.yml')}:1: the file is a symbolic link to missing.yml, which does not exist: its rules cannot be read (restore its target, or remove the link)`)
    // A dangling link that is no rules file (a picture) is none of the rules' business.
    await rm(join(dir, 'shop', 'gone.yml'))
    await symlink('nowhere.png', join(dir, 'qr.png'))
    assert.equal((await loadRuleSet(dir)).ok, true)
  })

  it('applies rule-level and keyword-level fold settings and defaults', async () => {
    const dir = await rulesDir({
      'a.yaml': [
        'rules:',
        '  - name: strict',
        '    foldCase: false',
        '    keywords:',
        '      - exact: Stop',
        '      - {exact: QUIT, foldCase: true}',
        '    plugin: p',
        '  - name: loose',
        '    keywords: [ｈｉ]',
        '    priority: 2',
        '    enabled: true',
        '    reply: {type: text, content: hey}',
        '  - name: off',
        '    enabled: false',
        '    keywords: [hi]',
        '    plugin: q',
        '',
      ].join('\n'),
    })
    const result = await loadRuleSet(dir)
    assert.ok(result.ok)
    const names = (text: string) => result.ruleSet.matchText('a', text, false).map((c) => c.rule)
    assert.deepEqual(names('Stop'), ['strict'])
    assert.deepEqual(names('stop'), [])
    assert.deepEqual(names('quit'), ['strict'])
    assert.deepEqual(names('HI'), ['loose'])
    assert.deepEqual(result.ruleSet.pluginNames(), ['p'])
  })

  it('parses scenes written as numbers into strings', async () => {
    const dir = await rulesDir({
      'a.yaml': 'handlers:\n  - {type: subscribe, scene: 1001, plugin: promo}\n  - {type: subscribe, plugin: hello}\n',
    })
    const result = await loadRuleSet(dir)
    assert.ok(result.ok)
    assert.deepEqual(result.ruleSet.matchType('a', 'subscribe', '1001').map((c) => c.target), [
      { plugin: 'promo', args: {} },
      { plugin: 'hello', args: {} },
    ])
  })

  it('takes an id written unquoted as the text written: key: 007 is "007", not 7 (found by a routing review)', async () => {
    // YAML reads 007 as 7, 0x1F as 31 and 1e3 as 1000: String() of those never matched the EventKey sent.
    const dir = await rulesDir({
      'a.yaml': [
        'handlers:',
        '  - {type: click, key: 007, plugin: flow}',
        '  - type: click',
        '    key: 0x1F',
        '    plugin: block',
        '  - {type: click, key: 1e3, plugin: exp}',
        '  - {type: scan, scene: 0100, plugin: scene}',
        '  - {type: click, key: 42, plugin: plain}',
        '',
      ].join('\n'),
    })
    const result = await loadRuleSet(dir)
    assert.ok(result.ok)
    const plugins = (kind: 'click' | 'scan', key: string) => result.ruleSet.matchType('a', kind, key).map((c) => (c.target as { plugin: string }).plugin)
    assert.deepEqual(plugins('click', '007'), ['flow'])
    assert.deepEqual(plugins('click', '7'), [])
    assert.deepEqual(plugins('click', '0x1F'), ['block'])
    assert.deepEqual(plugins('click', '31'), [])
    assert.deepEqual(plugins('click', '1e3'), ['exp'])
    assert.deepEqual(plugins('scan', '0100'), ['scene'])
    assert.deepEqual(plugins('click', '42'), ['plain'])
  })

  it('notes a regex that cannot be prefiltered: a note, not a warning (it costs microseconds, and is not wrong)', async () => {
    const dir = await rulesDir({ 'a.yaml': 'rules:\n  - {name: digits, keywords: [{regex: "^\\\\d+$"}], plugin: p}\n' })
    const result = await loadRuleSet(dir)
    assert.ok(result.ok)
    assert.deepEqual(result.warnings, [])
    assert.equal(result.notes.length, 1)
    assert.ok(result.notes[0].startsWith(`${join(dir, 'a.yaml')}:2: rule "digits": regex '^\\d+$' has no literal`), result.notes[0])
    assert.match(result.notes[0], /runs on every message$/)
  })
})

describe('where a plugin is named (pluginUses, for the warning that it is not there; a newcomer\'s walkthrough)', () => {
  it('rules and handlers with file and line, then the system replies with their account', async () => {
    const dir = await rulesDir({
      'a.yaml': 'rules:\n  - { name: book, keywords: [book], plugin: ghost }\n  - { name: other, keywords: [x], plugin: real }\nhandlers:\n  - { type: click, key: K, plugin: ghost }\ndefault: { plugin: ghost }\n',
      'shop/b.yaml': 'welcome: { plugin: ghost }\n',
    })
    const result = await loadRuleSet(dir, { accounts: ['shop'] })
    assert.ok(result.ok)
    const uses = result.ruleSet.pluginUses('ghost')
    assert.equal(namedAt(uses, 'rules'), ' (rule "book" at rules/a.yaml:2, handler "click:K@a.yaml:5" at rules/a.yaml:5, the default reply and 1 more)')
    assert.equal(namedAt(uses.slice(3), 'rules'), ' (the welcome reply of account shop)')
    assert.deepEqual(result.ruleSet.pluginUses('real').map((u) => u.kind), ['rule'])
    assert.equal(namedAt(result.ruleSet.pluginUses('nobody'), 'rules'), '')
  })
})

describe('the example rules in rules/', () => {
  it('load cleanly and route the examples', async () => {
    const result = await loadRuleSet(join(import.meta.dirname, '../../../rules'))
    assert.ok(result.ok, result.ok ? '' : formatRuleErrors(result.errors))
    assert.deepEqual(result.warnings, [])
    const set = result.ruleSet
    const first = (text: string) => set.matchText('any', text, false)[0]
    assert.deepEqual(first('echo 你好 world').match.groups, { text: '你好 world' })
    assert.equal(first('echo').match.via, 'exact')
    assert.deepEqual(first('问卷').target, { plugin: 'survey', args: { title: 'Lunch survey' } })
    assert.deepEqual(first('ＳＵＲＶＥＹ').match.args, { title: 'Lunch survey' })
    assert.deepEqual(first('今天有什么新闻').target, { plugin: 'news-demo', args: {} })
    assert.equal(first('Any NEWS?').rule, 'news')
    assert.deepEqual(first('你好').target, first('HELLO').target)
    assert.ok('reply' in first('你好').target)
    assert.deepEqual(set.matchType('any', 'location').map((c) => c.target), [{ plugin: 'location-responder', args: {} }])
    assert.deepEqual(set.matchType('any', 'click').map((c) => c.target), [{ plugin: 'menu-click', args: {} }])
    const system = set.system('any')
    assert.ok(system.welcome && 'reply' in system.welcome)
    assert.ok(system.default && 'reply' in system.default)
    assert.deepEqual(first('order m').match.groups, { size: 'm' })
    assert.deepEqual(first('下单').target, { plugin: 'order', args: {} })
    assert.deepEqual(first('签到').target, { plugin: 'checkin', args: {} })
    assert.equal(first('REDEEM').rule, 'points')
    assert.deepEqual(set.pluginNames(), ['checkin', 'echo', 'location-responder', 'menu-click', 'news-demo', 'order', 'points', 'survey'])
  })
})

describe('a handler reply no push of its kind can receive (found by a router review)', () => {
  it('an inline reply for unsubscribe or a platform report: a warning with the file and line; none, or a plugin: no warning', async () => {
    const dir = await rulesDir({
      'main.yaml': [
        'handlers:',
        '  - { type: unsubscribe, reply: { type: text, content: bye } }',
        '  - { type: template_send_job_finish, reply: { type: image, mediaId: M1 } }',
        '  - { type: unsubscribe, name: quiet, reply: { type: none } }',
        '  - { type: masssend_job_finish, plugin: counter }',
        '  - { type: subscribe, reply: { type: text, content: hi } }',
        '',
      ].join('\n'),
    })
    const result = await loadRuleSet(dir)
    assert.ok(result.ok)
    assert.deepEqual(result.warnings, [
      `${join(dir, 'main.yaml')}:2: handler "unsubscribe@main.yaml:2": its reply is never sent: no reply can reach the unsubscribe push (the user has unfollowed), and the engine answers it with success; leave the reply out (a plugin may still take the push)`,
      `${join(dir, 'main.yaml')}:3: handler "template_send_job_finish@main.yaml:3": its reply is never sent: no reply can reach the template_send_job_finish push (it is a report of the platform, not something a user said), and the engine answers it with success; leave the reply out (a plugin may still take the push)`,
    ])
  })
})
