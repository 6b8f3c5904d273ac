import assert from 'node:assert/strict'
import { chmodSync, existsSync, linkSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import type { Worker } from 'node:worker_threads'
import { codeCacheFileOf, keepCodeCacheFile, readCodeCacheFile } from '../../core/binary/code-cache-file.ts'
import { newCodeCache, startCodeCachedThread, type CodeCache } from '../../core/binary/code-cached-thread.ts'
import { until } from '../support/until.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-code-cache-file-'))
after(() => rmSync(root, { recursive: true, force: true }))
let dirs = 0
const freshDir = () => path.join(root, `d${++dirs}`)

/** Sends its letter; programs of the same length but for the letter. */
const program = (letter: string) => `require('node:worker_threads').parentPort.postMessage(${JSON.stringify(letter)}); function f() { return 1 }`

/** One worker of `source` from `cache`: what it sent, once it has said how it compiled. */
async function runOnce(source: string, cache: CodeCache): Promise<unknown> {
  const before = cache.compiled.fromCache + cache.compiled.fromSource
  const worker: Worker = startCodeCachedThread(source, cache)
  const exit = new Promise((resolve) => worker.once('exit', resolve))
  const sent = await new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  await until('the worker to say how it compiled', () => cache.compiled.fromCache + cache.compiled.fromSource > before)
  await exit
  return sent
}

test("the next run's first worker starts from the cache the last run kept", async () => {
  const dir = freshDir()
  const lastRun = newCodeCache('p', { dir })
  assert.equal(await runOnce(program('A'), lastRun), 'A')
  const file = codeCacheFileOf('p', program('A'), dir)
  await until('the cache to be kept', () => existsSync(file))
  assert.equal(statSync(file).mode & 0o777, 0o600)
  assert.equal(statSync(dir).mode & 0o777, 0o700)
  const nextRun = newCodeCache('p', { dir })
  assert.equal(await runOnce(program('A'), nextRun), 'A')
  assert.deepEqual(nextRun.compiled, { fromCache: 1, fromSource: 0 })
})

test('a program of the same length never runs from another\'s cache: the file is named by its text', async () => {
  const dir = freshDir()
  assert.equal(program('A').length, program('B').length)
  assert.notEqual(codeCacheFileOf('p', program('A'), dir), codeCacheFileOf('p', program('B'), dir))
  await runOnce(program('A'), newCodeCache('p', { dir }))
  await until('the cache to be kept', () => existsSync(codeCacheFileOf('p', program('A'), dir)))
  const b = newCodeCache('p', { dir })
  assert.equal(await runOnce(program('B'), b), 'B')
  assert.deepEqual(b.compiled, { fromCache: 0, fromSource: 1 })
})

test('a file others could have written, or that has another link, is not run from; a good one replaces it', async () => {
  for (const spoil of ['group-writable', 'linked'] as const) {
    const dir = freshDir()
    await runOnce(program('A'), newCodeCache('p', { dir }))
    const file = codeCacheFileOf('p', program('A'), dir)
    await until('the cache to be kept', () => existsSync(file))
    if (spoil === 'group-writable') chmodSync(file, 0o620)
    else linkSync(file, path.join(dir, 'elsewhere'))
    assert.equal(readCodeCacheFile(file), undefined, spoil)
    const next = newCodeCache('p', { dir })
    assert.equal(await runOnce(program('A'), next), 'A')
    assert.deepEqual(next.compiled, { fromCache: 0, fromSource: 1 }, spoil)
    await until(`the ${spoil} file to be replaced`, () => readCodeCacheFile(file))
  }
})

test('a cache directory that cannot be made costs the speed only: the workers run, the cache stays in memory', async () => {
  const notADir = path.join(root, 'a-file')
  writeFileSync(notADir, 'x')
  const cache = newCodeCache('p', { dir: notADir })
  assert.equal(await runOnce(program('A'), cache), 'A')
  assert.equal(await runOnce(program('A'), cache), 'A')
  assert.deepEqual(cache.compiled, { fromCache: 1, fromSource: 1 })
})

test("another version's cache of the program, untouched for a day, goes when a new one is kept; a recent one stays", async () => {
  const dir = freshDir()
  await runOnce(program('A'), newCodeCache('p', { dir }))
  await until('the cache to be kept', () => existsSync(codeCacheFileOf('p', program('A'), dir)))
  const old = codeCacheFileOf('p', 'an older version', dir)
  const recent = codeCacheFileOf('p', 'a version in use by another engine', dir)
  const otherProgram = codeCacheFileOf('q', 'another program', dir)
  for (const f of [old, recent, otherProgram]) writeFileSync(f, 'x', { mode: 0o600 })
  const twoDaysAgo = (Date.now() - 2 * 24 * 3600 * 1000) / 1000
  utimesSync(old, twoDaysAgo, twoDaysAgo)
  utimesSync(otherProgram, twoDaysAgo, twoDaysAgo)
  await keepCodeCacheFile(codeCacheFileOf('p', program('B'), dir), 'p', new Uint8Array([1, 2, 3]))
  const left = readdirSync(dir).sort()
  assert.deepEqual(left, [codeCacheFileOf('p', program('A'), dir), codeCacheFileOf('p', program('B'), dir), recent, otherProgram].map((f) => path.basename(f)).sort())
})

test("a cache read is marked used, so another version's removal of stale caches keeps it", async () => {
  const dir = freshDir()
  await runOnce(program('A'), newCodeCache('p', { dir }))
  const inUse = codeCacheFileOf('p', program('A'), dir)
  await until('the cache to be kept', () => existsSync(inUse))
  const twoDaysAgo = (Date.now() - 2 * 24 * 3600 * 1000) / 1000
  utimesSync(inUse, twoDaysAgo, twoDaysAgo)
  // A run of this version starts from it...
  assert.ok(readCodeCacheFile(inUse))
  assert.ok(Date.now() - statSync(inUse).mtimeMs < 60_000, 'the read marked it used')
  // ...and another version's keep leaves it.
  await keepCodeCacheFile(codeCacheFileOf('p', program('B'), dir), 'p', new Uint8Array([1, 2, 3]))
  assert.ok(existsSync(inUse))
})

test('a symbolic link at the name is not followed', async () => {
  const dir = freshDir()
  await runOnce(program('A'), newCodeCache('p', { dir }))
  const file = codeCacheFileOf('p', program('A'), dir)
  await until('the cache to be kept', () => existsSync(file))
  const real = path.join(dir, 'real')
  renameSync(file, real)
  symlinkSync(real, file)
  assert.ok(readCodeCacheFile(real), 'the file itself is good')
  assert.equal(readCodeCacheFile(file), undefined)
})
