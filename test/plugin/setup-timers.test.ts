/**
 * setup's api.every and api.after (core/plugin/sandbox/setup-registry.ts) with delays Node's timers cannot
 * hold: refused at the call, naming it and the value, instead of running the callback at once.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createSetupRegistry } from '../../core/plugin/sandbox/setup-registry.ts'
import { createTestClient } from '../../core/testkit/plugin-test-client.ts'
import { until } from '../support/until.ts'

test('a delay past 2^31-1 ms is refused, not run at once: after(a month) fired within milliseconds', async () => {
  const reported: string[] = []
  const registry = createSetupRegistry((what) => reported.push(what))
  let ran = 0
  const month = 30 * 24 * 3600 * 1000
  try {
    assert.throws(() => registry.after(month, () => void ran++), {
      name: 'RangeError',
      message: `after (plugin plugin): ms must be at most 2147483647 (about 24.8 days), got ${month}: for a later time, keep the due time in storage and check it with a shorter every`,
    })
    assert.throws(() => registry.every(month, () => void ran++), /^RangeError: every \(plugin plugin\): ms must be at most 2147483647 .*got 2592000000/)
    // The longest delay Node holds is taken.
    registry.after(2 ** 31 - 1, () => void ran++)
    await sleep(30)
    assert.equal(ran, 0)
  } finally {
    assert.deepEqual(await registry.undo(1000), { cleared: 1, unsettled: [] })
  }
  assert.deepEqual(reported, [])
})

test('a delay that is not a number is a TypeError naming the plugin and the value', () => {
  const registry = createSetupRegistry(() => undefined, undefined, { plugin: 'digest' })
  assert.throws(() => registry.after('10' as unknown as number, () => undefined), { name: 'TypeError', message: 'after (plugin digest): ms must be a number of milliseconds, got "10"' })
  assert.throws(() => registry.every(undefined as unknown as number, () => undefined), { name: 'TypeError', message: 'every (plugin digest): ms must be a number of milliseconds, got undefined' })
})

test('every(0), and any interval under 10 ms, NaN or Infinity, is a RangeError at the call naming the plugin, the value and the minimum (every(0) ran the callback every millisecond)', async () => {
  const registry = createSetupRegistry(() => undefined, undefined, { plugin: 'digest' })
  let ran = 0
  try {
    for (const ms of [0, -1, 0.5, 9.99, Number.NaN]) {
      assert.throws(() => registry.every(ms, () => void ran++), {
        name: 'RangeError',
        message: `every (plugin digest): ms must be at least 10, got ${ms}: a shorter interval is a busy loop, which keeps the plugin from answering its messages`,
      })
    }
    assert.throws(() => registry.every(Number.POSITIVE_INFINITY, () => void ran++), { name: 'RangeError', message: /^every \(plugin digest\): ms must be at most 2147483647 .*got Infinity/ })
    // The minimum itself, and a fraction above it, are taken.
    registry.every(10, () => undefined)
    registry.every(10.5, () => undefined)
    await sleep(30)
    assert.equal(ran, 0)
  } finally {
    assert.deepEqual(await registry.undo(100), { cleared: 2, unsettled: [] })
  }
})

test('after with a negative, NaN or infinite delay is a RangeError at the call; after(0) runs at once', async () => {
  const registry = createSetupRegistry(() => undefined, undefined, { plugin: 'digest' })
  assert.throws(() => registry.after(-1, () => undefined), { name: 'RangeError', message: 'after (plugin digest): ms must be at least 0, got -1' })
  assert.throws(() => registry.after(Number.NaN, () => undefined), { name: 'RangeError', message: 'after (plugin digest): ms must be at least 0, got NaN' })
  assert.throws(() => registry.after(Number.NEGATIVE_INFINITY, () => undefined), { name: 'RangeError', message: 'after (plugin digest): ms must be at least 0, got -Infinity' })
  assert.throws(() => registry.after(Number.POSITIVE_INFINITY, () => undefined), { name: 'RangeError', message: /^after \(plugin digest\): ms must be at most 2147483647 .*got Infinity/ })
  let ran = false
  registry.after(0, () => void (ran = true))
  await until('after(0) ran', () => ran)
  await registry.undo(100)
})

test('every runs one run at a time: a tick while the previous async run is still going is skipped, said once per such stretch (a digest slower than its interval sent everything twice)', async () => {
  const skips: Array<[number, number]> = []
  const registry = createSetupRegistry(() => undefined, (everyMs, runningForMs) => skips.push([everyMs, runningForMs]))
  let running = 0
  let most = 0
  let runs = 0
  let release!: () => void
  const slow = new Promise<void>((r) => (release = r))
  try {
    registry.every(10, async () => {
      runs++
      running++
      most = Math.max(most, running)
      if (runs === 1) await slow // the first run takes many intervals
      running--
    })
    // Waited for, not slept on: on a loaded machine 60 ms could pass with one tick, and nothing skipped yet.
    await until('a tick skipped while the first run goes on', () => skips.length > 0)
    const firstSkipAt = Date.now()
    // More ticks of the same stretch (at least a few intervals), which are not said again.
    await until('a few intervals past the first skip', () => Date.now() - firstSkipAt >= 30)
    assert.equal(runs, 1)
    assert.equal(skips.length, 1)
    assert.equal(skips[0][0], 10)
    release()
    await until('runs going on once the slow one is done', () => runs >= 3)
    assert.equal(most, 1)
  } finally {
    await registry.undo(1000)
  }
})

test("through a plugin's worker: a slow every runs once at a time, and the log says a run was skipped and why", async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-every-'))
  mkdirSync(path.join(root, 'plugins', 'digest'), { recursive: true })
  writeFileSync(
    path.join(root, 'plugins', 'digest', 'index.ts'),
    `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'digest',
  setup(api) {
    api.every(20, async () => {
      const now = await api.storage.increment('running')
      await api.storage.update<number>('most', (m = 0) => Math.max(m, now))
      await new Promise((r) => setTimeout(r, 150))
      await api.storage.increment('running', -1)
      await api.storage.increment('runs')
    })
  },
  handle: (ctx) => ctx.pass(),
})
`,
  )
  const memory = createMemoryLogger('warn')
  const client = await createTestClient({ root, log: memory.logger })
  try {
    const storage = client.storage('digest')
    await until('two runs of the job', async () => ((await storage.get<number>('runs')) ?? 0) >= 2)
    assert.equal(await storage.get('most'), 1)
    const line = memory.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('every(20) skipped a run'))
    assert.ok(line, JSON.stringify(memory.lines))
    assert.equal(line.plugin, 'digest')
    assert.match(String(line.msg), /^every\(20\) skipped a run: the previous one is still going \(for \d+ ms\); runs never overlap, so the job runs less often than asked$/)
  } finally {
    await client.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test('a callback that is no function is refused at the call, not failed at every tick (a misspelt method reference in a plugin with no type check at load)', async () => {
  const reported: string[] = []
  const registry = createSetupRegistry((what) => reported.push(what))
  for (const [what, call] of [
    ['every', (fn: unknown) => registry.every(10, fn as () => void)],
    ['after', (fn: unknown) => registry.after(5, fn as () => void)],
    ['onDispose', (fn: unknown) => registry.onDispose(fn as () => void)],
  ] as const) {
    try {
      assert.throws(() => call(undefined), { name: 'TypeError', message: `${what}: the callback must be a function, got undefined` })
      assert.throws(() => call(null), { message: `${what}: the callback must be a function, got null` })
    } finally {
      // Whatever was taken is undone, so that the process is not held by a timer.
      assert.deepEqual(await registry.undo(1000), { cleared: 0, unsettled: [] })
    }
  }
  await sleep(30)
  assert.deepEqual(reported, [])
})

test("through a plugin's worker: an every that throws on each run writes 20 lines in 10 s, then one line counting the rest, each marked PLUGIN_ERROR (it had written 100 lines a second)", async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-every-'))
  mkdirSync(path.join(root, 'plugins', 'flaky'), { recursive: true })
  writeFileSync(
    path.join(root, 'plugins', 'flaky', 'index.ts'),
    `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'flaky',
  setup(api) {
    api.every(10, async () => {
      await api.storage.increment('runs')
      throw new Error('db down')
    })
  },
  handle: (ctx) => ctx.pass(),
})
`,
  )
  const memory = createMemoryLogger('warn')
  const client = await createTestClient({ root, log: memory.logger })
  try {
    const storage = client.storage('flaky')
    await until('60 failed runs', async () => ((await storage.get<number>('runs')) ?? 0) >= 60)
    const failed = memory.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('every failed: Error: db down'))
    assert.equal(failed.length, 20, JSON.stringify(failed.length))
    assert.ok(failed.every((l) => l.code === 'PLUGIN_ERROR' && l.timer === 'every' && l.plugin === 'flaky'), JSON.stringify(failed[0]))
    // The window's end says how many more there were, with the last one's reason.
    const counted = await until('the line counting the rest', () => memory.lines.find((l) => typeof l.msg === 'string' && /^\d+ more like this in the last \d+ s, not logged one by one: every failed: Error: db down/.test(l.msg)), 15_000)
    assert.ok(Number(counted.held) >= 40, JSON.stringify(counted))
    assert.equal(counted.plugin, 'flaky')
  } finally {
    await client.close()
    rmSync(root, { recursive: true, force: true })
  }
})
