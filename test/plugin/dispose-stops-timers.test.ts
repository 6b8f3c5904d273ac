/**
 * Unloading stops a plugin's timers first (core/plugin/sandbox/setup-registry.ts, worker-main.ts): once
 * disposal starts no `every` or `after` callback starts a new run, so that dispose and the onDispose hooks
 * never run beside a tick; a run already going may finish, within its bound.
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSetupRegistry } from '../../core/plugin/sandbox/setup-registry.ts'
import { pluginProject } from '../support/plugin-project.ts'
import { until } from '../support/until.ts'
import { loadPlugins } from './plugin-test-kit.ts'

test("through a plugin's worker: no every or after run starts during dispose or its hooks, and the run in flight finishes before dispose", async () => {
  // Every run, dispose and the hooks log what they saw: a tick between the start of dispose and the end of the hooks is the defect.
  const source = `import { definePlugin } from 'wxengine/plugin'
let phase = 'running'
let inFlight = false
let log
export default definePlugin({
  name: 'ticker',
  setup(api) {
    log = api.log
    api.every(10, async () => {
      inFlight = true
      api.log.info('tick', { phase })
      // Each run arms an after due 50 ms on: those of the last runs before unloading are due during dispose.
      api.after(50, () => api.log.info('after', { phase }))
      await new Promise((r) => setTimeout(r, 30))
      inFlight = false
      api.log.info('tick done', { phase })
    })
    api.onDispose(async () => {
      phase = 'hooks'
      await new Promise((r) => setTimeout(r, 100))
      phase = 'unloaded'
    })
  },
  handle: (ctx) => ctx.reply.text('ok'),
  async dispose() {
    phase = 'dispose'
    log.info('dispose', { inFlight })
    await new Promise((r) => setTimeout(r, 300))
  },
})
`
  const project = pluginProject({ plugins: { ticker: source } }, 'dispose-timers')
  try {
    const h = await loadPlugins({ dir: path.join(project.root, 'plugins'), only: ['ticker'], disposeTimeoutMs: 1000 })
    assert.deepEqual(h.errors, [])
    await h.log.waitFor((l) => l.msg === 'tick done')
    await h.dispose()
    const during = h.log.lines.filter((l) => (l.msg === 'tick' || l.msg === 'after') && l.phase !== 'running')
    assert.deepEqual(during, [], 'no timer run started once unloading began')
    // A run in flight when unloading began finished before dispose ran.
    const disposeLine = h.log.lines.find((l) => l.msg === 'dispose')
    assert.ok(disposeLine, JSON.stringify(h.log.lines.map((l) => l.msg)))
    assert.equal(disposeLine.inFlight, false)
  } finally {
    project.remove()
  }
})

test('stopTimers: no new run once called, a timer a run in flight registers is dropped and said, the run in flight is waited for', async () => {
  const dropped: string[] = []
  const registry = createSetupRegistry(() => undefined, undefined, { dropped: (what, ms) => dropped.push(`${what}(${ms})`) })
  let runs = 0
  let release!: () => void
  const slow = new Promise<void>((r) => (release = r))
  let afterRan = false
  registry.every(10, async () => {
    runs++
    await slow
    // A job that re-arms itself when it ends.
    registry.after(0, () => void (afterRan = true))
  })
  await until('the first run going', () => runs === 1)
  let stopped = false
  const stopping = registry.stopTimers(5000).then((r) => {
    stopped = true
    return r
  })
  await sleep(30)
  assert.equal(stopped, false, 'waits for the run in flight')
  release()
  assert.deepEqual(await stopping, { unfinished: 0 })
  await sleep(50)
  assert.equal(runs, 1)
  assert.equal(afterRan, false)
  assert.deepEqual(dropped, ['after(0)'])
  // Undone once, counted once: the interval.
  assert.deepEqual(await registry.undo(100), { cleared: 1, unsettled: [] })
})

test('stopTimers waits for a run that never ends no longer than its bound, and says it is unfinished', async () => {
  const registry = createSetupRegistry(() => undefined)
  let runs = 0
  registry.every(10, () => {
    runs++
    return new Promise(() => undefined)
  })
  await until('a run going', () => runs === 1)
  const started = performance.now()
  assert.deepEqual(await registry.stopTimers(50), { unfinished: 1 })
  assert.ok(performance.now() - started < 1000)
  await registry.undo(100)
})

test('an onDispose hook registered while the hooks run (by a hook, or a timer run still going) runs in its turn; one that registers itself again stops at the bound', async () => {
  const registry = createSetupRegistry(() => undefined)
  const ran: string[] = []
  registry.onDispose(() => {
    ran.push('first')
    registry.onDispose(() => void ran.push('registered by the first'))
  })
  registry.onDispose(() => void ran.push('second'))
  assert.deepEqual(await registry.undo(1000), { cleared: 2, unsettled: [] })
  assert.deepEqual(ran, ['first', 'second', 'registered by the first'])

  const again = createSetupRegistry(() => undefined)
  let runs = 0
  const forever = async (): Promise<void> => {
    runs++
    await sleep(5)
    again.onDispose(forever)
  }
  again.onDispose(forever)
  const started = performance.now()
  const { unsettled } = await again.undo(50)
  assert.ok(performance.now() - started < 1000)
  assert.ok(runs > 1)
  // Where the bound ran out decides which: the last hook is cut at its share, or the next one is not run.
  assert.equal(unsettled.length, 1, JSON.stringify(unsettled))
  assert.match(unsettled[0], /^(onDispose hook (\d+) of \2 did not settle within \d+ ms|1 onDispose hook registered while unloading did not run: the 50 ms were spent)$/)
})
