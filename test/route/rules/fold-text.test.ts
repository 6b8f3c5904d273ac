import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { comboOf, foldText } from '../../../core/route/rules/index.ts'
import { NFKC_STABLE } from '../../../core/route/rules/fold-text.ts'

describe('foldText', () => {
  const table: [string, boolean, boolean, string][] = [
    ['ＨＥＬＬＯ', true, true, 'hello'],
    ['ＨＥＬＬＯ', false, true, 'HELLO'],
    ['ＨＥＬＬＯ', true, false, 'ｈｅｌｌｏ'],
    ['Hello', true, true, 'hello'],
    ['Hello', false, false, 'Hello'],
    ['１２３　ａｂｃ', true, true, '123 abc'], // full-width digits and the ideographic space
    ['ｶﾀｶﾅ', true, true, 'カタカナ'], // half-width katakana become full-width
    ['①²ﬁ™', true, true, '12fitm'], // other compatibility forms
    ['cafe\u0301', true, true, 'café'], // composition
    ['你好，世界！', true, true, '你好,世界!'],
    ['你好', true, true, '你好'],
  ]
  for (const [input, foldCase, foldWidth, expected] of table) {
    it(`${input} case=${foldCase} width=${foldWidth} -> ${expected}`, () => {
      assert.equal(foldText(input, comboOf(foldCase, foldWidth)), expected)
    })
  }

  it('skips normalize() only for characters NFKC leaves unchanged', () => {
    const ranges = [
      [0x09, 0x0d],
      [0x20, 0x7e],
      [0x3001, 0x3002],
      [0x4e00, 0x9fff],
    ]
    for (const [from, to] of ranges) {
      for (let cp = from; cp <= to; cp++) {
        const ch = String.fromCodePoint(cp)
        if (!NFKC_STABLE.test(ch)) continue
        assert.equal(ch.normalize('NFKC'), ch, `U+${cp.toString(16)}`)
        // Pairs too: nothing in the fast path composes with a neighbour.
        assert.equal(`a${ch}\u4e00`.normalize('NFKC'), `a${ch}\u4e00`)
      }
    }
    assert.equal(NFKC_STABLE.test('ＡＢ'), false)
    assert.equal(NFKC_STABLE.test('\u3000'), false)
  })
})
