/**
 * The whole surface a plugin sees. Plugins import it as `wxengine/plugin`:
 *
 *   import { definePlugin } from 'wxengine/plugin'
 *   export default definePlugin({ name: 'echo', handle: (ctx) => ctx.reply.text(ctx.message.content) })
 *
 * Nothing else from the engine is reachable from a plugin: it runs in its own worker thread inside a
 * vm2 sandbox, and everything below crosses that boundary as plain data or an async call.
 * Its run-time exports (`definePlugin`, `dialogue`) are what the sandbox's `wxengine/plugin` gives
 * (sandbox/load-plugin-module.ts); everything else here is types, and so is everything they import.
 */
import type { InboundMessage, MessageKind } from '../normalize/message-types.ts'
import type { Article, Reply } from '../reply/reply-types.ts'
import type { CustomMessage, MenuOption, SendOptions } from '../reply/custom-message-types.ts'
import type { TemplateMessage } from '../reply/template-message.ts'
import type { SubscribeMessage } from '../reply/subscribe-message.ts'

export type { InboundMessage, MessageKind, Reply, Article, CustomMessage, MenuOption, SendOptions, TemplateMessage, SubscribeMessage }
export { dialogue } from './dialogue.ts'
export type { DialogueState, DialogueSpec, DialogueStep, DialoguePrompt } from './dialogue.ts'

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/**
 * What a session state may be declared as. Wider than JsonValue on purpose: `interface State { step: number }`
 * is not a JsonValue to TypeScript (an interface has no index signature), and refusing the usual way to
 * write a state costs more than it catches. The state is checked when recorded: anything that is not JSON
 * data (a function, a Date, a cycle) throws a TypeError there, naming where.
 */
export type SessionState = string | number | boolean | null | object

/**
 * What a stored value may be declared as: as a session state, and for the same reason (`interface Streak`
 * was refused by `storage.user.get<Streak>`, found by a plugin-author review). Checked when written.
 */
export type StoredValue = SessionState

/**
 * What the routing step that reached this plugin found. Always there: a text rule fills in the keyword and
 * captures; the user's session, a type handler, the welcome and the default say so in `via` (`rule` is then
 * `session`, the handler's name, `welcome` or `default`), with no keyword and empty captures.
 */
export interface RuleMatch {
  /** The rule's name (unique within its account). */
  rule: string
  /** How it matched. `session`: the user's conversation is locked to this plugin. */
  via: 'exact' | 'contains' | 'prefix' | 'regex' | 'type' | 'scene' | 'key' | 'welcome' | 'default' | 'error' | 'session'
  /** The keyword (or regex source) that matched, as written in the rule. */
  keyword?: string
  /** Regex captures: [full match, group 1, ...]; an unmatched group is `''`. */
  captures: string[]
  /**
   * Named groups. One that did not take part in the match (`(?<city>.+)?`, or another keyword of the rule
   * matched) is absent, so the type says `undefined` and the compiler asks for a default: `groups.city ?? 'x'`.
   */
  groups: Record<string, string | undefined>
  /** True when a menu CLICK's EventKey matched a text rule (WeEngine routes those like text). */
  fromClick: boolean
  /** The rule's `args`: extra data for the plugin. */
  args: Record<string, JsonValue>
}

/**
 * The user's conversation lock (WeEngine "context"). Calls are recorded and applied when `handle`
 * returns, together with the reply, so a reply and its session change land as one.
 */
export interface SessionHandle<S extends SessionState = JsonValue> {
  /** True when this user's conversation is locked to this plugin. */
  readonly active: boolean
  /** The state stored with the lock (after any update made in this call). */
  readonly state: S | undefined
  /**
   * Lock this user's next messages to this plugin for `ttlSeconds`: 1 to 315360000 (ten years); anything
   * else (under a second, negative, not finite) throws a TypeError naming the value. As for every ttl below.
   */
  begin(ttlSeconds: number, state?: S): void
  /** Replace the state; keeps the current expiry. */
  update(state: S): void
  /** Extend the lock by `ttlSeconds` from now. */
  refresh(ttlSeconds: number): void
  /** Release the lock. */
  end(): void
}

/**
 * Persistent key-value storage, private to the plugin. `user` is scoped to the current user.
 *
 * One user's messages are handled one at a time, so their `user` keys need nothing more than get and set.
 * Plugin-wide keys are written by every user's messages at once (and by every instance of a fleet): change
 * them with `update` or `increment`, not get-then-set, which loses updates.
 */
export interface KeyValue {
  get<T extends StoredValue = JsonValue>(key: string): Promise<T | undefined>
  /** Replaces the value; without `ttlSeconds` it never expires (an earlier expiry is dropped). */
  set<T extends StoredValue = JsonValue>(key: string, value: T, ttlSeconds?: number): Promise<void>
  delete(key: string): Promise<void>
  /**
   * Read-modify-write, atomic against every other writer: `fn` gets the current value (undefined when
   * absent) and returns the new one (undefined deletes the key); if another write landed in between, `fn`
   * runs again on the newer value (until the call's deadline). Resolves with what was written. `ttlSeconds` sets a new expiry; without
   * it the key keeps the one it has (none for a new key).
   */
  update<T extends StoredValue = JsonValue>(key: string, fn: (current: T | undefined) => T | undefined | Promise<T | undefined>, ttlSeconds?: number): Promise<T | undefined>
  /**
   * Adds `by` (default 1; negative subtracts) to a number, atomically, starting from 0 when absent; resolves
   * with the new value. `ttlSeconds` is the expiry of a counter this call starts; a running counter keeps
   * its own, so `increment(key, 1, 60)` on every message counts in fixed 60 s windows (a rate limit).
   */
  increment(key: string, by?: number, ttlSeconds?: number): Promise<number>
}
/** Plugin-wide keys, and `user`: the current user's. */
export interface ScopedStorage extends KeyValue {
  readonly user: KeyValue
}
export interface PluginStorage extends ScopedStorage {
  /**
   * A storage area several plugins read and write (points that one plugin awards and another spends), by
   * the name each of them declares in `definePlugin({ sharedStorage: ['points'] })`. An area not declared
   * throws a TypeError. Its keys are apart from every plugin's own.
   */
  shared(area: string): ScopedStorage
}
/** `api.storage` in setup: plugin-wide keys (no user there), and the shared areas' plugin-wide keys. */
export interface SetupStorage extends KeyValue {
  shared(area: string): KeyValue
}

/**
 * Messages that have no passive form: send them with `ctx.api.sendToUser`; `handle` cannot return them.
 * Checked when sent (a menu needs options with distinct, non-empty ids): a bad one rejects with code
 * `PLUGIN_BAD_REPLY` and no request is made.
 */
export interface CustomMessageHelpers {
  /** A menu message: `headContent`, the options (a tap comes back as a text message with `bizmsgmenuid` = the option's id), `tailContent`. */
  msgMenu(list: MenuOption[], opts?: { headContent?: string; tailContent?: string }): CustomMessage
  /** A mini program card; the mini program must be linked to the account. */
  miniProgramPage(page: { title?: string; appId: string; pagePath: string; thumbMediaId: string }): CustomMessage
  /** An article of the account's permanent material, by media_id. */
  mpNews(mediaId: string): CustomMessage
  /** A published article, by the article_id the publish API returned. */
  mpNewsArticle(articleId: string): CustomMessage
  /** A card or coupon. */
  wxCard(cardId: string): CustomMessage
}

export interface ReplyHelpers extends CustomMessageHelpers {
  text(content: string): Reply
  image(mediaId: string): Reply
  voice(mediaId: string): Reply
  /** `thumbMediaId` is not needed in the passive reply, but is for sending it by the API (a late reply, sendToUser). */
  video(mediaId: string, opts?: { title?: string; description?: string; thumbMediaId?: string }): Reply
  music(opts: { title?: string; description?: string; musicUrl?: string; hqMusicUrl?: string; thumbMediaId: string }): Reply
  /** Each article's `url` and `picUrl` (and music's `musicUrl`, `hqMusicUrl`): an absolute http(s) URL, or `PLUGIN_BAD_REPLY`. */
  news(articles: Article[]): Reply
  /** To any agent, or to `kfAccount`: `prefix@wechat-id` (such as `kf1@mywxid`), or `PLUGIN_BAD_REPLY`. */
  transfer(kfAccount?: string): Reply
  /** Answer `success`: the message is handled, the user sees nothing. Routing stops. */
  none(): Reply
}

export interface PluginLogger {
  debug(msg: string, data?: Record<string, unknown>): void
  info(msg: string, data?: Record<string, unknown>): void
  warn(msg: string, data?: Record<string, unknown>): void
  error(msg: string, data?: Record<string, unknown>): void
}

/**
 * The platform API, authenticated with the account's access_token (refreshed for you). A refused call
 * rejects with an Error named `PlatformApiError` carrying `code` (`API_ERROR`; `BAD_CONFIG` when the
 * account has no appSecret; `STORE_UNAVAILABLE` when the token store is away; `PLUGIN_BAD_REPLY` when sendToUser, sendTemplate, sendSubscribeMessage or uploadMedia was given something it cannot send, before any
 * request) and `errcode` when the platform answered one (absent for a timeout or a network failure).
 * Decide on `errcode`, never on the message: e.g. 45015 (48 h window closed) is final, -1 is not.
 */
export interface PlatformApi {
  /** POST JSON to an API path such as `/cgi-bin/message/custom/send`; resolves the JSON answer. */
  post(path: string, body: JsonValue): Promise<JsonValue>
  get(path: string, query?: Record<string, string>): Promise<JsonValue>
  /**
   * Send a message to a user through the customer-service message API (within 48 h of their last
   * message): a reply (not `transfer` or `none`; news sends its first article), or a CustomMessage
   * (`ctx.reply.msgMenu`, ...). `kfAccount` sends it as that customer-service account.
   */
  sendToUser(openId: string, message: Reply | CustomMessage, opts?: SendOptions): Promise<void>
  /**
   * Send a template message (a service notice, at any time, to a follower): resolves the msgid, as text
   * (a 64-bit id), which the `template_send_job_finish` event names when the platform reports delivery.
   * Checked first against the account's templates (when it can read them): a templateId or a data field
   * the account's template does not have is refused with `PLUGIN_BAD_REPLY` naming it.
   */
  sendTemplate(openId: string, message: TemplateMessage): Promise<string>
  /**
   * Send a subscription notice (订阅通知, to a user who subscribed in an article or a web page; to a
   * non-follower it goes to 服务通知). A one-time subscription allows one notice: the platform refuses the
   * next with errcode 43101 until the user subscribes again. Checked first: each value against its keyword's
   * type (a `thing` takes 20 characters), and the templateId and keywords against the account's subscription
   * templates (when it can read them), refused with `PLUGIN_BAD_REPLY` naming what is wrong.
   */
  sendSubscribeMessage(openId: string, message: SubscribeMessage): Promise<void>
  /**
   * Upload a file as temporary media (临时素材, good for 3 days) and resolve its media_id, for a reply
   * (`ctx.reply.image(mediaId)`) or `sendToUser`. `data`: its bytes, a Buffer, Uint8Array or ArrayBuffer.
   * What the platform takes: an image PNG, JPEG or GIF within 10 MB; a voice AMR or MP3 within 2 MB (60 s);
   * a video MP4 within 10 MB; a thumb JPEG within 64 KB. The format is read from the bytes (the name sent is
   * theirs); `filename`, when given, must agree with them. Anything else is refused with `PLUGIN_BAD_REPLY`
   * before any request.
   */
  uploadMedia(type: 'image' | 'voice' | 'video' | 'thumb', data: Uint8Array | ArrayBuffer, opts?: { filename?: string }): Promise<string>
  /**
   * Download temporary media by its media_id (GET media/get): a user's image, voice or video message
   * (`ctx.message.mediaId`), or one uploaded within 3 days. Resolves its bytes as a Buffer with their
   * content type; a video as the URL the platform gives for it instead (`{ videoUrl }`). Up to 16 MB.
   */
  downloadMedia(mediaId: string): Promise<DownloadedMedia>
}

/** What `downloadMedia` resolves: the file, or for a video the platform's URL of it. */
export type DownloadedMedia = { contentType: string; data: Buffer } | { videoUrl: string }

export interface AccountInfo {
  id: string
  appId: string
  originalId?: string
}

/**
 * The sender, as the account's `userGroups` (engine.config.ts) place them: for a command only some may use,
 * where the rule's `users:` (docs/rules.md#users-who-may-trigger-a-rule) is not enough (a plugin that answers everyone, and more to
 * an admin).
 */
export interface UserInfo {
  /** The sender's OpenID (`ctx.message.fromUser`). */
  readonly openId: string
  /** The groups the sender is in, in the order the account defines them; empty for most users. */
  readonly groups: readonly string[]
  /** Whether the sender is in `group`; false for a group the account does not define. */
  inGroup(group: string): boolean
}

/**
 * Links into the account's pages through a web login (docs/web.md#login-links-from-a-plugin): the page opens
 * knowing who the user is. For a news article, a template message's `url`, a text reply's `<a href>`.
 */
export interface WebLinks {
  /**
   * `<publicUrl>/oauth/<account>?to=<page>`: a link that logs the user in (silently, for `base`) and opens
   * `to` with `wxe_ticket=` added, which the page redeems at /oauth-identity for the user's openid
   * (`userinfo`: and their profile, after WeChat asks them). Throws a TypeError, at this line, when the
   * login would refuse the link: publicUrl not set, `to` not a full URL on the account's pageDomains, or the
   * account has no appSecret.
   */
  loginUrl(to: string, opts?: { scope?: 'base' | 'userinfo' }): string
}

export type Pass = { readonly pass: true }

export interface PluginContext<C = Record<string, JsonValue>, S extends SessionState = JsonValue> {
  message: InboundMessage
  account: AccountInfo
  /** The sender and their groups. */
  user: UserInfo
  match: RuleMatch
  config: C
  session: SessionHandle<S>
  storage: PluginStorage
  reply: ReplyHelpers
  /** Not mine: let the next candidate (and then the rest of the routing order) take the message. */
  pass(): Pass
  log: PluginLogger
  api: PlatformApi
  /** Login links to the account's pages. */
  web: WebLinks
}

/**
 * What `setup` can register; everything registered is undone on unload, even if `dispose` forgets. Unloading
 * stops the timers first: from then on no `every` or `after` callback starts a run (a run going is waited
 * for, briefly), so `dispose` and the `onDispose` hooks never run beside one.
 */
export interface SetupApi<C = Record<string, JsonValue>> {
  config: C
  log: PluginLogger
  storage: SetupStorage
  /**
   * setInterval that is cleared on unload. Runs never overlap: a tick while the previous run (its promise) has
   * not settled is skipped, and a warning line says so. Returns a function that stops this timer before
   * unload (a poll that is done): no run starts after it, even when called from the callback itself, but a
   * run already going is not interrupted (it finishes, or awaits what it awaits). Calling it again, or after
   * unload, does nothing.
   */
  every(ms: number, fn: () => void | Promise<void>): () => void
  /**
   * setTimeout that is cleared on unload. `ms`: from 0 for `after`, from 10 for `every` (a shorter interval is
   * a busy loop), to 2147483647 for both (Node's timers hold no more); out of range (negative, NaN, Infinity)
   * a RangeError at the call, naming the plugin and the bound. No number, or `fn` no function: a TypeError.
   * Returns a function that cancels it (a reminder called off): the callback does not run if it has not
   * started; once it has, it is not interrupted. Calling it again, after the callback ran, or after unload,
   * does nothing.
   */
  after(ms: number, fn: () => void | Promise<void>): () => void
  /**
   * Register any cleanup to run on unload. Hooks run one after another in the order registered, together
   * within the dispose bound (2 s): one still pending after its share is left, and the next one runs.
   */
  onDispose(fn: () => void | Promise<void>): void
  /** The accounts the engine serves, for work that is not an answer to a message (a reminder, a digest). */
  accounts: AccountInfo[]
  /**
   * An account's platform API, as `ctx.api` is in `handle`, for timers and hooks: `every`/`after` callbacks
   * can send (`sendToUser`) and call the API. Each call is bounded at 10 s. An id not in `accounts` throws a
   * TypeError.
   */
  platform(accountId: string): PlatformApi
  /** An account's login links, as `ctx.web` is in `handle` (a reminder's link into a page). An id not in `accounts` throws a TypeError. */
  web(accountId: string): WebLinks
}

/** A string is a text reply: `return 'Hi'` is `return ctx.reply.text('Hi')`. */
export type HandleResult = Reply | string | Pass | undefined | void

export interface PluginDefinition<C = Record<string, JsonValue>, S extends SessionState = JsonValue> {
  name: string
  /**
   * The shared storage areas the plugin uses (`ctx.storage.shared('points')`): names of lowercase letters,
   * digits and hyphens. Declared, so that each area's users can be found, and a user's data in them is
   * removed with the rest on unsubscribe (log.purgeOnUnsubscribe).
   */
  sharedStorage?: readonly string[]
  setup?(api: SetupApi<C>): void | Promise<void>
  handle(ctx: PluginContext<C, S>): HandleResult | Promise<HandleResult>
  dispose?(): void | Promise<void>
}

/** Identity at run time; gives `handle` its types. */
export function definePlugin<C = Record<string, JsonValue>, S extends SessionState = JsonValue>(
  def: PluginDefinition<C, S>,
): PluginDefinition<C, S> {
  return def
}
