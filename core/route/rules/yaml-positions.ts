/**
 * From a path into the parsed data (as zod reports it) back to a line and column in the YAML source,
 * so every rules error points at the text to fix.
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml'

export interface Position {
  line: number
  column: number
}

/**
 * The node at `path`, or the deepest existing node on the way (a missing key points at the mapping
 * that lacks it). With `key`, the key node of that entry in the mapping found (for unknown keys).
 */
function findNode(doc: Document, path: readonly PropertyKey[], key?: string): Node | undefined {
  let node: Node | undefined = doc.contents ?? undefined
  const steps = key === undefined ? path : [...path, key]
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]
    const last = i === steps.length - 1
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(step))
      if (!pair) return node
      const keyNode = pair.key as Node
      if (last && key !== undefined) return keyNode
      // `key:` with nothing after it has no value node; the key is the place to point at.
      if (!pair.value || (isScalar(pair.value) && pair.value.value === null && !pair.value.source)) return keyNode
      node = pair.value as Node
    } else if (isSeq(node)) {
      const item = node.items[Number(step)]
      if (!item) return node
      node = item as Node
    } else {
      return node
    }
  }
  return node
}

export function positionAt(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PropertyKey[],
  key?: string,
): Position {
  const node = findNode(doc, path, key)
  const offset = node?.range?.[0] ?? 0
  const { line, col } = lineCounter.linePos(offset)
  return { line, column: col }
}
