/**
 * Regexes that can stall the engine: a rule's regex runs on the serving thread against text any WeChat user
 * sends, and a backtracking engine takes time exponential (or a high power) in the text's length to fail on
 * three shapes, all refused at load (a keyword marked `trusted: true` skips this; docs/rules.md):
 *
 * - **Nested repetition** (`(a+)+`, `(\w+\s?)*`, `(a?a?)+`): `^(a+)+$` against 27 a's and a `!` took 5 s.
 *   Found as a quantifier under a quantifier (star height above 1), as safe-regex2 does, with two
 *   exceptions that cannot explode:
 *   - an optional part (`?`, `{0,1}`) that no repeating quantifier encloses is tried once at most:
 *     `^note(?:\s+(.+))?$` (a command with an optional argument). Under a repetition an optional part
 *     counts like any quantifier: `(a?a?)+` took 30 s on 24 a's.
 *   - small bounded repetitions inside each other, at most 64 ways in all: the inner one's choices (from its
 *     least to its most) to the power of the outer ones' runs. The IPv4 pattern `^(?:\d{1,3}\.){3}\d{1,3}$`
 *     tries at most 3 x 3 x 3 ways. Not the product of the bounds, which the check once used: `{1,8}` inside
 *     `{1,8}` is 8^8 ways, and `^(\w{1,8}\s?){1,8}$` took 1 s on 64 letters and a `!` (a review). A bounded
 *     one around an unbounded one (`(a+){3}`) or the other way (`(a{1,2})+`) still counts; a fixed count
 *     (`(?:\d{3})+`) has no choice to make and does not.
 * - **Alternatives that can start the same way, under a repetition** (`^(\w|\d)+$`,
 *   `^([\u4e00-\u9fa5]|\S)+$`, `(a|ab|b)*`): each iteration may take either branch, so every way of
 *   splitting the text between them is tried before it fails. `^(\w|\d)+$` took 17 s on 28 digits and a `!`,
 *   `^([\u4e00-\u9fa5]|\S)+$` 7.6 s on 26 Chinese characters and a space (a security review). Refused when two
 *   alternatives of a group that a repetition runs often enough for more than BOUNDED_PRODUCT ways (2 to the
 *   power of the runs: more than 6; `^(\w|\d){1,64}$` took 5.4 s on 26 digits) can consume the same first
 *   character (case folded, as the matcher folds by default). That is wider than the exact condition
 *   (`(?:ab|ac)+` is refused, and cannot explode) and is the one a rule author can read and fix: make the
 *   branches start differently, or merge them into one character class (`[\w\u4e00-\u9fa5]+`).
 *
 * - **Repetitions in a row that can take the same characters, three or more** (`^(.*)\s+(.*)$`,
 *   `.*.*x` unanchored, `^\d+\d+\d+$`): each way of sharing the text between them is tried, so the time grows
 *   with the text's length to the power of how many there are. `^(.*)\s+(.*)$` took 0.6 s on 2,000
 *   characters and 4.7 s on 4,000, `^\d+\d+\d+\d+\d+$` 21 s on 200. Two in a row (`^绑定\s*(.+)$`, and any
 *   regex not anchored with `^` repeats once more, trying each start) stay quadratic: a few milliseconds
 *   on the longest texts, accepted. Asked of recheck (regex-worst-case.ts), which says the degree; only for a
 *   regex that has three such repetitions at least (the search from each start counted as one), since fewer
 *   cannot reach the third power, and recheck takes 10-300 ms a regex. Whatever recheck finds exponential
 *   that the two checks above missed is refused too. recheck cannot read lookarounds: it is asked about the
 *   regex without them and about each one's body (a lookahead's after what comes before it, which it runs
 *   once for each way of). What it still cannot read (backreferences) is left to the two checks above.
 *
 * Parsed with regexpp, with the `u` flag the matcher uses (ret, used before, read `\u4e00` as the letters u,
 * 4, e, 0, 0 and could not read a lookbehind).
 */
import { RegExpParser, type AST } from '@eslint-community/regexpp'
import { getFirstConsumedChar, type ReadonlyFlags } from 'regexp-ast-analysis'
import { worstCaseOf, type WorstCase } from './regex-worst-case.ts'

/** Bounded repetitions are harmless while the ways to try are this few. */
const BOUNDED_PRODUCT = 64
/** The matcher's flags: `u` always, `i` when folding case (the default); folding can only add overlaps. */
const FLAGS: ReadonlyFlags = { unicode: true, ignoreCase: true }

/** Repetitions in a row that may take the same text: from three of them a regex can stall on a long text. */
const REFUSED_DEGREE = 3

/**
 * What makes `source` slow on a near-match, in words of the fix; undefined when no slow shape is found.
 * `foldCase`: whether the matcher adds the `i` flag (folding can only add overlaps).
 */
export function slowRegexProblem(source: string, foldCase = true): string | undefined {
  const pattern = parse(source)
  if (!pattern) return undefined
  return nestedRepetition(source, pattern) ?? overlappingAlternatives(source, pattern) ?? superLinearTime(source, pattern, foldCase)
}

/** Nested repetition only (its own tests). */
export function checkBacktracking(source: string): string | undefined {
  const pattern = parse(source)
  return pattern && nestedRepetition(source, pattern)
}

/** Overlapping alternatives only (their own tests). */
export function checkOverlappingAlternatives(source: string): string | undefined {
  const pattern = parse(source)
  return pattern && overlappingAlternatives(source, pattern)
}

function parse(source: string): AST.Pattern | undefined {
  try {
    return new RegExpParser({ ecmaVersion: 2025 }).parsePattern(source, 0, source.length, { unicode: true })
  } catch {
    // The syntax check (checkRegex) speaks for what does not parse.
    return undefined
  }
}

function nestedRepetition(source: string, pattern: AST.Pattern): string | undefined {
  if (!nestsRepetition(pattern, 0, 1)) return undefined
  return (
    `regex ${JSON.stringify(source)} repeats a repeated part (like (a+)+): on a text that almost matches it can run for ` +
    'seconds and stall every account. Rewrite it without the nested repetition, or add trusted: true to this keyword if you are sure'
  )
}

/**
 * Whether a repetition sits under another (`depth` repetitions enclose this node; `runs` is the product of
 * their upper bounds, how many times they may run it, Infinity once one is unbounded) with more than
 * BOUNDED_PRODUCT ways: its choices to the power of the runs. An optional quantifier (max 1) counts only under
 * a repetition. Lookarounds are walked like plain groups.
 */
function nestsRepetition(node: AST.Node, depth: number, runs: number): boolean {
  if (node.type === 'Quantifier') {
    const counts = node.max > 1 || depth > 0
    if (!counts) return nestsRepetition(node.element, depth, runs)
    const choices = node.max - node.min + 1
    if (depth > 0 && choices > 1 && !(choices ** runs <= BOUNDED_PRODUCT)) return true
    return nestsRepetition(node.element, depth + 1, runs * node.max)
  }
  return childrenOf(node).some((child) => nestsRepetition(child, depth, runs))
}

/** Repetitions in a row over the same characters, three or more (recheck's degree), or anything exponential. */
export function checkSuperLinearTime(source: string, foldCase = true): string | undefined {
  const pattern = parse(source)
  return pattern && superLinearTime(source, pattern, foldCase)
}

function superLinearTime(source: string, parsed: AST.Pattern, foldCase: boolean): string | undefined {
  const asMatched = withoutTrimmedSpace(source, parsed)
  const pattern = asMatched === source ? parsed : parse(asMatched)
  if (!pattern || repetitionsOf(pattern) + (anchoredAtStart(pattern) ? 0 : 1) < REFUSED_DEGREE) return undefined
  const flags = foldCase ? 'iu' : 'u'
  let worst = askRecheck(asMatched, flags)
  if (worst.kind === 'unknown') worst = worstAroundLookarounds(pattern, flags) ?? worst
  const parts = worst.kind === 'polynomial' || worst.kind === 'exponential' ? worst.hot.map((h) => JSON.stringify(h)).join(', ') : ''
  if (worst.kind === 'exponential') {
    return (
      `regex ${JSON.stringify(source)} can take time exponential in the text's length (its parts ${parts} can take the same ` +
      'characters in many ways): on a text that almost matches it can run for seconds and stall every account. Rewrite it so each ' +
      'part takes characters the others cannot, or add trusted: true to this keyword if you are sure'
    )
  }
  if (worst.kind !== 'polynomial' || worst.degree < REFUSED_DEGREE) return undefined
  const power = worst.degree === 3 ? 'cube' : `${worst.degree}th power`
  const anchored = anchoredAtStart(pattern)
  return (
    `regex ${JSON.stringify(source)} has ${worst.degree} repetitions in a row that can take the same characters ` +
    `(${parts}${anchored ? '' : ', and, as it is not anchored with ^, the search from every start'}): its time grows with the ${power} ` +
    "of the text's length, so on a long text that almost matches it can stall every account for seconds. Make neighbouring parts take " +
    `different characters (\\S+ before \\s+, not .*)${anchored ? '' : ', anchor it with ^'}, or add trusted: true to this keyword if you are sure`
  )
}

/**
 * recheck's verdict, and when it runs out of time, its verdict on the regex with its bounded repetitions made
 * unbounded (`{1,60}` read as `{1,}`), which can only be as slow or slower. recheck unrolls a bounded
 * repetition, and a few in a row took it past its 2 s: `(.{1,60})\s+(.{1,60})\s+(.{1,60})$` came back
 * unknown and loaded, and took more than a minute on 3,962 characters (a review). Unbounded, it answers in
 * milliseconds.
 */
function askRecheck(source: string, flags: string): WorstCase {
  const worst = worstCaseOf(source, flags)
  if (worst.kind !== 'unknown' || worst.reason !== 'timeout') return worst
  const pattern = parse(source)
  const bounded = pattern ? boundedRepetitions(pattern) : []
  if (bounded.length === 0) return worst
  let unbounded = ''
  let at = 0
  for (const q of bounded) {
    const suffixAt = q.element.end - pattern!.start
    unbounded += source.slice(at, suffixAt) + `{${q.min},}` + (q.greedy ? '' : '?')
    at = q.end - pattern!.start
  }
  unbounded += source.slice(at)
  const without = worstCaseOf(unbounded, flags)
  return without.kind === 'unknown' ? worst : without
}

/** Quantifiers with a finite bound above 1 and a choice to make, in the order their ends are written. */
function boundedRepetitions(node: AST.Node): AST.Quantifier[] {
  const inner = childrenOf(node).flatMap(boundedRepetitions)
  if (node.type === 'Quantifier' && Number.isFinite(node.max) && node.max > 1 && node.max > node.min) inner.push(node)
  return inner
}

/**
 * recheck cannot read lookarounds, and one lookahead (`^(?=.*\d)(.*)\s+(.*)$`) hid a cubic regex from it. Asked
 * instead: the regex without its lookarounds, and each lookaround's body. A lookahead's body is asked after what
 * comes before it (lookarounds taken out there too, its enclosing groups closed): it runs once for every way
 * that part can match, so `\w+(?=.*x)` is `\w+` times `.*x` from every start, cubic (13 s on 4,000 letters in
 * a review), though each alone is at most quadratic. `^(?=...)` so comes out anchored. A lookbehind's body,
 * which runs backwards, is asked alone and unanchored. The worst of them; undefined when there is no lookaround
 * to take out, or nothing is known without them either.
 */
function worstAroundLookarounds(pattern: AST.Pattern, flags: string): WorstCase | undefined {
  const lookarounds = outermostLookarounds(pattern)
  if (lookarounds.length === 0) return undefined
  // The source from `from` to `to`, without the lookarounds in it.
  const without = (from: number, to: number) => {
    let out = ''
    let at = from
    for (const l of lookarounds.filter((l) => l.start >= from && l.end <= to)) {
      out += pattern.raw.slice(at - pattern.start, l.start - pattern.start)
      at = l.end
    }
    return out + pattern.raw.slice(at - pattern.start, to - pattern.start)
  }
  const rest = without(pattern.start, pattern.end)
  const bodies = lookarounds.map((l) => {
    const body = `(?:${l.alternatives.map((alt) => alt.raw).join('|')})`
    return l.kind === 'lookahead' ? without(pattern.start, l.start) + body + closing(l) : body
  })
  const verdicts = [rest, ...bodies].filter((s) => s !== '').map((s) => askRecheck(s, flags))
  const rank = (w: WorstCase) => (w.kind === 'exponential' ? Infinity : w.kind === 'polynomial' ? w.degree : w.kind === 'linear' ? 1 : 0)
  const worst = verdicts.reduce((a, b) => (rank(b) > rank(a) ? b : a))
  return worst.kind === 'unknown' ? undefined : worst
}

/**
 * What closes the groups around `node`, so a prefix ending at it is a regex. Without their quantifiers: under a
 * `?` or `*` the prefix could match nothing and never reach the body (`(?:\w+(?=.*x))?y` read as linear); a
 * repetition around a lookaround with repetition in it is refused by the nesting check anyway.
 */
function closing(node: AST.Node): string {
  let out = ''
  for (let n = node.parent; n && n.type !== 'Pattern'; n = n.parent) {
    if (n.type === 'Group' || n.type === 'CapturingGroup') out += ')'
  }
  return out
}

/** Lookaheads and lookbehinds not inside another, in the order they are written. */
function outermostLookarounds(node: AST.Node): AST.LookaroundAssertion[] {
  if (node.type === 'Assertion' && (node.kind === 'lookahead' || node.kind === 'lookbehind')) return [node]
  return childrenOf(node).flatMap(outermostLookarounds)
}

/**
 * The regex as it meets texts, which the matcher trims first (text-matcher.ts; `trim` takes what `\s` matches):
 * an optional run of spaces right after the leading `^`, or right before the final `$`, matches nothing
 * there, and is left out. The trim idiom `^\s*(.*?)\s*$` is cubic on a text that starts with spaces, which
 * never reaches it (a review: quadratic, 25 ms on 4,000 characters, and was refused).
 */
function withoutTrimmedSpace(source: string, pattern: AST.Pattern): string {
  if (pattern.alternatives.length !== 1) return source
  const elements = pattern.alternatives[0]!.elements
  const optionalSpace = (e: AST.Element | undefined) =>
    e?.type === 'Quantifier' && e.min === 0 && e.element.type === 'CharacterSet' && e.element.kind === 'space' && !e.element.negate
  const first = elements[0]
  const last = elements[elements.length - 1]
  const atStart = first?.type === 'Assertion' && first.kind === 'start' && optionalSpace(elements[1]) ? elements[1]! : undefined
  const atEnd = last?.type === 'Assertion' && last.kind === 'end' && optionalSpace(elements[elements.length - 2]) ? elements[elements.length - 2]! : undefined
  if (!atStart && !atEnd) return source
  const cut = (from: number, to: number) => source.slice(from - pattern.start, to - pattern.start)
  const head = atStart ? cut(pattern.start, atStart.start) : ''
  const bodyFrom = atStart ? atStart.end : pattern.start
  const bodyTo = atEnd && atEnd !== atStart ? atEnd.start : pattern.end
  return head + cut(bodyFrom, bodyTo) + (atEnd && atEnd !== atStart ? cut(atEnd.end, pattern.end) : '')
}

/** Repetitions that can run long (unbounded, or more than BOUNDED_PRODUCT times), wherever they are. */
function repetitionsOf(node: AST.Node): number {
  const own = node.type === 'Quantifier' && node.max > BOUNDED_PRODUCT ? 1 : 0
  return childrenOf(node).reduce((sum, child) => sum + repetitionsOf(child), own)
}

/** Whether every alternative starts with `^` (no `m` flag here: the text's start), so no search from each start. */
function anchoredAtStart(pattern: AST.Pattern): boolean {
  return pattern.alternatives.every((alt) => {
    const first = alt.elements[0]
    return first?.type === 'Assertion' && first.kind === 'start'
  })
}

function overlappingAlternatives(source: string, pattern: AST.Pattern): string | undefined {
  const found = firstOverlap(pattern)
  if (!found) return undefined
  const [a, b] = found
  return (
    `regex ${JSON.stringify(source)} repeats a choice whose alternatives ${JSON.stringify(a.raw)} and ${JSON.stringify(b.raw)} can match ` +
    'the same text: on a text that almost matches it can run for seconds and stall every account. Make the alternatives start ' +
    'differently or merge them into one character class, or add trusted: true to this keyword if you are sure'
  )
}

/** The first pair of alternatives, in a group under a large repetition, whose first characters overlap. */
function firstOverlap(node: AST.Node): [AST.Alternative, AST.Alternative] | undefined {
  if ((node.type === 'Group' || node.type === 'CapturingGroup') && node.alternatives.length > 1 && repeatedEnough(node)) {
    const firsts = node.alternatives.map((alt) => getFirstConsumedChar(alt, 'ltr', FLAGS).char)
    for (let i = 0; i < firsts.length; i++) {
      for (let j = i + 1; j < firsts.length; j++) {
        if (!firsts[i]!.isDisjointWith(firsts[j]!)) return [node.alternatives[i]!, node.alternatives[j]!]
      }
    }
  }
  for (const child of childrenOf(node)) {
    const found = firstOverlap(child)
    if (found) return found
  }
  return undefined
}

/**
 * Whether the group's choice, made again at each run of it, gives more than BOUNDED_PRODUCT ways: two
 * branches that can take the same text double them at every run, so it is 2 to the power of how many times
 * the enclosing quantifiers may run it (not that number: `^(\w|\d){1,64}$`, 64 runs, took 5.4 s on 26 digits
 * and a `!` in a review). Only those inside the nearest lookaround count: JavaScript never backtracks into a
 * lookaround that matched, so a repetition around one does not multiply its choices (one inside it does:
 * `(?=(a|a)+$)` fails exponentially).
 */
function repeatedEnough(group: AST.Node): boolean {
  let runs = 1
  for (let n: AST.Node | null = group.parent; n; n = n.parent) {
    if (n.type === 'Assertion') break
    if (n.type === 'Quantifier') runs *= n.max
  }
  return 2 ** runs > BOUNDED_PRODUCT
}

function childrenOf(node: AST.Node): AST.Node[] {
  switch (node.type) {
    case 'Pattern':
    case 'Group':
    case 'CapturingGroup':
      return node.alternatives
    case 'Alternative':
      return node.elements
    case 'Quantifier':
      return [node.element]
    case 'Assertion':
      return node.kind === 'lookahead' || node.kind === 'lookbehind' ? node.alternatives : []
    default:
      return []
  }
}
