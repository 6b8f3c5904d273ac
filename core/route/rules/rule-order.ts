/**
 * The one ordering of rules and handlers (core/route/rule-types.ts): HIGHER priority FIRST, then file
 * path (relative to the rules directory, compared by UTF-16 code units, not locale), then line, then
 * the order the compiler received them in. Handlers add one key: at equal priority a handler for a
 * specific scene comes before a generic one.
 */
import type { SourceRef } from '../rule-types.ts'

export interface Ordered {
  priority: number
  source: SourceRef
}

export function compareRuleOrder(a: Ordered, b: Ordered): number {
  if (a.priority !== b.priority) return b.priority - a.priority
  if (a.source.file !== b.source.file) return a.source.file < b.source.file ? -1 : 1
  return a.source.line - b.source.line
}

/** Indices of `items` in rule order; the index itself is the last tie-break, so the sort is total. */
export function sortIndicesByRuleOrder<T>(items: readonly T[], compare: (a: T, b: T) => number): number[] {
  return items.map((_, i) => i).sort((i, j) => compare(items[i], items[j]) || i - j)
}
