/**
 * The worker's memory, on its heap and outside it, against the plugin's bound (limits.pluginMemoryMb).
 * Checked after each call and once a second: past the bound, after a full collection (it may be garbage
 * not yet collected), the worker asks to be replaced.
 *
 * Outside the heap: `resourceLimits` bound only V8's heap; the backing stores of ArrayBuffers, typed arrays
 * and Buffers are outside it, so a plugin holding them could grow the process until the OS killed all of
 * it, every account with it (a review took an engine to 3 GB this way, then OOM-killed it in a 1.5 GB
 * cgroup).
 *
 * On the heap: V8's own limit is not left to do it. On Node 20 and 22, a worker reaching its heap limit
 * ends the whole process when the allocation that reaches it is larger than the 16 MB of leeway node gives
 * a worker to stop in (a growing array's new backing store, a key list): "FATAL ERROR: Reached heap limit",
 * every account down (a review, with a plugin keeping its data in an array; node 24 stops only the worker).
 * So the worker's V8 limit is twice the bound (plugin-runner.ts), and this replaces a plugin that keeps
 * more than the bound before it gets near there.
 *
 * This catches what a plugin keeps, not a single call that allocates without end: that call runs until
 * its timeout or V8's limit. In a worker thread on Node 20 and 22 that limit can still take the process
 * down; so there limits.pluginIsolation's default ('auto', core/plugin/plugin-isolation.ts) runs the worker
 * in a child process of its own, whose limit (--max-old-space-size, the same twice the bound) ends only it:
 * the runner sees a crash and restarts the plugin.
 */
import v8 from 'node:v8'
import vm from 'node:vm'

export interface MemoryWatch {
  /** What is over the bound (after a full GC), else undefined. */
  check(): MemoryOver | undefined
}

export interface MemoryOver {
  where: 'heap' | 'outside'
  mb: number
}

export function watchMemory(limitMb: number, onOver: (over: MemoryOver) => void, everyMs = 1000): MemoryWatch {
  const limit = limitMb * 1_048_576
  let reported = false
  const overOf = (heap: number, external: number): MemoryOver | undefined =>
    heap > limit ? { where: 'heap', mb: Math.round(heap / 1_048_576) } : external > limit ? { where: 'outside', mb: Math.round(external / 1_048_576) } : undefined
  const check = (thorough = false): MemoryOver | undefined => {
    if (reported) return undefined
    const first = measure(thorough)
    if (!overOf(first.heap, first.external)) return undefined
    collectGarbage()
    const after = measure(true)
    const over = overOf(after.heap, after.external)
    if (!over) return undefined
    reported = true
    onOver(over)
    return over
  }
  // After each call the cheap count (1 µs); once a second the thorough one too (10 µs: it reads the RSS).
  setInterval(() => check(true), everyMs).unref()
  return { check: () => check() }
}

/**
 * Bytes on the heap, and held outside it: V8's external memory (ArrayBuffers, Buffers, WebAssembly memory)
 * and, when `thorough`, node's count of array buffers, which also has the SharedArrayBuffers the sandbox
 * should not let a plugin make (sandbox setup removes them; this is the second line).
 */
function measure(thorough: boolean): { heap: number; external: number } {
  const stats = v8.getHeapStatistics()
  const heap = stats.used_heap_size
  if (!thorough) return { heap, external: stats.external_memory }
  try {
    return { heap, external: Math.max(stats.external_memory, process.memoryUsage().arrayBuffers) }
  } catch {
    // memoryUsage() reads /proc/self/stat for the RSS: at the process's open-files limit it throws EMFILE,
    // which in this timer would crash the worker (and restart it, at the limit). The first count stands.
    return { heap, external: stats.external_memory }
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
