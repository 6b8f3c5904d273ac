/**
 * What a plugin's worker sends the engine, checked on arrival (plugin-runner.ts), before anything acts on it.
 *
 * The worker program is the engine's own and checks a plugin's calls where they are made (sandbox/
 * build-context.ts: storage keys, TTLs, session state and values within their bounds), so a message that
 * fails here was not made by it: the plugin's code got out of vm2, which is fault isolation and not a
 * security boundary (docs/plugins.md), and talks to the engine itself. In a process of its own (the default
 * on Node 20 and 22) that line is all it reaches. A message of an unknown kind, or of a known kind with
 * fields of the wrong type, then threw inside the engine's message handler (a `log` of level "nope" called
 * undefined), an uncaught exception that ended every account's engine; a session op with a TTL of NaN or a
 * key of 100 MB went to the store. Now the worker is replaced, as after a crash, saying why.
 *
 * The checks are a few typeof tests for the messages every call sends (`result`, `rpc`): nothing a call
 * notices. Values (session state, stored values) are measured by JSON.stringify (fitsAsJson).
 */
import { MAX_API_BODY_CHARS, MAX_SEND_MESSAGE_CHARS, MAX_SESSION_STATE_CHARS, MAX_STORAGE_KEY_CHARS, MAX_STORAGE_VALUE_CHARS, MAX_TTL_SECONDS, MIN_TTL_SECONDS } from './worker-protocol.ts'
import { OPENID_SHAPE } from '../openid-shape.ts'
import { isTtlSeconds } from './ttl-seconds.ts'
import { quotedShort } from '../shown-text.ts'
import { isSharedAreaName, MAX_SHARED_AREAS } from './storage-keys.ts'
import { MAX_UPLOAD_BYTES } from '../platform/temporary-media.ts'

/** Undefined when `raw` is a message the worker program could have sent, else what is wrong with it. */
export function checkWorkerMessage(raw: unknown): string | undefined {
  if (!isObject(raw)) return `a message that is ${kindOf(raw)}, not an object`
  const m = raw as Record<string, unknown>
  switch (m.t) {
    case 'defined':
      // The areas the worker checked in the definition: its storage requests may name them (serve-plugin-rpc.ts).
      if (!Array.isArray(m.sharedStorage) || m.sharedStorage.length > MAX_SHARED_AREAS || !m.sharedStorage.every(isSharedAreaName)) return 'defined with a sharedStorage that is not a list of area names'
      return undefined
    case 'ready':
    case 'pong':
      return undefined
    case 'load-failed':
      return isString(m.reason) ? undefined : 'load-failed without a reason'
    case 'result':
      if (!isId(m.id)) return 'a result without a call id'
      return checkResult(m.result) ?? checkSessionOps(m.sessionOps)
    case 'rpc':
      if (!isId(m.id)) return 'a request without an id'
      return checkRpc(m)
    case 'log':
      if (!LOG_LEVELS.has(m.level as string)) return `a log line of level ${quoted(m.level)}`
      if (!isString(m.msg)) return 'a log line without its text'
      return m.data === undefined || isObject(m.data) ? undefined : `a log line whose data is ${kindOf(m.data)}`
    case 'disposed':
      return isCount(m.cleared) && (m.error === undefined || isString(m.error)) && (m.unsettled === undefined || (Array.isArray(m.unsettled) && m.unsettled.every(isString)))
        ? undefined
        : 'disposed with fields of the wrong type'
    case 'over-memory':
      return (m.where === 'heap' || m.where === 'outside') && isFiniteNumber(m.mb) ? undefined : 'over-memory with fields of the wrong type'
    default:
      return `a message of kind ${quoted(m.t)}`
  }
}

const LOG_LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error'])
const STORAGE_METHODS: ReadonlySet<string> = new Set(['kv.get', 'kv.delete', 'kv.set', 'kv.increment', 'kv.compareAndSet'])
const API_METHODS: ReadonlySet<string> = new Set(['api.get', 'api.post', 'api.sendToUser', 'api.sendTemplate', 'api.sendSubscribeMessage', 'api.uploadMedia', 'api.downloadMedia'])
/** The API requests that send to a user, named by OpenID. */
const SEND_METHODS: ReadonlySet<string> = new Set(['api.sendToUser', 'api.sendTemplate', 'api.sendSubscribeMessage'])

function checkResult(result: unknown): string | undefined {
  if (!isObject(result)) return `a result that is ${kindOf(result)}`
  const r = result as Record<string, unknown>
  switch (r.kind) {
    case 'pass':
      return undefined
    // The reply itself is checked as every reply is (reply-builders.ts parseReply), after this.
    case 'reply':
      return 'reply' in r ? undefined : 'a reply result without its reply'
    case 'error':
      return isString(r.message) ? undefined : 'an error result without its message'
    case 'bad-reply':
      return isString(r.reason) ? undefined : 'a bad-reply result without its reason'
    default:
      return `a result of kind ${quoted(r.kind)}`
  }
}

function checkSessionOps(ops: unknown): string | undefined {
  if (!Array.isArray(ops)) return `session ops that are ${kindOf(ops)}`
  for (const op of ops) {
    if (!isObject(op)) return `a session op that is ${kindOf(op)}`
    const o = op as Record<string, unknown>
    switch (o.op) {
      case 'end':
        break
      case 'begin':
      case 'refresh':
        // The worker sends whole milliseconds of a TTL it checked (ttl-seconds.ts): at least the minimum.
        if (!isFiniteNumber(o.ttlMs) || o.ttlMs < MIN_TTL_SECONDS * 1000 || o.ttlMs > MAX_TTL_SECONDS * 1000) return `session.${o.op} with a TTL of ${quoted(o.ttlMs)} ms`
        if (o.op === 'begin' && o.state !== undefined && !fitsAsJson(o.state, MAX_SESSION_STATE_CHARS)) return `session.begin with a state that is not plain data within ${MAX_SESSION_STATE_CHARS} characters`
        break
      case 'update':
        if (!fitsAsJson(o.state, MAX_SESSION_STATE_CHARS)) return `session.update with a state that is not plain data within ${MAX_SESSION_STATE_CHARS} characters`
        break
      default:
        return `a session op ${quoted(o.op)}`
    }
  }
  return undefined
}

/**
 * Storage requests carry what build-context.ts checked (scope, key, TTL, value); the platform API's are
 * checked on the main thread anyway (serve-plugin-rpc.ts parses messages; a path or account that is not
 * one is refused there as a failed call), so only their field types are looked at here.
 */
function checkRpc(m: Record<string, unknown>): string | undefined {
  const method = m.method as string
  if (STORAGE_METHODS.has(method)) {
    const scope = m.scope
    // The user is the message's fromUser, which may be '' (the normalizer takes an empty FromUserName).
    if (scope !== null && !isObject(scope)) return `${method} with a scope that is ${kindOf(scope)}`
    if (scope !== null && !isString((scope as { user?: unknown }).user)) return `${method} with a scope whose user is ${kindOf((scope as { user?: unknown }).user)}`
    if (m.area !== undefined && !isSharedAreaName(m.area)) return `${method} in an area whose name is ${quoted(m.area)}`
    if (!isString(m.key) || m.key === '' || m.key.length > MAX_STORAGE_KEY_CHARS) return `${method} with a key that is not 1 to ${MAX_STORAGE_KEY_CHARS} characters`
    if (m.ttlSeconds !== undefined && !isTtlSeconds(m.ttlSeconds)) return `${method} with a TTL of ${quoted(m.ttlSeconds)} s`
    if (method === 'kv.set' && !fitsAsJson(m.value, MAX_STORAGE_VALUE_CHARS)) return `kv.set with a value that is not plain data within ${MAX_STORAGE_VALUE_CHARS} characters`
    if (method === 'kv.increment' && !isFiniteNumber(m.by)) return `kv.increment by ${quoted(m.by)}`
    if (method === 'kv.compareAndSet') {
      // `expected` is the value the worker read back from the store, not one the plugin made: one stored
      // before values had a bound may be past it, and must still be compared, or its key could never change.
      if (m.expected !== undefined && !(isObject(m.expected) && 'value' in (m.expected as object))) return 'kv.compareAndSet with expected that is not { value }'
      if (m.next !== undefined && !(isObject(m.next) && fitsAsJson((m.next as { value?: unknown }).value, MAX_STORAGE_VALUE_CHARS))) return `kv.compareAndSet with next that is not { value } of plain data within ${MAX_STORAGE_VALUE_CHARS} characters`
    }
    return undefined
  }
  if (API_METHODS.has(method)) {
    if (!isString(m.accountId)) return `${method} without an account`
    if ((method === 'api.get' || method === 'api.post') && !isString(m.path)) return `${method} without a path`
    // A query is the plugin's copied value as given (plain JavaScript passes numbers, even a list or a
    // string): the URL writes each value as text, so it is not looked at here.
    if (SEND_METHODS.has(method)) {
      if (!(isString(m.openId) && OPENID_SHAPE.test(m.openId))) return `${method} without an OpenID`
      if (!fitsAsJson(m.message, MAX_SEND_MESSAGE_CHARS)) return `${method} with a message that is not plain data within ${MAX_SEND_MESSAGE_CHARS} characters`
    }
    if (method === 'api.post' && m.body !== undefined && !fitsAsJson(m.body, MAX_API_BODY_CHARS)) return `api.post with a body that is not plain data within ${MAX_API_BODY_CHARS} characters`
    if (method === 'api.uploadMedia') {
      // Bytes, and no more than the largest file the platform takes: the worker copied them, bounded.
      if (!(m.data instanceof Uint8Array) || m.data.length > MAX_UPLOAD_BYTES) return `api.uploadMedia with data that is not bytes within ${MAX_UPLOAD_BYTES}`
      if (!isString(m.mediaType) || (m.filename !== undefined && !isString(m.filename))) return 'api.uploadMedia with a type or filename that is not text'
    }
    if (method === 'api.downloadMedia' && !isString(m.mediaId)) return 'api.downloadMedia without a mediaId'
    return undefined
  }
  return `a request of method ${quoted(method)}`
}

/**
 * Plain data within the bound, measured by JSON.stringify (native: a 10 KB value in ~10 µs, where copying
 * it as the worker does took 25). The worker counts an escape as the one character it stands for and JSON
 * writes up to six (`\u0001`), so the bound here is six times the worker's: never stricter than the
 * worker, and still a bound. A cycle or a BigInt (structured clone carries both) is no JSON: refused.
 */
function fitsAsJson(value: unknown, maxChars: number): boolean {
  try {
    const json = JSON.stringify(value)
    return json !== undefined && json.length <= maxChars * JSON_ESCAPE_ROOM
  } catch {
    return false
  }
}
const JSON_ESCAPE_ROOM = 6

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isString(v: unknown): v is string {
  return typeof v === 'string'
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

function isId(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) > 0
}

function isCount(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : v === undefined ? 'missing' : typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

/** A value the worker chose, as a reason shows it: short, and nothing a log line cannot hold. */
function quoted(v: unknown): string {
  return typeof v === 'string' ? quotedShort(v, 40) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : kindOf(v)
}
