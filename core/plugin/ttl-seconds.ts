/**
 * The one rule for every duration a plugin gives in seconds: `session.begin` and `session.refresh`,
 * `storage.set`, `update` and `increment`'s ttl, and `dialogue()`'s `ttlSeconds`. Checked where the plugin
 * calls (the error points at its line) and again on arrival from the worker (worker-message.ts).
 *
 * Why a minimum and not rounding: `session.begin(0.0001)` was taken, sent as 0 ms, and made a lock that was
 * over before the user could answer, so their next message went past the plugin with no error anywhere. A
 * duration under a second is never what the author meant (a user cannot answer in less, and the stores keep
 * milliseconds only), so it is refused, naming the call and the value, like a negative or non-finite one.
 * Fractions above the minimum (1.5) are kept as they are.
 */
import { MAX_TTL_SECONDS, MIN_TTL_SECONDS } from './worker-protocol.ts'

/** What is wrong with `ttl` as a duration in seconds, as "ttlSeconds must be ..., got X"; undefined when it is one. */
export function ttlSecondsProblem(ttl: unknown, name = 'ttlSeconds'): string | undefined {
  if (typeof ttl === 'number' && Number.isFinite(ttl) && ttl >= MIN_TTL_SECONDS && ttl <= MAX_TTL_SECONDS) return undefined
  return `${name} must be a number of seconds from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS} (ten years), got ${shown(ttl)}`
}

/** True for a duration the rule above takes (the arrival check's form). */
export function isTtlSeconds(ttl: unknown): ttl is number {
  return ttlSecondsProblem(ttl) === undefined
}

function shown(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)
  if (value === null) return 'null'
  return typeof value
}
