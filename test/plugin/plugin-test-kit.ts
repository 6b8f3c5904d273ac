/**
 * Shared by the plugin tests: load a chosen few plugins with a real in-memory store, capture the log,
 * build messages, and follow the session the way the engine would.
 */
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { pino, type DestinationStream } from 'pino'
import type { PluginSettings } from '../../core/config/config-types.ts'
import { dedupKeyOf } from '../../core/dedup/dedup-key.ts'
import type { EngineError } from '../../core/errors.ts'
import { createLogger, type Logger } from '../../core/log/logger.ts'
import type {
  ClickEvent,
  ImageMessage,
  InboundMessage,
  LocationMessage,
  LocationReportEvent,
  TextMessage,
} from '../../core/normalize/message-types.ts'
import { loadPluginSet } from '../../core/plugin/load-plugin-set.ts'
import type { PluginIsolationSetting } from '../../core/plugin/plugin-isolation.ts'
import type { JsonValue, PlatformApi, RuleMatch } from '../../core/plugin/plugin-api.ts'
import type { PluginOutcome, PluginSet, SessionOp } from '../../core/plugin/plugin-host-types.ts'
import type { Reply } from '../../core/reply/reply-types.ts'
import { createAccessTokenManager } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { createPlatformApi } from '../../core/platform/platform-api.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import type { KvStore, Store } from '../../core/store/store.ts'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/plugins', import.meta.url))
export const EXAMPLES_DIR = fileURLToPath(new URL('../../plugins', import.meta.url))

export const ACCOUNT = { id: 'main', appId: 'wx0000000000000001', originalId: 'gh_test' }

/** Log lines as objects, with a way to wait for one to appear (no sleeping). */
export interface CapturedLog {
  logger: Logger
  lines: Array<Record<string, unknown>>
  waitFor(pred: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>
}

export function captureLog(): CapturedLog {
  const lines: Array<Record<string, unknown>> = []
  const waiters: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = []
  const destination: DestinationStream = {
    write(chunk: string) {
      const line = JSON.parse(chunk) as Record<string, unknown>
      lines.push(line)
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(line)
        }
      }
    },
  }
  return {
    logger: pino({ level: 'debug', base: undefined }, destination),
    lines,
    waitFor(pred) {
      const seen = lines.find(pred)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve) => waiters.push({ pred, resolve }))
    },
  }
}

export interface ApiCall {
  accountId: string
  method: 'get' | 'post' | 'sendToUser' | 'sendTemplate' | 'sendSubscribeMessage' | 'uploadMedia' | 'downloadMedia'
  args: unknown[]
}

/** Records what plugins ask of the platform API; `/cgi-bin/fail` fails like an errcode answer would. */
export function createFakeApi(): { api: (accountId: string) => PlatformApi; calls: ApiCall[] } {
  const calls: ApiCall[] = []
  return {
    calls,
    api: (accountId) => ({
      async post(path, body) {
        calls.push({ accountId, method: 'post', args: [path, body] })
        if (path === '/cgi-bin/fail') throw new Error('API_ERROR 40001: invalid credential')
        return { errcode: 0, echoed: body }
      },
      async get(path, query) {
        calls.push({ accountId, method: 'get', args: [path, query ?? null] })
        return { errcode: 0, path }
      },
      async sendToUser(openId, message, opts) {
        calls.push({ accountId, method: 'sendToUser', args: opts === undefined ? [openId, message] : [openId, message, opts] })
      },
      async sendTemplate(openId, message) {
        calls.push({ accountId, method: 'sendTemplate', args: [openId, message] })
        return '2963446620935323649'
      },
      async sendSubscribeMessage(openId, message) {
        calls.push({ accountId, method: 'sendSubscribeMessage', args: [openId, message] })
      },
      async uploadMedia(type, data, opts) {
        calls.push({ accountId, method: 'uploadMedia', args: opts === undefined ? [type, data] : [type, data, opts] })
        return 'FAKE_MEDIA_ID'
      },
      async downloadMedia(mediaId) {
        calls.push({ accountId, method: 'downloadMedia', args: [mediaId] })
        return { contentType: 'image/png', data: Buffer.from('png') }
      },
    }),
  }
}

/**
 * The real PlatformApi (client, token manager) for app wxA, speaking to a fake WeChat API on loopback: for
 * tests of what a plugin's ctx.api call puts on the wire and what it sees back. Pass `api` to loadPlugins.
 */
export async function startPlatformOnFakeApi(): Promise<{ fake: FakeWeChatApi; api: () => PlatformApi }> {
  const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
  const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 2000 })
  const tokens = createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: createMemoryStore().tokens, log: createLogger({ level: 'silent' }) })
  const platform = createPlatformApi({ client, tokens })
  // As the test kit does: templates a test sets are the ones checked next, not a list kept from before.
  fake.onTemplatesSet(() => platform.forgetTemplates())
  return { fake, api: () => platform }
}

export interface Harness {
  set: PluginSet
  errors: EngineError[]
  store: Store
  log: CapturedLog
  apiCalls: ApiCall[]
  /** Invoke with the defaults a rule-less call would have. */
  /** Calls a plugin directly; without a `match`, as a type handler named after it would (the router always gives one). */
  call(plugin: string, message: InboundMessage, extra?: { match?: RuleMatch; session?: SessionSnapshot }): Promise<PluginOutcome>
  dispose(): Promise<void>
}

export interface LoadOptions {
  dir?: string
  /** The folders to load; every other folder in `dir` is disabled. */
  only: string[]
  settings?: Record<string, PluginSettings>
  timeoutMs?: number
  startTimeoutMs?: number
  disposeTimeoutMs?: number
  /** The store's clock, to expire TTLs without waiting. */
  now?: () => number
  /** Stand in front of the real KvStore (to make it fail). */
  wrapKv?: (kv: KvStore) => KvStore
  /** A real platform API (e.g. against test/__FAKE__) instead of the recording stub. */
  api?: (accountId: string) => PlatformApi
  /** limits.pluginIsolation (default: the engine's, core/plugin/plugin-isolation.ts). */
  isolation?: PluginIsolationSetting
  /** limits.pluginMemoryMb. */
  memoryMb?: number
}

export async function loadPlugins(opts: LoadOptions): Promise<Harness> {
  const dir = opts.dir ?? FIXTURES_DIR
  const settings: Record<string, PluginSettings> = {}
  for (const name of readdirSync(dir)) {
    settings[name] = opts.only.includes(name) ? { ...opts.settings?.[name] } : { enabled: false }
  }
  const store = createMemoryStore({ now: opts.now })
  const log = captureLog()
  const fake = createFakeApi()
  const { set, errors } = await loadPluginSet({
    dir,
    settings,
    defaultTimeoutMs: opts.timeoutMs ?? 2000,
    services: { kv: opts.wrapKv ? opts.wrapKv(store.kv) : store.kv, api: opts.api ?? fake.api, log: log.logger },
    log: log.logger,
    startTimeoutMs: opts.startTimeoutMs,
    accounts: [ACCOUNT],
    disposeTimeoutMs: opts.disposeTimeoutMs,
    isolation: opts.isolation,
    defaultMemoryMb: opts.memoryMb,
  })
  // Keeps the test's process up until dispose, as an engine's server does: workers and their processes are
  // unref'd, and a test waiting for a crash to be seen (a log line) holds nothing else. Not after a load
  // with errors: a test that did not expect them fails at its first assertion, before the dispose() it was
  // to reach, and this kept its process running, a hang instead of a failure. The workers of the plugins
  // that failed are stopped already (plugin-runner.ts); where none loaded the set is disposed here, so
  // nothing is left; where some did (a broken plugin beside good ones), theirs stay up for the test's
  // calls, which hold their own deadline timers, but never hold the process.
  const alive = errors.length === 0 ? setInterval(() => {}, 60_000) : undefined
  if (errors.length > 0 && set.names().length === 0) await set.dispose()
  return {
    set,
    errors,
    store,
    log,
    apiCalls: fake.calls,
    call: (plugin, message, extra) =>
      set.invoke({
        plugin,
        message,
        // Keyed as the engine keys the message: a plugin's ctx.log lines and its PLUGIN_TIMEOUT line carry it.
        key: dedupKeyOf(ACCOUNT.id, message),
        account: ACCOUNT,
        match: extra?.match ?? { rule: plugin, via: 'type', captures: [], groups: {}, fromClick: false, args: {} },
        session: extra?.session ?? { active: false, state: undefined },
      }),
    dispose: () => {
      clearInterval(alive)
      return set.dispose()
    },
  }
}

// ----- messages -------------------------------------------------------------------------------------

let msgSeq = 1000
const base = (fromUser: string) => ({ toUser: ACCOUNT.originalId, fromUser, createTime: 1_700_000_000, raw: {} })

export function text(content: string, fromUser = 'user-a'): TextMessage {
  return { ...base(fromUser), kind: 'text', content, msgId: String(msgSeq++) }
}

export function image(fromUser = 'user-a'): ImageMessage {
  return { ...base(fromUser), kind: 'image', picUrl: 'http://127.0.0.1/p.jpg', mediaId: 'media-1', msgId: String(msgSeq++) }
}

export function click(eventKey: string, fromUser = 'user-a'): ClickEvent {
  return { ...base(fromUser), kind: 'click', event: 'CLICK', eventKey }
}

export function location(label: string, locationX: number, locationY: number, fromUser = 'user-a'): LocationMessage {
  return { ...base(fromUser), kind: 'location', locationX, locationY, scale: 15, label, msgId: String(msgSeq++) }
}

export function locationReport(fromUser = 'user-a'): LocationReportEvent {
  return { ...base(fromUser), kind: 'location_report', event: 'LOCATION', latitude: 23.1, longitude: 113.3, precision: 65 }
}

export function regexMatch(groups: Record<string, string>, args: Record<string, JsonValue> = {}): RuleMatch {
  return { rule: 'test-rule', via: 'regex', keyword: '(?<text>.+)', captures: ['x', ...Object.values(groups)], groups, fromClick: false, args }
}

export function exactMatch(keyword: string, args: Record<string, JsonValue> = {}): RuleMatch {
  return { rule: 'test-rule', via: 'exact', keyword, captures: [keyword], groups: {}, fromClick: false, args }
}

// ----- outcomes and sessions ------------------------------------------------------------------------

export type SessionSnapshot = { active: boolean; state: JsonValue | undefined }

/** What the engine does with recorded ops, enough for tests: the latest state wins, `end` clears. */
export function applySessionOps(session: SessionSnapshot, ops: SessionOp[]): SessionSnapshot {
  let next = session
  for (const op of ops) {
    if (op.op === 'begin') next = { active: true, state: op.state }
    else if (op.op === 'update') next = { active: next.active, state: op.state }
    else if (op.op === 'end') next = { active: false, state: undefined }
  }
  return next
}

/** The reply of an outcome, failing the test with the outcome when it is not one. */
export function replyOf(outcome: PluginOutcome): Reply {
  if (outcome.status !== 'reply') throw new Error(`expected a reply, got ${JSON.stringify(outcome)}`)
  return outcome.reply
}

export function textOf(outcome: PluginOutcome): string {
  const reply = replyOf(outcome)
  if (reply.type !== 'text') throw new Error(`expected a text reply, got ${JSON.stringify(reply)}`)
  return reply.content
}

export function errorOf(outcome: PluginOutcome): EngineError {
  if (outcome.status !== 'error') throw new Error(`expected an error, got ${JSON.stringify(outcome)}`)
  return outcome.error
}
