import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { buildAutomaton } from '../../../core/route/rules/aho-corasick.ts'

/** Every (pattern, end) a naive indexOf scan finds, sorted. */
function naive(patterns: string[], text: string): string[] {
  const out: string[] = []
  patterns.forEach((p, id) => {
    for (let i = text.indexOf(p); i >= 0; i = text.indexOf(p, i + 1)) out.push(`${id}@${i + p.length}`)
  })
  return out.sort()
}

function viaAutomaton(patterns: string[], text: string): string[] {
  const out: string[] = []
  buildAutomaton(patterns).forEachMatch(text, (id, end) => out.push(`${id}@${end}`))
  return out.sort()
}

describe('buildAutomaton', () => {
  const table: [string[], string][] = [
    [['he', 'she', 'his', 'hers'], 'ushers'],
    [['a', 'aa', 'aaa'], 'aaaa'],
    [['abcd', 'bc', 'c'], 'xabcdx'],
    [['新闻', '闻', '今天'], '今天的新闻新闻'],
    [['❤', '👍', '\uD83D'], '我❤️你👍🏽'], // a lone surrogate pattern is still a code unit
    [['x'], ''],
    [[], 'anything'],
  ]
  for (const [patterns, text] of table) {
    it(`${JSON.stringify(patterns)} in ${JSON.stringify(text)}`, () => {
      assert.deepEqual(viaAutomaton(patterns, text), naive(patterns, text))
    })
  }

  it('agrees with indexOf on random dictionaries and texts', () => {
    let seed = 12345
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff
      return seed % n
    }
    const alphabet = 'abc新闻'
    const word = (max: number) => Array.from({ length: 1 + random(max) }, () => alphabet[random(alphabet.length)]).join('')
    for (let round = 0; round < 200; round++) {
      const patterns = [...new Set(Array.from({ length: 1 + random(20) }, () => word(4)))]
      const text = word(30)
      assert.deepEqual(viaAutomaton(patterns, text), naive(patterns, text), `${JSON.stringify(patterns)} / ${text}`)
    }
  })

  it('rejects duplicate and empty patterns (a caller bug)', () => {
    assert.throws(() => buildAutomaton(['a', 'a']), /duplicate/)
    assert.throws(() => buildAutomaton(['']), /empty/)
  })
})
