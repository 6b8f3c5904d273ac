/**
 * `storage.update` and `storage.increment`: read, change, write back only if nobody wrote in between, else
 * read again. Different users' messages run at the same time (and on several instances of a fleet), so a
 * plain get-then-set on a plugin-wide key loses updates: 20 users subscribing at once counted 1 (a plugin
 * author's review). Built on the store's compareAndSet; shared by the plugin worker (over RPC) and the
 * test kit (on the store directly), so both behave alike.
 */
import type { JsonValue } from './plugin-api.ts'

/** How often `fn` is run again before giving up: only many writers on one key in the same moment get there. */
export const MAX_UPDATE_TRIES = 50

export interface CompareAndSetPort {
  get(key: string): Promise<JsonValue | undefined>
  /** Writes `next` (undefined deletes) if the value is still `expected` (undefined: absent); true when it did. */
  compareAndSet(key: string, expected: JsonValue | undefined, next: JsonValue | undefined, ttlSeconds?: number): Promise<boolean>
}

/** `update`: `ttlSeconds`, when given, is the key's new expiry. */
export function updateAtomically<T extends JsonValue>(
  port: CompareAndSetPort,
  what: string,
  key: string,
  fn: (current: T | undefined) => T | undefined | Promise<T | undefined>,
  ttlSeconds?: number,
): Promise<T | undefined> {
  if (typeof fn !== 'function') throw new TypeError(`${what}: the second argument must be a function (current) => next`)
  return retryUntilWritten(port, what, key, fn, () => ttlSeconds)
}

/**
 * `increment`: `ttlSeconds` is the expiry of a counter it starts; a running counter keeps its own, so
 * `increment(key, 1, 60)` on every message counts in fixed 60 s windows (a rate limit).
 */
export function incrementAtomically(port: CompareAndSetPort, what: string, key: string, by: number, ttlSeconds?: number): Promise<number> {
  if (typeof by !== 'number' || !Number.isFinite(by)) throw new TypeError(`${what}: the amount must be a finite number, got ${String(by)}`)
  const add = (current: number | undefined): number => {
    if (current === undefined) return by
    if (typeof current !== 'number') throw new TypeError(`${what}: the stored value is not a number (${JSON.stringify(current).slice(0, 60)})`)
    return current + by
  }
  return retryUntilWritten<number>(port, what, key, add, (current) => (current === undefined ? ttlSeconds : undefined)) as Promise<number>
}

async function retryUntilWritten<T extends JsonValue>(
  port: CompareAndSetPort,
  what: string,
  key: string,
  fn: (current: T | undefined) => T | undefined | Promise<T | undefined>,
  ttlOf: (current: T | undefined) => number | undefined,
): Promise<T | undefined> {
  for (let tries = 0; tries < MAX_UPDATE_TRIES; tries++) {
    const current = (await port.get(key)) as T | undefined
    // What was read, kept apart from what `fn` is given: `fn` may change its argument in place and return
    // it (list.push(x); return list), and the comparison must still be with the stored value.
    const expected = current === undefined ? undefined : structuredClone(current)
    const next = await fn(current)
    if (await port.compareAndSet(key, expected, next, ttlOf(expected as T | undefined))) return next
    // Lost to another writer: spread the retries out a little, so a crowd on one key does not stay in step.
    if (tries >= 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** tries)))
  }
  throw new Error(`${what}: the value kept changing under ${MAX_UPDATE_TRIES} tries (too many writers on one key at once)`)
}
