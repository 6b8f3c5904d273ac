/**
 * The worker's memory outside its heap. `resourceLimits` bound only V8's heap; the backing stores of
 * ArrayBuffers, typed arrays and Buffers are outside it, so a plugin holding them could grow the process
 * until the OS killed all of it, every account with it (a review took an engine to 3 GB this way, then
 * OOM-killed it in a 1.5 GB cgroup). Checked after each call and once a second: past the bound, after a full
 * collection (the buffers may be garbage not yet collected), the worker asks to be replaced.
 *
 * This catches what a plugin keeps, not a single call that allocates gigabytes at once: that call runs
 * to its end (or its timeout) before anything can look.
 */
import v8 from 'node:v8'
import vm from 'node:vm'

export interface ExternalMemoryWatch {
  /** MB held outside the heap when over the bound (after a full GC), else undefined. */
  check(): number | undefined
}

export function watchExternalMemory(limitMb: number, onOver: (externalMb: number) => void, everyMs = 1000): ExternalMemoryWatch {
  const limit = limitMb * 1_048_576
  let reported = false
  const check = (thorough = false): number | undefined => {
    if (reported || outside(thorough) <= limit) return undefined
    collectGarbage()
    const external = outside(true)
    if (external <= limit) return undefined
    reported = true
    const mb = Math.round(external / 1_048_576)
    onOver(mb)
    return mb
  }
  // After each call the cheap count (1 µs); once a second the thorough one too (10 µs: it reads the RSS).
  setInterval(() => check(true), everyMs).unref()
  return { check: () => check() }
}

/**
 * Bytes held outside the heap: V8's external memory (ArrayBuffers, Buffers, WebAssembly memory) and, when
 * `thorough`, node's count of array buffers, which also has the SharedArrayBuffers the sandbox should not
 * let a plugin make (sandbox setup removes them; this is the second line).
 */
function outside(thorough: boolean): number {
  const external = v8.getHeapStatistics().external_memory
  if (!thorough) return external
  try {
    return Math.max(external, process.memoryUsage().arrayBuffers)
  } catch {
    // memoryUsage() reads /proc/self/stat for the RSS: at the process's open-files limit it throws EMFILE,
    // which in this timer would crash the worker (and restart it, at the limit). The first count stands.
    return external
  }
}

let gc: (() => void) | undefined

/**
 * A full collection of this worker's isolate: as jest does for --logHeapUsage, the gc function of a fresh
 * context made while --expose-gc is set. Only on this rare path (over the bound). The flag is process-wide
 * and every context made while it is set gets a `gc` global, so it is set only for the one context made
 * here and cleared at once: plugin sandboxes made later (a restart) must not see a `gc` (nor depend on
 * whether some worker once went over its bound). `vm.measureMemory({ execution: 'eager' })` collects too,
 * but did not free the buffers (tried on Node 20 and 24).
 */
function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc')
    try {
      gc = vm.runInNewContext('gc') as () => void
    } finally {
      v8.setFlagsFromString('--no-expose-gc')
    }
  }
  // Twice: one collection left most of 128 MB of dead buffers counted (their backing stores are freed by
  // the next; measured on Node 20 and 24), the second brings the count to what is live.
  gc()
  gc()
}
