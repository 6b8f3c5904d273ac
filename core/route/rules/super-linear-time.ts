/**
 * The third slow shape slow-regex.ts refuses: **repetitions in a row that can take the same characters, three
 * or more** (`^(.*)\s+(.*)$`, `.*.*x` unanchored, `^\d+\d+\d+$`). Each way of sharing the text between them
 * is tried before a near-match fails, so the time grows with the text's length to the power of how many there
 * are: `^(.*)\s+(.*)$` took 0.6 s on 2,000 characters and 4.7 s on 4,000, `^\d+\d+\d+\d+\d+$` 21 s on 200,
 * `^\s*(.+?)\s*[:：]\s*(.+?)\s*$` (a key: value pattern) 236 s on 508. Two in a row (`^绑定\s*(.+)$`; a regex
 * not anchored with `^` counts one more, for the search from each start) stay quadratic, a few milliseconds
 * on the longest texts, and load.
 *
 * The power is recheck's degree (regex-worst-case.ts), asked only about a regex with three such repetitions at
 * least (fewer cannot reach the third power; recheck takes 10-300 ms a regex). What it finds exponential and
 * the structural checks missed is refused too. Around what recheck cannot do:
 * - lookarounds it cannot read: asked about the regex without them and about each body (a lookahead's after
 *   what comes before it, since it runs once for each way that part matches);
 * - a few bounded repetitions in a row take it past its time bound: asked again with them unbounded;
 * - the matcher trims texts: a `\s*` at either end is left out, as it can match nothing there.
 * Backreferences it cannot read at all: left to the structural checks.
 */
import type { AST } from '@eslint-community/regexpp'
import { BOUNDED_PRODUCT, childrenOf, parse } from './regex-ast.ts'
import { worstCaseOf, type WorstCase } from './regex-worst-case.ts'
import { shownPattern } from './shown-pattern.ts'

/** Repetitions in a row that may take the same text: from three of them a regex can stall on a long text. */
const REFUSED_DEGREE = 3

/** Repetitions in a row over the same characters, three or more (recheck's degree), or anything exponential. */
export function checkSuperLinearTime(source: string, foldCase = true): string | undefined {
  const pattern = parse(source)
  return pattern && superLinearTime(source, pattern, foldCase)
}

export function superLinearTime(source: string, parsed: AST.Pattern, foldCase: boolean): string | undefined {
  const asMatched = withoutTrimmedSpace(source, parsed)
  const pattern = asMatched === source ? parsed : parse(asMatched)
  if (!pattern || repetitionsOf(pattern) + (anchoredAtStart(pattern) ? 0 : 1) < REFUSED_DEGREE) return undefined
  const flags = foldCase ? 'iu' : 'u'
  let worst = askRecheck(asMatched, flags)
  if (worst.kind === 'unknown') worst = worstAroundLookarounds(pattern, flags) ?? worst
  const parts = worst.kind === 'polynomial' || worst.kind === 'exponential' ? worst.hot.map((h) => JSON.stringify(h)).join(', ') : ''
  if (worst.kind === 'exponential') {
    return (
      `regex ${shownPattern(source)} can take time exponential in the text's length (its parts ${parts} can take the same ` +
      'characters in many ways): on a text that almost matches it can run for seconds and stall every account. Rewrite it so each ' +
      'part takes characters the others cannot, or add trusted: true to this keyword if you are sure'
    )
  }
  if (worst.kind !== 'polynomial' || worst.degree < REFUSED_DEGREE) return undefined
  const power = worst.degree === 3 ? 'cube' : `${worst.degree}th power`
  const anchored = anchoredAtStart(pattern)
  return (
    `regex ${shownPattern(source)} has ${worst.degree} repetitions in a row that can take the same characters ` +
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
export function withoutTrimmedSpace(source: string, pattern: AST.Pattern): string {
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
