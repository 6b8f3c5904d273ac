/**
 * Bounds on what a YAML document's aliases cost once toJS expands them, checked before it does: how many values
 * the expanded document holds (a file whose aliases multiply it, `&a [x, x, ...]`, `&b [*a, *a, ...]`, ..., the
 * "billion laughs"), and how many aliases there are (toJS looks each one up through those before it).
 *
 * yaml's own guard (maxAliasCount, 100) counts the uses of each anchor, whatever its size: it refused a rules
 * file whose 100 rules each merge one template (`<<: *base`, the way docs/rules.md shares keys), as "Excessive
 * alias count indicates a resource exhaustion attack", at 1:1.
 */
import { isAlias, isCollection, isPair, visit, type Document, type Node } from 'yaml'
import { aliasTarget } from './yaml-aliases.ts'

/**
 * Values an expanded rules or menu file may hold. A 2 MB file written out in full holds about a million at
 * most (MAX_RULES_FILE_BYTES), and 5,000 rules merging a template of ten keys are 50,000 more.
 */
export const MAX_EXPANDED_VALUES = 2_000_000

/**
 * Aliases a file may hold. toJS finds each one's anchor by a look through every alias and anchor before it, so
 * the cost grows with their square: 5,000 rules merging one template took 0.4 s, 15,000 took 3 s (on a loaded
 * 2-core machine), on the engine's thread at the start.
 */
export const MAX_ALIASES = 5_000

/** Where the first bound is passed (the alias that passes it), and what to say; undefined within both. */
export function aliasesPastBounds(doc: Document): { offset: number; message: string } | undefined {
  const sizes = new Map<unknown, number>()
  const inProgress = new Set<unknown>()
  // A node's values with its aliases expanded, once per node. An alias inside its own anchor's node (`&a [*a]`)
  // is a cycle, which toJS makes a reference, not a copy: it counts 1.
  const sizeOf = (node: unknown): number => {
    if (isAlias(node)) {
      const source = aliasTarget(doc, node)
      return source === undefined || inProgress.has(source) ? 1 : sizeOf(source)
    }
    const known = sizes.get(node)
    if (known !== undefined) return known
    inProgress.add(node)
    let size = 1
    if (isCollection(node)) for (const item of node.items) size = Math.min(size + sizeOf(item), Number.MAX_SAFE_INTEGER)
    else if (isPair(node)) size = sizeOf(node.key) + sizeOf(node.value)
    inProgress.delete(node)
    sizes.set(node, size)
    return size
  }
  // Walked in document order, each alias adding its expansion: the one past a bound is where to look.
  let values = 0
  let aliases = 0
  let past: { offset: number; message: string } | undefined
  visit(doc, {
    Alias: (_key, alias) => {
      aliases++
      values += sizeOf(alias)
      const offset = (alias as Node).range?.[0] ?? 0
      if (aliases > MAX_ALIASES) {
        past = { offset, message: `more than ${MAX_ALIASES.toLocaleString('en')} aliases (*name) in one file, which would take seconds to expand: split the file` }
      } else if (values > MAX_EXPANDED_VALUES) {
        past = { offset, message: `the aliases up to here expand the file to more than ${MAX_EXPANDED_VALUES.toLocaleString('en')} values (an alias of a list or mapping that holds aliases multiplies them): write those parts out, or split the file` }
      }
      return past === undefined ? undefined : visit.BREAK
    },
    Scalar: () => {
      values++
      return undefined
    },
  })
  return past
}
