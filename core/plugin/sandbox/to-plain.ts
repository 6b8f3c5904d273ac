/**
 * Copies a value out of the sandbox as plain JSON data, as JSON.stringify would see it (toJSON, undefined;
 * but a Date that is to be kept is refused: `kept`),
 * except that a function, a symbol, a bigint or a number that is not finite is an error rather than dropped,
 * and so is an object JSON would empty (a Map, a Set, an Error, ...). What plugin code returns is a vm2 proxy (or holds
 * some), and a proxy cannot cross a worker boundary by structured clone; copying also drops any getter or
 * prototype trick, so the main thread only ever sees data.
 */
import { fail, ok, type Result } from '../../errors.ts'
import type { JsonValue } from '../plugin-api.ts'

const MAX_DEPTH = 64

/**
 * `maxChars` bounds the value's size as JSON would write it: every string and key with its quotes, every
 * number, true, false and null as written, every bracket and comma; a string's escapes (`\n`, `\u0001`)
 * are counted as the one character they stand for. Past it the copy stops with an
 * error naming where, before a huge value is copied, sent to the main thread and cloned there. Structure
 * counts as well as text: a million empty objects (no text at all) took the main thread 8 s to clone and
 * check, stalling every account.
 */
export function toPlain(value: unknown, maxChars = Infinity, opts: { kept?: boolean } = {}): Result<JsonValue> {
  limit = maxChars
  budget = maxChars
  spent = 0
  keeping = opts.kept === true
  try {
    return ok(copy(value, 0, '$'))
  } catch (e) {
    return fail('PLUGIN_BAD_REPLY', e instanceof NotPlain ? e.message : `not plain data: ${String(e)}`)
  }
}

class NotPlain extends Error {}

/** The copy in progress's bound, and the characters it has left (copies are synchronous: one at a time). */
let limit = Infinity
let budget = Infinity
let spent = 0
/**
 * The value is kept (a session's state, a stored value), to be read back: a Date is refused rather than
 * copied as its ISO string, which came back a string, and `state.startedAt.getTime()` failed at the user's
 * next message, far from the cause. Sent (a reply, an API call's body), a Date is its ISO string, as JSON.
 */
let keeping = false

/** The size as JSON of the value the last toPlain copied (what is about to be sent to the main thread). */
export function lastCopySize(): number {
  return spent
}

function spend(chars: number, path: string): void {
  spent += chars
  budget -= chars
  if (budget < 0) throw new NotPlain(`${path}: the value is over ${limit} characters in all, as JSON`)
}

function copy(value: unknown, depth: number, path: string): JsonValue {
  if (depth > MAX_DEPTH) throw new NotPlain(`${path}: nested deeper than ${MAX_DEPTH} (a cycle?)`)
  switch (typeof value) {
    case 'string':
      spend(value.length + 2, path)
      return value
    case 'boolean':
      spend(value ? 4 : 5, path)
      return value
    case 'number':
      if (!Number.isFinite(value)) throw new NotPlain(`${path}: ${value} is not a JSON number`)
      spend(String(value).length, path)
      return value
    case 'object': {
      if (value === null) {
        spend(4, path)
        return null
      }
      // Indexing, not value.map: a sandbox array's own map would build another sandbox array.
      if (Array.isArray(value)) {
        spend(2, path)
        const out: JsonValue[] = []
        // Like JSON: a hole or undefined in an array is null. Each element after the first is a comma too.
        for (let i = 0; i < value.length; i++) {
          const at = `${path}[${i}]`
          if (i > 0) spend(1, at)
          if (value[i] === undefined) spend(4, at)
          out.push(value[i] === undefined ? null : copy(value[i], depth + 1, at))
        }
        return out
      }
      // Like JSON.stringify: a Date (or anything with toJSON) is what its toJSON gives, an ISO string for a
      // Date; copying its keys would silently make it {}.
      const toJSON = (value as { toJSON?: unknown }).toJSON
      if (keeping && Object.prototype.toString.call(value) === '[object Date]') {
        throw new NotPlain(`${path}: a Date is not kept as one (it would come back as a string, with no getTime()); keep date.getTime() or date.toISOString()`)
      }
      if (typeof toJSON === 'function') return copy(toJSON.call(value, path), depth + 1, path)
      // A Map, a Set, an Error (its message and stack are no own keys), a RegExp or a Promise is {} to JSON:
      // stored or kept in a session, it came back empty with nothing said (a plugin review). The tag, not
      // instanceof: the value is the sandbox's, of another realm, and the tag reads through vm2's proxy.
      const tag = Object.prototype.toString.call(value)
      if (tag !== '[object Object]') throw new NotPlain(`${path}: ${notPlainObject(tag.slice(8, -1))}`)
      spend(2, path)
      const out: Record<string, JsonValue> = {}
      let first = true
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key]
        if (item === undefined) continue
        // "key": and, after the first, a comma.
        spend(key.length + (first ? 3 : 4), path)
        first = false
        const copied = copy(item, depth + 1, `${path}.${key}`)
        // A `__proto__` key (JSON.parse of a user's text makes one an own key) is kept as JSON keeps it: an
        // assignment would set `out`'s prototype instead, and the key was silently lost.
        if (key === '__proto__') Object.defineProperty(out, key, { value: copied, enumerable: true, writable: true, configurable: true })
        else out[key] = copied
      }
      return out
    }
    case 'undefined':
      throw new NotPlain(`${path}: undefined is not plain data (JSON has no undefined: keep null${keeping ? ', or delete the key with storage.delete' : ''})`)
    default:
      throw new NotPlain(`${path}: a ${typeof value} is not plain data`)
  }
}

/** What to say of an object JSON would copy as {} (or as its index keys): what it is and what to keep instead. */
function notPlainObject(kind: string): string {
  const instead: Record<string, string> = {
    Map: 'keep Object.fromEntries(map), or an array of [key, value] pairs',
    Set: 'keep [...set]',
    Error: "keep what it says: e.message (or String(e)); JSON copies none of an Error's fields",
    RegExp: 'keep its source as a string',
    Promise: 'await it and keep its value',
  }
  return `${/^[AEIO]/.test(kind) ? 'an' : 'a'} ${kind} is not plain data (as JSON it is {} or its index keys, and would come back so); ${instead[kind] ?? 'copy the fields you need into a plain object or array'}`
}

