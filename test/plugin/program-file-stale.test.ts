/**
 * The plugin processes' program files in the cache directory (plugin-process.ts): each version of the engine
 * writes its own, named by its hash, and the directory kept every old one for good (1.9 MB each; 37 of them,
 * 52 MB, after a few days of development here). Now a new program removes those of other versions untouched
 * for a day, and the program in use is touched at each start of a plugin's process, so an engine of another
 * version keeps it. One removed anyway under a running engine is written again at the next start. Real plugin
 * processes, a cache directory of the test's own.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { loadPlugins, text, textOf } from './plugin-test-kit.ts'

const cache = mkdtempSync(path.join(os.tmpdir(), 'wxengine-program-stale-'))
const saved = process.env.WXENGINE_CACHE_DIR
before(() => {
  process.env.WXENGINE_CACHE_DIR = cache
})
after(() => {
  if (saved === undefined) delete process.env.WXENGINE_CACHE_DIR
  else process.env.WXENGINE_CACHE_DIR = saved
  rmSync(cache, { recursive: true, force: true })
})

const twoDaysAgo = () => (Date.now() - 2 * 24 * 3600 * 1000) / 1000
const inCache = (name: string) => path.join(cache, name)
const ours = () => readdirSync(cache).filter((f) => /^plugin-worker-[0-9a-f]{16}\.cjs$/.test(f) && !['plugin-worker-0000000000000000.cjs', 'plugin-worker-1111111111111111.cjs'].includes(f))

/** Starts js-plain in a process, has it answer once, stops it. */
async function answerOnce(): Promise<void> {
  const h = await loadPlugins({ only: ['js-plain'], isolation: 'process' })
  try {
    assert.deepEqual(h.errors, [])
    assert.equal(textOf(await h.call('js-plain', text('hi'))), 'js: HI')
  } finally {
    await h.dispose()
  }
}

test("another version's program untouched for a day goes when this one is written; a recent one, and other files, stay", async () => {
  const stale = inCache('plugin-worker-0000000000000000.cjs')
  const recent = inCache('plugin-worker-1111111111111111.cjs')
  const otherKind = inCache('rules-parse-worker-2222222222222222-node20.0.0-x64.v8cache')
  const notOurs = inCache('notes.txt')
  for (const f of [stale, recent, otherKind, notOurs]) writeFileSync(f, 'x', { mode: 0o600 })
  for (const f of [stale, otherKind, notOurs]) utimesSync(f, twoDaysAgo(), twoDaysAgo())
  await answerOnce()
  assert.equal(existsSync(stale), false, 'the stale program was removed')
  for (const f of [recent, otherKind, notOurs]) assert.ok(existsSync(f), `${path.basename(f)} stays`)
  assert.equal(ours().length, 1, readdirSync(cache).join(', '))
})

test('the program in use is touched at each start, so another version keeps it', async () => {
  const [program] = ours()
  const file = inCache(program!)
  utimesSync(file, twoDaysAgo(), twoDaysAgo())
  await answerOnce()
  assert.ok(Date.now() - statSync(file).mtimeMs < 60_000, 'touched by the start')
})

test('one removed under the running engine (by another version, by hand) is written again at the next start', async () => {
  const [program] = ours()
  rmSync(inCache(program!))
  await answerOnce()
  assert.deepEqual(ours(), [program])
})
