/**
 * Running synchronous code that someone else wrote (engine.config.ts, a plugin's configSchema) under a
 * deadline, on the serving thread. Such code cannot be raced with a timer: a loop, an `Atomics.wait` or a
 * backtracking regex holds the thread, and every account's messages with it. node's vm timeout can stop it:
 * V8 interrupts the run wherever it is (in a loop, in a regex) and the call throws.
 */
import { Script } from 'node:vm'

/**
 * Runs `fn` and returns what it returns; past `ms` its run is stopped and an ERR_SCRIPT_EXECUTION_TIMEOUT
 * error thrown (isDeadlineError). A stopped run runs none of its `finally` blocks: state it was changing is
 * left as it was. The timeout covers only what a Script runs, so the Script calls `fn` through a global
 * slot, set for the call (and put back after: a run may start another inside it).
 */
export function underDeadline<T>(fn: () => T, ms: number): T {
  const slot = globalThis as unknown as Record<symbol, (() => void) | undefined>
  const outer = slot[RUN_SLOT]
  let result: { value: T } | undefined
  slot[RUN_SLOT] = () => {
    result = { value: fn() }
  }
  try {
    // displayErrors off: on, node put the failing line's source above an error's stack, and its place without the column.
    callSlot.runInThisContext({ timeout: ms, displayErrors: false })
  } finally {
    slot[RUN_SLOT] = outer
  }
  return result!.value
}

/** Whether `e` is the error of a run stopped at its deadline. */
export function isDeadlineError(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT'
}

const RUN_SLOT_KEY = 'wxengine.underDeadline.run'
const RUN_SLOT = Symbol.for(RUN_SLOT_KEY)
const callSlot = new Script(`globalThis[Symbol.for(${JSON.stringify(RUN_SLOT_KEY)})]()`, { filename: 'wxengine:under-deadline' })
