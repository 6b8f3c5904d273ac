/**
 * Alternatives that can start the same way, under a repetition: `^(\w|\d)+$`, `^([\u4e00-\u9fa5]|\S)+$`,
 * `(a|ab|b)*`. Each iteration may take either branch, so a backtracking engine tries every way of splitting
 * the text between them before it fails: exponential in the text's length, like a nested repetition, with
 * no quantifier under a quantifier for checkBacktracking (rule-file-schema.ts) to see. `^(\w|\d)+$` took 17 s
 * on 28 digits and a `!`, `^([\u4e00-\u9fa5]|\S)+$` 7.6 s on 26 Chinese characters and a space: a WeChat
 * user's message stalls every account (a security review).
 *
 * Refused when two alternatives of a group inside a repetition of more than BOUNDED_PRODUCT ways can
 * consume the same first character (case folded, as the matcher folds by default). That is wider than the
 * exact condition (`(?:ab|ac)+` is refused, and cannot explode) and is the one a rule author can read and
 * fix: make the branches start differently, or merge them into one character class (`[\w\u4e00-\u9fa5]+`).
 * Parsed with regexpp, not ret: ret reads `\u4e00` as the letters u, 4, e, 0, 0.
 */
import { RegExpParser, type AST } from '@eslint-community/regexpp'
import { getFirstConsumedChar, type ReadonlyFlags } from 'regexp-ast-analysis'

/** Bounded repetitions are harmless while the ways to try are this few (as in checkBacktracking). */
const BOUNDED_PRODUCT = 64
/** The matcher's flags: `u` always, `i` when folding case (the default); folding can only add overlaps. */
const FLAGS: ReadonlyFlags = { unicode: true, ignoreCase: true }

export function checkOverlappingAlternatives(source: string): string | undefined {
  let pattern: AST.Pattern
  try {
    pattern = new RegExpParser({ ecmaVersion: 2025 }).parsePattern(source, 0, source.length, { unicode: true })
  } catch {
    // The syntax check (checkRegex) speaks for what does not parse.
    return undefined
  }
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
 * Whether the enclosing quantifiers may run the group more than BOUNDED_PRODUCT times. Only those inside the
 * nearest lookaround count: JavaScript never backtracks into a lookaround that matched, so a repetition
 * around one does not multiply its choices (one inside it does: `(?=(a|a)+$)` fails exponentially).
 */
function repeatedEnough(group: AST.Node): boolean {
  let ways = 1
  for (let n: AST.Node | null = group.parent; n; n = n.parent) {
    if (n.type === 'Assertion') break
    if (n.type === 'Quantifier') ways *= n.max
  }
  return ways > BOUNDED_PRODUCT
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
