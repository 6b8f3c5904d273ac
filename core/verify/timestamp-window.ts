/**
 * Replay window for the query `timestamp` (protocol.md §2): a captured, correctly signed request
 * stays valid forever unless its age is bounded. WeChat retries within ~15 s (§5), so a window of a
 * few minutes refuses replays without refusing retries or modest clock skew.
 */
import { fail, ok, type Result } from '../errors.ts'
import { quotedShort } from '../shown-text.ts'

const UNSIGNED_INTEGER = /^\d{1,15}$/

/** Returns the timestamp as a number when it lies within `windowSeconds` of `nowSeconds`, either side. */
export function checkTimestamp(timestamp: string, nowSeconds: number, windowSeconds: number): Result<number> {
  if (typeof timestamp !== 'string' || !UNSIGNED_INTEGER.test(timestamp)) {
    return fail('BAD_QUERY', `timestamp is not an integer number of seconds: ${describe(timestamp)}`)
  }
  const seconds = Number(timestamp)
  const drift = nowSeconds - seconds
  if (Math.abs(drift) > windowSeconds) {
    const direction = drift > 0 ? 'in the past' : 'in the future'
    return fail(
      'STALE_TIMESTAMP',
      `timestamp ${seconds} is ${Math.abs(drift)} s ${direction} (window ${windowSeconds} s)`,
    )
  }
  return ok(seconds)
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return typeof value
  return quotedShort(value, 32)
}
