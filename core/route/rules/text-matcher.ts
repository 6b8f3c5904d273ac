/**
 * The compiled text matcher of one account scope ('*' or one account id). Cost per text is one fold
 * and, per fold combination in use, one Map lookup (exact) and one automaton pass (contains, prefix and
 * regex literals together), plus the regexes whose literal was seen and those without one. None of it
 * depends on how many rules there are (bench/match-cost.bench.ts measures it).
 */
import type { Candidate, KeywordKind, TextRule } from '../rule-types.ts'
import type { JsonValue, RuleMatch } from '../../plugin/plugin-api.ts'
import { buildAutomaton, type Automaton } from './aho-corasick.ts'
import { widthFoldedRegex } from './fold-regex.ts'
import { comboOf, foldText, FOLD_COMBOS, type FoldCombo } from './fold-text.ts'
import { trimForMatching } from './invisible-characters.ts'
import { extractRequiredLiteral } from './regex-literal.ts'

/**
 * The longest text (UTF-16 units, after the trim) regex keywords are tried on; a longer one is matched by its
 * exact, prefix and contains keywords only. The slow-regex check (super-linear-time.ts, bounded-repetitions.ts)
 * admits regexes that are quadratic or slower by a bounded factor on texts of 4,096 units, the longest users
 * paste; nothing else bounds a text but the body limit (1 MB). `\s+$` took 0.6 s on 20,000 spaces and an x,
 * so on a 1 MB text, which a plaintext account takes from anyone holding one signed URL (the signature does
 * not cover the body), it would hold the engine for minutes. At this length, the same regex takes 0.4 s.
 */
export const REGEX_TEXT_MAX_LENGTH = 16_384

/** Best keyword of a rule: exact, then prefix, then contains, then regex; then position in `keywords`. */
const KIND_RANK: Record<KeywordKind, number> = { exact: 0, prefix: 1, contains: 2, regex: 3 }
const RANK_KINDS: KeywordKind[] = ['exact', 'prefix', 'contains', 'regex']
const RANK_SHIFT = 1 << 20
const REGEX_LITERAL = 4

export interface OrderedRule {
  rule: TextRule
  /** Position in the global rule order (all scopes), so two scopes' results merge by a number. */
  order: number
}

export interface OrderedCandidate {
  order: number
  candidate: Candidate
}

export interface TextMatcher {
  match(text: string, fromClick: boolean): OrderedCandidate[]
  readonly keywordCount: number
  /** Regexes with no literal to prefilter on; they run on every text of the scope. */
  readonly unfilteredRegexes: { rule: string; keyword: string }[]
}

interface RegexEntry {
  rule: number
  keyword: number
  re: RegExp
  foldWidth: boolean
}

/** Refs per pattern: kind (0..3 keyword kinds, REGEX_LITERAL), rule index, keyword index or regex id. */
interface ComboIndex {
  exact: Map<string, number[]>
  patterns: string[]
  refs: number[][]
  automaton?: Automaton
}

function packRef(kind: number, rule: number, index: number): number {
  // kind in 3 bits, rule up to 2^26, index up to 2^20: stays inside a safe integer.
  return (rule * RANK_SHIFT + index) * 8 + kind
}

export function buildTextMatcher(rules: readonly OrderedRule[]): TextMatcher {
  const combos = new Map<FoldCombo, ComboIndex>()
  const patternIds = new Map<FoldCombo, Map<string, number>>()
  const comboFor = (combo: FoldCombo): ComboIndex => {
    let index = combos.get(combo)
    if (!index) {
      index = { exact: new Map(), patterns: [], refs: [] }
      combos.set(combo, index)
      patternIds.set(combo, new Map())
    }
    return index
  }
  const addPattern = (combo: FoldCombo, pattern: string, ref: number) => {
    const index = comboFor(combo)
    const ids = patternIds.get(combo) as Map<string, number>
    let id = ids.get(pattern)
    if (id === undefined) {
      id = index.patterns.length
      ids.set(pattern, id)
      index.patterns.push(pattern)
      index.refs.push([])
    }
    index.refs[id].push(ref)
  }

  const regexes: RegexEntry[] = []
  const unfiltered: number[] = []
  const unfilteredRegexes: { rule: string; keyword: string }[] = []
  let keywordCount = 0

  rules.forEach(({ rule }, r) => {
    rule.keywords.forEach((kw, k) => {
      keywordCount++
      const combo = comboOf(kw.foldCase, kw.foldWidth)
      if (kw.kind === 'regex') {
        // `u` always (code points, strict syntax); `i` is what case folding means for a regex. With width
        // folding it reads the folded text, so it is written folded too (`：` as `:`, fold-regex.ts).
        const source = kw.foldWidth ? widthFoldedRegex(kw.value) : kw.value
        const re = new RegExp(source, kw.foldCase ? 'iu' : 'u')
        const id = regexes.length
        regexes.push({ rule: r, keyword: k, re, foldWidth: kw.foldWidth })
        const literal = extractRequiredLiteral(source, kw.foldCase)
        if (literal === undefined) {
          unfiltered.push(id)
          unfilteredRegexes.push({ rule: rule.name, keyword: kw.value })
        } else {
          addPattern(combo, literal, packRef(REGEX_LITERAL, r, id))
        }
        return
      }
      const folded = foldText(kw.value, combo)
      if (folded.length === 0) return
      const ref = packRef(KIND_RANK[kw.kind], r, k)
      if (kw.kind === 'exact') {
        const index = comboFor(combo)
        const list = index.exact.get(folded)
        if (list) list.push(ref)
        else index.exact.set(folded, [ref])
      } else {
        addPattern(combo, folded, ref)
      }
    })
  })
  for (const index of combos.values()) {
    if (index.patterns.length > 0) index.automaton = buildAutomaton(index.patterns)
  }
  const activeCombos = FOLD_COMBOS.filter((c) => combos.has(c)).map((c) => [c, combos.get(c) as ComboIndex] as const)

  // Scratch space reused by every call: matchText is synchronous, so calls never interleave.
  const stamp = new Uint32Array(rules.length)
  const best = new Int32Array(rules.length)
  const regexStamp = new Uint32Array(regexes.length)
  let generation = 0
  // One match's working state. match runs to completion (nothing can interleave), so it lives out here and
  // `hit` is made once: under tsx every closure a call makes is also named (a defineProperty), per message.
  let touched: number[] = []
  let regexCandidates: number[] = []
  let scanning: ComboIndex | undefined

  function hit(ref: number, end: number, patternLength: number): void {
    const kind = ref % 8
    const rest = (ref - kind) / 8
    const r = Math.floor(rest / RANK_SHIFT)
    const k = rest - r * RANK_SHIFT
    if (kind === REGEX_LITERAL) {
      if (regexStamp[k] !== generation) {
        regexStamp[k] = generation
        regexCandidates.push(k)
      }
      return
    }
    if (kind === KIND_RANK.prefix && end !== patternLength) return
    const score = kind * RANK_SHIFT + k
    if (stamp[r] !== generation) {
      stamp[r] = generation
      best[r] = score
      touched.push(r)
    } else if (score < best[r]) {
      best[r] = score
    }
  }

  function hitPattern(id: number, end: number): void {
    const { patterns, refs } = scanning!
    const length = patterns[id].length
    for (const ref of refs[id]) hit(ref, end, length)
  }

  return {
    keywordCount,
    unfilteredRegexes,
    match(rawText, fromClick) {
      // Texts are trimmed: WeChat clients keep trailing spaces and newlines users do not see, and pasted text
      // brings zero-width characters nobody sees either (invisible-characters.ts).
      const text = trimForMatching(rawText)
      generation++
      if (generation === 0xffffffff) {
        stamp.fill(0)
        regexStamp.fill(0)
        generation = 1
      }
      touched = []
      regexCandidates = unfiltered.slice()

      for (const [combo, index] of activeCombos) {
        const folded = foldText(text, combo)
        const exact = index.exact.get(folded)
        if (exact) for (const ref of exact) hit(ref, 0, 0)
        if (index.automaton) {
          scanning = index
          index.automaton.forEachMatch(folded, hitPattern)
        }
      }
      scanning = undefined

      let captured: Map<number, RegExpExecArray> | undefined
      if (regexCandidates.length > 0 && text.length <= REGEX_TEXT_MAX_LENGTH) {
        // Ids follow (rule, keyword) order, so the first regex that matches is the rule's first one.
        regexCandidates.sort((a, b) => a - b)
        let widthFolded: string | undefined
        for (const id of regexCandidates) {
          const entry = regexes[id]
          if (stamp[entry.rule] === generation) continue
          const subject = entry.foldWidth ? (widthFolded ??= foldText(text, comboOf(false, true))) : text
          const m = entry.re.exec(subject)
          if (!m) continue
          stamp[entry.rule] = generation
          best[entry.rule] = KIND_RANK.regex * RANK_SHIFT + entry.keyword
          touched.push(entry.rule)
          ;(captured ??= new Map()).set(entry.rule, m)
        }
      }

      return touched.map((r) => {
        const { rule, order } = rules[r]
        const score = best[r]
        const rank = Math.floor(score / RANK_SHIFT)
        const keyword = rule.keywords[score - rank * RANK_SHIFT]
        const m = captured?.get(r)
        const match: RuleMatch = {
          rule: rule.name,
          via: RANK_KINDS[rank],
          keyword: keyword.value,
          captures: m ? Array.from(m, (c) => c ?? '') : [],
          groups: m?.groups ? definedGroups(m.groups) : {},
          fromClick,
          args: argsOf(rule),
        }
        return { order, candidate: { rule: rule.name, target: rule.target, match, users: rule.users } }
      })
    },
  }
}

function definedGroups(groups: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(groups)) if (value !== undefined) out[name] = value
  return out
}

export function argsOf(owner: { target: TextRule['target'] }): Record<string, JsonValue> {
  return 'plugin' in owner.target ? owner.target.args : {}
}
