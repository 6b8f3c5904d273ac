/**
 * The `ctx` a plugin's `handle` gets, built in the worker for each call. Data fields are the call's own
 * copies; `session` only records what the plugin asks for (the engine applies it with the reply, so the
 * two land together); storage and the platform API are calls to the main thread.
 */
import { customMessageHelpers, replyHelpers } from '../../reply/reply-helpers.ts'
import type {
  JsonValue,
  KeyValue,
  Pass,
  PlatformApi,
  PluginContext,
  PluginLogger,
  PluginStorage,
  ReplyHelpers,
  SetupStorage,
  SessionHandle,
  StoredValue,
  UserInfo,
  WebLinks,
} from '../plugin-api.ts'
import type { SessionOp } from '../plugin-host-types.ts'
import { loginLink, type LoginLinkSettings } from '../../web/login-link.ts'
import { apiError } from '../api-error.ts'
import { isSharedAreaName, MAX_SHARED_AREA_CHARS } from '../storage-keys.ts'
import { incrementFailure, updateAtomically, type CompareAndSetPort } from '../storage-update.ts'
import { ttlSecondsProblem } from '../ttl-seconds.ts'
import { OPENID_SHAPE } from '../../openid-shape.ts'
import { MAX_API_BODY_CHARS, MAX_API_QUERY_CHARS, MAX_SEND_MESSAGE_CHARS, MAX_SESSION_STATE_CHARS, MAX_STORAGE_KEY_CHARS, MAX_STORAGE_VALUE_CHARS, type CallRequest, type KvScope, type RpcRequest } from '../worker-protocol.ts'
import type { LogForwarder } from './log-forwarder.ts'
import { BACKGROUND_RPC_TIMEOUT_MS, type RpcClient } from './rpc-client.ts'
import { lastCopySize, toPlain } from './to-plain.ts'
import { copyBytes } from './copy-bytes.ts'
import { MAX_UPLOAD_BYTES, mediaIdProblem, notBytesMessage } from '../../platform/temporary-media.ts'

/** One frozen marker: `handle` returning it (or `{ pass: true }`) means "not mine". */
export const PASS: Pass = Object.freeze({ pass: true })

export interface BuiltContext {
  ctx: PluginContext
  /** The session calls recorded so far, in order. */
  sessionOps: SessionOp[]
  /** The message the call is about, as its lines name it: account, openId and the engine's key. */
  about: Readonly<Record<string, string>>
  /** The last `ctx.reply.*` helper the plugin called (`text`, `news`, ...), if any: a missing `return` shows. */
  readonly replyBuilt: string | undefined
  /**
   * Marks the call answered. Work the plugin keeps doing afterwards (a late `api.sendToUser`) still
   * reaches the main thread, with the background time limit instead of the call's deadline; session
   * calls can no longer be applied and throw.
   */
  finish(): void
}

export function buildContext(
  call: CallRequest,
  config: Record<string, JsonValue>,
  rpc: RpcClient,
  /** `ctx.log` is this logger about the message: its account, user and key (log-forwarder.ts). */
  log: LogForwarder,
  /** What `ctx.web` builds login links with (the worker's init). */
  web: LoginLinkSettings,
  /** The shared storage areas the plugin declared (ctx.storage.shared). */
  sharedAreas: readonly string[],
): BuiltContext {
  const sessionOps: SessionOp[] = []
  let replyBuilt: string | undefined
  const openId = call.message.fromUser
  const accountId = call.account.id
  let finished = false
  const deadline = (): number | undefined => (finished ? undefined : call.deadline)
  const isFinished = () => finished
  const about = { account: accountId, openId, key: call.key }

  const ctx: PluginContext = {
    message: call.message,
    account: call.account,
    user: userOf(openId, call.groups),
    match: call.match,
    config,
    session: recordSession(call.session, sessionOps, isFinished),
    storage: createPluginStorage(rpc, openId, deadline, sharedAreas),
    reply: trackedReplies((name) => (replyBuilt = name)),
    pass: () => PASS,
    // The message's key, as the engine's own lines about it have it (an operator joins them, and its log
    // entry, on it): the engine's, made once and sent with the call. Made here from ctx.message, it cost an
    // event's call a sha1, and a plugin that rewrote its message before its first line skewed it.
    log: log.about(about),
    api: createPlatformApi(rpc, accountId, deadline),
    web: createWebLinks(web, accountId),
  }
  return {
    ctx,
    sessionOps,
    about,
    get replyBuilt() {
      return replyBuilt
    },
    finish: () => {
      finished = true
    },
  }
}

/**
 * `ctx.web` (and setup's `api.web(id)`): built here, in the worker, from the settings it was started with;
 * what the login would refuse throws at the plugin's line.
 */
export function createWebLinks(settings: LoginLinkSettings, accountId: string): WebLinks {
  return {
    loginUrl(to, opts) {
      // From JavaScript anything can come: a scope passed alone (`loginUrl(page, 'userinfo')`) or as null
      // is refused, not made a silent base login.
      if (opts !== undefined && opts !== null && typeof opts !== 'object') {
        throw apiError('TypeError', `web.loginUrl: the second argument is options, { scope: 'userinfo' }, not ${JSON.stringify(opts)?.slice(0, 40) ?? typeof opts}`)
      }
      const scope = opts?.scope === undefined ? 'base' : opts.scope
      const link = loginLink(settings, accountId, to, scope)
      if ('problem' in link) throw apiError('TypeError', `web.loginUrl: ${link.problem}`)
      return link.url
    },
  }
}

/**
 * `ctx.user`. `inGroup` asks its own copy, so a plugin that pushes onto `groups` grants itself nothing. Not
 * frozen: vm2 refuses to pass a non-extensible array into the sandbox.
 */
function userOf(openId: string, groups: readonly string[] | undefined): UserInfo {
  const own = groups === undefined ? [] : groups.slice()
  return { openId, groups: own.slice(), inGroup: (group) => own.includes(group) }
}

/**
 * The reply helpers, noting which one was called last (per call: a dozen small closures, in the worker).
 * The customer-service-only builders are not noted: what they build is sent, never returned, so building
 * one and returning nothing is no missing `return`.
 */
function trackedReplies(built: (name: string) => void): ReplyHelpers {
  const tracked = {} as Record<string, unknown>
  for (const [name, helper] of Object.entries(replyHelpers) as Array<[string, (...args: never[]) => unknown]>) {
    if (Object.hasOwn(customMessageHelpers, name)) {
      tracked[name] = helper
      continue
    }
    tracked[name] = (...args: never[]) => {
      built(name)
      return helper(...args)
    }
  }
  return tracked as unknown as ReplyHelpers
}

const NO_SESSION = (call: string) =>
  `session.${call}: this plugin holds no session for this user (session.active is false): start one with session.begin(ttlSeconds, state)`

function recordSession(snapshot: CallRequest['session'], ops: SessionOp[], isFinished: () => boolean): SessionHandle {
  let active = snapshot.active
  let state = snapshot.state
  const record = (op: SessionOp) => {
    if (isFinished()) throw apiError('Error', `session.${op.op} after handle returned: session changes go out with the reply`)
    ops.push(op)
  }
  return {
    get active() {
      return active
    },
    get state() {
      return state
    },
    begin(ttlSeconds, newState) {
      const ttlMs = secondsToMs('begin', ttlSeconds)
      const copied = newState === undefined ? undefined : plainOrThrow('session.begin state', newState, MAX_SESSION_STATE_CHARS, KEPT)
      record(copied === undefined ? { op: 'begin', ttlMs } : { op: 'begin', ttlMs, state: copied })
      active = true
      state = copied
    },
    update(newState) {
      // Applied to no session, it did nothing and said nothing: an author who meant begin got no dialogue and no clue.
      if (!active) throw apiError('TypeError', NO_SESSION('update'))
      const copied = plainOrThrow('session.update state', newState, MAX_SESSION_STATE_CHARS, KEPT)
      record({ op: 'update', state: copied })
      state = copied
    },
    refresh(ttlSeconds) {
      if (!active) throw apiError('TypeError', NO_SESSION('refresh'))
      record({ op: 'refresh', ttlMs: secondsToMs('refresh', ttlSeconds) })
    },
    end() {
      record({ op: 'end' })
      active = false
      state = undefined
    },
  }
}

type RpcCompareAndSet = Omit<Extract<RpcRequest, { method: 'kv.compareAndSet' }>, 't' | 'id'>
type RpcIncrement = Omit<Extract<RpcRequest, { method: 'kv.increment' }>, 't' | 'id'>

/** ctx.storage: the plugin's own keys, the user's, and the shared areas it declared (`declared`). */
export function createPluginStorage(rpc: RpcClient, openId: string, deadline: () => number | undefined, declared: readonly string[]): PluginStorage {
  return {
    ...createKeyValue(rpc, null, deadline),
    user: createKeyValue(rpc, { user: openId }, deadline),
    shared(area) {
      const name = declaredArea(area, declared)
      return { ...createKeyValue(rpc, null, deadline, name), user: createKeyValue(rpc, { user: openId }, deadline, name) }
    },
  }
}

/** setup's api.storage: plugin-wide keys, its own and the shared areas'; each request has the background bound. */
export function createSetupStorage(rpc: RpcClient, declared: readonly string[]): SetupStorage {
  const none = () => undefined
  return { ...createKeyValue(rpc, null, none), shared: (area) => createKeyValue(rpc, null, none, declaredArea(area, declared)) }
}

/** `area` when the plugin declared it; else a TypeError at the plugin's line saying what to declare. */
function declaredArea(area: unknown, declared: readonly string[]): string {
  if (typeof area === 'string' && declared.includes(area)) return area
  const shown = typeof area === 'string' ? JSON.stringify(area.slice(0, 60)) : String(area)
  if (!isSharedAreaName(area)) throw apiError('TypeError', `storage.shared(${shown}): an area's name is lowercase letters, digits and hyphens, at most ${MAX_SHARED_AREA_CHARS} characters (e.g. 'points')`)
  const list = [...declared, area].map((a) => `'${a}'`).join(', ')
  throw apiError('TypeError', `storage.shared(${shown}): the plugin does not declare this area; add sharedStorage: [${list}] to its definePlugin`)
}

/** `deadline()`: epoch ms while a call is running, undefined for background work. */
export function createKeyValue(rpc: RpcClient, scope: KvScope, deadline: () => number | undefined, area?: string): KeyValue {
  // Where each request's key is: the plugin's own keys, or a shared area's (checked as declared by the caller).
  const target = area === undefined ? { scope } : { scope, area }
  return {
    async get<T extends StoredValue = JsonValue>(key: string) {
      return (await rpc.request({ method: 'kv.get', ...target, key: checkKey(key) }, deadline())) as T | undefined
    },
    async set(key, value, ttlSeconds) {
      // The key first: a BigInt one failed in JSON.stringify, naming neither the call nor the key.
      const k = checkKey(key)
      const plain = plainOrThrow(`storage.set(${JSON.stringify(k)})`, value, MAX_STORAGE_VALUE_CHARS, KEPT)
      const size = lastCopySize()
      const body =
        ttlSeconds === undefined
          ? { method: 'kv.set' as const, ...target, key: k, value: plain }
          : { method: 'kv.set' as const, ...target, key: k, value: plain, ttlSeconds: ttlOrThrow(`storage.set(${JSON.stringify(k)})`, ttlSeconds) }
      await rpc.request(body, deadline(), size)
    },
    async delete(key) {
      await rpc.request({ method: 'kv.delete', ...target, key: checkKey(key) }, deadline())
    },
    update<T extends StoredValue = JsonValue>(key: string, fn: (current: T | undefined) => T | undefined | Promise<T | undefined>, ttlSeconds?: number) {
      const k = checkKey(key)
      const what = `storage.update(${JSON.stringify(k)})`
      if (ttlSeconds !== undefined) ttlOrThrow(what, ttlSeconds)
      return updateAtomically<T>(compareAndSetPort(what), what, k, fn, ttlSeconds)
    },
    async increment(key, by = 1, ttlSeconds) {
      const k = checkKey(key)
      const what = `storage.increment(${JSON.stringify(k)})`
      if (typeof by !== 'number' || !Number.isFinite(by)) throw apiError('TypeError', `${what}: the amount must be a finite number, got ${String(by)}`)
      const body: RpcIncrement = { method: 'kv.increment', ...target, key: k, by }
      if (ttlSeconds !== undefined) body.ttlSeconds = ttlOrThrow(what, ttlSeconds)
      try {
        return (await rpc.request(body, deadline())) as number
      } catch (e) {
        throw incrementFailure(what, e)
      }
    },
  }

  /** The store's compare-and-set over RPC, for `update`. */
  function compareAndSetPort(what: string): CompareAndSetPort {
    let nextSize = 0
    return {
      get: (key) => rpc.request({ method: 'kv.get', ...target, key }, deadline()),
      stored(next) {
        if (next === undefined) return (nextSize = 0), undefined
        const plain = plainOrThrow(what, next, MAX_STORAGE_VALUE_CHARS, KEPT)
        nextSize = lastCopySize()
        return plain
      },
      async compareAndSet(key, expected, next, ttl) {
        const body: RpcCompareAndSet = { method: 'kv.compareAndSet', ...target, key }
        if (expected !== undefined) body.expected = { value: expected }
        if (next !== undefined) body.next = { value: next }
        if (ttl !== undefined) body.ttlSeconds = ttl
        // Both values cross the thread, and count against what may be in flight at once.
        const size = nextSize + (expected === undefined ? 0 : JSON.stringify(expected).length)
        return (await rpc.request(body, deadline(), size)) === true
      },
      // Outside a call (after the reply, a timer), as long as any other storage request may wait.
      giveUpAt: () => deadline() ?? Date.now() + BACKGROUND_RPC_TIMEOUT_MS,
    }
  }
}

/** `deadline`: the call's, in `handle`; none in setup's timers, where each request gets the background bound. */
export function createPlatformApi(rpc: RpcClient, accountId: string, deadline: () => number | undefined): PlatformApi {
  return {
    async post(path, body) {
      const plain = plainOrThrow('api.post body', body, MAX_API_BODY_CHARS)
      return (await rpc.request({ method: 'api.post', accountId, path: String(path), body: plain }, deadline(), lastCopySize())) ?? null
    },
    async get(path, query) {
      const q = query === undefined ? undefined : (plainOrThrow('api.get query', query, MAX_API_QUERY_CHARS) as Record<string, string>)
      return (await rpc.request({ method: 'api.get', accountId, path: String(path), ...(q ? { query: q } : {}) }, deadline())) ?? null
    },
    async sendToUser(openId, message, opts) {
      const body = { method: 'api.sendToUser' as const, accountId, openId: openIdOrThrow('sendToUser', openId), message: plainOrThrow('sendToUser message', message, MAX_SEND_MESSAGE_CHARS) }
      const size = lastCopySize()
      await rpc.request(opts === undefined ? body : { ...body, opts: plainOrThrow('sendToUser options', opts, MAX_API_QUERY_CHARS) }, deadline(), size)
    },
    async sendTemplate(openId, message) {
      const to = openIdOrThrow('sendTemplate', openId)
      const plain = plainOrThrow('sendTemplate message', message, MAX_SEND_MESSAGE_CHARS)
      const msgid = await rpc.request({ method: 'api.sendTemplate', accountId, openId: to, message: plain }, deadline(), lastCopySize())
      return String(msgid)
    },
    async sendSubscribeMessage(openId, message) {
      const to = openIdOrThrow('sendSubscribeMessage', openId)
      const plain = plainOrThrow('sendSubscribeMessage message', message, MAX_SEND_MESSAGE_CHARS)
      await rpc.request({ method: 'api.sendSubscribeMessage', accountId, openId: to, message: plain }, deadline(), lastCopySize())
    },
    async uploadMedia(type, data, opts) {
      const bytes = copyBytes(data, MAX_UPLOAD_BYTES)
      if (bytes === undefined) throw apiError('TypeError', notBytesMessage(data))
      if ('over' in bytes) throw apiError('RangeError', `uploadMedia: the data is ${bytes.over} bytes, over the ${MAX_UPLOAD_BYTES} of the largest file the platform takes`)
      const filename = opts?.filename
      // Type, format and each type's limit are checked on the main thread, as for an in-process caller.
      const body = { method: 'api.uploadMedia' as const, accountId, mediaType: String(type), data: bytes }
      const id = await rpc.request(filename === undefined ? body : { ...body, filename: String(filename) }, deadline(), bytes.length)
      return String(id)
    },
    async downloadMedia(mediaId) {
      const bad = mediaIdProblem(mediaId)
      if (bad) throw apiError('TypeError', bad)
      const got = (await rpc.request({ method: 'api.downloadMedia', accountId, mediaId }, deadline())) as { contentType: string; data: Uint8Array } | { videoUrl: string }
      if (!('data' in got)) return { videoUrl: String(got.videoUrl) }
      // A Buffer of this realm over the bytes that arrived (no copy): the sandbox's Buffer methods run at memory speed on it.
      return { contentType: got.contentType, data: Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength) }
    },
  }
}

// The throws below are the plugin's bugs, raised where its stack points at the bad call.


/** For plainOrThrow: the value is kept, to be read back (a session's state, a stored value): to-plain.ts. */
const KEPT = { kept: true }

function plainOrThrow(what: string, value: unknown, maxChars = Infinity, opts: { kept?: boolean } = {}): JsonValue {
  const copied = toPlain(value, maxChars, opts)
  if (!copied.ok) throw apiError('TypeError', `${what}: ${copied.error.reason}`)
  return copied.value
}

/**
 * An OpenID, as `ctx.message.fromUser` gives it. Anything else was sent as its text ("undefined", from a
 * field name misspelt) and refused by the platform with a bare 40003 that named no call.
 */
function openIdOrThrow(what: string, openId: unknown): string {
  if (typeof openId === 'string' && OPENID_SHAPE.test(openId)) return openId
  const got =
    typeof openId !== 'string' ? (openId === null ? 'null' : typeof openId)
    : openId === '' ? 'an empty string'
    : openId.length > 64 ? `a string of ${openId.length} characters`
    : `${JSON.stringify(openId)}, which has other characters than an OpenID's (A-Z a-z 0-9 _ -)`
  throw apiError('TypeError', `${what}: openId must be a user's OpenID (such as ctx.message.fromUser), got ${got}`)
}

function secondsToMs(what: string, ttlSeconds: number): number {
  return Math.round(ttlOrThrow(`session.${what}`, ttlSeconds) * 1000)
}

/** `ttl` when it is a duration the engine takes (ttl-seconds.ts); else a TypeError naming `what` and the value. */
function ttlOrThrow(what: string, ttl: number): number {
  const problem = ttlSecondsProblem(ttl)
  if (problem !== undefined) throw apiError('TypeError', `${what}: ${problem}`)
  return ttl
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw apiError('TypeError', 'storage key must be a non-empty string')
  if (key.length > MAX_STORAGE_KEY_CHARS) throw apiError('TypeError', `storage key is ${key.length} characters, over ${MAX_STORAGE_KEY_CHARS}: keep the data in the value`)
  return key
}
