/**
 * From a path into the parsed data (as zod reports it) back to a line and column in the YAML source,
 * so every rules error points at the text to fix.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import type { RuleLoadError } from '../rule-types.ts'

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

/**
 * A number as it was written at `path` (`007`, `0x1F`, `1e3`), when YAML read it as a number: the text an
 * id written unquoted means. undefined when the node there is not a plain scalar.
 */
export function numberSourceAt(doc: Document, path: readonly PropertyKey[]): string | undefined {
  const node = findNode(doc, path)
  return isScalar(node) && typeof node.value === 'number' && typeof node.source === 'string' ? node.source : undefined
}

export type ParsedYaml =
  | { ok: true; doc: Document; lineCounter: LineCounter; data: unknown; warnings: string[] }
  | { ok: false; errors: RuleLoadError[] }

/**
 * A YAML file's text -> its document and line counter (for positionAt), its data, and the parser's warnings
 * as `file:line:col: message`; or its errors, each with its place. Shared by the rules files and the menu
 * files (core/menu/menu-file.ts). Duplicate keys are errors (uniqueKeys).
 */
export function parseYamlWithPositions(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter()
  let doc: Document
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  } catch (e) {
    // The parser itself can overflow the stack on a file nested thousands of mappings deep.
    return { ok: false, errors: [{ file, line: 1, column: 1, message: `YAML error: ${firstLine((e as Error).message)} (nested too deep?)` }] }
  }
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0])
        // The usual cause: a regex in double quotes, where YAML reads \s as an escape.
        const hint = /escape sequence/i.test(e.message) ? " (in double quotes a backslash starts a YAML escape: write regexes in single quotes, '^todo\\s+(.+)$')" : ''
        return { file, line, column: col, message: `YAML syntax error: ${firstLine(e.message)}${hint}` }
      }),
    }
  }
  const warnings = doc.warnings.map((w) => {
    const { line, col } = lineCounter.linePos(w.pos[0])
    return `${file}:${line}:${col}: ${firstLine(w.message)}`
  })
  let data: unknown
  try {
    // toJS expands aliases; yaml caps the expansion (maxAliasCount) and throws past it.
    data = doc.toJS() ?? {}
  } catch (e) {
    return { ok: false, errors: [{ file, line: 1, column: 1, message: `YAML error: ${firstLine((e as Error).message)}` }] }
  }
  return { ok: true, doc, lineCounter, data, warnings }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!
}
