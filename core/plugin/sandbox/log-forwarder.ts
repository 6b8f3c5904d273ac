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

/** pino's number of a level name (info's for a name it does not know, as the forwarder takes it). */
export function levelValue(name: string): number {
  return LEVEL_VALUES[name] ?? LEVEL_VALUES.info!
}

export interface LogForwarder extends PluginLogger {
  /**
   * The same logger with `fields` on every line (`ctx.log` in handle: the message's account, openId and key).
   * Added after the plugin's data is copied safely, so a getter that throws cannot reach the plugin; the
   * plugin's own fields of those names win.
   */
  about(fields: Readonly<Record<string, string>>): PluginLogger
}

export function createLogForwarder(post: (msg: WorkerToMain) => void, engineLevel: string, now: () => number = Date.now): LogForwarder {
  const threshold = levelValue(engineLevel)
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

  const forward = (level: LogLevel, fields?: Readonly<Record<string, string>>) => (msg: string, data?: Record<string, unknown>) => {
    if (LEVEL_VALUES[level] < threshold || !admit()) return
    // pino's order, `(data, 'text')`, is a habit our (text, data) does not type-check away in a JavaScript
    // plugin: it logged "[object Object]" with the text as data (a review). Taken as meant.
    if (isPlainRecord(msg) && (typeof data === 'string' || data === undefined)) [msg, data] = [data ?? '', msg]
    let text = String(msg)
    if (text.length > MAX_MESSAGE_CHARS) text = `${text.slice(0, MAX_MESSAGE_CHARS)}… (${text.length} characters)`
    const copied = data === undefined ? undefined : boundedData(data)
    const merged = fields === undefined ? copied : { ...fields, ...copied }
    post(merged === undefined ? { t: 'log', level, msg: text } : { t: 'log', level, msg: text, data: merged })
  }
  const loggerOf = (fields?: Readonly<Record<string, string>>): PluginLogger => ({
    debug: forward('debug', fields),
    info: forward('info', fields),
    warn: forward('warn', fields),
    error: forward('error', fields),
  })
  return { ...loggerOf(), about: loggerOf }
}

/** An object of fields, from any realm: not an Error (whose text is its message), an array or a Date. */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === '[object Object]'
}

function boundedData(data: Record<string, unknown>): Record<string, JsonValue> {
  let described: unknown = data
  try {
    described = withErrorsDescribed(data)
  } catch {
    // A getter that throws: toPlain meets it again, and says so in the line, not at the plugin.
  }
  const plain = toPlain(described)
  const isRecord = plain.ok && typeof plain.value === 'object' && plain.value !== null && !Array.isArray(plain.value)
  // Data that is not an object (a string, an array) goes under `data`, not spread into numbered fields.
  const value = isRecord ? (plain.value as Record<string, JsonValue>) : { data: plain.ok ? plain.value : inspect(data, { depth: 3, maxStringLength: MAX_DATA_CHARS }) }
  const size = JSON.stringify(value).length
  return size > MAX_DATA_CHARS ? { truncated: `${size} characters of data, over ${MAX_DATA_CHARS}` } : value
}

/**
 * `ctx.log.error('lookup failed', { err: e })`, the usual way to log a caught error, sent `{ err: {} }`: an
 * Error's name, message and stack are not its own enumerable keys, which is all a copy as JSON keeps, so the
 * line said that something failed and nothing of what. Each Error among data's values (or data itself, as
 * in `ctx.log.error('failed', e)`) is sent as pino writes one: `{ type, message, stack }`, with its own
 * fields (a PlatformApiError's `code` and `errcode`).
 */
function withErrorsDescribed(data: unknown): unknown {
  if (isError(data)) return { err: describedError(data) }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data
  const entries = Object.keys(data).map((key) => {
    const value = (data as Record<string, unknown>)[key]
    return [key, isError(value) ? describedError(value) : value] as const
  })
  if (!entries.some(([key, value]) => value !== (data as Record<string, unknown>)[key])) return data
  const out: Record<string, unknown> = {}
  // defineProperty, as toPlain does: a `__proto__` key stays a key.
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  return out
}

/** An Error of the plugin's realm too (vm2's proxy of it), where `instanceof Error` of this realm may not hold. */
function isError(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]'
}

function describedError(e: Error): Record<string, unknown> {
  const own: Record<string, unknown> = {}
  // `name` set on the error itself (PlatformApiError's) is its `type` already.
  for (const key of Object.keys(e)) if (key !== 'name' && key !== 'message' && key !== 'stack') own[key] = (e as unknown as Record<string, unknown>)[key]
  return { type: String(e.name), message: String(e.message), ...own, stack: typeof e.stack === 'string' ? e.stack : undefined }
}
