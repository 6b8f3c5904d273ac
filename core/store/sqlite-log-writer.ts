/**
 * Where the SQLite store's message log is written. By default a worker thread with its own connection to
 * the file (sqlite-log-worker.cjs): a log row costs 4 to 14 µs of inserts, index updates and WAL
 * checkpoints, more than the rest of a message's handling, and none of that has to hold up a request.
 * The main thread's own connection writes instead for `:memory:` (nothing to share with a thread), when
 * the thread cannot start, and from the moment it fails: a failed thread costs speed, never log entries
 * (its unacknowledged batches are rejected, and the store writes them again).
 */
import { Worker } from 'node:worker_threads'
import type Database from 'better-sqlite3'
import type { Logger } from '../log/logger.ts'
import { prepareLogBatch } from './sqlite-log-batch.cjs'
import type { MessageLogEntry } from './store.ts'

export interface LogWriter {
  /** Resolves once the batch is committed; rejects with the reason when it is not. Batches commit in order. */
  write(batch: MessageLogEntry[]): Promise<void>
  /** Stops the thread after the batches handed to it; the main connection stays the caller's. */
  close(): Promise<void>
  /** Where batches are written now. */
  readonly where: 'thread' | 'main'
}

export interface LogWriterOptions {
  /** The main thread's connection, for the fallback. */
  db: Database.Database
  /** The database file; null for `:memory:`. */
  file: string | null
  log: Logger
  busyTimeoutMs: number
  walAutocheckpoint: number
}

/** Set by the single binary's start-up: the bundled worker program and the path of the extracted addon. */
let embedded: { source: string; addonFile: () => string } | undefined

export function useEmbeddedLogWorker(source: string, addonFile: () => string): void {
  embedded = { source, addonFile }
}

export function startLogWriter(opts: LogWriterOptions): LogWriter {
  const writeOnMain = prepareLogBatch(opts.db)
  const onMain = (batch: MessageLogEntry[]): Promise<void> => {
    try {
      writeOnMain(batch)
      return Promise.resolve()
    } catch (e) {
      return Promise.reject(e as Error)
    }
  }
  const mainOnly: LogWriter = { where: 'main', write: onMain, close: async () => undefined }
  if (opts.file === null) return mainOnly

  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>()
  let nextId = 1
  let where: 'thread' | 'main' = 'thread'
  let closing = false
  // Started by the first write: a store opened only to read (`wxengine log`, `stats`) never starts one.
  let worker: Worker | null = null
  let exited: Promise<void> = Promise.resolve()

  function fail(reason: string): void {
    if (where === 'main') return
    where = 'main'
    opts.log.error({ code: 'STORE_UNAVAILABLE', reason, unacknowledged: pending.size }, 'message log writer thread failed; writing the log on the main thread')
    const error = new Error(`log writer thread: ${reason}`)
    for (const p of pending.values()) p.reject(error)
    pending.clear()
  }

  function startThread(): Worker | null {
    let w: Worker
    try {
      const workerData = {
        file: opts.file,
        busyTimeoutMs: opts.busyTimeoutMs,
        walAutocheckpoint: opts.walAutocheckpoint,
        addonFile: embedded?.addonFile(),
      }
      // execArgv [], not the parent's: the program is plain CommonJS and needs no `--import tsx` start-up.
      w = embedded
        ? new Worker(embedded.source, { eval: true, workerData, execArgv: [] })
        : new Worker(new URL('./sqlite-log-worker.cjs', import.meta.url), { workerData, execArgv: [] })
    } catch (e) {
      fail(`did not start: ${(e as Error).message}`)
      return null
    }
    exited = new Promise((resolve) => w.once('exit', () => resolve()))
    w.on('message', (m: { id?: number; error?: string; fatal?: string }) => {
      if (m.fatal !== undefined) return fail(m.fatal)
      if (m.id === undefined) return
      const p = pending.get(m.id)
      if (!p) return
      pending.delete(m.id)
      // Referenced only while it has work: an idle store must not keep the process alive, and a short-lived
      // process (a CLI command) must not exit with a batch still unwritten.
      if (pending.size === 0 && !closing) w.unref()
      if (m.error === undefined) p.resolve()
      else p.reject(new Error(m.error))
    })
    // An uncaught error in the thread ends it: 'error', then 'exit'. (SQLite's own error class arrives
    // without its message through the thread boundary: keep what there is.)
    w.on('error', (e: unknown) => fail((e as Error | undefined)?.message ?? describe(e)))
    w.on('exit', (code) => {
      if (!closing) fail(`exited with code ${code}`)
    })
    return w
  }

  return {
    get where() {
      return where
    },
    write(batch) {
      if (closing) return onMain(batch) // the thread is gone or going: nothing posted now would be answered
      if (where === 'thread' && !worker) worker = startThread()
      if (where === 'main' || !worker) return onMain(batch)
      const w = worker
      const id = nextId++
      if (pending.size === 0) w.ref()
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        w.postMessage({ id, batch })
      })
    },
    async close() {
      if (closing) return exited
      closing = true
      if (!worker) return
      if (where === 'thread') {
        worker.ref()
        worker.postMessage({ close: true })
        const w = worker
        const timer = setTimeout(() => void w.terminate(), 10_000)
        await exited
        clearTimeout(timer)
      } else {
        await worker.terminate()
      }
    },
  }
}

function describe(e: unknown): string {
  try {
    return typeof e === 'object' && e !== null ? JSON.stringify(e) : String(e)
  } catch {
    return String(e)
  }
}
