/**
 * The writer of the process log on stdout (sonic-boom, synchronous), made to survive a stdout that cannot
 * be written, for a while or for good.
 *
 * - **A full disk.** stdout is often a file (`wxengine start >> engine.log`, nohup.out). When its disk fills
 *   or a file size cap is reached, write() fails (ENOSPC, EFBIG, EIO); sonic-boom emits that as 'error', and
 *   an 'error' nobody listens to is thrown out of the log call that wrote the line: the first line logged
 *   after the disk filled took the engine down (exit 1), whatever it was doing.
 * - **A reader that stops reading.** stdout is a pipe or a socket (journald, docker, `| tee`), which node
 *   makes non-blocking once process.stdout is touched (the CLI does), or a terminal, opened again
 *   non-blocking here (nonBlocking()); once full, write() says EAGAIN. sonic-boom's answer is to sleep
 *   100 ms and try again, on the thread that answers messages, for as long as the reader stays stalled: the
 *   engine stopped answering everyone (test/e2e/stalled-stdout.test.ts). Here it does not retry: the lines
 *   wait.
 *
 * Either way the lines are kept and tried again with the next write, and at least every second while any
 * wait (a quiet server logs nothing else); past BACKLOG_BYTES new ones are dropped (counted) instead of
 * growing without end. A failure is said on stderr, often somewhere else (a terminal, journald): a write
 * error at once, a full pipe once it has lasted STALL_SAID_AFTER_MS or lines are dropped (a reader a moment
 * behind is normal). Once stdout takes lines again, a line there says how many were lost. At exit the lines
 * still waiting for a stalled reader get up to EXIT_WAIT_MS of retries, so a reader that is merely slow gets them.
 * (EPIPE, a reader gone, pino already turns into silence.)
 */
import { constants, openSync, readlinkSync, writeSync } from 'node:fs'
import { isatty } from 'node:tty'
import { pino } from 'pino'
import type { ErrorCode } from '../errors.ts'

/** Lines kept for stdout while it fails; later ones are dropped. */
const BACKLOG_BYTES = 8 * 1024 * 1024
/** A full pipe is said on stderr when it has lasted this long (or lines are dropped). */
const STALL_SAID_AFTER_MS = 5_000
/** At exit, how long the lines still waiting may hold the process for a reader that is behind. */
const EXIT_WAIT_MS = 2_000
const CODE: ErrorCode = 'LOG_UNWRITABLE'

type Sink = ReturnType<typeof pino.destination>

/**
 * `handOverCollected`: hands the sink the lines collected in front of it and not yet given to it (the
 * process log's LineBatch). Called before the line saying stdout can be written again is queued: the lines
 * logged while it could not be must all come before that line, and up to a second of them can be in the batch.
 */
export function stdoutSink(handOverCollected: () => void = () => {}): Sink {
  // Never sleep-and-retry on EAGAIN inside sonic-boom: lines wait instead (retried at exit by flushSync below).
  const sink = pino.destination({ dest: nonBlocking(1), sync: true, minLength: 0, maxLength: BACKLOG_BYTES, retryEAGAIN: () => false })
  // Where the failure is said. On a terminal most likely the same stalled one: not to be waited on either.
  const stderr = nonBlocking(2)
  // What is failing, since when, whether it is a stalled reader, whether stderr was told; lines dropped meanwhile.
  let failing: { reason: string; since: number; stalled: boolean; said: boolean } | null = null
  let dropped = 0

  const say = () => {
    if (failing === null || failing.said) return
    failing.said = true
    const line = JSON.stringify({ level: 50, time: Date.now(), code: CODE, reason: failing.reason, msg: 'stdout cannot be written: log lines are kept (up to 8 MiB) and written when it can be again; the engine goes on serving' })
    try {
      // Synchronous and to the fd: process.stderr would report its own failure as another unhandled 'error'.
      writeSync(stderr, `${line}\n`)
    } catch {
      // stderr is the same full disk, or the same stalled terminal: nowhere left to say it.
    }
  }

  sink.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') return
    const stalled = e.code === 'EAGAIN' || e.code === 'EBUSY'
    if (failing === null) failing = { reason: stalled ? `${e.code}: the reader of stdout is not reading` : e.message, since: Date.now(), stalled, said: false }
    if (!stalled || Date.now() - failing.since >= STALL_SAID_AFTER_MS) say()
  })
  sink.on('drop', (data: string | Buffer) => {
    // stdout is fine and this one line is over the whole backlog (a message run into the megabytes): it
    // would vanish without a word, so its start goes out in a line of its own instead.
    if (failing === null) return void sink.write(`${JSON.stringify(tooLong(data))}\n`)
    dropped++
    say()
  })
  // Every successful write. After a failure, set again by the next failure: so `failing` is set exactly when
  // the last write failed and lines are waiting in the sink.
  sink.on('write', () => {
    if (failing === null) return
    const { reason, said } = failing
    failing = null
    // A reader a moment behind, nothing lost: not worth a line.
    if (!said && dropped === 0) return
    // Queued behind the lines being written (sonic-boom is mid-write here), so it comes out after them; the
    // lines still collected in front of the sink are queued first. The retry below and the batch's hand-over
    // tick together, this one first: without this the last lines logged during a stall came after this line.
    handOverCollected()
    sink.write(`${JSON.stringify({ level: 40, time: Date.now(), code: CODE, reason, dropped, msg: 'stdout can be written again; lines logged meanwhile are written, except those dropped' })}\n`)
    dropped = 0
  })

  // Waiting lines are tried again with the next write; on a quiet server there may be none for a while.
  const retry = (): void => {
    try {
      sink.write('')
    } catch {
      // Destroyed at exit: nothing left to write to.
    }
  }
  setInterval(() => failing !== null && retry(), 1_000).unref()

  // In place of sonic-boom's flushSync (pino's after a fatal line, ours at exit): with every write
  // synchronous there is nothing to flush unless lines are waiting. sonic-boom's own retries any failure
  // every 100 ms for ever, a full disk included; this one retries only a stalled reader, and not for long.
  sink.flushSync = () => {
    const until = Date.now() + EXIT_WAIT_MS
    const pause = new Int32Array(new SharedArrayBuffer(4))
    while (failing !== null && failing.stalled && Date.now() < until) {
      Atomics.wait(pause, 0, 0, 50)
      retry()
    }
  }
  return sink
}

/** What stands for a line over BACKLOG_BYTES: its size and its start, where the level, code and message are. */
function tooLong(data: string | Buffer): Record<string, unknown> {
  const text = typeof data === 'string' ? data : data.toString('utf8', 0, 4096)
  const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length
  return { level: 40, time: Date.now(), code: CODE, bytes, start: text.slice(0, 2000), msg: `a log line of ${bytes} bytes was over ${BACKLOG_BYTES} and not written; its start is here` }
}

/**
 * The fd itself, or on a terminal a second, non-blocking handle on the same terminal. A terminal's fd is
 * blocking (node leaves it so, as it is shared with the shell), and a write to a terminal whose output is
 * stopped (Ctrl-S, a `script` or ssh session nobody reads) blocks the thread that answers messages. libuv
 * does the same for node's own tty streams: it opens the terminal again and makes that handle non-blocking,
 * leaving the shell's alone. Linux only (the terminal's name from /proc); the fd itself wherever that fails.
 */
function nonBlocking(fd: 1 | 2): number {
  let handle = reopened.get(fd)
  if (handle === undefined) {
    handle = fd
    if (isatty(fd)) {
      try {
        const terminal = readlinkSync(`/proc/self/fd/${fd}`)
        if (terminal.startsWith('/dev/')) handle = openSync(terminal, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY)
      } catch {
        // Not Linux, or the terminal cannot be opened again: the fd itself.
      }
    }
    reopened.set(fd, handle)
  }
  return handle
}
/** One handle per fd and process, however many loggers are made (tests make many). */
const reopened = new Map<number, number>()
