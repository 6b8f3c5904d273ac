/**
 * `reply: {type: image, file: ...}` in a rules file: the file is checked when the rules are loaded, each
 * problem with the rules file's file:line:col (missing, not a regular file, an extension or a size the
 * platform refuses for permanent material, both mediaId and file), and a good one is read (size, sha256).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { formatRuleErrors, loadRuleSet } from '../../../core/route/rules/index.ts'
import { readRulesOffThread } from '../../../core/route/rules/read-rules-off-thread.ts'
import { createMemoryLogger } from '../../../core/log/logger.ts'
import type { RuleLoadError } from '../../../core/route/rule-types.ts'

const roots: string[] = []
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true })
})

/** rel -> content; a number is a file of that many bytes (sparse). */
async function dirWith(files: Record<string, string | Buffer | number>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'wxengine-media-rules-'))
  roots.push(root)
  for (const [rel, content] of Object.entries(files)) {
    const file = join(root, rel)
    await mkdir(dirname(file), { recursive: true })
    if (typeof content === 'number') {
      await writeFile(file, '')
      await truncate(file, content)
    } else await writeFile(file, content)
  }
  return root
}

const rule = (reply: string) => `rules:\n  - name: group\n    keywords: [group]\n    reply: ${reply}\n`

async function onlyError(files: Record<string, string | Buffer | number>): Promise<RuleLoadError & { dir: string }> {
  const dir = await dirWith(files)
  const result = await loadRuleSet(dir)
  assert.equal(result.ok, false, 'expected the rules to be rejected')
  const errors = result.ok ? [] : result.errors
  assert.equal(errors.length, 1, formatRuleErrors(errors))
  return { ...errors[0], dir }
}

describe('inline replies naming a file: checked at load', () => {
  it('a good file: loaded, its size and sha256 noted, the path relative to the rules file', async () => {
    const bytes = Buffer.from('a picture')
    const dir = await dirWith({ 'shop/main.yaml': rule('{type: image, file: ../images/qr.png}'), 'images/qr.png': bytes })
    const result = await loadRuleSet(dir)
    assert.ok(result.ok, result.ok ? '' : formatRuleErrors(result.errors))
    const [candidate] = result.ruleSet.matchText('shop', 'group', false)
    const target = candidate.target
    assert.ok('media' in target)
    assert.equal(target.media.path, join(dir, 'images/qr.png'))
    assert.equal(target.media.bytes, bytes.length)
    assert.equal(target.media.sha256, createHash('sha256').update(bytes).digest('hex'))
    assert.equal(target.media.at, `${join(dir, 'shop/main.yaml')}:4:32`)
  })

  it('the same in the parse worker (a reload)', async () => {
    const dir = await dirWith({ 'main.yaml': rule('{type: voice, file: hi.mp3}'), 'hi.mp3': 'sound' })
    const result = await loadRuleSet(dir, {}, readRulesOffThread(createMemoryLogger('silent').logger, { inThreadMaxBytes: 0 }))
    assert.ok(result.ok, result.ok ? '' : formatRuleErrors(result.errors))
    const target = result.ruleSet.matchText('*', 'group', false)[0].target
    assert.ok('media' in target)
    assert.equal(target.media.type, 'voice')
    assert.equal(target.media.bytes, 5)
  })

  it('a missing file', async () => {
    const e = await onlyError({ 'main.yaml': rule('{type: image, file: images/qr.png}') })
    assert.equal(e.file, join(e.dir, 'main.yaml'))
    assert.equal(e.line, 4)
    assert.equal(e.column, 32)
    assert.match(e.message, /^file "images\/qr\.png" does not exist \(.*images\/qr\.png; a file is relative to the rules file's folder\)$/)
  })

  it('a folder, not a file', async () => {
    const dir = await dirWith({ 'main.yaml': rule('{type: image, file: images}'), 'images/x.txt': 'x' })
    const result = await loadRuleSet(dir)
    // "images" has no extension: refused by the schema before the file is opened.
    assert.equal(result.ok, false)
    const e2 = await onlyError({ 'main.yaml': rule('{type: image, file: pics.png}'), 'pics.png/inner.txt': 'x' })
    assert.equal(e2.line, 4)
    assert.match(e2.message, /^file "pics\.png" is not a regular file/)
  })

  it('a named pipe (FIFO), which no one writes to: said, not waited on for good', { skip: process.platform === 'win32' }, async () => {
    const dir = await dirWith({ 'main.yaml': rule('{type: image, file: pipe.png}') })
    execFileSync('mkfifo', [join(dir, 'pipe.png')])
    const result = await Promise.race([loadRuleSet(dir), new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 10_000).unref())])
    assert.notEqual(result, 'waiting', 'the load waited on the pipe')
    assert.ok(result !== 'waiting' && !result.ok)
    assert.equal(result.errors.length, 1, formatRuleErrors(result.errors))
    assert.match(result.errors[0].message, /^file "pipe\.png" is not a regular file/)
  })

  it('an extension the platform does not take for the type', async () => {
    let e = await onlyError({ 'main.yaml': rule('{type: image, file: qr.webp}'), 'qr.webp': 'x' })
    assert.equal(e.line, 4)
    assert.equal(e.message, 'rule "group": "qr.webp" cannot be an image reply: the platform takes bmp, png, jpeg, jpg, gif files, not .webp')
    e = await onlyError({ 'main.yaml': rule('{type: video, file: clip.mov}'), 'clip.mov': 'x' })
    assert.equal(e.message, 'rule "group": "clip.mov" cannot be a video reply: the platform takes mp4 files, not .mov')
  })

  it('a file over the size the platform takes', async () => {
    let e = await onlyError({ 'main.yaml': rule('{type: image, file: big.png}'), 'big.png': 10 * 1_048_576 + 1 })
    assert.equal(e.line, 4)
    assert.equal(e.message, 'file "big.png" is 10.1 MB, over the 10 MB the platform takes for an image')
    e = await onlyError({ 'main.yaml': rule('{type: voice, file: long.amr}'), 'long.amr': 3 * 1_048_576 })
    assert.equal(e.message, 'file "long.amr" is 3 MB, over the 2 MB the platform takes for a voice')
    e = await onlyError({ 'main.yaml': rule('{type: image, file: empty.png}'), 'empty.png': '' })
    assert.equal(e.message, 'file "empty.png" is empty')
  })

  it('both mediaId and file, or neither', async () => {
    let e = await onlyError({ 'main.yaml': rule('{type: image, mediaId: abc, file: qr.png}'), 'qr.png': 'x' })
    assert.equal(e.line, 4)
    assert.equal(e.message, 'rule "group": an image reply has both mediaId and file; choose one')
    e = await onlyError({ 'main.yaml': rule('{type: voice}') })
    assert.equal(e.message, 'rule "group": a voice reply needs mediaId: (a media_id from the platform) or file: (a file the engine uploads)')
  })

  it('file is for image, voice and video only', async () => {
    const e = await onlyError({ 'main.yaml': rule('{type: text, content: hi, file: a.png}'), 'a.png': 'x' })
    assert.match(e.message, /unknown key "file"/)
  })

  it('welcome, default and handlers may name a file too', async () => {
    const dir = await dirWith({
      'main.yaml': 'welcome:\n  reply: {type: image, file: hello.jpg}\nhandlers:\n  - type: image\n    reply: {type: image, file: hello.jpg}\n',
      'hello.jpg': 'jpeg',
    })
    const result = await loadRuleSet(dir)
    assert.ok(result.ok, result.ok ? '' : formatRuleErrors(result.errors))
    const welcome = result.ruleSet.system('*').welcome
    assert.ok(welcome && 'media' in welcome && welcome.media.file === 'hello.jpg')
    const handler = result.ruleSet.matchType('*', 'image')[0].target
    assert.ok('media' in handler && handler.media.type === 'image')
  })

  it('file written beside reply, not under it: said where it goes', async () => {
    const dir = await dirWith({ 'main.yaml': 'welcome:\n  type: image\n  file: hello.png\n', 'hello.png': 'x' })
    const result = await loadRuleSet(dir)
    assert.equal(result.ok, false)
    const fileError = result.ok ? undefined : result.errors.find((e) => e.line === 3)
    assert.match(fileError?.message ?? '', /^welcome: unknown key "file"; the fields of an inline reply go under reply:/)
  })
})
