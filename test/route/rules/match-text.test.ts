import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { compileRuleSet } from '../../../core/route/rules/index.ts'
import { REGEX_TEXT_MAX_LENGTH } from '../../../core/route/rules/text-matcher.ts'
import { textRule } from './rule-fixtures.ts'

const names = (set: ReturnType<typeof compileRuleSet>, text: string, account = 'acct') =>
  set.matchText(account, text, false).map((c) => c.rule)

describe('keyword kinds', () => {
  const set = compileRuleSet(
    [
      textRule('exact', [{ exact: 'weather' }]),
      textRule('prefix', [{ prefix: 'echo ' }]),
      textRule('contains', [{ contains: '新闻' }]),
      textRule('regex', [{ regex: '^order\\s+(\\d+)$' }]),
    ],
    [],
  )
  const table: [string, string[]][] = [
    ['weather', ['exact']],
    ['  weather \n', ['exact']], // texts are trimmed
    ['weather today', []],
    ['the weather', []],
    ['echo hi', ['prefix']],
    ['echo', []], // "echo " needs the space, and trimming removed it
    ['say echo hi', []],
    ['今天的新闻', ['contains']],
    ['新闻', ['contains']],
    ['新', []],
    ['order 42', ['regex']],
    ['order 42x', []],
    ['my order 42', []],
    ['', []],
  ]
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} -> ${expected.join(',') || 'nothing'}`, () => {
      assert.deepEqual(names(set, input), expected)
    })
  }
})

describe('contains is substring by code unit', () => {
  const set = compileRuleSet([textRule('heart', [{ contains: '❤' }]), textRule('thumb', [{ contains: '👍' }])], [])
  const table: [string, string[]][] = [
    ['我❤️你', ['heart']], // U+2764 + U+FE0F: one grapheme, still contains U+2764
    ['好👍🏽', ['thumb']], // skin tone modifier
    ['❤👍', ['heart', 'thumb']],
    ['no emoji', []],
  ]
  for (const [input, expected] of table) {
    it(`${input} -> ${expected.join(',') || 'nothing'}`, () => assert.deepEqual(names(set, input), expected))
  }
})

describe('folding', () => {
  const set = compileRuleSet(
    [
      textRule('both', ['hello']),
      textRule('case-only', ['world'], { foldWidth: false }),
      textRule('width-only', ['abc'], { foldCase: false }),
      textRule('none', ['XyZ'], { foldCase: false, foldWidth: false }),
      textRule('kw-override', [{ exact: 'Mixed', foldCase: false }]),
      textRule('fullwidth-keyword', [{ contains: 'ＱＲ' }]),
    ],
    [],
  )
  const table: [string, string[]][] = [
    ['hello', ['both']],
    ['Hello', ['both']],
    ['ＨＥＬＬＯ', ['both']],
    ['ｈｅｌｌｏ', ['both']],
    ['WORLD', ['case-only']],
    ['ｗｏｒｌｄ', []],
    ['ａｂｃ', ['width-only']],
    ['ABC', []],
    ['XyZ', ['none']],
    ['xyz', []],
    ['ＸｙＺ', []],
    ['Mixed', ['kw-override']],
    ['mixed', []],
    ['xxqryy', ['fullwidth-keyword']], // the keyword is folded too
  ]
  for (const [input, expected] of table) {
    it(`${input} -> ${expected.join(',') || 'nothing'}`, () => assert.deepEqual(names(set, input), expected))
  }
})

describe('invisible characters (zero-width space, joiners, word joiner, BOM: invisible-characters.ts)', () => {
  const set = compileRuleSet(
    [
      textRule('help', ['帮助']),
      textRule('help-strict', [{ exact: '帮助', foldCase: false, foldWidth: false }]),
      textRule('echo', [{ prefix: 'echo ' }]),
      textRule('news', [{ contains: '新闻' }]),
      textRule('news-strict', [{ contains: '新闻', foldWidth: false }]),
      textRule('order', [{ regex: '^订单(\\d+)$' }]),
      textRule('written-with-one', [{ regex: '^取\u200b消+$' }]),
    ],
    [],
  )
  const table: [string, string[]][] = [
    // A user pastes the keyword with an invisible character at an end: every fold combination matches.
    ['帮助\u200b', ['help', 'help-strict']],
    ['\ufeff帮助', ['help', 'help-strict']],
    [' \u2060帮助\u200d \n', ['help', 'help-strict']],
    ['\u200cecho hi', ['echo']],
    // Inside the text, width folding drops them (it rewrites the whole text anyway); without it they stay.
    ['帮\u200b助', ['help']],
    ['今天的新\u200b闻', ['news']],
    ['今天的新闻\u200b', ['news', 'news-strict']],
    ['订单\u200b4\u200b2', ['order']],
    // A regex written with one reads the folded text as written (fold-regex.ts).
    ['取消消', ['written-with-one']],
    ['\u200b', []],
  ]
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} -> ${expected.join(',') || 'nothing'}`, () => {
      assert.deepEqual(names(set, input).sort(), [...expected].sort())
    })
  }

  it("regex captures come without them (the folded text); the text given is not changed, and `keyword` is the rule's", () => {
    const text = '订单4\u200b2\u200b'
    const [c] = set.matchText('acct', text, false)
    assert.deepEqual(c!.match.captures, ['订单42', '42'])
    assert.equal(text.length, 6)
    const [h] = set.matchText('acct', '帮助\u200b', false)
    assert.equal(h!.match.keyword, '帮助')
  })
})

describe('order', () => {
  it('is priority desc, then file, then line, across files', () => {
    const set = compileRuleSet(
      [
        textRule('b-low', [{ contains: 'x' }], { priority: -1, source: { file: 'b.yaml', line: 1 } }),
        textRule('b-3', [{ contains: 'x' }], { source: { file: 'b.yaml', line: 3 } }),
        textRule('a-9', [{ contains: 'x' }], { source: { file: 'a.yaml', line: 9 } }),
        textRule('b-high', [{ contains: 'x' }], { priority: 5, source: { file: 'b.yaml', line: 20 } }),
        textRule('a-2', [{ contains: 'x' }], { source: { file: 'a.yaml', line: 2 } }),
        textRule('acct-1', [{ contains: 'x' }], { account: 'acct', source: { file: 'acct/z.yaml', line: 1 } }),
      ],
      [],
    )
    // File names compare by code unit: a.yaml < acct/z.yaml < b.yaml.
    assert.deepEqual(names(set, 'x'), ['b-high', 'a-2', 'a-9', 'acct-1', 'b-3', 'b-low'])
  })

  it('returns each rule once, with its best keyword: exact > prefix > contains > regex, then position', () => {
    const set = compileRuleSet(
      [
        textRule('r', [{ regex: 'go' }, { contains: 'go' }, { prefix: 'go' }, { exact: 'go' }, { exact: 'GO' }]),
        textRule('s', [{ regex: 'g(o)' }, { contains: 'o' }, { contains: 'g' }]),
        textRule('t', [{ regex: 'x' }, { regex: '(g)(o)' }, { regex: 'go' }]),
      ],
      [],
    )
    const found = set.matchText('acct', 'go', false)
    assert.deepEqual(
      found.map((c) => [c.rule, c.match.via, c.match.keyword]),
      [
        ['r', 'exact', 'go'],
        ['s', 'contains', 'o'],
        ['t', 'regex', '(g)(o)'],
      ],
    )
    assert.deepEqual(found[2].match.captures, ['go', 'g', 'o'])
    assert.deepEqual(set.matchText('acct', 'gopher', false).map((c) => [c.rule, c.match.via]), [
      ['r', 'prefix'],
      ['s', 'contains'],
      ['t', 'regex'],
    ])
  })

  it('never returns disabled rules', () => {
    const set = compileRuleSet(
      [textRule('off', ['hi'], { enabled: false }), textRule('on', ['hi'], { source: { file: 'z.yaml', line: 1 } })],
      [],
    )
    assert.deepEqual(names(set, 'hi'), ['on'])
    assert.equal(set.size.textRules, 1)
    assert.deepEqual(set.pluginNames(), ['p-on'])
  })
})

describe('accounts', () => {
  const set = compileRuleSet(
    [
      textRule('global', ['hi'], { source: { file: 'z.yaml', line: 1 } }),
      textRule('mine', ['hi'], { account: 'a', source: { file: 'a/x.yaml', line: 1 } }),
      textRule('theirs', ['hi'], { account: 'b', source: { file: 'b/x.yaml', line: 1 } }),
      textRule('mine-first', ['hi'], { account: 'a', priority: 1, source: { file: 'a/x.yaml', line: 5 } }),
    ],
    [],
  )
  it('merges the account rules with the * rules into one order', () => {
    assert.deepEqual(names(set, 'hi', 'a'), ['mine-first', 'mine', 'global'])
    assert.deepEqual(names(set, 'hi', 'b'), ['theirs', 'global'])
    assert.deepEqual(names(set, 'hi', 'c'), ['global'])
  })
})

describe('candidates', () => {
  it('carry the args, the keyword as written, fromClick and regex groups', () => {
    const set = compileRuleSet(
      [
        textRule('weather', [{ regex: '^天气\\s*(?<city>\\S+)(?:\\s+(?<day>\\S+))?$' }], {
          target: { plugin: 'weather', args: { unit: 'C' } },
        }),
        textRule('hello', [{ exact: 'HeLLo' }], { target: { reply: { type: 'text', content: 'hi' } } }),
      ],
      [],
    )
    const [w] = set.matchText('a', '天气 北京', false)
    assert.deepEqual(w.match, {
      rule: 'weather',
      via: 'regex',
      keyword: '^天气\\s*(?<city>\\S+)(?:\\s+(?<day>\\S+))?$',
      captures: ['天气 北京', '北京', ''],
      groups: { city: '北京' },
      fromClick: false,
      args: { unit: 'C' },
    })
    const [h] = set.matchText('a', 'HELLO', true)
    assert.equal(h.match.keyword, 'HeLLo')
    assert.equal(h.match.fromClick, true)
    assert.deepEqual(h.match.args, {})
    assert.deepEqual(h.target, { reply: { type: 'text', content: 'hi' } })
  })

  it('matches a menu CLICK key like text, flagged fromClick', () => {
    const set = compileRuleSet([textRule('menu', ['MENU_NEWS'], { foldCase: false })], [])
    const [c] = set.matchText('a', 'MENU_NEWS', true)
    assert.equal(c.rule, 'menu')
    assert.equal(c.match.fromClick, true)
    assert.deepEqual(set.matchText('a', 'menu_news', true), [])
  })

  it('regex captures come from the width-folded text; foldCase is the i flag', () => {
    const set = compileRuleSet(
      [
        textRule('folded', [{ regex: '^say (\\w+)$' }]),
        textRule('strict', [{ regex: '^SAY (\\w+)$', foldCase: false, foldWidth: false }]),
      ],
      [],
    )
    assert.deepEqual(set.matchText('a', 'ＳＡＹ ＡＢＣ', false).map((c) => [c.rule, c.match.captures]), [
      ['folded', ['SAY ABC', 'ABC']],
    ])
    assert.deepEqual(set.matchText('a', 'SAY abc', false).map((c) => c.rule), ['folded', 'strict'])
    assert.deepEqual(set.matchText('a', 'say abc', false).map((c) => c.rule), ['folded'])
  })

  it('a regex written with full-width characters reads the folded text as it was written (foldWidth)', () => {
    // `^订单：(\\d+)$` with the colon a Chinese keyboard types never matched: the text's `：` is folded to `:`
    // before the regex (and its prefilter) see it.
    const set = compileRuleSet(
      [
        textRule('order', [{ regex: '^订单：(\\d+)$' }]),
        textRule('ask', [{ regex: '^你好？$' }]),
        textRule('class', [{ regex: '^[，。]+$' }]),
        textRule('digits', [{ regex: '^编号[０-９]+$' }]),
        textRule('kg', [{ regex: '^㎏+$' }]),
        textRule('strict', [{ regex: '^订单：$', foldWidth: false }]),
      ],
      [],
    )
    const found = (text: string) => set.matchText('a', text, false).map((c) => [c.rule, c.match.captures])
    assert.deepEqual(found('订单：42'), [['order', ['订单:42', '42']]])
    assert.deepEqual(found('订单:42'), [['order', ['订单:42', '42']]])
    assert.deepEqual(found('你好？'), [['ask', ['你好?']]])
    assert.deepEqual(found('你'), [], 'the full-width ？ is text, not a quantifier')
    assert.deepEqual(found(',，'), [['class', [',,']]])
    assert.deepEqual(found('编号１2'), [['digits', ['编号12']]])
    assert.deepEqual(found('kgkg'), [['kg', ['kgkg']]])
    assert.deepEqual(found('订单：'), [['strict', ['订单：']]])
    assert.deepEqual(found('订单:'), [])
  })

  it('a full-width digit right after a backreference stays a digit, not part of the reference (foldWidth)', () => {
    // `(a)\1０` was folded to `(a)\10`, an invalid escape under `u`: compiling the rule set threw.
    const set = compileRuleSet([textRule('twice', [{ regex: '^(a)\\1０$' }]), textRule('many', [{ regex: '^(b)\\1１+$' }])], [])
    assert.deepEqual(names(set, 'aa０'), ['twice'])
    assert.deepEqual(names(set, 'aa0'), ['twice'])
    assert.deepEqual(names(set, 'a0'), [])
    assert.deepEqual(names(set, 'bb１1'), ['many'])
  })

  it('runs a prefiltered regex only when its literal is present, and still finds every match', () => {
    const set = compileRuleSet(
      [
        textRule('lit', [{ regex: 'ab+c\\.d' }]),
        textRule('ci', [{ regex: 'News(\\d)' }]),
        textRule('none', [{ regex: '\\d{3}' }]),
      ],
      [],
    )
    assert.deepEqual(set.unfilteredRegexes.map((u) => u.rule), ['none'])
    assert.deepEqual(names(set, 'xabbbc.d'), ['lit'])
    assert.deepEqual(names(set, 'xabc-d'), [])
    assert.deepEqual(names(set, 'NEWS7'), ['ci'])
    assert.deepEqual(names(set, 'ＮＥＷＳ７'), ['ci'])
    assert.deepEqual(names(set, 'a 123 b'), ['none'])
  })
})

describe('regex keywords are tried on texts up to REGEX_TEXT_MAX_LENGTH (text-matcher.ts says why)', () => {
  const set = compileRuleSet(
    [
      textRule('trailing', [{ regex: '\\s+$' }]),
      textRule('tail', [{ regex: 'x$' }]),
      textRule('word', [{ contains: 'needle' }]),
      textRule('start', [{ prefix: 'needle' }]),
    ],
    [],
  )
  it('at the length, every kind; one unit past it (after the trim), no regex, the rest still', () => {
    const at = 'needle' + 'a'.repeat(REGEX_TEXT_MAX_LENGTH - 7) + 'x'
    assert.equal(at.length, REGEX_TEXT_MAX_LENGTH)
    assert.deepEqual(names(set, at), ['tail', 'word', 'start'])
    assert.deepEqual(names(set, `  ${at} `), ['tail', 'word', 'start'])
    assert.deepEqual(names(set, at + 'x'), ['word', 'start'])
  })
  it('a megabyte of spaces and an x, the regexes that would be quadratic on it not run: its contains keyword still matches', () => {
    // `\s+$` from each of a million starts: minutes, were it tried.
    assert.deepEqual(names(set, 'needle' + ' '.repeat(1_000_000) + 'y'), ['word', 'start'])
  })
})
