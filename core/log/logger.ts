/**
 * Structured logging (pino). Every dropped or failed message leaves a line with `code` and `reason`.
 * Tests pass `createLogger({ level: 'silent' })` or capture lines with `createMemoryLogger()`.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino'
import pretty from 'pino-pretty'
import { LineBatch } from './line-batch.ts'
import { stdoutSink } from './stdout-sink.ts'
import { printable } from '../shown-text.ts'

export type Logger = PinoLogger

export interface LoggerOptions {
  level?: string
  /**
   * Readable lines instead of JSON: on stdout (`wxengine dev`), or on stderr where stdout belongs to
   * something else (a test reporter), written at once; in colour only on a terminal (`wxengine dev > file`
   * wrote colour codes into the file: a newcomer's walkthrough).
   */
  pretty?: boolean | 'stderr'
  destination?: DestinationStream
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info'
  if (opts.destination) return pino({ level, base: undefined }, opts.destination)
  if (opts.pretty) {
    // A stream in this thread, not a pino transport: transports load a file by path, which the single
    // binary does not have.
    const output = opts.pretty === 'stderr' ? { destination: 2, sync: true, colorize: Boolean(process.stderr.isTTY) } : { colorize: Boolean(process.stdout.isTTY) }
    // A line's message can quote others' text (a plugin's error, which may repeat what a user wrote): its
    // control characters are shown escaped, or an escape sequence was a command to the terminal and a newline
    // forged a line of its own. The fields are JSON already; the JSON lines below are escaped by JSON.
    const messageFormat = (log: Record<string, unknown>, key: string) => {
      const msg = log[key]
      return typeof msg === 'string' ? printable(msg) : msg === undefined ? '' : String(msg)
    }
    return pino({ level, base: undefined }, pretty({ translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', messageFormat, ...output }))
  }
  // Lines are collected (LineBatch: sonic-boom's own buffering costs 2 µs a line) and written in batches of
  // 4 KiB, or within a second on a quiet server: one write() per batch, not per line. The writes are
  // synchronous, as pino's default destination's and node's own stdout on Linux: an asynchronous write still
  // in flight at process.exit() finished after the lines written at exit, out of order (test/log). A
  // kill -9 can lose up to a second of stdout lines (never the message log). A stdout that cannot be written
  // (a full disk) keeps its lines for later and never fails the log call (stdout-sink.ts).
  // The sink hands over the batch itself before it says stdout is written again, so that line follows them.
  const lines: LineBatch = new LineBatch(
    stdoutSink(() => lines.handOver()),
    4096,
  )
  // On a quiet server a line must not sit in the batch: hand over whatever is there every second.
  setInterval(() => {
    try {
      lines.handOver()
    } catch {
      // The writer is destroyed at exit: there is nothing left to lose.
    }
  }, 1000).unref()
  return pino({ level, base: undefined }, lines)
}

/** Write out buffered log lines (before exiting). */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()))
}

/** A logger whose lines are kept in memory as parsed objects, for tests to assert on. */
export function createMemoryLogger(level = 'debug'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const destination: DestinationStream = {
    write(chunk: string) {
      lines.push(JSON.parse(chunk) as Record<string, unknown>)
    },
  }
  return { logger: pino({ level, base: undefined }, destination), lines }
}
