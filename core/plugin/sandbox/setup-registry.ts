import { apiError } from '../api-error.ts'

/**
 * What a plugin's setup registered (timers, cleanup hooks), kept so that unloading undoes it even when
 * the plugin's own dispose forgets (the team's style notes, ../shared/style.md beside the repository: "What setup registers through api is undone on unload").
 */
export interface SetupRegistry {
  /**
   * An interval; a tick that comes while the previous run has not finished is skipped. Returns the timer's
   * cancel: no run starts after it (one going is not interrupted), and it is harmless to call again, once
   * unloading cleared the timer, or for a timer refused because unloading had begun.
   */
  every(ms: number, fn: () => unknown): () => void
  /** A timeout; returns its cancel, as `every` does (harmless too once the timer has fired). */
  after(ms: number, fn: () => unknown): () => void
  /**
   * The start of unloading: clears every live timer, so that none starts a new run from now on (one a run
   * still going registers is not started either, and `dropped` says so), and resolves once the runs in
   * flight have finished, or at `withinMs` with how many had not. A plugin's dispose runs after this: a
   * timer that fired while dispose closed what it uses (a connection, a file) failed, or wrote after the flush.
   */
  stopTimers(withinMs: number): Promise<{ unfinished: number }>
  /** `registeredAt`: where in the plugin it was registered, to name the hook if it does not settle. */
  onDispose(fn: () => unknown, registeredAt?: string): void
  /**
   * Clears every live timer and runs the hooks, one after another in the order registered, all within
   * `withinMs`: each is waited for at most its share (what is left of the bound over the hooks left), then
   * left to itself and the next one runs, so that a hook that never settles does not cost the later ones
   * their turn (before, they never ran). Says how many timers and hooks there were, and which hooks did not
   * settle in time.
   */
  undo(withinMs: number): Promise<UndoResult>
}

export interface UndoResult {
  cleared: number
  /** Each hook that did not settle within its share, named (`onDispose hook 1 of 2 (at plugins/x/index.ts:5:9) did not settle within 1000 ms`). */
  unsettled: string[]
}

interface Hook {
  fn: () => unknown
  registeredAt: string | undefined
}

/**
 * `report` gets what timer callbacks and hooks throw: they belong to no call, so it is only logged.
 * `skipped` hears of an `every` tick skipped because the previous run is still going (once per such stretch).
 * `opts.plugin` names the plugin in the errors thrown at a bad call. `opts.dropped` hears of a timer
 * registered once unloading began (a run in flight that re-arms itself), which is not started.
 */
export function createSetupRegistry(
  report: (what: string, thrown: unknown) => void,
  skipped: (everyMs: number, runningForMs: number) => void = () => undefined,
  opts: { plugin?: string; dropped?: (what: 'every' | 'after', ms: number) => void } = {},
): SetupRegistry {
  const plugin = opts.plugin ?? 'plugin'
  // The live timers: what unloading clears, and what a timer's cancel takes its timer out of, so that a timer
  // cancelled is no longer counted or cleared at unload. A timer not in them does not start a run.
  const intervals = new Set<NodeJS.Timeout>()
  const timeouts = new Set<NodeJS.Timeout>()
  const hooks: Hook[] = []
  /** Timer runs that have not settled yet, for stopTimers to wait on. */
  const inFlight = new Set<Promise<void>>()
  let stopped = false
  /** Timers cleared by stopTimers, which undo's count includes. */
  let clearedEarlier = 0

  // A rejected promise from a timer would otherwise be an unhandled rejection in the worker. Settles when
  // the callback (an async one too) has finished, never rejects.
  const run = (what: string, fn: () => unknown): Promise<void> => {
    try {
      return Promise.resolve(fn()).then(
        () => undefined,
        (e: unknown) => report(what, e),
      )
    } catch (e) {
      report(what, e)
      return Promise.resolve()
    }
  }
  const runTimer = (what: 'every' | 'after', fn: () => unknown): Promise<void> => {
    const running = run(what, fn)
    inFlight.add(running)
    void running.then(() => inFlight.delete(running))
    return running
  }
  const clearTimers = (): number => {
    const count = intervals.size + timeouts.size
    for (const t of intervals) clearInterval(t)
    for (const t of timeouts) clearTimeout(t)
    intervals.clear()
    timeouts.clear()
    return count
  }

  return {
    every(ms, fn) {
      checkDelay(plugin, 'every', ms, MIN_EVERY_MS)
      checkCallback('every', fn)
      if (stopped) {
        opts.dropped?.('every', ms)
        return cancelNothing
      }
      // One run at a time: an async job slower than its interval (a digest sent to many users, an API that
      // answers in 10 s to an every(5000)) ran again beside itself, and sent everything twice.
      let runningSince: number | undefined
      let told = false
      const t = setInterval(() => {
        // A tick already queued when the timer was cleared (by unloading, or by its cancel).
        if (!intervals.has(t)) return
        if (runningSince !== undefined) {
          if (!told) skipped(ms, Date.now() - runningSince)
          told = true
          return
        }
        runningSince = Date.now()
        void runTimer('every', fn).then(() => {
          runningSince = undefined
          told = false
        })
      }, ms)
      intervals.add(t)
      // Called from its own callback too (a poll that got its answer): the interval is cleared before the
      // next tick, and the run going finishes as any run does.
      return () => {
        clearInterval(t)
        intervals.delete(t)
      }
    },
    after(ms, fn) {
      checkDelay(plugin, 'after', ms, 0)
      checkCallback('after', fn)
      if (stopped) {
        opts.dropped?.('after', ms)
        return cancelNothing
      }
      const t = setTimeout(() => {
        // Not there: cleared (by unloading, or by its cancel) with this callback already queued.
        if (!timeouts.delete(t)) return
        void runTimer('after', fn)
      }, ms)
      timeouts.add(t)
      return () => {
        clearTimeout(t)
        timeouts.delete(t)
      }
    },
    onDispose(fn, registeredAt) {
      checkCallback('onDispose', fn)
      hooks.push({ fn, registeredAt })
    },
    async stopTimers(withinMs) {
      stopped = true
      clearedEarlier += clearTimers()
      const running = [...inFlight]
      if (running.length === 0) return { unfinished: 0 }
      await settlesWithin(Promise.all(running).then(() => undefined), withinMs)
      return { unfinished: running.filter((r) => inFlight.has(r)).length }
    },
    async undo(withinMs) {
      stopped = true
      const cleared = clearedEarlier + clearTimers() + hooks.length
      clearedEarlier = 0
      const unsettled: string[] = []
      const endAt = Date.now() + withinMs
      // Taken one at a time, not as a list made at the start: a hook registered while the hooks run (by a
      // hook, or by a timer run still going, which opened something to close) was pushed after the list
      // was taken and never ran, without a word. It runs now, in its turn, within the same bound.
      const registeredBefore = hooks.length
      let count = registeredBefore
      for (let i = 0; hooks.length > 0; i++) {
        // Those registered meanwhile only while the bound lasts: a hook that registers itself again would never end.
        if (i >= registeredBefore && Date.now() >= endAt) {
          unsettled.push(`${hooks.length} onDispose hook${hooks.length === 1 ? '' : 's'} registered while unloading did not run: the ${withinMs} ms were spent`)
          hooks.length = 0
          break
        }
        const hook = hooks.shift()!
        count = Math.max(count, i + 1 + hooks.length)
        // Registration order, as a plugin flushing before it closes expects. A fast hook leaves its time to the later ones.
        const share = Math.max(0, endAt - Date.now()) / (hooks.length + 1)
        if (!(await settlesWithin(run('onDispose', hook.fn), share))) {
          const where = hook.registeredAt === undefined ? '' : ` (at ${hook.registeredAt})`
          unsettled.push(`onDispose hook ${i + 1} of ${count}${where} did not settle within ${Math.round(share)} ms`)
        }
      }
      return { cleared, unsettled }
    },
  }
}

/** The cancel of a timer that was never started (registered once unloading began). */
const cancelNothing = (): void => undefined

/**
 * Waits for `running` (a hook as `run` runs it: its throw or rejection reported, never rejecting) at most
 * `ms`: true when it settled, false when it was still pending then. It is not stopped (nothing can stop it);
 * a rejection that comes later is still reported.
 */
function settlesWithin(running: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    void running.then(() => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/**
 * Node's timers hold a 32-bit delay: a longer one (`after(30 * 24 * 3600 * 1000, ...)`, a month) is taken as
 * 1 ms, with only a process warning, and the callback meant for next month ran at once (an every: 1000
 * times a second).
 */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The shortest interval `every` takes. Node runs `setInterval(fn, 0)` (or 0.5, or -1) every millisecond: a
 * plugin's worker then spends its time in the callback (and its storage or API calls) and answers its
 * messages late. Ten milliseconds is far below any job a plugin has, and above a busy loop.
 */
export const MIN_EVERY_MS = 10

function checkDelay(plugin: string, what: 'every' | 'after', ms: number, min: number): void {
  // A plugin bug: throwing tells its author at setup, where the stack points at the call.
  const call = `${what} (plugin ${plugin})`
  if (typeof ms !== 'number') throw apiError('TypeError', `${call}: ms must be a number of milliseconds, got ${shownDelay(ms)}`)
  if (Number.isNaN(ms) || ms < min) {
    const why = what === 'every' ? ': a shorter interval is a busy loop, which keeps the plugin from answering its messages' : ''
    throw apiError('RangeError', `${call}: ms must be at least ${min}, got ${ms}${why}`)
  }
  if (ms > MAX_TIMER_MS) throw apiError('RangeError', `${call}: ms must be at most ${MAX_TIMER_MS} (about 24.8 days), got ${ms}: for a later time, keep the due time in storage and check it with a shorter every`)
}

/**
 * What is no function failed at each tick instead (`api.every(60_000, this.tick)` with `tick` misspelt, in a
 * plugin with no type check at load: "every failed: TypeError: fn is not a function" once a minute, for good),
 * or at unload for a hook: refused at the call, whose line the error then names.
 */
function checkCallback(what: string, fn: unknown): void {
  if (typeof fn !== 'function') throw apiError('TypeError', `${what}: the callback must be a function, got ${fn === null ? 'null' : typeof fn}`)
}

function shownDelay(ms: unknown): string {
  return typeof ms === 'number' ? String(ms) : ms === null ? 'null' : typeof ms === 'string' ? JSON.stringify(ms.slice(0, 40)) : typeof ms
}
