/**
 * The writer of the process log on stdout (sonic-boom, synchronous), made to survive a stdout that cannot
 * be written.
 *
 * stdout is often a file (`wxengine start >> engine.log`, nohup.out). When its disk fills or a file size cap
 * is reached, write() fails (ENOSPC, EFBIG, EIO); sonic-boom emits that as 'error', and an 'error' nobody
 * listens to is thrown out of the log call that wrote the line: the first line logged after the disk filled
 * took the engine down (exit 1), whatever it was doing. A log that cannot be written must not stop the
 * answers. (EPIPE, a reader gone, pino already turns into silence.)
 *
 * So failures are listened for. sonic-boom keeps the lines it could not write and tries them again with the
 * next write; past BACKLOG_BYTES it drops new ones (counted) instead of growing without end. The first
 * failure is said on stderr, often somewhere else (journald, a terminal); once stdout takes lines again, a
 * line there says how many were lost.
 */
import { writeSync } from 'node:fs'
import { pino } from 'pino'
import type { ErrorCode } from '../errors.ts'

/** Lines kept for stdout while it fails; later ones are dropped. */
const BACKLOG_BYTES = 8 * 1024 * 1024
const CODE: ErrorCode = 'LOG_UNWRITABLE'

type Sink = ReturnType<typeof pino.destination>

export function stdoutSink(): Sink {
  const sink = pino.destination({ dest: 1, sync: true, minLength: 0, maxLength: BACKLOG_BYTES })
  let failing: string | null = null
  let dropped = 0
  sink.on('error', (e: NodeJS.ErrnoException) => {
    if (failing !== null || e.code === 'EPIPE') return
    failing = e.message
    const line = JSON.stringify({ level: 50, time: Date.now(), code: CODE, reason: failing, msg: 'stdout cannot be written: log lines are kept (up to 8 MiB) and written when it can be again; the engine goes on serving' })
    try {
      // Synchronous and to the fd: process.stderr would report its own failure as another unhandled 'error'.
      writeSync(2, `${line}\n`)
    } catch {
      // stderr is the same full disk: nowhere left to say it.
    }
  })
  sink.on('drop', () => void dropped++)
  sink.on('write', () => {
    if (failing === null) return
    const reason = failing
    failing = null
    // Queued behind the lines being written (sonic-boom is mid-write here), so it comes out after them.
    sink.write(`${JSON.stringify({ level: 40, time: Date.now(), code: CODE, reason, dropped, msg: 'stdout can be written again; lines logged meanwhile are written, except those dropped' })}\n`)
    dropped = 0
  })
  return sink
}
