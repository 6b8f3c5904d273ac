/**
 * What the slow-regex checks share: the parse (regexpp, with the `u` flag the matcher always uses) and the
 * walk over a pattern's children.
 */
import { RegExpParser, type AST } from '@eslint-community/regexpp'

/** Bounded repetitions are harmless while the ways to try are this few. */
export const BOUNDED_PRODUCT = 64

export function parse(source: string): AST.Pattern | undefined {
  try {
    return new RegExpParser({ ecmaVersion: 2025 }).parsePattern(source, 0, source.length, { unicode: true })
  } catch {
    // The syntax check (checkRegex) speaks for what does not parse.
    return undefined
  }
}

/** A node's children as the checks walk them: lookarounds included, like plain groups. */
export function childrenOf(node: AST.Node): AST.Node[] {
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
