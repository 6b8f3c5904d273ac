/**
 * A plugin's `ctx.log`, from its worker to the engine's logger on the main thread. Every line crosses
 * threads as a message, and the main thread writes it, so a plugin that logs in a loop would fill the main
 * thread's queue and memory and hold up everyone's messages (a worker can post far faster than the main
 * thread can write). Hence, here in the worker, before anything is posted:
 * - lines below the engine's level are dropped (they would be dropped there anyway);
 * - at most LINES_PER_SECOND a second after a burst of LINE_BURST (a token bucket); past that, lines are
 *   counted and one warning says how many were dropped;
 * - a message is cut at MAX_MESSAGE_CHARS, and data whose JSON is over MAX_DATA_CHARS is replaced by its size.
 */
import { inspect } from 'node:util'
import type { JsonValue, PluginLogger } from '../plugin-api.ts'
import type { LogLevel, WorkerToMain } from '../worker-protocol.ts'
import { toPlain } from './to-plain.ts'

export const LINE_BURST = 200
export const LINES_PER_SECOND = 100
export const MAX_MESSAGE_CHARS = 4096
export const MAX_DATA_CHARS = 16_384

/** pino's numbers for the levels a plugin can log at, and for the engine's possible levels. */
const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity }

export interface LogForwarder extends PluginLogger {
  /**
   * The same logger with `fields` on every line (`ctx.log` in handle: the message's account and openId).
   * Added after the plugin's data is copied safely, so a getter that throws cannot reach the plugin; the
   * plugin's own fields of those names win.
   */
  about(fields: Record<string, string>): PluginLogger
}

export function createLogForwarder(post: (msg: WorkerToMain) => void, engineLevel: string, now: () => number = Date.now): LogForwarder {
  const threshold = LEVEL_VALUES[engineLevel] ?? LEVEL_VALUES.info
  let tokens = LINE_BURST
  let refilledAt = now()
  let dropped = 0
  let reportTimer: NodeJS.Timeout | undefined

  function reportDropped(): void {
    reportTimer = undefined
    if (dropped === 0) return
    post({ t: 'log', level: 'warn', msg: `${dropped} log lines dropped: a plugin may log at most ${LINES_PER_SECOND} lines a second`, data: { dropped } })
    dropped = 0
  }

  function admit(): boolean {
    const t = now()
    tokens = Math.min(LINE_BURST, tokens + ((t - refilledAt) * LINES_PER_SECOND) / 1000)
    refilledAt = t
    if (tokens >= 1) {
      tokens -= 1
      if (dropped > 0 && reportTimer === undefined) reportDropped()
      return true
    }
    dropped++
    // Said within a second even when the plugin falls silent; unref'd, it never keeps the worker alive.
    reportTimer ??= setTimeout(reportDropped, 1000).unref()
    return false
  }

  const forward = (level: LogLevel, fields?: Record<string, string>) => (msg: string, data?: Record<string, unknown>) => {
    if (LEVEL_VALUES[level] < threshold || !admit()) return
    let text = String(msg)
    if (text.length > MAX_MESSAGE_CHARS) text = `${text.slice(0, MAX_MESSAGE_CHARS)}… (${text.length} characters)`
    const copied = data === undefined ? undefined : boundedData(data)
    const merged = fields === undefined ? copied : { ...fields, ...copied }
    post(merged === undefined ? { t: 'log', level, msg: text } : { t: 'log', level, msg: text, data: merged })
  }
  const loggerOf = (fields?: Record<string, string>): PluginLogger => ({
    debug: forward('debug', fields),
    info: forward('info', fields),
    warn: forward('warn', fields),
    error: forward('error', fields),
  })
  return { ...loggerOf(), about: loggerOf }
}

function boundedData(data: Record<string, unknown>): Record<string, JsonValue> {
  const plain = toPlain(data)
  const isRecord = plain.ok && typeof plain.value === 'object' && plain.value !== null && !Array.isArray(plain.value)
  // Data that is not an object (a string, an array) goes under `data`, not spread into numbered fields.
  const value = isRecord ? (plain.value as Record<string, JsonValue>) : { data: plain.ok ? plain.value : inspect(data, { depth: 3, maxStringLength: MAX_DATA_CHARS }) }
  const size = JSON.stringify(value).length
  return size > MAX_DATA_CHARS ? { truncated: `${size} characters of data, over ${MAX_DATA_CHARS}` } : value
}
