/**
 * The boundary between the engine and plugin code. The engine only ever calls a PluginSet; how the
 * set runs its plugins (worker threads, vm2) is hidden behind it so the sandbox can be replaced.
 */
import type { EngineError } from '../errors.ts'
import type { InboundMessage } from '../normalize/message-types.ts'
import type { Reply } from '../reply/reply-types.ts'
import type { AccountInfo, JsonValue, PlatformApi, RuleMatch } from './plugin-api.ts'
import type { KvStore } from '../store/store.ts'
import type { Logger } from '../log/logger.ts'

export interface PluginManifest {
  name: string
  version?: string
  description?: string
  /** Message kinds it expects (informational; used by `rules check` warnings). */
  accepts?: string[]
  /** JSON Schema of its config. */
  configSchema?: Record<string, unknown>
}

/** A recorded ctx.session call, applied by the engine after the call returns. */
export type SessionOp =
  | { op: 'begin'; ttlMs: number; state?: JsonValue }
  | { op: 'update'; state: JsonValue }
  | { op: 'refresh'; ttlMs: number }
  | { op: 'end' }

export interface PluginCall {
  plugin: string
  message: InboundMessage
  /**
   * The message's dedup key (dedup-key.ts), as the engine made it once for the message: the call's
   * PLUGIN_TIMEOUT line and the plugin's ctx.log lines carry it, as every engine line about the message does.
   */
  key: string
  account: AccountInfo
  match: RuleMatch
  /** This user's session as seen by this plugin. */
  session: { active: boolean; state: JsonValue | undefined }
  /** The groups of the account's userGroups the sender is in (ctx.user.groups); absent or empty: none, the usual case. */
  groups?: readonly string[]
}

export type PluginOutcome =
  | { status: 'reply'; reply: Reply; sessionOps: SessionOp[] }
  | { status: 'pass'; sessionOps: SessionOp[] }
  /** PLUGIN_ERROR, PLUGIN_TIMEOUT, PLUGIN_BAD_REPLY or PLUGIN_LOAD */
  | { status: 'error'; error: EngineError; sessionOps: SessionOp[] }

/** What the engine lends plugins; calls from the sandbox are served by these on the main thread. */
export interface PluginServices {
  kv: KvStore
  api(accountId: string): PlatformApi
  log: Logger
}

/** One loaded generation of plugins. Hot reload loads a new set, swaps, then disposes the old one. */
export interface PluginSet {
  has(name: string): boolean
  names(): string[]
  manifest(name: string): PluginManifest | undefined
  /** The shared storage areas the loaded plugins declare, each once, sorted (for removing a user's data). */
  sharedAreas(): string[]
  /** Never rejects: every failure is an outcome. Enforces the plugin's hard deadline. */
  invoke(call: PluginCall): Promise<PluginOutcome>
  /**
   * Run dispose hooks, clear what setup registered, stop workers. Calls still running are waited for up to
   * their deadlines (hot reload), or up to `callsWithinMs` (shutdown), after which they fail as PLUGIN_ERROR.
   */
  dispose(opts?: { callsWithinMs?: number }): Promise<void>
  /**
   * This set is no longer current: a reload swapped `next` in. Calls already running on a worker finish
   * here; a call that would wait for a worker of this set's (one being restarted after a crash, a hang or
   * the memory bound) goes to `next` instead, whose workers are up.
   */
  retire(next: PluginSet): void
}
