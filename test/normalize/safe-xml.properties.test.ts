/**
 * Properties of the XML reader over generated inputs (fast-check), beside the hand-picked cases of
 * safe-xml.test.ts: it reads every well-formed document it is given as the document says (checked against
 * the tree the document was generated from, and against xml-js), and for anything else it answers an error
 * code, never an exception: it runs on every request, before anything is trusted.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { readFileSync, readdirSync } from 'node:fs'
import fc from '../support/fast-check.ts'
import { parseXml } from '../../core/normalize/safe-xml.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'

const require = createRequire(import.meta.url)
const { xml2js } = require('xml-js') as { xml2js: (xml: string, options: { compact: true }) => Record<string, unknown> }

const FIXTURES = new URL('../fixtures/messages/', import.meta.url)
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.xml'))
  .map((f) => readFileSync(new URL(f, FIXTURES), 'utf8'))

/** Plain JSON copy: the parser's objects have a null prototype, which deepStrictEqual would compare. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v))

/** What parseXml may answer for input it does not take; anything else (or a throw) fails the property. */
const REFUSALS = new Set(['BAD_XML', 'XML_DTD_FORBIDDEN'])

function refusesCleanly(input: string): void {
  const r = parseXml(input)
  if (!r.ok) {
    assert.ok(REFUSALS.has(r.error.code), `unexpected code ${r.error.code}`)
    assert.equal(typeof r.error.reason, 'string')
    assert.ok(r.error.reason.length > 0 && r.error.reason.length < 300, `reason of ${r.error.reason.length} characters`)
  }
}

test('any string at all is read or refused with BAD_XML / XML_DTD_FORBIDDEN, never thrown on', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), refusesCleanly), { numRuns: 3000 })
  // Strings made of XML's own punctuation reach far more of the reader than random text does.
  const xmlish = fc.string({
    unit: fc.constantFrom('<', '>', '/', '!', '?', '[', ']', '-', '&', ';', '#', 'x', '=', '"', "'", ' ', 'a', 'xml', 'CDATA', 'DOCTYPE', '\r', '\n'),
    maxLength: 60,
  })
  fc.assert(fc.property(xmlish, (s) => refusesCleanly(`<xml>${s}</xml>`)), { numRuns: 3000 })
  fc.assert(fc.property(xmlish, refusesCleanly), { numRuns: 2000 })
})

/** One edit of a real push: a character replaced, inserted or removed, or the body cut short. */
const mutation = (body: string) =>
  fc.oneof(
    fc.record({ at: fc.nat(body.length - 1), ch: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }), kind: fc.constant('replace' as const) }),
    fc.record({ at: fc.nat(body.length), ch: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }), kind: fc.constant('insert' as const) }),
    fc.record({ at: fc.nat(body.length - 1), ch: fc.constant(''), kind: fc.constant('delete' as const) }),
    fc.record({ at: fc.nat(body.length), ch: fc.constant(''), kind: fc.constant('cut' as const) }),
  )

function applyMutation(body: string, m: { at: number; ch: string; kind: 'replace' | 'insert' | 'delete' | 'cut' }): string {
  if (m.kind === 'replace') return body.slice(0, m.at) + m.ch + body.slice(m.at + 1)
  if (m.kind === 'insert') return body.slice(0, m.at) + m.ch + body.slice(m.at)
  if (m.kind === 'delete') return body.slice(0, m.at) + body.slice(m.at + 1)
  return body.slice(0, m.at)
}

test('every fixture push with edits in it is read or refused cleanly, and what is read normalizes or is refused cleanly', () => {
  assert.ok(fixtures.length >= 50)
  const edited = fc
    .constantFrom(...fixtures)
    .chain((body) => fc.tuple(fc.constant(body), fc.array(mutation(body), { minLength: 1, maxLength: 4 })))
  fc.assert(
    fc.property(edited, ([body, edits]) => {
      const input = edits.reduce(applyMutation, body)
      refusesCleanly(input)
      const r = parseXml(input)
      if (r.ok) {
        // A push that still reads may have lost a required field or gained a wrong one: normalizing says so
        // as an error of its own, and does not throw either.
        const n = normalizeMessage(r.value)
        if (!n.ok) assert.equal(typeof n.error.reason, 'string')
      }
    }),
    { numRuns: 4000 },
  )
})

// --- well-formed documents, generated with the tree they must read as -----------------------------

type Tree = string | { [name: string]: Tree | Tree[] }

/** Element names as WeChat's (and any) pushes use them; `__proto__` is refused by design and left out. */
const NAME = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}$/).filter((n) => n !== '__proto__' && !/^xml/i.test(n))

/**
 * Text an element may carry: any XML Char but CR (line ends are normalized, so CR has a property of its
 * own below) and not whitespace alone (layout whitespace between elements is dropped by design).
 */
const TEXT = fc
  .string({ unit: 'grapheme', maxLength: 30 })
  .map((s) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\r\uFFFE\uFFFF]/g, ''))
  .filter((s) => s === '' || s.trim() !== '')

/** A leaf written in one of the ways a sender may: escaped text, character references, or CDATA. */
function writeText(text: string, style: number): string {
  if (text === '') return ''
  if (style === 0 && !text.includes(']]>')) return `<![CDATA[${text}]]>`
  if (style === 1) return [...text].map((c) => (/[&<>"']/.test(c) || c.codePointAt(0)! > 0x7e ? `&#x${c.codePointAt(0)!.toString(16)};` : c)).join('')
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

const { tree } = fc.letrec<{ tree: Tree; node: Tree }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, TEXT, tie('node')),
  node: fc
    .uniqueArray(fc.tuple(NAME, fc.array(tie('tree'), { minLength: 1, maxLength: 3 })), { selector: ([n]) => n, minLength: 1, maxLength: 5 })
    .map((entries) => Object.fromEntries(entries.map(([n, vs]) => [n, vs.length === 1 ? vs[0] : vs]))),
}))

/** The document for `fields` (the root's children), with a random layout between the elements. */
function writeDocument(fields: Tree, styles: number[], spaces: string[]): string {
  let k = 0
  const next = <T>(list: T[]): T => list[k++ % list.length]
  const write = (v: Tree): string => {
    if (typeof v === 'string') return writeText(v, next(styles))
    let out = ''
    for (const [name, value] of Object.entries(v)) {
      for (const one of Array.isArray(value) ? value : [value]) {
        // An empty leaf is written either way XML allows: <a></a> or <a/>.
        out += typeof one === 'string' && one === '' && next(styles) === 0 ? `${next(spaces)}<${name}/>` : `${next(spaces)}<${name}>${write(one)}</${name}>`
      }
    }
    return out + next(spaces)
  }
  return `<xml>${write(fields)}</xml>`
}

const documents = fc.record({
  fields: tree.filter((t) => typeof t !== 'string'),
  styles: fc.array(fc.nat(2), { minLength: 1, maxLength: 7 }),
  spaces: fc.array(fc.constantFrom('', ' ', '\n', '\n  ', '\t'), { minLength: 1, maxLength: 5 }),
})

test('a generated well-formed document reads as the tree it was written from', () => {
  fc.assert(
    fc.property(documents, ({ fields, styles, spaces }) => {
      const xml = writeDocument(fields, styles, spaces)
      const r = parseXml(xml)
      assert.ok(r.ok, r.ok ? '' : `${r.error.code}: ${r.error.reason}\n${xml}`)
      assert.deepStrictEqual(plain(r.value), fields)
    }),
    { numRuns: 2000 },
  )
})

/** xml-js compact output -> the RawFields shape (as in safe-xml.test.ts). */
function fromXmlJs(node: Record<string, unknown>): unknown {
  const keys = Object.keys(node).filter((k) => k !== '_attributes' && k !== '_comment' && k !== '_instruction')
  const isLeaf = keys.every((k) => k === '_text' || k === '_cdata')
  if (isLeaf) return keys.map((k) => ([] as string[]).concat(node[k] as string | string[]).join('')).join('')
  const out: Record<string, unknown> = {}
  for (const k of keys) {
    const v = node[k]
    out[k] = Array.isArray(v) ? v.map((x) => fromXmlJs(x as Record<string, unknown>)) : fromXmlJs(v as Record<string, unknown>)
  }
  return out
}

test('a generated document without layout reads exactly as xml-js reads it', () => {
  fc.assert(
    fc.property(documents, ({ fields, styles }) => {
      const xml = writeDocument(fields, styles, [''])
      const oracle = fromXmlJs(xml2js(xml, { compact: true }).xml as Record<string, unknown>)
      const r = parseXml(xml)
      assert.ok(r.ok)
      assert.deepStrictEqual(plain(r.value), oracle, xml)
    }),
    { numRuns: 1000 },
  )
})

test('CR LF and lone CRs in a generated text read as LF, in text and in CDATA', () => {
  const withCr = fc.array(fc.constantFrom('a', ' ', '\r', '\n', '\r\n', 'é', '中'), { minLength: 1, maxLength: 20 }).map((p) => p.join(''))
  fc.assert(
    fc.property(withCr, fc.boolean(), (text, asCdata) => {
      const r = parseXml(`<xml><A>${asCdata ? `<![CDATA[${text}]]>` : text}</A><B>x</B></xml>`)
      assert.ok(r.ok)
      const expected = text.replace(/\r\n?/g, '\n')
      // Whitespace alone next to nothing else is still the element's text (it has no child elements).
      assert.equal(r.value.A, expected)
    }),
    { numRuns: 1000 },
  )
})
