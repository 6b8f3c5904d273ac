/**
 * From a path into the parsed data (as zod reports it) back to a line and column in the YAML source,
 * so every rules error points at the text to fix.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml'
import type { RuleLoadError } from '../rule-types.ts'
import { didYouMean } from '../../did-you-mean.ts'
import { escapeRegExp } from '../../escape-regexp.ts'
import { aliasesPastBounds } from './alias-expansion.ts'
import { aliasTarget } from './yaml-aliases.ts'

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
      const pair = pairAt(doc, node, String(step))
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

/**
 * The entry for `key` in `map` as the data has it: the map's own, else the one a merge key (`<<: *base`,
 * `<<: [*a, *b]`) brings in, from the mapping where it is written; the map's own entries win, then the
 * merged mappings in order, as yaml's toJS merges them.
 */
function pairAt(doc: Document, map: YAMLMap, key: string, seen = new Set<YAMLMap>()): Pair | undefined {
  seen.add(map)
  const own = map.items.find((p) => isScalar(p.key) && !isMergeKey(p) && String(p.key.value) === key)
  if (own) return own
  for (const merge of map.items.filter(isMergeKey)) {
    const sources = isSeq(merge.value) ? merge.value.items : [merge.value]
    for (const source of sources) {
      const merged = isAlias(source) ? aliasTarget(doc, source) : source
      if (!isMap(merged) || seen.has(merged)) continue
      const found = pairAt(doc, merged, key, seen)
      if (found) return found
    }
  }
  return undefined
}

/** `<<` as a merge key (a plain `<<`; a quoted '<<' is a key like any other). */
function isMergeKey(pair: Pair): boolean {
  return isScalar(pair.key) && typeof pair.key.value === 'symbol' && pair.key.value.description === '<<'
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
    // merge: `<<: *base` copies a mapping's entries into another (YAML 1.1's merge key, off by default in
    // yaml's 1.2 schema, where `<<` was a key like any other: "unknown key "<<""). findNode follows it back
    // to where each merged entry is written, so an error in one still points at its line.
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true })
  } catch (e) {
    // The parser itself can overflow the stack on a file nested thousands of mappings deep.
    return { ok: false, errors: [{ file, line: 1, column: 1, message: `YAML error: ${firstLine((e as Error).message)} (nested too deep?)` }] }
  }
  if (doc.errors.length > 0) {
    // One error a place: the parser often gives two for one slip (a nested mapping where a value was, said
    // as two rules broken), which read as two problems (a newcomer's walkthrough).
    const seen = new Set<number>()
    const errors: RuleLoadError[] = []
    for (const e of doc.errors) {
      if (seen.has(e.pos[0])) continue
      seen.add(e.pos[0])
      const { line, col } = lineCounter.linePos(e.pos[0])
      const opener = unclosedFlowAt(doc, e.pos[0], e.message)
      if (opener !== undefined) {
        // The parser says where it gave up (the next key's line, or the end of the file), and the bracket
        // was on a line before: "opened here" sent the reader to a line with no bracket on it.
        const at = lineCounter.linePos(opener.offset)
        errors.push({ file, line: at.line, column: at.col, message: `YAML syntax error: this ${opener.bracket} is not closed (the parser gave up at line ${line}): add its ${opener.closing}, or indent the lines inside it deeper than its key` })
        continue
      }
      if (e.code === 'DUPLICATE_KEY') {
        errors.push({ file, line, column: col, message: duplicateKeyMessage(doc, e.pos[0], lineCounter) })
        continue
      }
      if (e.code === 'MULTIPLE_DOCS') {
        // The parser's words were "please use YAML.parseAllDocuments()", an API to a reader who wrote YAML.
        errors.push({ file, line, column: col, message: 'YAML syntax error: a second document starts here (---): the file is one document; put what follows under the keys above, or in a file of its own' })
        continue
      }
      // The parser places an indentation error at the start of the line, column 1, whatever the line's
      // indentation: the column of its first character is the one to compare with the lines above.
      const column = e.code === 'BAD_INDENT' || e.code === 'MISSING_CHAR' ? col + leadingSpaces(text, e.pos[0]) : col
      errors.push({ file, line, column, message: `YAML syntax error: ${firstLine(e.message)}${hintFor(e.message)}` })
    }
    return { ok: false, errors }
  }
  const warnings = doc.warnings.map((w) => {
    const { line, col } = lineCounter.linePos(w.pos[0])
    return `${file}:${line}:${col}: ${firstLine(w.message)}`
  })
  // toJS throws on an alias with no anchor before it, with no place ("Unresolved alias ...: kw", said at 1:1);
  // a merge key's was said as "a merge key takes a mapping", which sent the reader to the wrong fix.
  const unresolved = unresolvedAliasAt(doc)
  if (unresolved !== undefined) {
    const { line, col } = lineCounter.linePos(unresolved.offset)
    const name = unresolved.source
    const below = unresolved.anchors.find((a) => a.name === name)
    const why = below !== undefined
      ? `its anchor &${name} is set below, at line ${lineCounter.linePos(anchorOffset(text, name, unresolved.offset) ?? below.offset).line}: an anchor comes before its aliases, so move that entry above this one`
      : `no &${name} is set above it${didYouMean(name, unresolved.anchors.map((a) => a.name))}: write &${name} on the mapping or value to copy, before its aliases`
    return { ok: false, errors: [{ file, line, column: col, message: `YAML error: *${name} names no anchor: ${why}` }] }
  }
  const badMerge = badMergeSourceAt(doc)
  if (badMerge !== undefined) {
    const { line, col } = lineCounter.linePos(badMerge)
    return { ok: false, errors: [{ file, line, column: col, message: 'YAML error: a merge key (<<) takes a mapping to copy in: an alias of one (<<: *base), a list of them (<<: [*base, *other]), or a mapping written there' }] }
  }
  const costly = aliasesPastBounds(doc)
  if (costly !== undefined) {
    const { line, col } = lineCounter.linePos(costly.offset)
    return { ok: false, errors: [{ file, line, column: col, message: `YAML error: ${costly.message}` }] }
  }
  let data: unknown
  try {
    // Within the bounds above: yaml's own guard (maxAliasCount) counts uses of an anchor whatever its size,
    // and refused 100 rules merging one template (alias-expansion.ts).
    data = doc.toJS({ maxAliasCount: -1 }) ?? {}
  } catch (e) {
    return { ok: false, errors: [{ file, line: 1, column: 1, message: `YAML error: ${firstLine((e as Error).message)}` }] }
  }
  return { ok: true, doc, lineCounter, data, warnings }
}

/**
 * The first alias whose anchor is not set before it (misspelt, or written below): where, the name it gives,
 * and every anchor of the file with where it is set (for a did-you-mean, or to say it is below).
 */
function unresolvedAliasAt(doc: Document): { offset: number; source: string; anchors: { name: string; offset: number }[] } | undefined {
  let found: { offset: number; source: string } | undefined
  const anchors: { name: string; offset: number }[] = []
  visit(doc, {
    Node: (_key, node) => {
      if (node.anchor) anchors.push({ name: node.anchor, offset: node.range?.[0] ?? 0 })
      if (found === undefined && isAlias(node) && aliasTarget(doc, node) === undefined) found = { offset: node.range?.[0] ?? 0, source: node.source }
      return undefined
    },
  })
  return found && { ...found, anchors }
}

/**
 * Where `&name` is written after `from`: a node's range starts at its content, which for a block mapping is
 * the line below its anchor (`- &base` then `name: b`).
 */
function anchorOffset(text: string, name: string, from: number): number | undefined {
  const match = new RegExp(`&${escapeRegExp(name)}(?=[\\s,\\]}]|$)`, 'g')
  match.lastIndex = from
  return match.exec(text)?.index
}

/**
 * Where the first merge key's value that is not a mapping (nor an alias of one, nor a list of those) is
 * written: toJS throws on it, with no place ("Merge sources must be maps or map aliases").
 */
function badMergeSourceAt(doc: Document): number | undefined {
  let found: number | undefined
  visit(doc, {
    Pair: (_key, pair) => {
      if (!isMergeKey(pair)) return undefined
      const value = pair.value as Node | null
      const sources = isSeq(value) ? value.items : [value]
      const bad = sources.find((source) => !isMap(isAlias(source) ? aliasTarget(doc, source) : source))
      if (bad === undefined) return undefined
      found = (bad as Node | null)?.range?.[0] ?? (pair.key as Node).range?.[0] ?? 0
      return visit.BREAK
    },
  })
  return found
}

/**
 * "Map keys must be unique" named neither the key nor the other place: in a long rule, or two rules run
 * together when a `- ` was lost, the reader had to find the twin by eye.
 */
function duplicateKeyMessage(doc: Document, at: number, lineCounter: LineCounter): string {
  let message = 'YAML syntax error: a key written twice in one mapping'
  visit(doc, {
    Map: (_key, map, path) => {
      const twin = map.items.find((p) => isScalar(p.key) && p.key.range?.[0] === at)
      if (twin === undefined) return undefined
      const name = String((twin.key as Scalar).value)
      const first = map.items.find((p) => p !== twin && isScalar(p.key) && String(p.key.value) === name)
      const firstLine = first && isScalar(first.key) && first.key.range ? ` (first at line ${lineCounter.linePos(first.key.range[0]).line})` : ''
      // In a list item, the usual cause is two items run together: `name:` twice, the second's `- ` lost.
      const inItem = isSeq(path[path.length - 1]) && !map.flow
      message = `YAML syntax error: duplicate key "${name}"${firstLine}: a mapping takes each key once${inItem ? '; if this starts another item, begin it with "- "' : ''}`
      return visit.BREAK
    },
  })
  return message
}

/**
 * The `[` or `{` a "Flow sequence (map) in block collection must be sufficiently indented and end with a ]"
 * error is about: the flow collection of that kind whose range ends where the parser gave up.
 */
function unclosedFlowAt(doc: Document, at: number, message: string): { offset: number; bracket: string; closing: string } | undefined {
  const kind = /^Flow (sequence|map) in block collection/.exec(message)?.[1]
  if (kind === undefined) return undefined
  let found: number | undefined
  const consider = (node: { flow?: boolean; range?: [number, number, number] | null }) => {
    if (!node.flow || !node.range) return
    if (node.range[1] === at && (found === undefined || node.range[0] > found)) found = node.range[0]
  }
  visit(doc, kind === 'sequence' ? { Seq: (_key, node) => consider(node) } : { Map: (_key, node) => consider(node) })
  return found === undefined ? undefined : kind === 'sequence' ? { offset: found, bracket: '[', closing: '] where the list ends' } : { offset: found, bracket: '{', closing: '} where the mapping ends' }
}

/** What the parser's words usually mean in a rules or menu file, said in the file's terms. */
function hintFor(message: string): string {
  // A regex in double quotes, where YAML reads \s as an escape.
  if (/escape sequence/i.test(message)) return " (in double quotes a backslash starts a YAML escape: write regexes in single quotes, '^todo\\s+(.+)$')"
  // `plugin: echo` followed by a more indented line, or `- name b` without its colon.
  if (/Nested mappings are not allowed in compact mappings|Implicit keys need to be on a single line/i.test(message)) {
    return ": a key without ': ' after it here, or the next line indented deeper than this one (a key with its value on its line takes nothing under it)"
  }
  if (/end with a [\]}]/.test(message)) return ': a [ or { opened here and not closed, or a line inside it indented less than its key'
  // `account: *`: a * alone starts an alias (*name) with no name; docs/rules.md asks for '*' quoted.
  if (/Alias cannot be an empty string/i.test(message)) return ": a * there starts an alias (*name); for the text *, such as every account (account: '*'), put it in quotes"
  if (/Sequence item without - indicator/i.test(message)) return ': check the indentation here against the lines above (the keys of one item line up)'
  // A key indented one space off, or back to its list's column: the parser's words named no fix.
  if (/All mapping items must start at the same column/i.test(message)) {
    return ": indent this key exactly as the other keys of its mapping above (the keys of one rule, or of one menu button, start in one column)"
  }
  return ''
}

/** How many spaces the text has from `offset` on: where a line's first character is, from its start. */
function leadingSpaces(text: string, offset: number): number {
  let n = 0
  while (text[offset + n] === ' ') n++
  return n
}

function firstLine(message: string): string {
  return message.split('\n')[0]!
}
