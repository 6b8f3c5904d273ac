/**
 * A plugin's memory is bounded by its memoryMb (core/plugin/sandbox/memory-watch.ts), on its heap and
 * outside it (ArrayBuffers, Buffers). Outside: found by a robustness review, where a plugin holding buffers
 * grew the engine to 3 GB and the OS killed it whole. On the heap: V8's own limit, on Node 20 and 22, ended
 * the whole process when a plugin's growing array reached it. What is only garbage does not count.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { loadPlugins, text, textOf, type Harness } from './plugin-test-kit.ts'

const FIXTURES = path.join(import.meta.dirname, '../fixtures/memory-plugins')

/**
 * One of the fixtures, alone, bounded at 64 MB (by its own `memoryMb`, or by limits.pluginMemoryMb when
 * `bound` says so); and whether a log line says its worker was replaced.
 */
async function hoarder(name: string, bound: 'own' | 'limits' = 'own'): Promise<{ h: Harness; replaced: (l: Record<string, unknown>) => boolean }> {
  const h = await loadPlugins(bound === 'own' ? { dir: FIXTURES, only: [name], settings: { [name]: { memoryMb: 64 } } } : { dir: FIXTURES, only: [name], memoryMb: 64 })
  assert.deepEqual(h.errors, [])
  return { h, replaced: (l) => typeof l.msg === 'string' && l.msg.startsWith(`plugin ${name} worker replaced`) }
}

let h: Harness
let replaced: (l: Record<string, unknown>) => boolean
before(async () => ({ h, replaced } = await hoarder('buffer-hoarder')))
after(() => h.dispose())

test('no shared memory in the sandbox, which the bound could not count: no SharedArrayBuffer, no Atomics, no WebAssembly', async () => {
  assert.equal(textOf(await h.call('buffer-hoarder', text('shared?'))), 'undefined undefined undefined | TypeError')
})

test('buffers used for a moment (garbage once the call ends) do not count: the worker stays', async () => {
  assert.equal(textOf(await h.call('buffer-hoarder', text('temp 8'))), 'used 128 MB for a moment')
  assert.equal(textOf(await h.call('buffer-hoarder', text('hold 2'))), 'held 2')
  assert.equal(textOf(await h.call('buffer-hoarder', text('count'))), 'held 2', 'the same worker, its module state intact')
  assert.equal(h.log.lines.filter(replaced).length, 0)
})

test('buffers kept past the bound: the call is answered, then the worker is replaced, saying why', async () => {
  assert.equal(textOf(await h.call('buffer-hoarder', text('hold 3'))), 'held 5')
  const line = await h.log.waitFor(replaced)
  assert.equal(line.code, 'PLUGIN_ERROR')
  // The setting that bounds it, the plugin's own: raising limits.pluginMemoryMb, which it named before, changed nothing.
  assert.match(String(line.reason), /^it held 8\d MB outside its heap \(ArrayBuffers, Buffers\), over plugins\.buffer-hoarder\.memoryMb \(64 MB\)$/)
  await h.log.waitFor((l) => l.msg === 'plugin buffer-hoarder restarted')
  // A fresh worker: the buffers are gone with the old one.
  assert.equal(textOf(await h.call('buffer-hoarder', text('count'))), 'held 0')
  // The full collection it took to decide leaves no `gc` in the new sandbox, nor on this thread.
  assert.equal(textOf(await h.call('buffer-hoarder', text('gc?'))), 'gc is undefined')
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined')
})

test('over the bound during setup: the load fails at once, saying so, and no worker is started again', async () => {
  const started = Date.now()
  const s = await loadPlugins({
    dir: FIXTURES,
    only: ['setup-hoarder'],
    settings: { 'setup-hoarder': { memoryMb: 64 } },
    startTimeoutMs: 20_000,
  })
  try {
    assert.equal(s.errors.length, 1)
    // 96 MB of its own, and a few of the worker's (Node 24 counted 100 in all).
    assert.match(s.errors[0]!.reason, /^plugin setup-hoarder: setup: it held (9[6-9]|1[01]\d) MB outside its heap/)
    assert.ok(Date.now() - started < 10_000, 'not after the start timeout')
    await new Promise((r) => setTimeout(r, 1500))
    assert.equal(s.log.lines.filter((l) => typeof l.msg === 'string' && /worker replaced|restarted/.test(l.msg)).length, 0, JSON.stringify(s.log.lines))
  } finally {
    await s.dispose()
  }
})

describe('on the heap', () => {
  let heap: Harness
  let heapReplaced: (l: Record<string, unknown>) => boolean
  before(async () => ({ h: heap, replaced: heapReplaced } = await hoarder('heap-hoarder', 'limits')))
  after(() => heap.dispose())

  test('data used for a moment, or kept under the bound: the worker stays', async () => {
    assert.equal(textOf(await heap.call('heap-hoarder', text('temp 10'))), 'used 80 MB for a moment')
    assert.equal(textOf(await heap.call('heap-hoarder', text('keep 3'))), 'kept 24 MB')
    assert.equal(textOf(await heap.call('heap-hoarder', text('count'))), 'kept 24 MB', 'the same worker, its module state intact')
    assert.equal(heap.log.lines.filter(heapReplaced).length, 0)
  })

  test("data kept past the bound: the call is answered, then the worker is replaced before V8's limit, saying why", async () => {
    assert.equal(textOf(await heap.call('heap-hoarder', text('keep 6'))), 'kept 72 MB')
    const line = await heap.log.waitFor(heapReplaced)
    assert.equal(line.code, 'PLUGIN_ERROR')
    assert.match(String(line.reason), /^it held \d+ MB on its heap, over limits\.pluginMemoryMb \(64 MB\)$/)
    await heap.log.waitFor((l) => l.msg === 'plugin heap-hoarder restarted')
    assert.equal(textOf(await heap.call('heap-hoarder', text('count'))), 'kept 0 MB')
  })
})
