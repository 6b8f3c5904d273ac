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
