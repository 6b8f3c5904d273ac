/**
 * A regex keyword with `foldWidth` reads the NFKC form of the text (text-matcher.ts), so it must be written
 * in that form too: `^订单：(\d+)$`, with the full-width colon a Chinese keyboard types, never matched, since
 * every text reaching it had its `：` folded to `:` (and the regex prefilter looked for `订单：` in it, so the
 * regex did not even run). Exact, prefix and contains keywords are folded as the text is; this does the same
 * for a regex, on its parsed form, so syntax keeps its meaning: a full-width `？` becomes `\?`, not a
 * quantifier, and `㎏+` becomes `(?:kg)+`.
 *
 * - Characters outside a class are replaced by their folded form, a run of them at a time (NFKC composes
 *   neighbours: half-width `ｶﾞ` is one `ガ`).
 * - A class keeps what it had and gains the folded form of each member that folds to one other character
 *   (`[，。]` also takes `,`; `[０-９]` also takes `0-9`; `[^：]` also refuses `:`). A member that folds to
 *   several characters (`①` is `1`, `⑩` is `10`) cannot be a class member; a folded text holds no `⑩` either,
 *   so such a member matches nothing, as it did before.
 * - Invisible characters (invisible-characters.ts) fold to nothing, as width folding drops them from the text:
 *   as a class member one matches nothing, and a run of them alone becomes `(?:)` (standalone).
 */
import type { AST } from '@eslint-community/regexpp'
import { isInvisible, withoutInvisible } from './invisible-characters.ts'
import { childrenOf, parse } from './regex-ast.ts'

/** The source with every character written as width folding leaves the text; unchanged when nothing folds. */
export function widthFoldedRegex(source: string): string {
  const pattern = parse(source)
  if (!pattern) return source
  const edits: { start: number; end: number; text: string }[] = []
  const visit = (node: AST.Node): void => {
    if (node.type === 'Alternative') foldRuns(node.elements, edits)
    else if (node.type === 'Quantifier' && node.element.type === 'Character') {
      const folded = fold(node.element.value)
      if (folded !== undefined) edits.push({ start: node.element.start, end: node.element.end, text: [...folded].length > 1 ? `(?:${escaped(folded)})` : standalone(folded) })
    } else if (node.type === 'CharacterClass') {
      const added = classImages(node)
      // Before the closing `]`, each as \u{...}: a bare character after a member `-` would make a range.
      if (added.length > 0) edits.push({ start: node.end - 1, end: node.end - 1, text: added.map((c) => `\\u{${c.toString(16)}}`).join('') })
    }
    for (const child of childrenOf(node)) visit(child)
  }
  visit(pattern)
  if (edits.length === 0) return source
  let out = source
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end)
  return out
}

/** Runs of plain characters in a row (`订单：`), each folded as a whole. */
function foldRuns(elements: readonly AST.Element[], edits: { start: number; end: number; text: string }[]): void {
  let run: AST.Character[] = []
  const flush = () => {
    if (run.length === 0) return
    const raw = run.map((c) => String.fromCodePoint(c.value)).join('')
    const folded = withoutInvisible(raw).normalize('NFKC')
    if (folded !== raw) edits.push({ start: run[0]!.start, end: run[run.length - 1]!.end, text: standalone(folded) })
    run = []
  }
  for (const element of elements) {
    if (element.type === 'Character') run.push(element)
    else flush()
  }
  flush()
}

/** The folded form of one code point, when folding changes it. */
function fold(codePoint: number): string | undefined {
  const raw = String.fromCodePoint(codePoint)
  const folded = isInvisible(codePoint) ? '' : raw.normalize('NFKC')
  return folded === raw ? undefined : folded
}

/**
 * Folded text as it may follow any element: a digit right after a backreference or `\0` would become part of
 * it (`(a)\1０` read as `(a)\10`, an invalid escape under `u`, which failed the whole rule set), so one
 * that starts with a digit is set apart by an empty group, and so is nothing (invisible characters alone), which
 * may stand before a quantifier (`\u200b+`) or between a reference and a digit.
 */
function standalone(folded: string): string {
  return folded === '' || /^\d/.test(folded) ? `(?:)${escaped(folded)}` : escaped(folded)
}

/** The regex syntax characters (u flag): written in a folded text, they are text. */
function escaped(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
}

/** The code points a class gains: the single-character folded forms of its members that fold. */
function classImages(node: AST.CharacterClass): number[] {
  const added = new Set<number>()
  for (const element of node.elements) {
    if (element.type === 'Character') addImage(element.value, added)
    // NFKC changes nothing below U+00A0: `[a-z0-9]` costs no table.
    else if (element.type === 'CharacterClassRange' && element.max.value >= 0xa0) {
      for (const [from, image] of foldingCodePoints()) {
        if (from > element.max.value) break
        if (from >= element.min.value) added.add(image)
      }
    }
  }
  return [...added]
}

function addImage(codePoint: number, into: Set<number>): void {
  const folded = fold(codePoint)
  if (folded !== undefined && [...folded].length === 1) into.add(folded.codePointAt(0)!)
}

let table: [number, number][] | undefined

/**
 * Every code point that folds to one other, with its folded form, in order; made once, when a class range
 * above U+009F is first met (about 35 ms, once a process). Planes 0 to 2 hold all of NFKC's compatibility characters.
 */
function foldingCodePoints(): [number, number][] {
  if (table) return table
  table = []
  for (let c = 0; c < 0x30000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue
    const folded = fold(c)
    if (folded !== undefined && [...folded].length === 1) table.push([c, folded.codePointAt(0)!])
  }
  return table
}
