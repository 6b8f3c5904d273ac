/**
 * Runs a plugin's requests to the main thread (storage, API calls) a slice at a time: as many as fit in
 * `sliceMs` of one event-loop turn, the rest in later turns. Storage is synchronous SQLite on this thread,
 * and a worker's requests arrive together: one `Promise.all` of 200 `storage.set` calls of 1 MB each was
 * 5-8 s of writes in one turn, with every account's messages waiting behind them. Sliced, other work runs
 * between the slices, and the plugin's requests still run in the order it made them.
 */
export interface TurnSlicer {
  /**
   * Runs `task` now if this turn's slice has room and nothing is waiting, else queues it for a later turn.
   * A task must not throw (the runner's are async functions: their failures are rejections).
   */
  run(task: () => void): void
  /** Tasks not yet run. */
  readonly queued: number
}

export function createTurnSlicer(sliceMs = 4, now: () => number = () => performance.now()): TurnSlicer {
  let queue: Array<() => void> = []
  /** A slice is open from its first task to the end of that turn (a setImmediate closes it). */
  let open = false
  let endsAt = 0

  /** Whether this turn's slice has time left; opens one if none is. */
  function roomLeft(): boolean {
    const t = now()
    if (!open) {
      open = true
      endsAt = t + sliceMs
      setImmediate(nextTurn)
      return true
    }
    return t < endsAt
  }

  function nextTurn(): void {
    open = false
    if (queue.length === 0) return
    const tasks = queue
    queue = []
    roomLeft() // opens this turn's slice
    let i = 0
    // At least one task a turn, however long it takes, so that a big one still makes progress.
    do tasks[i++]!()
    while (i < tasks.length && roomLeft())
    // What did not fit goes before anything queued meanwhile: the plugin's order is kept.
    if (i < tasks.length) queue = tasks.slice(i).concat(queue)
  }

  return {
    run(task) {
      if (queue.length === 0 && roomLeft()) task()
      // Queued only while a slice is open, and an open slice's setImmediate (nextTurn) is pending.
      else queue.push(task)
    },
    get queued() {
      return queue.length
    },
  }
}
