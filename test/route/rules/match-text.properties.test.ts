/**
 * The text matcher (text-matcher.ts: one fold per combination, an exact-match map, one Aho-Corasick pass, a
 * regex prefilter on required literals) against the plainest reading of docs/rules.md, over generated rule
 * sets and texts (fast-check): for each enabled rule of the account's scopes, fold keyword and text the
 * keyword's way and compare (exact ===, prefix startsWith, contains includes), or run the regex on the text
 * (width-folded when the keyword folds width, `i` when it folds case); a rule's best keyword is exact, then
 * prefix, then contains, then regex, then the first written; rules come in rule order. The two must give
 * the same rules, the same keyword and the same captures for every text.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from '../../support/fast-check.ts'
import { compileRuleSet } from '../../../core/route/rules/index.ts'
import { comboOf, foldText } from '../../../core/route/rules/fold-text.ts'
import { trimForMatching } from '../../../core/route/rules/invisible-characters.ts'
import { compareRuleOrder } from '../../../core/route/rules/rule-order.ts'
import type { Keyword, KeywordKind, TextRule } from '../../../core/route/rule-types.ts'

/** Characters that fold in the interesting ways: full-width, case outside ASCII, compatibility forms, CJK, invisible. */
const CHARS = ['a', 'b', 'A', 'B', 'Ａ', 'ｂ', ' ', '中', '文', 's', 'S', 'ſ', 'k', 'K', 'K', 'ß', 'ẞ', 'σ', 'ς', 'Σ', '1', '１', '①', 'é', 'e\u0301', 'ﬁ', '.', '\n', '😀', '\u200b', '\ufeff', '\u200d']
const word = (max: number) => fc.array(fc.constantFrom(...CHARS), { maxLength: max }).map((a) => a.join(''))
const REGEX_ATOMS = ['a', 'b', 's', 'k', 'σ', '中', '.', '\\d', '[ab]', '(a|b)', '(?:ab)', '\\s', '^', '$', '(?<g>a+)', '(中文)', '(?:a(b|s)k)', '(?=a)', 'é']
const REGEX_QUANTIFIERS = ['', '', '', '*', '+', '?', '{2}']
const regexSource = fc
  .array(fc.tuple(fc.constantFrom(...REGEX_ATOMS), fc.constantFrom(...REGEX_QUANTIFIERS)), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.map(([a, q]) => (a === '^' || a === '$' || a.startsWith('(?=') ? a : a + q)).join(''))
  .filter((s) => {
    try {
      new RegExp(s, 'u')
      return true
    } catch {
      return false
    }
  })

const keywordArb: fc.Arbitrary<Keyword> = fc
  .record({ kind: fc.constantFrom<KeywordKind>('exact', 'prefix', 'contains', 'regex'), foldCase: fc.boolean(), foldWidth: fc.boolean() })
  .chain((k) => (k.kind === 'regex' ? regexSource : word(3)).map((value) => ({ ...k, value })))

const rulesArb = fc
  .array(
    fc.record({
      keywords: fc.array(keywordArb, { minLength: 1, maxLength: 4 }),
      account: fc.constantFrom('*', 'acct', 'other'),
      priority: fc.integer({ min: 0, max: 3 }),
      enabled: fc.constantFrom(true, true, true, false),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((specs) =>
    specs.map(
      (s, i): TextRule => ({
        name: `r${i}`,
        account: s.account,
        keywords: s.keywords,
        target: { plugin: `p${i}`, args: {} },
        priority: s.priority,
        enabled: s.enabled,
        source: { file: `f${i % 3}.yaml`, line: i + 1 },
      }),
    ),
  )

const RANK: Record<KeywordKind, number> = { exact: 0, prefix: 1, contains: 2, regex: 3 }

/** What docs/rules.md says, read plainly, for one rule and one text. */
function plainMatch(rule: TextRule, raw: string): { keyword: string; via: KeywordKind; captures: string[]; groups: Record<string, string> } | undefined {
  const text = trimForMatching(raw)
  let best: { rank: number; index: number; m?: RegExpExecArray } | undefined
  rule.keywords.forEach((kw, index) => {
    let m: RegExpExecArray | undefined
    if (kw.kind === 'regex') {
      const subject = kw.foldWidth ? foldText(text, comboOf(false, true)) : text
      const found = new RegExp(kw.value, kw.foldCase ? 'iu' : 'u').exec(subject)
      if (!found) return
      m = found
    } else {
      const combo = comboOf(kw.foldCase, kw.foldWidth)
      const k = foldText(kw.value, combo)
      const t = foldText(text, combo)
      if (k === '') return
      const hit = kw.kind === 'exact' ? t === k : kw.kind === 'prefix' ? t.startsWith(k) : t.includes(k)
      if (!hit) return
    }
    const rank = RANK[kw.kind]
    if (!best || rank < best.rank || (rank === best.rank && index < best.index)) best = { rank, index, m }
  })
  if (!best) return undefined
  const kw = rule.keywords[best.index]
  const groups: Record<string, string> = {}
  for (const [n, v] of Object.entries(best.m?.groups ?? {})) if (v !== undefined) groups[n] = v
  return { keyword: kw.value, via: kw.kind, captures: best.m ? Array.from(best.m, (c) => c ?? '') : [], groups }
}

test('the compiled matcher finds what the plain reading of the rules finds, for generated rules and texts', () => {
  let matched = 0
  fc.assert(
    fc.property(rulesArb, fc.array(fc.oneof(word(8), fc.constantFrom('  a b \n', 'ab', '中文', 'Ａb', 'ſ', 'ΣΑΣ')), { minLength: 1, maxLength: 6 }), fc.boolean(), (rules, texts, fromClick) => {
      const set = compileRuleSet(rules, [])
      const inScope = rules
        .map((rule, i) => ({ rule, i }))
        .filter(({ rule }) => rule.enabled && (rule.account === '*' || rule.account === 'acct'))
        .sort((a, b) => compareRuleOrder(a.rule, b.rule) || a.i - b.i)
      // Texts made of the keywords themselves too, so that most rule sets match something.
      const all = [...texts, ...rules.flatMap((r) => r.keywords.filter((k) => k.kind !== 'regex').map((k) => `${texts[0]}${k.value}`))]
      for (const text of all) {
        const expected = inScope.flatMap(({ rule }) => {
          const m = plainMatch(rule, text)
          return m ? [{ rule: rule.name, ...m }] : []
        })
        const actual = set.matchText('acct', text, fromClick).map((c) => {
          assert.equal(c.match!.fromClick, fromClick)
          return { rule: c.rule, keyword: c.match!.keyword, via: c.match!.via, captures: c.match!.captures, groups: c.match!.groups }
        })
        assert.deepStrictEqual(actual, expected, `text ${JSON.stringify(text)}`)
        matched += expected.length
      }
    }),
    { numRuns: 1500 },
  )
  assert.ok(matched > 1000, `only ${matched} matches compared`)
})
