/**
 * The XML reader for every inbound push (protocol.md §2, §3). It runs on every request, so it is a small
 * hand-written scanner rather than xml-js: xml-js goes through sax and builds a generic tree, about 10x
 * slower on a typical push (bench/xml-parse.bench.ts). The differential test in test/normalize checks it
 * reads every fixture exactly as xml-js does, but for line ends, which it normalizes as XML requires.
 *
 * What it accepts: one root `<xml>` element; child elements, text, CDATA, comments, processing
 * instructions, attributes (read for well-formedness, then ignored: WeChat sends none), the five
 * predefined entities and character references. What it refuses:
 * - any markup declaration (`<!DOCTYPE`, `<!ENTITY`, ...) anywhere outside CDATA and comments, found by
 *   a scan BEFORE parsing: XML_DTD_FORBIDDEN. No DTD means no entity is ever defined, so nothing can
 *   expand (billion laughs) or be fetched (XXE); an undefined `&name;` is BAD_XML.
 * - anything not well-formed, a root other than `xml`, nesting deeper than MAX_DEPTH: BAD_XML.
 * - an element named `__proto__`: BAD_XML. Objects are built with nothing of Object.prototype behind them
 *   anyway (FIELDS_PROTO), so no element name can reach it; refusing `__proto__` also protects code that
 *   later copies `raw` with Object.assign or `for…in` + assignment, where that key would swap the copy's prototype.
 *
 * Shape of the result (message-types.ts RawFields): an element without child elements is a string (its
 * text and CDATA joined; whitespace-only text next to CDATA is layout and dropped, so the doc samples'
 * `<A> <![CDATA[x]]> </A>` reads as `x`; whitespace inside CDATA is kept); an empty element is ''. An
 * element with child elements is an object of them, whitespace between them dropped, other text kept
 * under `#text` (a name no element can have). A name seen twice becomes an array, in document order.
 */
import { fail, ok, type EngineError, type Result } from '../errors.ts'
import type { RawFields, RawValue } from './message-types.ts'
import { shortened } from '../shown-text.ts'

/** WeChat's deepest push (PUBLISHJOBFINISH) nests 4 levels; the bound keeps recursion off the stack limit. */
const MAX_DEPTH = 32

/** The markup declarations of a DTD (XML 1.0 §2.8): any of them is refused outright. */
const DTD_DECLARATIONS: ReadonlySet<string> = new Set(['DOCTYPE', 'ENTITY', 'ELEMENT', 'ATTLIST', 'NOTATION'])

const CR_LINE_END = /\r\n?/g

const LT = 60 // <
const GT = 62 // >
const SLASH = 47
const QMARK = 63
const BANG = 33
const AMP = 38
const EQ = 61
const QUOT = 34
const APOS = 39

/**
 * Every element object's prototype: empty, frozen, with a null prototype, so no name reaches
 * Object.prototype. Objects made from it are fast-mode objects (Object.create(null) makes dictionaries),
 * and pushes of one type share their shapes: parsing is ~20 % faster (bench/xml-parse.bench.ts).
 */
const FIELDS_PROTO: object = Object.freeze(Object.create(null))
function newFields(): RawFields {
  return Object.create(FIELDS_PROTO) as RawFields
}

// State of the one synchronous parse in progress, module-level so the hot path creates no closures.
let src = ''
let pos = 0
let errReason = ''
let nextAmp = -1
let nextLt = -1
/** The input ran out inside the document: the reason then says the body looks cut short (endsEarly). */
let cutShort = false

export function parseXml(input: string): Result<RawFields> {
  // XML 1.0 §2.11: line ends are normalized before parsing, CR LF and a lone CR to LF (a CR written as
  // `&#13;` stays). expat, libxml2 and Java's parsers do this (wechatpy, EasyWeChat, WxJava); sax, under
  // xml-js, does not. Text then reads the same whichever line ends it was sent with.
  const body = input.includes('\r') ? input.replace(CR_LINE_END, '\n') : input
  const start = body.charCodeAt(0) === 0xfeff ? 1 : 0
  const refused = findDeclaration(body, start)
  if (refused !== undefined) return { ok: false, error: refused }
  src = body
  pos = start
  errReason = ''
  cutShort = false
  nextAmp = -1
  nextLt = -1
  const root = readDocument()
  src = ''
  if (root === undefined) return fail('BAD_XML', cutShort ? endsEarly(errReason) : errReason)
  return ok(root)
}

/**
 * Scans for `<!` outside CDATA sections, comments and processing instructions, before any parsing. Undefined
 * when there is none; XML_DTD_FORBIDDEN for a DTD declaration (any case: `<!doctype` too); BAD_XML for other
 * `<!` markup or an unterminated CDATA section or comment.
 */
function findDeclaration(s: string, from: number): EngineError | undefined {
  let i = s.indexOf('<!', from)
  // A processing instruction's text is its own (`<?x <![CDATA[ ?>`, `<?x <!DOCTYPE ?>`): read as markup, a
  // well-formed push was refused, with a reason about a CDATA section it does not have (a review of bad input).
  // Looked for once, and again only past one: WeChat's pushes have none, or the XML declaration at the start.
  let pi = indexOfPi(s, from)
  while (i !== -1) {
    let past: number
    if (pi !== -1 && pi < i) {
      const end = s.indexOf('?>', pi + 2)
      // Unterminated: the parser says so, and has nothing declared to expand.
      if (end === -1) return undefined
      past = end + 2
    } else if (s.startsWith('<![CDATA[', i)) {
      const end = s.indexOf(']]>', i + 9)
      if (end === -1) return { code: 'BAD_XML', reason: insideRoot(s, i) ? endsEarly('unterminated CDATA section') : 'unterminated CDATA section' }
      past = end + 3
    } else if (s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i + 4)
      if (end === -1) return { code: 'BAD_XML', reason: insideRoot(s, i) ? endsEarly('unterminated comment') : 'unterminated comment' }
      past = end + 3
    } else {
      let j = i + 2
      while (j < s.length && j < i + 12 && isNameChar(s.charCodeAt(j))) j++
      const name = s.slice(i + 2, j).toUpperCase()
      if (DTD_DECLARATIONS.has(name)) return { code: 'XML_DTD_FORBIDDEN', reason: `${name} declarations are not accepted` }
      const unexpected = `unexpected "<!" at offset ${i}`
      // The start of a CDATA section or a comment, and then nothing: the body stops mid-markup.
      const rest = s.slice(i)
      const cutThere = rest.length < 9 && ('<![CDATA['.startsWith(rest) || '<!--'.startsWith(rest)) && insideRoot(s, i)
      return { code: 'BAD_XML', reason: cutThere ? endsEarly(unexpected) : unexpected }
    }
    i = s.indexOf('<!', past)
    if (pi !== -1 && pi < past) pi = indexOfPi(s, past)
  }
  return undefined
}

/**
 * Where the next `<?` is, found by its `?`: a push has a `<` every few characters and rarely a `?`, and
 * `indexOf('<?')` stopped at each `<` (110 ns over a text push, a third of the scan's time; 10 ns this way).
 */
function indexOfPi(s: string, from: number): number {
  let q = s.indexOf('?', from + 1)
  while (q !== -1 && s.charCodeAt(q - 1) !== LT) q = s.indexOf('?', q + 1)
  return q === -1 ? -1 : q - 1
}

/**
 * Whether offset `i`, where the input runs out, is inside the root element: the document before it reads as
 * one cut short. Asked on a failure only (it parses that part once more), before this parse's state is set.
 */
function insideRoot(s: string, i: number): boolean {
  const before = parseXml(s.slice(0, i))
  return !before.ok && cutShort
}

function readDocument(): RawFields | undefined {
  if (!skipMisc()) return undefined
  if (pos >= src.length || src.charCodeAt(pos) !== LT) return bad(pos >= src.length ? 'empty document' : 'text before the root element')
  pos++
  const name = readName()
  if (name === undefined) return undefined
  if (name !== 'xml') return bad(pos >= src.length && 'xml'.startsWith(name) ? cut('unterminated start tag') : `root element is <${shown(name)}>, expected <xml>`)
  const selfClosed = readTagRest()
  if (selfClosed === undefined) return undefined
  let fields: RawFields
  if (selfClosed) fields = newFields()
  else {
    const content = readContent(name, 1, true)
    if (content === undefined) return undefined
    fields = content as RawFields
  }
  if (!skipMisc()) {
    // A comment or instruction cut after the root closed: the document itself was whole.
    cutShort = false
    return undefined
  }
  if (pos < src.length) return bad(`content after the root element at offset ${pos}`)
  return fields
}

/** Skips whitespace, comments and processing instructions (the XML declaration included). */
function skipMisc(): boolean {
  for (;;) {
    while (pos < src.length && isSpace(src.charCodeAt(pos))) pos++
    if (pos >= src.length || src.charCodeAt(pos) !== LT) return true
    const next = src.charCodeAt(pos + 1)
    if (next === QMARK) {
      if (!skipInstruction()) return false
    } else if (next === BANG) {
      if (!skipComment()) return false
    } else return true
  }
}

function skipInstruction(): boolean {
  const end = src.indexOf('?>', pos + 2)
  if (end === -1) return refuse(cut('unterminated processing instruction'))
  pos = end + 2
  return true
}

function skipComment(): boolean {
  if (!src.startsWith('<!--', pos)) return refuse(`unexpected "<!" at offset ${pos}`)
  const end = src.indexOf('-->', pos + 4)
  if (end === -1) return refuse(cut('unterminated comment'))
  pos = end + 3
  return true
}

/**
 * Reads an element's content up to and including its end tag. `pos` is just past the start tag's `>`.
 * Returns a string for a leaf, an object when there are child elements (always an object for the root).
 */
function readContent(name: string, depth: number, isRoot: boolean): RawValue | undefined {
  let children: RawFields | undefined
  let text = '' // every text segment, in order: the value of a plain-text leaf
  let meaningful = '' // CDATA and non-blank text: the value once CDATA or child elements appear
  let sawCdata = false
  for (;;) {
    const lt = src.indexOf('<', pos)
    if (lt === -1) return bad(cut(`<${shown(name)}> is not closed`))
    if (lt > pos) {
      if (isBlankRange(pos, lt)) {
        // Layout: only a plain-text leaf keeps it, and only such a leaf can still be one.
        if (children === undefined && !sawCdata) text += src.slice(pos, lt)
      } else {
        const segment = readText(pos, lt)
        if (segment === undefined) return undefined
        text += segment
        meaningful += segment
      }
    }
    pos = lt
    const next = src.charCodeAt(lt + 1)
    if (next === SLASH) {
      // The end tag must repeat the name: compared in place, no substring made.
      if (!endTagNames(name, lt + 2)) {
        pos = lt + 2
        const closing = readName()
        if (closing === undefined) return undefined
        // `</ToUserNa` and the end: the end tag was cut, not wrong.
        if (pos >= src.length && name.startsWith(closing)) return bad(cut(`</${shown(closing)} is cut`))
        return bad(`</${shown(closing)}> closes <${shown(name)}>`)
      }
      pos = lt + 2 + name.length
      while (pos < src.length && isSpace(src.charCodeAt(pos))) pos++
      if (src.charCodeAt(pos) !== GT) return bad(pos >= src.length ? cut(`unterminated end tag </${shown(name)}`) : `malformed end tag </${shown(name)}>`)
      pos++
      if (children !== undefined || isRoot) {
        const object = children ?? newFields()
        if (meaningful !== '') object['#text'] = meaningful
        return object
      }
      return sawCdata ? meaningful : text
    }
    if (next === BANG) {
      if (src.startsWith('<![CDATA[', lt)) {
        const end = src.indexOf(']]>', lt + 9)
        if (end === -1) return bad(cut('unterminated CDATA section'))
        meaningful += src.slice(lt + 9, end)
        sawCdata = true
        pos = end + 3
      } else if (!skipComment()) return undefined
      continue
    }
    if (next === QMARK) {
      if (!skipInstruction()) return undefined
      continue
    }
    // A child element.
    if (depth >= MAX_DEPTH) return bad(`elements nested deeper than ${MAX_DEPTH}`)
    pos = lt + 1
    const childName = readName()
    if (childName === undefined) return undefined
    if (childName === '__proto__') return bad('element name __proto__ is not accepted')
    const selfClosed = readTagRest()
    if (selfClosed === undefined) return undefined
    let value: RawValue
    if (selfClosed) value = ''
    else {
      const content = readContent(childName, depth + 1, false)
      if (content === undefined) return undefined
      value = content
    }
    if (children === undefined) children = newFields()
    const previous = children[childName]
    // A single element's value is never an array, so an array here can only be an earlier repetition.
    if (previous === undefined) children[childName] = value
    else if (Array.isArray(previous)) previous.push(value)
    else children[childName] = [previous, value]
  }
}

/**
 * Decodes the text between `from` and `to`; entity references are the only thing to decode. The next
 * `&` is cached across calls so a document of many small segments is still scanned once (linear time).
 */
function readText(from: number, to: number): string | undefined {
  if (nextAmp < from) nextAmp = findAmp(from)
  if (nextAmp >= to) return src.slice(from, to)
  let out = ''
  let i = from
  while (i < to) {
    if (nextAmp >= to) {
      out += src.slice(i, to)
      break
    }
    out += src.slice(i, nextAmp)
    const semi = src.indexOf(';', nextAmp)
    if (semi === -1 || semi >= to || semi - nextAmp > 12) return bad(`malformed entity reference at offset ${nextAmp}`)
    const ref = src.slice(nextAmp + 1, semi)
    const decoded = decodeReference(ref)
    if (decoded === undefined) return bad(`undefined entity &${ref};`)
    out += decoded
    i = semi + 1
    nextAmp = findAmp(i)
  }
  return out
}

function findAmp(from: number): number {
  const at = src.indexOf('&', from)
  return at === -1 ? src.length : at
}

function decodeReference(ref: string): string | undefined {
  switch (ref) {
    case 'lt':
      return '<'
    case 'gt':
      return '>'
    case 'amp':
      return '&'
    case 'quot':
      return '"'
    case 'apos':
      return "'"
  }
  if (ref.charCodeAt(0) !== 35 /* # */ || ref.length < 2) return undefined
  const hex = ref.charCodeAt(1) === 120 /* x */
  const digits = hex ? ref.slice(2) : ref.slice(1)
  if (digits === '') return undefined
  let code = 0
  for (let k = 0; k < digits.length; k++) {
    const d = digitValue(digits.charCodeAt(k), hex)
    if (d < 0) return undefined
    code = code * (hex ? 16 : 10) + d
    if (code > 0x10ffff) return undefined
  }
  // XML 1.0 Char: tab, LF, CR, and everything from space up except surrogates and U+FFFE/U+FFFF.
  const allowed = code === 9 || code === 10 || code === 13 || (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff)
  return allowed ? String.fromCodePoint(code) : undefined
}

function digitValue(c: number, hex: boolean): number {
  if (c >= 48 && c <= 57) return c - 48
  if (!hex) return -1
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** Whether the end tag's name at `at` is `name`, compared in place: no substring made. */
function endTagNames(name: string, at: number): boolean {
  const s = src
  const n = name.length
  if (at + n > s.length) return false
  for (let k = 0; k < n; k++) if (s.charCodeAt(at + k) !== name.charCodeAt(k)) return false
  return !isNameChar(s.charCodeAt(at + n))
}

/** Reads an element name at `pos`. */
function readName(): string | undefined {
  // Locals, not the module's `src` and `pos`, in the loop: each step would otherwise store `pos` back.
  const s = src
  const start = pos
  if (start >= s.length) return bad(cut(`expected an element name at offset ${start}`))
  if (!isNameStart(s.charCodeAt(start))) return bad(`expected an element name at offset ${start}`)
  let end = start + 1
  while (end < s.length && isNameChar(s.charCodeAt(end))) end++
  pos = end
  return s.slice(start, end)
}

/** Reads attributes (checked, then ignored) up to `>` or `/>`; true when the tag closed itself. */
function readTagRest(): boolean | undefined {
  for (;;) {
    const spaceStart = pos
    while (pos < src.length && isSpace(src.charCodeAt(pos))) pos++
    if (pos >= src.length) return bad(cut('unterminated start tag'))
    const c = src.charCodeAt(pos)
    if (c === GT) {
      pos++
      return false
    }
    if (c === SLASH) {
      if (src.charCodeAt(pos + 1) !== GT) return bad(pos + 1 >= src.length ? cut('unterminated start tag') : `malformed start tag at offset ${pos}`)
      pos += 2
      return true
    }
    if (pos === spaceStart) return bad(`malformed start tag at offset ${pos}`)
    if (readName() === undefined) return undefined
    while (pos < src.length && isSpace(src.charCodeAt(pos))) pos++
    if (pos >= src.length) return bad(cut('unterminated start tag'))
    if (src.charCodeAt(pos) !== EQ) return bad(`attribute without a value at offset ${pos}`)
    pos++
    while (pos < src.length && isSpace(src.charCodeAt(pos))) pos++
    const quote = src.charCodeAt(pos)
    if (pos >= src.length) return bad(cut('unterminated start tag'))
    if (quote !== QUOT && quote !== APOS) return bad(`unquoted attribute value at offset ${pos}`)
    const end = src.indexOf(quote === QUOT ? '"' : "'", pos + 1)
    if (end === -1) return bad(cut('unterminated attribute value'))
    // The next `<` is cached, as the next `&` is in readText: searched afresh for every attribute, a tag of
    // 100k attributes scanned the rest of the body 100k times (0.8 s for 1 MiB).
    if (nextLt <= pos) {
      const lt = src.indexOf('<', pos + 1)
      nextLt = lt === -1 ? src.length : lt
    }
    if (nextLt < end) return bad(`"<" in an attribute value at offset ${nextLt}`)
    pos = end + 1
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9
}

function isBlankRange(from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(src.charCodeAt(i))) return false
  return true
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c >= 0xc0
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 0xb7
}

/** A name as quoted in a reason: the client chooses it, and a log line must not grow with the body. */
function shown(name: string): string {
  return shortened(name, 40)
}

/**
 * A failure because the input ran out inside the document (a body shorter than its Content-Length, a proxy's
 * or client's cut): marked so, and the reason says so. Only on the failure path; the good one pays nothing.
 */
function cut(reason: string): string {
  cutShort = true
  return reason
}

function endsEarly(reason: string): string {
  return `the XML ends before its root element closes (${reason}): body cut short?`
}

function bad(reason: string): undefined {
  errReason = reason
  return undefined
}

function refuse(reason: string): false {
  bad(reason)
  return false
}
