import { apiError } from '../api-error.ts'

/**
 * What a plugin's setup registered (timers, cleanup hooks), kept so that unloading undoes it even when
 * the plugin's own dispose forgets (the team's style notes, ../shared/style.md beside the repository: "What setup registers through api is undone on unload").
 */
export interface SetupRegistry {
  every(ms: number, fn: () => unknown): void
  after(ms: number, fn: () => unknown): void
  onDispose(fn: () => unknown): void
  /** Clears every live timer and runs the hooks; returns how many timers and hooks there were. */
  undo(): Promise<number>
}

/** `report` gets what timer callbacks and hooks throw: they belong to no call, so it is only logged. */
export function createSetupRegistry(report: (what: string, thrown: unknown) => void): SetupRegistry {
  const intervals = new Set<NodeJS.Timeout>()
  const timeouts = new Set<NodeJS.Timeout>()
  const hooks: Array<() => unknown> = []

  // A rejected promise from a timer would otherwise be an unhandled rejection in the worker.
  const run = (what: string, fn: () => unknown): void => {
    try {
      Promise.resolve(fn()).catch((e: unknown) => report(what, e))
    } catch (e) {
      report(what, e)
    }
  }

  return {
    every(ms, fn) {
      checkDelay('every', ms)
      intervals.add(setInterval(() => run('every', fn), ms))
    },
    after(ms, fn) {
      checkDelay('after', ms)
      const t = setTimeout(() => {
        timeouts.delete(t)
        run('after', fn)
      }, ms)
      timeouts.add(t)
    },
    onDispose(fn) {
      hooks.push(fn)
    },
    async undo() {
      const count = intervals.size + timeouts.size + hooks.length
      for (const t of intervals) clearInterval(t)
      for (const t of timeouts) clearTimeout(t)
      intervals.clear()
      timeouts.clear()
      for (const hook of hooks.splice(0)) {
        try {
          await hook()
        } catch (e) {
          report('onDispose', e)
        }
      }
      return count
    },
  }
}

/**
 * Node's timers hold a 32-bit delay: a longer one (`after(30 * 24 * 3600 * 1000, ...)`, a month) is taken as
 * 1 ms, with only a process warning, and the callback meant for next month ran at once (an every: 1000
 * times a second).
 */
const MAX_TIMER_MS = 2 ** 31 - 1

function checkDelay(what: string, ms: number): void {
  // A plugin bug: throwing tells its author at setup, where the stack points at the call.
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw apiError('TypeError', `${what}: ms must be a finite number >= 0, got ${shownDelay(ms)}`)
  if (ms > MAX_TIMER_MS) throw apiError('TypeError', `${what}: ms must be at most ${MAX_TIMER_MS} (about 24.8 days), got ${ms}: for a later time, keep the due time in storage and check it with a shorter every`)
}

function shownDelay(ms: unknown): string {
  return typeof ms === 'number' ? String(ms) : ms === null ? 'null' : typeof ms === 'string' ? JSON.stringify(ms.slice(0, 40)) : typeof ms
}
