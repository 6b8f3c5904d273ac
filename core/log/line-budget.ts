/**
 * A budget for log lines that come once per request or per message: at most `perKey` lines a key in any
 * `windowMs` window. Past that, the window's further lines of that key are counted and said in one line when
 * the window ends, with the last one's fields and reason as an example.
 *
 * Anyone can POST to /wechat, and a plugin that fails, fails for every message. Without a budget a flood of
 * garbage or a broken plugin under load writes a line per request, and past ~330 lines a second journald's
 * default rate limit drops every line of the service until its interval ends: the flood would silence the
 * engine's other errors. With it, a line of a kind not seen for a while is always written in full, a flood
 * costs at most `perKey` lines and a count per window and key, and the per-message facts stay complete
 * elsewhere: every refusal is counted in `wxengine_requests_total`, every message has its entry in the
 * message log (`wxengine log`), with its outcome and error.
 *
 * Keys say what shares a budget: a refusal's code (BAD_SIGNATURE), a plugin's code and name
 * (PLUGIN_TIMEOUT weather), ... A key should have few values: one window's counts are kept per key.
 */
import type { Logger } from './logger.ts'

export const LINES_PER_KEY = 20
export const LINE_WINDOW_MS = 10_000

type Fields = Record<string, unknown> & { reason?: string }
type Level = 'info' | 'warn' | 'error'
const RANK: Record<Level, number> = { info: 0, warn: 1, error: 2 }

export interface LineBudget {
  /** Each returns whether the line was written (true) or held and counted (false). */
  info(key: string, fields: Fields, msg: string): boolean
  warn(key: string, fields: Fields, msg: string): boolean
  error(key: string, fields: Fields, msg: string): boolean
  /** Writes the counts still held (at shutdown). */
  close(): void
}

interface Held {
  written: number
  held: number
  /** The highest level held, and the last held line, as the example in the window's closing line. */
  level: Level
  last?: { fields: Fields; msg: string }
}

/** Where the lines go: the engine's logger, or a plugin worker's forwarder (timer failures: sandbox/worker-main.ts). */
export type LineSink = Pick<Logger, Level> | { [L in Level]: (fields: Fields, msg: string) => void }

export function createLineBudget(log: LineSink, opts: { perKey?: number; windowMs?: number; now?: () => number } = {}): LineBudget {
  const perKey = opts.perKey ?? LINES_PER_KEY
  const windowMs = opts.windowMs ?? LINE_WINDOW_MS
  const now = opts.now ?? Date.now
  let counts = new Map<string, Held>()
  let windowStart = 0
  let timer: NodeJS.Timeout | undefined

  function closeWindow(): void {
    timer = undefined
    const seconds = Math.max(1, Math.round((now() - windowStart) / 1000))
    for (const c of counts.values()) {
      if (c.held === 0 || !c.last) continue
      const { reason, ...fields } = c.last.fields
      log[c.level]({ ...fields, lastReason: reason, held: c.held, seconds }, `${c.held} more like this in the last ${seconds} s, not logged one by one: ${c.last.msg}`)
    }
    counts = new Map()
  }

  function line(level: Level, key: string, fields: Fields, msg: string): boolean {
    // The window opens with its first line: no timer runs while nothing is logged.
    if (timer === undefined) {
      windowStart = now()
      timer = setTimeout(closeWindow, windowMs)
      timer.unref()
    }
    let c = counts.get(key)
    if (c === undefined) {
      c = { written: 0, held: 0, level }
      counts.set(key, c)
    }
    if (c.written < perKey) {
      c.written++
      log[level](fields, msg)
      return true
    }
    c.held++
    if (RANK[level] > RANK[c.level]) c.level = level
    c.last = { fields, msg }
    return false
  }

  return {
    info: (key, fields, msg) => line('info', key, fields, msg),
    warn: (key, fields, msg) => line('warn', key, fields, msg),
    error: (key, fields, msg) => line('error', key, fields, msg),
    close() {
      if (timer === undefined) return
      clearTimeout(timer)
      closeWindow()
    },
  }
}
