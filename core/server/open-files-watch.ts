/**
 * Says in the log when the process runs short of file descriptors. At the limit, the OS-level accept fails
 * and libuv (node's event loop) accepts and closes the waiting connections itself, so that the listening
 * socket does not spin: those clients are dropped before node, Koa or the engine ever see a request, and
 * no other part of the engine can leave a line about them. Counting the process's open files once a second
 * is the only place that can: a warning when they pass `warnAt` of the limit, an error (FD_EXHAUSTED) at the
 * limit, repeated every `repeatMs` while it lasts, and a line when they are back under `clearAt`.
 *
 * Linux only (/proc/self/fd and /proc/self/limits); elsewhere it says so at debug and does nothing. The
 * count runs on libuv's thread pool (an asynchronous readdir), not on the thread that answers messages.
 */
import { readFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import type { Logger } from '../log/logger.ts'

export interface OpenFilesWatchOptions {
  log: Logger
  /** How often to count; default a second. */
  everyMs?: number
  /** Share of the limit that starts the warning; default 0.8. */
  warnAt?: number
  /** Share of the limit under which the warning clears; default 0.7 (a gap, so a count hovering at 0.8 does not log every second). */
  clearAt?: number
  /** While at the limit, the error is repeated this often; default 10 s. */
  repeatMs?: number
  /** The open files now, or 'EMFILE' when even the count could not open its directory. Default: /proc/self/fd. */
  countOpen?: () => Promise<number | 'EMFILE'>
  /** The soft limit on open files, or null when there is none or it cannot be read. Default: /proc/self/limits. */
  limit?: () => number | null
  now?: () => number
}

export interface OpenFilesWatch {
  /** One count and what it has to say; the timer calls it, tests call it directly. */
  sample(): Promise<void>
  close(): void
}

type Level = 'ok' | 'high' | 'full'

export function watchOpenFiles(opts: OpenFilesWatchOptions): OpenFilesWatch {
  const { log } = opts
  const now = opts.now ?? Date.now
  const warnAt = opts.warnAt ?? 0.8
  const clearAt = opts.clearAt ?? 0.7
  const repeatMs = opts.repeatMs ?? 10_000
  const countOpen = opts.countOpen ?? countProcFds
  const soft = (opts.limit ?? readSoftLimit)()
  if (soft === null) {
    log.debug('open files not watched: no limit to watch, or no /proc/self/limits on this system')
    return { sample: async () => {}, close() {} }
  }
  const limit: number = soft

  let level: Level = 'ok'
  let fullSince = 0
  let lastFullLine = 0
  let busy = false

  async function sample(): Promise<void> {
    // A count still running (a huge fd table on a loaded pool) is not stacked on.
    if (busy) return
    busy = true
    try {
      const counted = await countOpen()
      // The count's own directory handle is one of the open files (or could not be opened: EMFILE).
      const full = counted === 'EMFILE' || counted >= limit - 1
      const open = counted === 'EMFILE' ? limit : counted
      const t = now()
      if (full) {
        if (level !== 'full') {
          level = 'full'
          fullSince = t
          lastFullLine = t
          log.error(
            { code: 'FD_EXHAUSTED', open, limit, reason: `open files at the limit (${limit})` },
            `open files at the limit (${limit}): the OS is dropping new connections before wxengine sees them; raise LimitNOFILE / ulimit -n, or look for connections held open`,
          )
        } else if (t - lastFullLine >= repeatMs) {
          lastFullLine = t
          log.error(
            { code: 'FD_EXHAUSTED', open, limit, seconds: Math.round((t - fullSince) / 1000), reason: `open files at the limit (${limit})` },
            `open files still at the limit (${limit}) after ${Math.round((t - fullSince) / 1000)} s: new connections are being dropped`,
          )
        }
        return
      }
      if (level === 'full') {
        // Down from the limit: said either way, so that the error is known to be over.
        const seconds = Math.round((t - fullSince) / 1000)
        if (open < clearAt * limit) {
          log.info({ open, limit, seconds }, `open files back to ${open} of ${limit}, after ${seconds} s at the limit`)
          level = 'ok'
        } else {
          log.warn({ open, limit, seconds }, `open files under the limit again (${open} of ${limit}) after ${seconds} s at it, still high`)
          level = 'high'
        }
        return
      }
      if (open >= warnAt * limit) {
        if (level === 'ok') {
          log.warn({ open, limit }, `open files at ${open} of ${limit} (${Math.round((100 * open) / limit)} %): at the limit the OS drops new connections unseen`)
          level = 'high'
        }
        return
      }
      if (level === 'high' && open < clearAt * limit) {
        log.info({ open, limit }, `open files back to ${open} of ${limit}`)
        level = 'ok'
      }
    } catch (e) {
      log.debug({ reason: (e as Error).message }, 'open files not counted')
    } finally {
      busy = false
    }
  }

  const timer = setInterval(() => void sample(), opts.everyMs ?? 1_000)
  timer.unref()
  return { sample, close: () => clearInterval(timer) }
}

async function countProcFds(): Promise<number | 'EMFILE'> {
  try {
    return (await readdir('/proc/self/fd')).length
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EMFILE' || (e as NodeJS.ErrnoException).code === 'ENFILE') return 'EMFILE'
    throw e
  }
}

/** The soft limit from /proc/self/limits ("Max open files  1024  524288  files"); null if unlimited or unreadable. */
export function readSoftLimit(text?: string): number | null {
  let limits = text
  if (limits === undefined) {
    try {
      limits = readFileSync('/proc/self/limits', 'utf8')
    } catch {
      return null
    }
  }
  const m = /^Max open files\s+(\S+)/m.exec(limits)
  if (!m || m[1] === 'unlimited') return null
  const n = Number(m[1])
  return Number.isInteger(n) && n > 0 ? n : null
}
