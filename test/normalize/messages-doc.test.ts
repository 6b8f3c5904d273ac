import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { parseXml } from '../../core/normalize/safe-xml.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'
import { MESSAGE_KINDS } from '../../core/normalize/message-types.ts'

const DOC = readFileSync(new URL('../../docs/messages.md', import.meta.url), 'utf8')
const FIXTURES = new URL('../fixtures/messages/', import.meta.url)
const BASE_FIELDS = new Set(['kind', 'toUser', 'fromUser', 'createTime', 'raw'])

/** `### \`kind\`` sections -> the field names in their table's first column. */
function documentedFields(): Map<string, string[]> {
  const out = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of DOC.split('\n')) {
    const heading = /^### `([a-z_]+)`$/.exec(line)
    if (heading) {
      current = []
      out.set(heading[1]!, current)
    } else if (line.startsWith('## ')) current = undefined
    else if (current) {
      const row = /^\| `([A-Za-z][A-Za-z0-9]*)` \| ([^|]*)\|/.exec(line)
      if (row) current.push(row[2]!.trim().endsWith('?') ? `${row[1]!}?` : row[1]!)
    }
  }
  return out
}

test('every kind in MESSAGE_KINDS has a section in docs/messages.md, and no section names another', () => {
  const documented = [...documentedFields().keys()]
  assert.deepStrictEqual([...documented].sort(), [...MESSAGE_KINDS].sort())
})

test('MESSAGE_KINDS has no duplicates', () => {
  assert.equal(new Set(MESSAGE_KINDS).size, MESSAGE_KINDS.length)
})

test("each section lists exactly the fields its member has (checked on every fixture)", () => {
  const docs = documentedFields()
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.xml'))) {
    const parsed = parseXml(readFileSync(new URL(file, FIXTURES), 'utf8'))
    assert.ok(parsed.ok, file)
    const result = normalizeMessage(parsed.value)
    assert.ok(result.ok, file)
    const actual = Object.keys(result.value).filter((k) => !BASE_FIELDS.has(k)).sort()
    // A field typed `T?` may be absent (unknown's `event` is there only on an event push); every other is there.
    const documented = docs.get(result.value.kind) ?? []
    const required = documented.filter((f) => !f.endsWith('?'))
    const allowed = new Set(documented.map((f) => f.replace(/\?$/, '')))
    for (const f of required) assert.ok(actual.includes(f), `${file} (${result.value.kind}): documented ${f} is missing`)
    for (const f of actual) assert.ok(allowed.has(f), `${file} (${result.value.kind}): ${f} is not documented`)
  }
})

/**
 * A documented type (`string`, `number?`, `string[]`, `{ a: number, b }[]`, `RawFields`) as a check of a value:
 * undefined when it fits, else what does not. An object's keys are all checked, a key with no type only for
 * presence (an array when written `name[]`).
 */
function misfit(type: string, value: unknown, at: string): string | undefined {
  const t = type.trim()
  if (t.endsWith('?')) return value === undefined ? undefined : misfit(t.slice(0, -1), value, at)
  if (value === undefined) return `${at} is absent, documented ${t}`
  if (t.endsWith('[]')) {
    if (!Array.isArray(value)) return `${at} is not an array, documented ${t}`
    for (const [i, v] of value.entries()) {
      const wrong = misfit(t.slice(0, -2), v, `${at}[${i}]`)
      if (wrong) return wrong
    }
    return undefined
  }
  if (t === 'string' || t === 'number') return typeof value === t ? undefined : `${at} is ${typeof value} (${JSON.stringify(value)}), documented ${t}`
  if (t === 'RawFields') return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : `${at} is not an object`
  if (t.startsWith('{') && t.endsWith('}')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${at} is not an object, documented ${t}`
    const keys = splitTopLevel(t.slice(1, -1))
    const names = keys.map((k) => k.split(':')[0]!.trim().replace(/\[\]$/, ''))
    const extra = Object.keys(value).filter((k) => !names.includes(k))
    if (extra.length > 0) return `${at} has ${extra.join(', ')}, not documented in ${t}`
    for (const key of keys) {
      const colon = key.indexOf(':')
      const name = (colon === -1 ? key : key.slice(0, colon)).trim()
      const v = (value as Record<string, unknown>)[name.replace(/\[\]$/, '')]
      const wrong = colon !== -1 ? misfit(key.slice(colon + 1), v, `${at}.${name}`) : name.endsWith('[]') ? (Array.isArray(v) ? undefined : `${at}.${name} is not an array`) : v === undefined ? `${at}.${name} is absent` : undefined
      if (wrong) return wrong
    }
    return undefined
  }
  return `${at}: documented type ${JSON.stringify(t)} is not one this test reads`
}

/** `a: x, b: { c, d }[]` -> ['a: x', 'b: { c, d }[]']: commas inside braces stay. */
function splitTopLevel(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') depth++
    else if (s[i] === '}') depth--
    else if (s[i] === ',' && depth === 0) {
      out.push(s.slice(start, i).trim())
      start = i + 1
    }
  }
  if (s.slice(start).trim() !== '') out.push(s.slice(start).trim())
  return out
}

/** `### \`kind\`` sections -> field -> its documented type (the table's second column). */
function documentedTypes(): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>()
  let current: Map<string, string> | undefined
  for (const line of DOC.split('\n')) {
    const heading = /^### `([a-z_]+)`$/.exec(line)
    if (heading) {
      current = new Map()
      out.set(heading[1]!, current)
    } else if (line.startsWith('## ')) current = undefined
    else if (current) {
      const row = /^\| `([A-Za-z][A-Za-z0-9]*)` \| ([^|]*)\|/.exec(line)
      if (row) current.set(row[1]!, row[2]!.trim())
    }
  }
  return out
}

test("each field's value has the type its section documents (checked on every fixture)", () => {
  const types = documentedTypes()
  const base: Array<[string, string]> = [['toUser', 'string'], ['fromUser', 'string'], ['createTime', 'number'], ['raw', 'RawFields']]
  let checked = 0
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.xml'))) {
    const parsed = parseXml(readFileSync(new URL(file, FIXTURES), 'utf8'))
    assert.ok(parsed.ok, file)
    const result = normalizeMessage(parsed.value)
    assert.ok(result.ok, file)
    const message = result.value as unknown as Record<string, unknown>
    const documented = [...base, ...(types.get(result.value.kind) ?? new Map())]
    for (const [field, type] of documented) {
      assert.equal(misfit(type, message[field], field), undefined, `${file} (${result.value.kind})`)
      checked++
    }
  }
  assert.ok(checked > 300, `checked ${checked} fields`)
})

test('the type check reads every documented type and tells a misfit', () => {
  assert.equal(misfit('{ count: number, items: { idx: number, articleUrl: string }[] }', { count: 1, items: [{ idx: 1, articleUrl: 'u' }] }, 'x'), undefined)
  assert.match(misfit('{ count: number, items: { idx: number, articleUrl: string }[] }', { count: 1, items: [{ idx: '1', articleUrl: 'u' }] }, 'x')!, /x\.items\[0\]\.idx is string/)
  assert.match(misfit('{ count, resultList[] }?', { count: 1, resultList: 'no' }, 'x')!, /x\.resultList\[\] is not an array/)
  assert.match(misfit('{ count, resultList[] }?', { count: 1, resultList: [], more: 1 }, 'x')!, /has more/)
  assert.match(misfit('string', 12, 'msgId')!, /msgId is number/)
  assert.match(misfit('number[]', ['1'], 'failIdx')!, /failIdx\[0\] is string/)
  assert.equal(misfit('string?', undefined, 'x'), undefined)
  assert.match(misfit('string', undefined, 'x')!, /absent/)
})
