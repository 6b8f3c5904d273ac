/**
 * The shape of engine.config.ts. `defineConfig` only gives it types; `loadConfig` applies the
 * environment overrides and validates (core/config/load-config.ts).
 */
import type { JsonValue } from '../plugin/plugin-api.ts'

/** How WeChat talks to this account (protocol.md §2). */
export type SecurityMode = 'plaintext' | 'compatible' | 'safe'

export interface AccountConfig {
  /** Path segment: the account answers at /wechat/<id>. */
  id: string
  token: string
  appId: string
  appSecret?: string
  /** 43 characters; required for compatible and safe mode. */
  encodingAESKey?: string
  mode: SecurityMode
  /** The account's original id (gh_...), the ToUserName of its pushes. */
  originalId?: string
  /**
   * Named groups of the account's users, by OpenID: a rule or handler with `users: admins` exists only for
   * them (docs/rules.md#users-who-may-trigger-a-rule), and a plugin asks `ctx.user.inGroup('admins')`. WECHAT_ADMINS sets the
   * default account's `admins`.
   */
  userGroups?: Record<string, string[]>
  /**
   * Where the account's pages inside WeChat live: its JS接口安全域名 (mp.weixin.qq.com, 公众号设置 > 功能设置),
   * each a host or a host and a path (`h5.example.com`, `h5.example.com/mp`). Pages there get their
   * `wx.config` signature from GET /jssdk-config/<id>?url=... (docs/web.md); none, and that endpoint is off
   * for the account. WECHAT_PAGE_DOMAINS sets the default account's.
   */
  pageDomains?: string[]
}

export interface PluginSettings {
  /** Passed to the plugin as ctx.config after validation against its manifest schema. */
  config?: Record<string, JsonValue>
  /** Node built-ins the sandbox may require (e.g. ['fs']); nothing by default. */
  allow?: string[]
  /** Hard deadline for one call, after which the plugin's worker is stopped and restarted. */
  timeoutMs?: number
  /** This plugin's worker heap in MB, instead of limits.pluginMemoryMb. */
  memoryMb?: number
  enabled?: boolean
}

export interface StoreConfig {
  kind: 'sqlite' | 'memory' | 'redis'
  /** Redis URL when kind is 'redis'. */
  url?: string
  /** Redis only: prepended to every key (default `wx:`), so several deployments can share one Redis. */
  keyPrefix?: string
  /**
   * Redis only: a command not answered within this fails (default 1000 ms), so a hung server costs a
   * message an answer, never WeChat's 5 s.
   */
  commandTimeoutMs?: number
}

export interface EngineConfig {
  port: number
  host: string
  /**
   * Where users' browsers reach the engine: its scheme, host and any path a proxy serves it under
   * (`https://wx.example.com`, `https://example.com/wx`). A web login tells WeChat to come back there, and
   * plugins build login links on it (`ctx.web.loginUrl`). Unset, a login takes the scheme and host from the
   * request (`X-Forwarded-Proto`, `Host`), and plugins cannot build links. PUBLIC_URL sets it. No trailing slash
   * is kept.
   */
  publicUrl?: string
  /**
   * Reverse proxies in front of the engine append to X-Forwarded-For (nginx: `$proxy_add_x_forwarded_for`):
   * `true` (or 1) for one, a number for a chain (a CDN, then nginx: 2). The web endpoints' per-client
   * allowance (limits.webRequestsPerMinute) then counts the address the outermost proxy saw, not the proxy's,
   * and the admin 401's line names it. Off by default: without a proxy, anyone could send the header.
   * TRUST_PROXY=1 (or 2, ...) sets it.
   */
  trustProxy: boolean | number
  dataDir: string
  rulesDir: string
  pluginsDir: string
  /** The custom menus, one `<account-id>.yaml` each (docs/menus.md); only `wxengine menu` reads them. */
  menusDir: string
  /** The account served at /wechat. */
  defaultAccount: string
  accounts: AccountConfig[]
  store: StoreConfig
  limits: {
    /** Bodies over this are refused with 413 without reading them all. */
    maxBodyBytes: number
    /**
     * A request (headers and body) not received whole within this is answered 408 and its connection
     * closed: WeChat gives up after 5 s, and a stalled client must not hold a connection or a shutdown.
     */
    requestTimeoutMs: number
    /** |now - timestamp| beyond this is refused as a replay. */
    timestampWindowSeconds: number
    /** Time a message may take before it is answered `success` and its reply goes out later. */
    replyBudgetMs: number
    /** How long a replayed answer is kept for WeChat's retries. */
    replyCacheMs: number
    /** Default hard deadline of one plugin call. */
    pluginTimeoutMs: number
    /** Heap of each plugin's worker, in MB: a plugin that allocates without end is stopped and restarted. */
    pluginMemoryMb: number
    /**
     * Where each plugin's worker runs: 'thread' (a worker thread), 'process' (a child process of its own, so
     * a plugin reaching its heap limit on Node 20 or 22 cannot end the engine), or 'auto' (a process on
     * Node < 24, a thread from 24 on). Default: DEFAULT_PLUGIN_ISOLATION (core/plugin/plugin-isolation.ts).
     */
    pluginIsolation: 'auto' | 'thread' | 'process'
    /** News articles per reply: the platform allows 8, and 1 when answering a user's message. */
    newsMaxArticles: number
    newsMaxArticlesForUserMessage: number
    /**
     * Requests one client (an address; an IPv6 /64) may make of the web endpoints (/jssdk-config, /oauth,
     * /oauth-identity) in a minute, and at once; past it, 429 with Retry-After. 0 turns it off. Never
     * applied to WeChat's pushes.
     */
    webRequestsPerMinute: number
  }
  plugins: Record<string, PluginSettings>
  log: {
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'
    pretty: boolean
    /** Message-log retention; 0 keeps the log off. */
    retentionDays: number
    /** Purge a user's sessions and plugin data when they unsubscribe. */
    purgeOnUnsubscribe: boolean
    /**
     * Answer a message only once its log entry is durable (default): written to the log's journal, so after
     * a crash every answered message is in the log. false answers without waiting for that write (it follows
     * within the event-loop turn), and a crash can lose the entries of the last turn.
     */
    commitBeforeAnswer: boolean
  }
  platform: {
    /** https://api.weixin.qq.com, or a local fake in tests. */
    apiBase: string
    /** https://mp.weixin.qq.com, where showqrcode serves a QR code's image; a local fake in tests. */
    mpBase: string
    /** https://open.weixin.qq.com, where a web login (docs/web.md) sends the user to agree; a local fake in tests. */
    openBase: string
  }
  /** /healthz and /metrics: off, on the public port, or on their own port. A token, if set, is required as Bearer. */
  admin: { enabled: boolean; port?: number; token?: string }
  /** Reload rules/ and plugins/ when their files change. */
  watch: boolean
}

/** What a user writes: everything optional except what makes sense to require. */
export type UserConfig = DeepPartial<Omit<EngineConfig, 'accounts'>> & { accounts?: Array<Partial<AccountConfig> & { id: string }> }

type DeepPartial<T> = { [K in keyof T]?: T[K] extends Array<unknown> ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] }

export function defineConfig(config: UserConfig): UserConfig {
  return config
}
