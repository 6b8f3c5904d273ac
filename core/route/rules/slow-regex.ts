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
 * - **Repetitions in a row that can take the same characters, three or more** (`^(.*)\s+(.*)$`): the time
 *   grows with the text's length to that power. Asked of recheck: super-linear-time.ts.
 * - **Bounded repetitions in a row that can take the same characters** (`\s(.{0,60})\s(.{0,60})\s(.{0,60})!`,
 *   1.9 s on 4,000 characters), which recheck reads as linear: their ways to try, estimated with the bounds
 *   against a budget of about 100 ms, bounded-repetitions.ts.
 *
 * Parsed with regexpp, with the `u` flag the matcher uses (ret, used before, read `\u4e00` as the letters u,
 * 4, e, 0, 0 and could not read a lookbehind).
 */
import type { AST } from '@eslint-community/regexpp'
import { getFirstConsumedChar, type ReadonlyFlags } from 'regexp-ast-analysis'
import { boundedRepetitions } from './bounded-repetitions.ts'
import { BOUNDED_PRODUCT, childrenOf, parse } from './regex-ast.ts'
import { superLinearTime } from './super-linear-time.ts'
import { shownPattern } from './shown-pattern.ts'

/** The matcher's flags: `u` always, `i` when folding case (the default); folding can only add overlaps. */
const FLAGS: ReadonlyFlags = { unicode: true, ignoreCase: true }

/**
 * What makes `source` slow on a near-match, in words of the fix; undefined when no slow shape is found.
 * `foldCase`: whether the matcher adds the `i` flag (folding can only add overlaps).
 */
export function slowRegexProblem(source: string, foldCase = true): string | undefined {
  const pattern = parse(source)
  if (!pattern) return undefined
  // The cheap structural checks first; recheck (10-300 ms a regex, up to 4 s) last.
  return (
    nestedRepetition(source, pattern) ??
    overlappingAlternatives(source, pattern) ??
    boundedRepetitions(source, pattern, foldCase) ??
    superLinearTime(source, pattern, foldCase)
  )
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

function nestedRepetition(source: string, pattern: AST.Pattern): string | undefined {
  if (!nestsRepetition(pattern, 0, 1)) return undefined
  return (
    `regex ${shownPattern(source)} repeats a repeated part (like (a+)+): on a text that almost matches it can run for ` +
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

function overlappingAlternatives(source: string, pattern: AST.Pattern): string | undefined {
  const found = firstOverlap(pattern)
  if (!found) return undefined
  const [a, b] = found
  return (
    `regex ${shownPattern(source)} repeats a choice whose alternatives ${shownPattern(a.raw)} and ${shownPattern(b.raw)} can match ` +
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
