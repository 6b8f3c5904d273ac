import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import type { Worker } from 'node:worker_threads'
import { newCodeCache, startCodeCachedThread, type CodeCache } from '../../core/binary/code-cached-thread.ts'
import { startThread } from '../../core/binary/worker-program.ts'
import { rulesParseProgram } from '../../core/route/rules/read-rules-off-thread.ts'
import { until } from '../support/until.ts'

// For the last test's workers: gc() in every isolate. V8's flags are the process's, and a code cache holds
// their hash, so they are set before any cache here is made (set later, every cache before would be refused).
// A cache made under them would be refused by every other process: the rules parser's goes to a directory
// of this file's, not the user's cache directory.
setFlagsFromString('--expose-gc')
const ownCacheDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-code-cache-flags-'))
process.env.WXENGINE_CACHE_DIR = ownCacheDir
after(() => rmSync(ownCacheDir, { recursive: true, force: true }))

/** A program that answers with what it sees of its surroundings, as an eval'd CommonJS worker would. */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
exports.marker = 1;
parentPort.postMessage({
  workerData,
  thisIsExports: this === module.exports && module.exports.marker === 1,
  dirname: typeof __dirname,
  filename: typeof __filename,
  requireWorks: typeof require('node:path').join,
  stackNames: new Error('where').stack.includes('wxengine:test-program'),
});
`

/** Read through a call, so that the checks before do not narrow it for the ones after. */
const dataOf = (cache: CodeCache): Uint8Array | undefined => cache.data

function firstMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
}

function exited(worker: Worker): Promise<number> {
  return new Promise((resolve) => worker.once('exit', resolve))
}

test('the program sees its own workerData, require, module and exports, and its messages are untouched', async () => {
  const cache = newCodeCache('test-program', { dir: false })
  const worker = startCodeCachedThread(PROGRAM, cache, { workerData: { a: [1, 2], b: 'x' } })
  const exit = exited(worker)
  assert.deepEqual(await firstMessage(worker), {
    workerData: { a: [1, 2], b: 'x' },
    thisIsExports: true,
    dirname: 'string',
    filename: 'string',
    requireWorks: 'function',
    stackNames: true,
  })
  await exit
})

test('the first worker fills the cache; the next is given it, and V8 takes it (a taken cache is not sent again)', async () => {
  const cache = newCodeCache('test-program', { dir: false })
  assert.equal(cache.data, undefined)
  const first = startCodeCachedThread(PROGRAM, cache, { workerData: 1 })
  const firstExit = exited(first)
  await firstMessage(first)
  await until('the first worker to say how it compiled', () => cache.compiled.fromSource === 1)
  await firstExit
  const made = dataOf(cache)
  assert.ok(made instanceof Uint8Array && made.byteLength > 0, 'the first worker hands back a code cache')
  assert.deepEqual(cache.compiled, { fromCache: 0, fromSource: 1 })
  const second = startCodeCachedThread(PROGRAM, cache, { workerData: 2 })
  const secondExit = exited(second)
  assert.deepEqual(((await firstMessage(second)) as { workerData: unknown }).workerData, 2)
  await until('the second worker to say how it compiled', () => cache.compiled.fromCache + cache.compiled.fromSource === 2)
  await secondExit
  assert.deepEqual(cache.compiled, { fromCache: 1, fromSource: 1 })
  // A worker whose cache V8 refused sends a new one (the next test); this one sent none.
  assert.equal(dataOf(cache), made)
})

test('a cache V8 refuses costs nothing but its speed: the program runs, and a good cache replaces it', async () => {
  const cache = newCodeCache('test-program', { dir: false })
  const garbage = new Uint8Array(randomBytes(4096))
  cache.data = garbage
  const worker = startCodeCachedThread(PROGRAM, cache, { workerData: 'still runs' })
  const exit = exited(worker)
  assert.deepEqual(((await firstMessage(worker)) as { workerData: unknown }).workerData, 'still runs')
  await until('the worker to say how it compiled', () => cache.compiled.fromCache + cache.compiled.fromSource === 1)
  await exit
  assert.deepEqual(cache.compiled, { fromCache: 0, fromSource: 1 })
  const replaced = dataOf(cache)
  assert.ok(replaced instanceof Uint8Array && replaced !== garbage && replaced.byteLength > 0)
})

test('a program that throws at its top level fails its worker with its own error, as an eval worker does', async () => {
  const cache = newCodeCache('test-program', { dir: false })
  const worker = startCodeCachedThread(`throw new RangeError('top-level trouble')`, cache)
  const exit = exited(worker)
  await assert.rejects(firstMessage(worker), (e: Error) => e instanceof RangeError && e.message === 'top-level trouble')
  assert.notEqual(await exit, 0)
})

test('a worker ended before its program ran leaves no port open and no cache', async () => {
  const cache = newCodeCache('test-program', { dir: false })
  const worker = startCodeCachedThread(`while (true) {}`, cache)
  await new Promise((resolve) => worker.once('online', resolve))
  await worker.terminate()
  assert.equal(cache.data, undefined)
  assert.deepEqual(cache.compiled, { fromCache: 0, fromSource: 0 })
  // Nothing of the worker's keeps this process alive: the test runner would hang here otherwise.
})

test("the rules parser's bundle starts through the cache, and its worker says how it compiled", async () => {
  const entry = await rulesParseProgram.entryAsync()
  if (!entry.eval) return assert.fail('the rules program should be bundled here (esbuild is a dev dependency)')
  const cache = entry.codeCache
  assert.ok(cache, 'a bundled program carries its code cache')
  assert.equal(cache.filename, 'wxengine:rules-parse-worker')
  // An empty listing answers at once; the program's start-up is what is under test.
  const dir = path.join(os.tmpdir(), `wxengine-code-cache-none-${process.pid}`)
  const worker = startThread(entry, { workerData: { dir, opts: {}, regexVerdicts: [] }, execArgv: [] })
  const answer = (await firstMessage(worker)) as { ok: boolean }
  assert.equal(typeof answer.ok, 'boolean')
  // From the cache directory's file when an earlier run left one, else compiled and made here.
  await until('the worker to say how it compiled', () => cache.compiled.fromCache + cache.compiled.fromSource === 1)
  await worker.terminate()
  const data = dataOf(cache)
  assert.ok(data && data.byteLength > 100_000, 'a cache of the 6 MB bundle')
})

test('nothing of the start outlives it: the running program holds neither the cache it was given nor its own', async () => {
  const entry = await rulesParseProgram.entryAsync()
  if (!entry.eval) return assert.fail('the rules program should be bundled here (esbuild is a dev dependency)')
  // The rules parser's 6 MB (a cache of some 1.5 MB), then what is left outside the heap once collected.
  const source = `${entry.source}
;setTimeout(() => {
  globalThis.gc();
  require('node:worker_threads').parentPort.postMessage({ arrayBuffers: process.memoryUsage().arrayBuffers });
}, 100);`
  const cache = newCodeCache('test-program', { dir: false })
  const workerData = { dir: path.join(os.tmpdir(), `wxengine-code-cache-none-${process.pid}`), opts: {}, regexVerdicts: [] }
  const held = async (): Promise<number> => {
    const worker = startCodeCachedThread(source, cache, { workerData })
    const report = await new Promise<{ arrayBuffers: number }>((resolve, reject) => {
      worker.on('message', (m: { arrayBuffers?: number }) => m.arrayBuffers !== undefined && resolve(m as { arrayBuffers: number }))
      worker.once('error', reject)
    })
    await worker.terminate()
    return report.arrayBuffers
  }
  const first = await held()
  const made = dataOf(cache)
  assert.ok(made && made.byteLength > 1_000_000, 'a cache of over 1 MB, so that holding it would show')
  const second = await held()
  assert.deepEqual(cache.compiled, { fromCache: 1, fromSource: 1 })
  assert.ok(first < 500_000 && second < 500_000, `held outside the heap: ${first} and ${second} bytes`)
})
