/**
 * The messages between the main thread and a plugin's worker. Everything here is plain data, copied by
 * structured clone: keep it small, because every plugin call pays for one message each way.
 */
import type { InboundMessage } from '../normalize/message-types.ts'
import type { LoginLinkSettings } from '../web/login-link.ts'
import type { AccountInfo, JsonValue, RuleMatch } from './plugin-api.ts'
import type { SessionOp } from './plugin-host-types.ts'

/**
 * Bounds on what a plugin keeps, checked where the plugin calls (sandbox/build-context.ts) and again on
 * arrival (worker-message.ts). A session's state is read, copied and written with each of the user's
 * messages on the main thread, and a stored value with each read: a 30-million-character state held up
 * every other user's answers (150 ms each) and grew the process by 450 MB. Dialogue state is small; a
 * stored value may be a cached API answer, hence more room.
 */
export const MAX_SESSION_STATE_CHARS = 65_536
export const MAX_STORAGE_VALUE_CHARS = 1_048_576
/**
 * A key names a value; it is not one. Keys were unbounded: a 120-million-character key took the main
 * thread's store write 6 s, past WeChat's 5 s for every other user, and grew the database by 300 MB
 * (a robustness review).
 */
export const MAX_STORAGE_KEY_CHARS = 1_024
/**
 * What a plugin sends through `ctx.api`: a post's body (a draft of 8 articles of the platform's 1 MB of
 * content each fits), a query, the message of a send (a text is 2048 bytes to the platform). Unbounded, a
 * 200-million-character body held every other user's answer 2.7 s on the main thread, decoded there and
 * encoded again for the request (a review of plugin API misuse).
 */
export const MAX_API_BODY_CHARS = 8 * 1_048_576
export const MAX_API_QUERY_CHARS = 16_384
export const MAX_SEND_MESSAGE_CHARS = 1_048_576
/** Ten years: far past any dialogue or cache, and within what every store accepts (Redis PX). */
export const MAX_TTL_SECONDS = 315_360_000
/** One second: a shorter lock or expiry is over before a user can answer (ttl-seconds.ts). */
export const MIN_TTL_SECONDS = 1

/** Handed to the worker as `workerData`. */
export interface WorkerInit {
  /** Folder name; the plugin's `name` must equal it. */
  name: string
  /** Absolute path of the plugin folder: the only place its relative imports may reach. */
  dir: string
  /** Absolute path of index.ts or index.js. */
  entry: string
  config: Record<string, JsonValue>
  /** Node built-ins the sandbox may require. */
  allow: string[]
  /** Bound on the plugin's own dispose(), and, as much again, on its onDispose hooks together, so unloading cannot hang. */
  disposeTimeoutMs: number
  /** The engine's log level: lines below it are not sent over at all (sandbox/log-forwarder.ts). */
  logLevel: string
  /** The accounts the engine serves: setup's `api.accounts`, and the ids `api.platform` takes. */
  accounts: AccountInfo[]
  /** What `ctx.web.loginUrl` builds links with: the engine's publicUrl, each account's pageDomains. */
  web: LoginLinkSettings
}

/** What a worker is started with: its init, and the bound on its memory (set by the runner). */
export interface WorkerData extends WorkerInit {
  /** MB the worker may keep on its heap, and separately in ArrayBuffers and Buffers outside it (sandbox/memory-watch.ts). */
  memoryMb: number
}

export interface CallRequest {
  t: 'call'
  id: number
  /** Epoch ms after which the main thread has given up; RPCs made for this call stop waiting then. */
  deadline: number
  message: InboundMessage
  /** The message's dedup key, as the engine made it (PluginCall.key): ctx.log's lines carry it. */
  key: string
  account: AccountInfo
  match: RuleMatch
  session: { active: boolean; state: JsonValue | undefined }
  /** The sender's groups (ctx.user.groups); left out when they are in none, the usual case, so it costs nothing. */
  groups?: readonly string[]
}

export type RpcMethod =
  | 'kv.get'
  | 'kv.set'
  | 'kv.delete'
  | 'kv.compareAndSet'
  | 'kv.increment'
  | 'api.get'
  | 'api.post'
  | 'api.sendToUser'
  | 'api.sendTemplate'
  | 'api.sendSubscribeMessage'
  | 'api.uploadMedia'
  | 'api.downloadMedia'

/**
 * Storage RPCs name the scope, never the namespace: the main thread derives the namespace from the
 * worker it came from, so a plugin cannot reach another plugin's data.
 */
export type KvScope = { user: string } | null
/** A storage request's keys: the plugin's own, or a shared area's (`area`, one the plugin declared). */
type KvTarget = { scope: KvScope; area?: string; key: string }

export type RpcRequest =
  | ({ t: 'rpc'; id: number; method: 'kv.get' | 'kv.delete' } & KvTarget)
  | ({ t: 'rpc'; id: number; method: 'kv.set'; value: JsonValue; ttlSeconds?: number } & KvTarget)
  /** `expected` / `next` absent: the key absent / deleted (a property holding undefined does not cross the thread as absent). */
  | ({ t: 'rpc'; id: number; method: 'kv.increment'; by: number; ttlSeconds?: number } & KvTarget)
  | ({ t: 'rpc'; id: number; method: 'kv.compareAndSet'; expected?: { value: JsonValue }; next?: { value: JsonValue }; ttlSeconds?: number } & KvTarget)
  | { t: 'rpc'; id: number; method: 'api.get'; accountId: string; path: string; query?: Record<string, string> }
  | { t: 'rpc'; id: number; method: 'api.post'; accountId: string; path: string; body: JsonValue }
  | { t: 'rpc'; id: number; method: 'api.sendToUser'; accountId: string; openId: string; message: JsonValue; opts?: JsonValue }
  | { t: 'rpc'; id: number; method: 'api.sendTemplate'; accountId: string; openId: string; message: JsonValue }
  | { t: 'rpc'; id: number; method: 'api.sendSubscribeMessage'; accountId: string; openId: string; message: JsonValue }
  /** `data`: the file's bytes, copied out of the sandbox (a Uint8Array crosses a thread and the IPC as bytes). */
  | { t: 'rpc'; id: number; method: 'api.uploadMedia'; accountId: string; mediaType: string; data: Uint8Array; filename?: string }
  | { t: 'rpc'; id: number; method: 'api.downloadMedia'; accountId: string; mediaId: string }

export type RpcResponse =
  | { t: 'rpc-result'; id: number; ok: true; value: RpcValue }
  /** `error`: set when the failure was an EngineError (a platform API call), so the plugin gets its errcode. */
  | { t: 'rpc-result'; id: number; ok: false; message: string; error?: RpcError }

/** What a request resolves: data, or for a download a file's bytes (a Uint8Array crosses as bytes). */
export type RpcValue = JsonValue | { contentType: string; data: Uint8Array } | undefined

/** The fields of a refused platform call the plugin decides on; errmsg is in `message`. */
export interface RpcError {
  code: string
  errcode?: number
}

/** What the plugin's `handle` produced, before the main thread validates a reply. */
export type CallResult =
  | { kind: 'reply'; reply: JsonValue }
  | { kind: 'pass' }
  | { kind: 'error'; message: string }
  | { kind: 'bad-reply'; reason: string }

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** `ping`: answered with `pong` at once by a worker whose event loop is free (plugin-runner.ts, its liveness check). */
export type MainToWorker = CallRequest | RpcResponse | { t: 'dispose' } | { t: 'ping' }

export type WorkerToMain =
  /**
   * The definition loaded and was checked; sent before setup runs, which may use storage too. `sharedStorage`:
   * the areas it declares, the only ones its storage requests may name.
   */
  | { t: 'defined'; sharedStorage: string[] }
  | { t: 'ready' }
  /** The module did not load, its name is wrong, or setup threw. */
  | { t: 'load-failed'; reason: string }
  | { t: 'result'; id: number; result: CallResult; sessionOps: SessionOp[] }
  | RpcRequest
  | { t: 'log'; level: LogLevel; msg: string; data?: Record<string, JsonValue> }
  /**
   * `cleared`: timers and hooks setup registered that were still live, undone by the host. `unsettled`: the
   * onDispose hooks that did not settle within their share of the bound, each named (setup-registry.ts).
   */
  | { t: 'disposed'; cleared: number; error?: string; unsettled?: string[] }
  /** The worker holds more than memoryMb on its heap or outside it, after a full GC: to be replaced. */
  | { t: 'over-memory'; where: 'heap' | 'outside'; mb: number }
  /** The answer to a `ping`. */
  | { t: 'pong' }

/**
 * Process isolation (plugin-process.ts): where the child's program finds its `WorkerData`, the first IPC
 * message, stashed there before the worker program runs (sandbox/worker-port.ts takes it off again).
 */
export const CHILD_WORKER_DATA_KEY = 'wxengine.pluginWorkerData'
/**
 * A line the child writes to its stderr just before it exits on an uncaught error: this prefix, then the
 * error's message as JSON. The engine makes it the crash's reason, as a thread's `error` event gives it.
 */
export const CHILD_CRASH_LINE_PREFIX = 'wxengine-plugin-crash '
