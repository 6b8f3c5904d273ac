/**
 * The log lines of refused requests (a bad signature, not XML, an unknown account, a malformed request),
 * with a budget: at most `perCode` lines a code in any `intervalMs` window. Past that, the window's further
 * refusals of that code are counted and said in one line when the window ends.
 *
 * Anyone can POST to /wechat. Without a budget a flood of garbage writes a line per request, and past ~330
 * lines a second journald's default rate limit drops every line of the service until its interval ends:
 * the flood would silence the engine's own errors. With it, a refusal of a kind not seen for a while is
 * always logged in full, a flood costs at most `perCode` lines and a count per window and code, and every
 * refusal is still counted one by one in `wxengine_requests_total{outcome="rejected"}`.
 */
import type { ErrorCode } from '../errors.ts'
import type { Logger } from './logger.ts'

export const REFUSAL_LINES_PER_CODE = 20
export const REFUSAL_WINDOW_MS = 10_000

export interface Refusal {
  code: ErrorCode
  reason: string
  status: number
  account?: string
}

export interface RefusalLines {
  /** A refused request: its line now, or counted for the window's closing line. */
  refused(refusal: Refusal, msg: string): void
  /** Writes the counts still held (at shutdown). */
  close(): void
}

interface Held {
  written: number
  held: number
  /** The last held refusal's reason, as an example of what was held. */
  lastReason: string
}

export function createRefusalLines(log: Logger, opts: { perCode?: number; windowMs?: number; now?: () => number } = {}): RefusalLines {
  const perCode = opts.perCode ?? REFUSAL_LINES_PER_CODE
  const windowMs = opts.windowMs ?? REFUSAL_WINDOW_MS
  const now = opts.now ?? Date.now
  let counts = new Map<ErrorCode, Held>()
  let windowStart = 0
  let timer: NodeJS.Timeout | undefined

  function closeWindow(): void {
    timer = undefined
    const seconds = Math.max(1, Math.round((now() - windowStart) / 1000))
    for (const [code, c] of counts) {
      if (c.held === 0) continue
      log.warn(
        { code, held: c.held, seconds, lastReason: c.lastReason },
        `request refused: ${c.held} more ${code} in the last ${seconds} s, not logged one by one (each is counted in wxengine_requests_total)`,
      )
    }
    counts = new Map()
  }

  return {
    refused(refusal, msg) {
      // The window opens with its first refusal: no timer runs while nothing is refused.
      if (timer === undefined) {
        windowStart = now()
        timer = setTimeout(closeWindow, windowMs)
        timer.unref()
      }
      let c = counts.get(refusal.code)
      if (c === undefined) {
        c = { written: 0, held: 0, lastReason: '' }
        counts.set(refusal.code, c)
      }
      if (c.written < perCode) {
        c.written++
        log.warn({ code: refusal.code, reason: refusal.reason, account: refusal.account, status: refusal.status }, msg)
        return
      }
      c.held++
      c.lastReason = refusal.reason
    },
    close() {
      if (timer === undefined) return
      clearTimeout(timer)
      closeWindow()
    },
  }
}
