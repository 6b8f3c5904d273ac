/**
 * Collects log lines and hands them to the stdout writer (sonic-boom) a batch at a time.
 *
 * Why not give pino the sonic-boom stream directly: sonic-boom's `write` measures the chunk it is appending
 * to on every call (`Buffer.byteLength` of a string built by `+=`, which flattens it), 2.2 µs a line against
 * 0.1 µs for pushing the line onto an array here (BENCHMARKS.md). With one info line per message that was a
 * tenth of the engine's own time. sonic-boom still does the writing (in order, EAGAIN retried).
 */
import type { DestinationStream } from 'pino'

/** What we need of the writer behind the batch (sonic-boom's surface). */
export interface LineSink {
  write(chunk: string): boolean
  flush(cb: (err?: Error | null) => void): void
  flushSync(): void
}

export class LineBatch implements DestinationStream {
  private lines: string[] = []
  private size = 0

  /** `minLength`: UTF-16 units collected before they go to the sink (near enough bytes for a threshold). */
  constructor(
    private readonly sink: LineSink,
    private readonly minLength: number,
  ) {
    exitHandOver.add(this)
  }

  write(line: string): void {
    this.lines.push(line)
    this.size += line.length
    if (this.size >= this.minLength) this.handOver()
  }

  /** Everything collected so far to the sink, in one write. */
  handOver(): void {
    if (this.lines.length === 0) return
    const chunk = this.lines.length === 1 ? this.lines[0]! : this.lines.join('')
    this.lines = []
    this.size = 0
    this.sink.write(chunk)
  }

  /** Hands over what is collected and calls back once the sink has written it (pino's `logger.flush`). */
  flush(cb: (err?: Error | null) => void): void {
    this.handOver()
    this.sink.flush(cb)
  }

  /** pino calls this after a `fatal` line, so the line is out before the process goes down. */
  flushSync(): void {
    this.handOver()
    this.sink.flushSync()
  }
}

// Lines still collected at exit go to the sink then, before any other exit listener (pino's among them)
// flushes it. One listener for all batches; a batch is held weakly, so a logger dropped by a test is not kept
// alive for the exit.
const exitHandOver = (() => {
  const batches = new Set<WeakRef<LineBatch>>()
  let installed = false
  const handOverAll = (): void => {
    for (const ref of batches) {
      const batch = ref.deref()
      if (batch) batch.handOver()
      else batches.delete(ref)
    }
  }
  // At exit also the lines the sink still holds (stdout's reader was behind: stdout-sink.ts waits a little).
  const flushAll = (): void => {
    for (const ref of batches) ref.deref()?.flushSync()
  }
  return {
    add(batch: LineBatch): void {
      batches.add(new WeakRef(batch))
      if (!installed) {
        installed = true
        process.prependListener('beforeExit', handOverAll)
        process.prependListener('exit', flushAll)
      }
    },
  }
})()
