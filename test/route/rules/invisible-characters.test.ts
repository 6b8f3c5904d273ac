import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { isInvisible, shownKeyword, trimForMatching, trimStartForMatching, withoutInvisible } from '../../../core/route/rules/invisible-characters.ts'
import { NFKC_STABLE } from '../../../core/route/rules/fold-text.ts'

describe('invisible characters (what the matcher trims and width folding drops)', () => {
  it('isInvisible and withoutInvisible name the same set, over the whole BMP; NFKC leaves each alone and none is on its fast path', () => {
    const found: number[] = []
    for (let c = 0; c <= 0xffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue
      const ch = String.fromCharCode(c)
      assert.equal(withoutInvisible(ch) === '', isInvisible(c), `U+${c.toString(16)}`)
      if (!isInvisible(c)) continue
      found.push(c)
      assert.equal(ch.normalize('NFKC'), ch, `U+${c.toString(16)}: NFKC keeps it, so fold-text.ts must drop it itself`)
      assert.equal(NFKC_STABLE.test(ch), false, `U+${c.toString(16)} would skip width folding`)
    }
    // The ones users paste, named in docs/rules.md; and not the variation selector that makes ❤ the emoji ❤️.
    for (const c of [0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x00ad, 0x200e, 0x200f]) assert.ok(found.includes(c), `U+${c.toString(16)}`)
    assert.equal(isInvisible(0xfe0f), false)
    assert.equal(found.length, 23)
  })

  const table: [string, string][] = [
    ['帮助\u200b', '帮助'],
    ['\ufeff帮助', '帮助'],
    [' \u200b 帮助 \u2060\n', '帮助'], // spaces and invisible characters mixed, at both ends
    ['\u200d\u200c', ''],
    ['帮\u200b助', '帮\u200b助'], // inside: width folding's (fold-text.ts), not the trim's
    ['  hello \n', 'hello'],
    ['❤️', '❤️'], // U+FE0F belongs to the emoji
    ['', ''],
  ]
  for (const [input, expected] of table) {
    it(`trimForMatching(${shownKeyword(input)}) is ${shownKeyword(expected)}`, () => {
      assert.equal(trimForMatching(input), expected)
    })
  }

  it('trimStartForMatching trims the start only; shownKeyword shows each invisible character as its escape', () => {
    assert.equal(trimStartForMatching('\u200b echo '), 'echo ')
    assert.equal(shownKeyword('帮助\u200b'), '"帮助\\u200b"')
    assert.equal(shownKeyword('帮助'), '"帮助"')
  })
})
