/**
 * Project files saved in GBK (Notepad's default on a Chinese Windows for years) are refused at the line and
 * column of their first non-UTF-8 byte: read as UTF-8, every Chinese keyword became replacement characters, the
 * rules file loaded without a word, and its rules never matched (an operator's review).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { loadConfig } from '../core/config/load-config.ts'
import { loadMenuFile } from '../core/menu/menu-file.ts'
import { loadRuleSet } from '../core/route/rules/index.ts'

const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
const tempDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'wxengine-utf8-'))
  dirs.push(d)
  return d
}
/** 你好 in GBK. */
const NIHAO_GBK = Buffer.from([0xc4, 0xe3, 0xba, 0xc3])
const gbkFile = (before: string, after: string) => Buffer.concat([Buffer.from(before), NIHAO_GBK, Buffer.from(after)])

test('a rules file in GBK is refused at its first non-UTF-8 byte', async () => {
  const dir = tempDir()
  writeFileSync(path.join(dir, 'a.yaml'), gbkFile('rules:\n  - name: hi\n    keywords: [', ']\n    reply: {type: text, content: hello}\n'))
  const r = await loadRuleSet(dir)
  assert.equal(r.ok, false, 'the file should be refused, not loaded with garbled keywords')
  if (r.ok) return
  assert.equal(r.errors.length, 1)
  assert.deepEqual([r.errors[0]!.line, r.errors[0]!.column], [3, 16])
  assert.match(r.errors[0]!.message, /not UTF-8 \(byte 0xC4 here.*GBK.*save it as UTF-8/)
})

test('a rules file in UTF-8, with a BOM or without, loads', async () => {
  const dir = tempDir()
  writeFileSync(path.join(dir, 'a.yaml'), '\ufeffrules:\n  - name: hi\n    keywords: [你好]\n    reply: {type: text, content: 好}\n')
  const r = await loadRuleSet(dir)
  assert.ok(r.ok)
  assert.deepEqual(r.ruleSet.matchText('default', '你好', false).map((c) => c.rule), ['hi'])
})

test('a rules file in UTF-16, with its BOM or without, is refused as UTF-16 (it was "GBK?", or without a BOM "a rules file is a mapping ...")', async () => {
  const text = 'rules:\n  - name: hi\n    keywords: [你好]\n    reply: {type: text, content: hello}\n'
  const le = Buffer.from(text, 'utf16le')
  const be = Buffer.from(le).swap16()
  const cases = {
    'le-bom.yaml': Buffer.concat([Buffer.from([0xff, 0xfe]), le]),
    'be-bom.yaml': Buffer.concat([Buffer.from([0xfe, 0xff]), be]),
    'le.yaml': le,
    'be.yaml': be,
  }
  for (const [name, bytes] of Object.entries(cases)) {
    const dir = tempDir()
    writeFileSync(path.join(dir, name), bytes)
    const r = await loadRuleSet(dir)
    assert.equal(r.ok, false, name)
    if (r.ok) return
    assert.deepEqual(r.errors.map((e) => [path.basename(e.file), e.line, e.column, e.message]), [[name, 1, 1, 'the file is UTF-16 (saved as "Unicode", or by Windows PowerShell 5\'s >), not UTF-8: save it as UTF-8 (with or without a BOM)']])
  }
})

test('engine.config.ts in UTF-16 is refused as UTF-16 at its place', () => {
  const root = tempDir()
  writeFileSync(path.join(root, 'engine.config.ts'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("export default { accounts: [{ id: 'default', token: 'tok123', appId: 'wx1' }] }\n", 'utf16le')]))
  const r = loadConfig({ root, env: {} })
  assert.equal(r.ok, false)
  if (r.ok) return
  assert.match(r.error.reason, /engine\.config\.ts:1:1: the file is UTF-16/)
})

test('a menu file in GBK is refused: its button names would go to WeChat garbled', async () => {
  const file = path.join(tempDir(), 'default.yaml')
  writeFileSync(file, gbkFile('button:\n  - type: click\n    name: ', '\n    key: hi\n'))
  const r = await loadMenuFile(file)
  assert.equal(r.ok, false)
  if (r.ok) return
  assert.deepEqual([r.errors[0]!.line, r.errors[0]!.column], [3, 11])
  assert.match(r.errors[0]!.message, /not UTF-8/)
})

test('engine.config.ts in GBK is refused at its place', () => {
  const root = tempDir()
  writeFileSync(path.join(root, 'engine.config.ts'), gbkFile("export default { accounts: [{ id: 'default', token: 'tok123', appId: 'wx1' }], plugins: { m: { config: { reply: '", "' } } } }\n"))
  const r = loadConfig({ root, env: {} })
  assert.equal(r.ok, false)
  if (r.ok) return
  assert.match(r.error.reason, /engine\.config\.ts:1:\d+: the file is not UTF-8/)
})
