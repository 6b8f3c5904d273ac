/**
 * The built binary is put in place whole, through a temporary file of the build's own: two builds to one
 * --out shared `${out}.tmp`, so one overwrote the other's copy in progress and renamed it away.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { placeFile } from '../../core/binary/place-file.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-place-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test("the file lands at out, executable, replacing the old one; another build's temporary file is left alone", () => {
  const src = path.join(dir, 'built')
  writeFileSync(src, 'new binary')
  const out = path.join(dir, 'release', 'wxengine')
  placeFile(src, out, 0o755)
  writeFileSync(src, 'newer binary')
  // Another build's copy in progress, under the name every build used before.
  writeFileSync(`${out}.tmp`, 'half of another build')
  placeFile(src, out, 0o755)
  assert.equal(readFileSync(out, 'utf8'), 'newer binary')
  assert.equal(statSync(out).mode & 0o777, 0o755)
  assert.equal(readFileSync(`${out}.tmp`, 'utf8'), 'half of another build')
  assert.deepEqual(readdirSync(path.dirname(out)).sort(), ['wxengine', 'wxengine.tmp'], 'no temporary file of its own left behind')
})

test('a copy that fails leaves out as it was and no temporary file', () => {
  const out = path.join(dir, 'kept', 'wxengine')
  const src = path.join(dir, 'built-ok')
  writeFileSync(src, 'working binary')
  placeFile(src, out, 0o755)
  assert.throws(() => placeFile(path.join(dir, 'missing'), out, 0o755), { code: 'ENOENT' })
  assert.equal(readFileSync(out, 'utf8'), 'working binary')
  assert.deepEqual(readdirSync(path.dirname(out)), ['wxengine'])
})
