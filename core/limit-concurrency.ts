/**
 * At most `max` tasks at once; the rest wait in order. A finishing task hands its slot straight to the next
 * waiter (the count does not drop and rise again), so a task arriving meanwhile cannot slip in past the bound.
 * Used where work must not all start together: plugins starting (load-plugin-set.ts), media uploads
 * (platform/media-uploads.ts).
 */
export function createLimiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0
  const queue: Array<() => void> = []
  return async (task) => {
    if (running < max) running++
    // Waits for a finishing task to hand over its slot.
    else await new Promise<void>((resolve) => queue.push(resolve))
    try {
      return await task()
    } finally {
      const next = queue.shift()
      if (next) next()
      else running--
    }
  }
}
