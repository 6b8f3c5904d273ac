/**
 * `storage.update`: read, change, write back only if nobody wrote in between, else read again. Different
 * users' messages run at the same time (and on several instances of a fleet), so a plain get-then-set on
 * a plugin-wide key loses updates: 20 users subscribing at once counted 1 (a plugin author's review).
 * Built on the store's compareAndSet; shared by the plugin worker (over RPC) and the test kit (on the store
 * directly), so both behave alike. (`increment` needs no retries: the store adds in one step.)
 */
import { apiError } from './api-error.ts'
import type { JsonValue, StoredValue } from './plugin-api.ts'

/**
 * `increment`'s failure as the plugin sees it: the store's NotANumberError (its message, `not a number:
 * <value>`, is all that crosses the thread) is the plugin's bug, so a TypeError saying which key; its
 * SumOutOfRangeError a RangeError; anything else as it was. The worker and the test kit both map it here.
 */
export function incrementFailure(what: string, e: unknown): unknown {
  const m = e instanceof Error ? /^not a number: (.*)$/s.exec(e.message) : null
  if (m) return apiError('TypeError', `${what}: the stored value is not a number (${m[1]})`)
  const range = e instanceof Error ? /^past the largest number: (.*)$/s.exec(e.message) : null
  return range ? apiError('RangeError', `${what}: the sum would be past the largest number (${range[1]}); nothing was written`) : e
}

export interface CompareAndSetPort {
  get(key: string): Promise<JsonValue | undefined>
  /** Writes `next` (undefined deletes) if the value is still `expected` (undefined: absent); true when it did. */
  compareAndSet(key: string, expected: JsonValue | undefined, next: JsonValue | undefined, ttlSeconds?: number): Promise<boolean>
  /** What `next` is stored as: its JSON copy (throws a TypeError for what is not JSON data). */
  stored(next: unknown): JsonValue | undefined
  /** When to stop retrying (epoch ms): the call's deadline, or a bound for work outside a call. */
  giveUpAt(): number
}

/**
 * `fn` runs again on the newer value each time another writer got in first, until the port's deadline: a
 * crowd on one key (a thousand votes at once) waits its turn rather than failing after a fixed number of
 * tries. Resolves with what was written. `ttlSeconds`, when given, is the key's new expiry.
 */
export async function updateAtomically<T extends StoredValue>(
  port: CompareAndSetPort,
  what: string,
  key: string,
  fn: (current: T | undefined) => T | undefined | Promise<T | undefined>,
  ttlSeconds?: number,
): Promise<T | undefined> {
  if (typeof fn !== 'function') throw apiError('TypeError', `${what}: the second argument must be a function (current) => next`)
  const giveUpAt = port.giveUpAt()
  for (let tries = 1; ; tries++) {
    const read = await port.get(key)
    const current = read as T | undefined
    // What was read, kept apart from what `fn` is given: `fn` may change its argument in place and return
    // it (list.push(x); return list), and the comparison must still be with the stored value.
    const expected = read === undefined ? undefined : structuredClone(read)
    const next = port.stored(await fn(current))
    if (await port.compareAndSet(key, expected, next, ttlSeconds)) return next as T | undefined
    if (Date.now() >= giveUpAt) throw apiError('Error', `${what}: the value kept changing under ${tries} tries, until the deadline (too many writers on one key at once)`)
    // Lost to another writer: spread the retries out, more the more often it lost, so a crowd on one key
    // does not stay in step.
    if (tries >= 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** tries)))
  }
}
