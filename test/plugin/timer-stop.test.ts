/**
 * What setup's `api.every` and `api.after` return (core/plugin/sandbox/setup-registry.ts, timer-stop.ts): a
 * function that stops that one timer before unload. Through real plugins in their workers: a span with no
 * run is measured by another timer of the same plugin (a witness) ticking on, not by a sleep, so that a
 * loaded machine that runs the worker late cannot pass the test without the timers having had their turn.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import { createSetupRegistry } from '../../core/plugin/sandbox/setup-registry.ts'
import { pluginProject } from '../support/plugin-project.ts'
import { until } from '../support/until.ts'
import { loadPlugins, text, textOf, type CapturedLog } from './plugin-test-kit.ts'

/** The plugin `name` from `source`, loaded in its worker. */
async function loadOne(name: string, source: string) {
  const project = pluginProject({ plugins: { [name]: source } }, 'timer-stop')
  const h = await loadPlugins({ dir: path.join(project.root, 'plugins'), only: [name] })
  const close = async () => {
    await h.dispose()
    project.remove()
  }
  // Disposed when it did not load too: the harness holds the process up until then.
  if (h.errors.length > 0) await close()
  assert.deepEqual(h.errors, [])
  return { h, close }
}

/** The last `n` a `msg` line of the plugin's log carried (0 when none). */
function lastCount(log: CapturedLog, msg: string): number {
  return log.lines.filter((l) => l.msg === msg).reduce((most, l) => Math.max(most, Number(l.n)), 0)
}

/** Waits until the witness every ticked `more` times past now: the plugin's timers have had that many turns. */
async function witnessTicks(log: CapturedLog, more: number): Promise<void> {
  const from = lastCount(log, 'witness')
  await until(`${more} more witness ticks`, () => lastCount(log, 'witness') >= from + more)
}

const WITNESS = `let w = 0
    api.every(10, () => api.log.info('witness', { n: ++w }))`

test('a stopped every starts no run after stop(), while the plugin\'s other timers go on', async () => {
  const { h, close } = await loadOne(
    'poller',
    `import { definePlugin } from 'wxengine/plugin'
let stop: () => void
let runs = 0
export default definePlugin({
  name: 'poller',
  setup(api) {
    stop = api.every(10, () => api.log.info('tick', { n: ++runs }))
    ${WITNESS}
  },
  handle() {
    stop()
    return String(runs)
  },
})
`,
  )
  try {
    await until('a few runs', () => lastCount(h.log, 'tick') >= 3)
    const runsAtStop = Number(textOf(await h.call('poller', text('stop'))))
    assert.ok(runsAtStop >= 3)
    await witnessTicks(h.log, 10)
    assert.equal(lastCount(h.log, 'tick'), runsAtStop, 'no run after stop()')
  } finally {
    await close()
  }
})

test('a cancelled after never runs; the one beside it does', async () => {
  const { h, close } = await loadOne(
    'reminder',
    `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'reminder',
  setup(api) {
    const cancel = api.after(20, () => api.log.info('cancelled one ran'))
    api.after(150, () => api.log.info('kept one ran'))
    cancel()
  },
  handle: (ctx) => ctx.pass(),
})
`,
  )
  try {
    // Due well after the cancelled one: by then that one would have run.
    await h.log.waitFor((l) => l.msg === 'kept one ran')
    assert.equal(h.log.lines.filter((l) => l.msg === 'cancelled one ran').length, 0)
  } finally {
    await close()
  }
})

test('an every stopped from its own callback does not run again (a poll that got its answer)', async () => {
  const { h, close } = await loadOne(
    'poll',
    `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'poll',
  setup(api) {
    let runs = 0
    const stop = api.every(10, async () => {
      api.log.info('tick', { n: ++runs })
      if (runs === 3) stop()
      // An async run goes on after its stop(), to its end.
      await new Promise((r) => setTimeout(r, 5))
      api.log.info('tick done', { n: runs })
    })
    ${WITNESS}
  },
  handle: (ctx) => ctx.pass(),
})
`,
  )
  try {
    await until('the third run', () => lastCount(h.log, 'tick') >= 3)
    await witnessTicks(h.log, 10)
    assert.equal(lastCount(h.log, 'tick'), 3)
    assert.equal(lastCount(h.log, 'tick done'), 3, 'the run that stopped its timer was not cut short')
  } finally {
    await close()
  }
})

test('stop twice, and cancel after the after ran, do nothing: no error, no other timer touched', async () => {
  const { h, close } = await loadOne(
    'twice',
    `import { definePlugin } from 'wxengine/plugin'
let stop: () => void
let cancelFired: () => void
export default definePlugin({
  name: 'twice',
  setup(api) {
    let runs = 0
    stop = api.every(10, () => void runs++)
    cancelFired = api.after(0, () => api.log.info('fired'))
    ${WITNESS}
  },
  handle() {
    stop()
    stop()
    cancelFired()
    cancelFired()
    return 'done'
  },
})
`,
  )
  try {
    await h.log.waitFor((l) => l.msg === 'fired')
    assert.equal(textOf(await h.call('twice', text('stop'))), 'done')
    await witnessTicks(h.log, 5)
    assert.deepEqual(h.log.lines.filter((l) => l.level === 50), [])
  } finally {
    await close()
  }
})

test('stop after unload does nothing: dispose and an onDispose hook call theirs, and unload does not count a timer cancelled before', async () => {
  const { h, close } = await loadOne(
    'tidy',
    `import { definePlugin } from 'wxengine/plugin'
let stop: () => void
let cancel: () => void
export default definePlugin({
  name: 'tidy',
  setup(api) {
    stop = api.every(10, () => undefined)
    cancel = api.after(60_000, () => undefined)
    // Cancelled at once: unload has nothing of it to clear.
    api.after(60_000, () => undefined)()
    api.onDispose(() => {
      stop()
      cancel()
      api.log.info('hook done')
    })
  },
  handle: (ctx) => ctx.pass(),
  dispose() {
    stop()
    cancel()
  },
})
`,
  )
  await close()
  const line = (msg: string) => h.log.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith(msg))
  assert.ok(line('hook done'), JSON.stringify(h.log.lines))
  assert.equal(line('plugin tidy dispose failed'), undefined)
  // The every, the after still live and the hook: not the after cancelled in setup.
  assert.equal(line('plugin tidy disposed')?.cleared, 3)
})

test('what every and after hand the plugin is a function of its own realm, not a proxy of the worker\'s', async () => {
  const { h, close } = await loadOne(
    'realm',
    `import { definePlugin } from 'wxengine/plugin'
let stop: () => void
export default definePlugin({
  name: 'realm',
  setup(api) {
    stop = api.every(60_000, () => undefined)
  },
  handle: () => String(stop),
})
`,
  )
  try {
    // A worker function reached the plugin as a vm2 proxy, showing its source and taking the plugin's property writes.
    assert.match(textOf(await h.call('realm', text('x'))), /^function stop\(\) \{/)
  } finally {
    await close()
  }
})

test('the registry: a cancelled timer leaves the record unload clears, and a timer refused while unloading gives a cancel that does nothing', async () => {
  const registry = createSetupRegistry(() => undefined, undefined, { dropped: () => undefined })
  let ran = 0
  const stopEvery = registry.every(10, () => void ran++)
  const cancelAfter = registry.after(10, () => void ran++)
  registry.after(60_000, () => undefined)
  stopEvery()
  cancelAfter()
  await registry.stopTimers(1000)
  const late = registry.every(10, () => void ran++)
  late()
  late()
  stopEvery()
  assert.deepEqual(await registry.undo(1000), { cleared: 1, unsettled: [] })
  assert.equal(ran, 0)
})
