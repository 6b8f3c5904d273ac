import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { extractRequiredLiteral } from '../../../core/route/rules/regex-literal.ts'

describe('extractRequiredLiteral', () => {
  // [source, ignoreCase, expected literal, texts the regex matches (each must contain the literal)]
  const table: [string, boolean, string | undefined, string[]][] = [
    ['^echo\\s+(?<text>.+)$', true, 'echo', ['echo hi', 'ECHO hi']],
    ['^天气\\s*(\\S+)$', false, '天气', ['天气北京']],
    ['order-(\\d+)', false, 'order-', ['my order-12']],
    ['colou?r', false, 'colo', ['color', 'colour']],
    ['ab+c', false, 'ab', ['abbbc']],
    ['ab*cdef', false, 'cdef', ['acdef']],
    ['x{0,2}yz', false, 'yz', ['yz']],
    ['ab{2}cde', false, 'cde', ['abbcde']],
    ['a\\.b', false, 'a.b', ['a.b']],
    ['cat|dog', false, undefined, ['dog']],
    ['(cat|dog)food', false, 'food', ['dogfood']],
    ['[abc]+', false, undefined, ['b']],
    ['\\d{3}', false, undefined, ['123']],
    ['.*', false, undefined, ['']],
    // Escapes with a tail: none of `{Lu}`, `0041`, `<w>`, `1F600` is a literal.
    ['\\p{Lu}+abc', false, 'abc', ['Xabc']],
    ['\\u0041BC', false, 'BC', ['ABC']],
    ['\\u{1F600}xyz', false, 'xyz', ['😀xyz']],
    ['\\x41\\x42cd', false, 'cd', ['ABcd']],
    ['(?<w>ab)\\k<w>zz', false, 'ab', ['ababzz']], // the group's own literal, as long as zz and first
    ['(a)\\1x2', false, 'x2', ['aax2']],
    ['\\cJok', false, 'ok', ['\nok']],
    // Under i, `s` can be matched by U+017F; the run breaks there.
    ['news', true, 'new', ['NEWS', 'new\u017F']],
    ['Σ+abc', true, 'abc', ['σabc', 'ςabc']],
    ['价格(\\d+)', true, '价格', ['价格12']],
    ['HeLLo', true, 'hello', ['hello', 'HELLO']],
    // A group every match goes through holds its own required literal, kept apart from the text around it.
    ['^(?<cmd>notes?)\\s+(?<arg>.+)$', true, 'note', ['notes hi', 'NOTE x']],
    ['(abc)+x', false, 'abc', ['abcabcx']],
    ['(?:ab(c|d))ef', false, 'ab', ['abcef', 'abdef']],
    ['(?:abc)?def', false, 'def', ['def', 'abcdef']],
    ['(abcd){0,2}ef', false, 'ef', ['ef']],
    ['(?=abcd)ab', false, 'ab', ['abcd']],
    ['(?<!xyz)abc', false, 'abc', ['abc']],
    ['x(?<y>yz|w)', false, 'x', ['xw']],
  ]
  for (const [source, ignoreCase, expected, samples] of table) {
    it(`/${source}/${ignoreCase ? 'i' : ''} -> ${String(expected)}`, () => {
      const literal = extractRequiredLiteral(source, ignoreCase)
      assert.equal(literal, expected)
      const re = new RegExp(source, ignoreCase ? 'iu' : 'u')
      for (const text of samples) {
        assert.ok(re.test(text), `sample ${text} must match`)
        if (literal !== undefined) {
          const haystack = ignoreCase ? text.toLowerCase() : text
          assert.ok(haystack.includes(literal), `${JSON.stringify(text)} matches but lacks ${literal}`)
        }
      }
    })
  }
})

describe('extractRequiredLiteral on random regexes', () => {
  it('never claims a literal that a matching text lacks', () => {
    let seed = 99
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff
      return seed % n
    }
    const atoms = ['a', 'b', 's', 'S', 'k', 'x', '.', '\\d', '[ab]', '(a|b)', '(?:ab)', '\\.', '\\s', '^', '$', '\\bx', '(ab)', '(?:a(b|x)s)', '(?=a)', '(?!b)', '(?:xs?)', '(?:a|bk)', '(b(?:ks)+)']
    const quantifiers = ['', '', '', '*', '+', '?', '{2}', '{0,1}', '+?']
    const alphabet = ['a', 'b', 's', 'S', 'ſ', 'k', 'K', 'x', '.', '1', ' ']
    let checked = 0
    for (let round = 0; round < 3000; round++) {
      let source = ''
      for (let n = 1 + random(6); n > 0; n--) {
        const atom = atoms[random(atoms.length)]
        source += atom + (atom === '^' || atom === '$' || atom === '\\bx' ? '' : quantifiers[random(quantifiers.length)])
      }
      if (random(10) === 0) source += '|b'
      const ignoreCase = random(2) === 0
      let re: RegExp
      try {
        re = new RegExp(source, ignoreCase ? 'iu' : 'u')
      } catch {
        continue
      }
      const literal = extractRequiredLiteral(source, ignoreCase)
      if (literal === undefined) continue
      for (let t = 0; t < 30; t++) {
        const text = Array.from({ length: random(8) }, () => alphabet[random(alphabet.length)]).join('')
        if (!re.test(text)) continue
        const haystack = ignoreCase ? text.toLowerCase() : text
        assert.ok(haystack.includes(literal), `/${source}/${ignoreCase ? 'i' : ''} matches ${JSON.stringify(text)} without ${literal}`)
        checked++
      }
    }
    assert.ok(checked > 500, `only ${checked} matching samples were checked`)
  })
})
