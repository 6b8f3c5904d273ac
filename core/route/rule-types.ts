/**
 * The rule set as the router sees it, compiled from rules/*.yaml (see docs/rules.md).
 * Priority: HIGHER numbers run FIRST. Ties break by file name, then position in the file.
 */
import type { JsonValue, RuleMatch } from '../plugin/plugin-api.ts'
import type { Reply } from '../reply/reply-types.ts'
import type { MessageKind } from '../normalize/message-types.ts'

export type KeywordKind = 'exact' | 'contains' | 'prefix' | 'regex'

export interface Keyword {
  kind: KeywordKind
  /** As written in the YAML. */
  value: string
  /** Fold case / full-width to half-width before comparing (both on by default). */
  foldCase: boolean
  foldWidth: boolean
}

/**
 * An inline image, voice or video reply written with `file:` instead of `mediaId:` (docs/rules.md): the
 * engine uploads the file as permanent material when the rule set is loaded (core/platform/media-uploads.ts).
 * Plain data: it crosses from the parse worker by structured clone.
 */
export interface MediaFile {
  type: 'image' | 'voice' | 'video'
  /** As written in the rules file (relative to its folder). */
  file: string
  /** The file itself, absolute. */
  path: string
  /** Where `file:` is written: `rules/x.yaml:12:14`. */
  at: string
  /** Filled by the loader's check of the file (load-rule-set.ts): what it read. */
  sha256: string
  bytes: number
  /** A video's; also sent as the material's title and introduction. */
  title?: string
  description?: string
}

/** What a media file became for one account: its reply (with the media_id), or why there is none. */
export type MediaOutcome = { reply: Reply } | { failed: string }

/** A news article of an inline reply that opens its page through a web login (`login:` in YAML). */
export interface ArticleLogin {
  /** Its index in the reply's articles. */
  article: number
  scope: 'base' | 'userinfo'
  /** Where `login:` is written. */
  at: RuleLoadError
}

/** Where a matched rule sends the message. */
export type RuleTarget =
  | { plugin: string; args: Record<string, JsonValue> }
  /**
   * `logins`: articles whose url (the page, in `reply`) is sent as the account's login link to it;
   * `byAccount` holds the reply with the links, per account, set when the set is loaded with the configuration
   * (load-rule-set.ts). An account without one: the target fails (BAD_CONFIG), never the bare page.
   */
  | { reply: Reply; logins?: readonly ArticleLogin[]; byAccount?: Readonly<Record<string, Reply>> }
  /**
   * `byAccount`: the outcome per account id, set when the set is loaded by a running engine (the media_id is
   * each account's own). Absent, or an account without one: the target fails as a failing plugin does
   * (MEDIA_UNAVAILABLE: the error or default reply answers).
   */
  | { media: MediaFile; byAccount?: Readonly<Record<string, MediaOutcome>> }

/** Source position, for error messages and stable tie-breaks. */
export interface SourceRef {
  file: string
  line: number
}

export interface TextRule {
  name: string
  /** Account id, or '*' for every account. */
  account: string
  keywords: Keyword[]
  target: RuleTarget
  priority: number
  enabled: boolean
  /** Only senders in one of these groups (the account's userGroups) see the rule; absent: everyone. */
  users?: readonly string[]
  source: SourceRef
}

/** Kinds whose push carries a QR scene (protocol.md §3: subscribe via a parameter QR code, scan): a handler can take one scene. */
export const SCENE_KINDS: readonly MessageKind[] = ['subscribe', 'scan']

/** Menu events, whose EventKey says which button (a CLICK's key, a VIEW's URL): a handler can take one key. */
export const KEY_KINDS: readonly MessageKind[] = ['click', 'view', 'scancode_push', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select', 'view_miniprogram']

/** Special-type handler: a message kind (optionally a QR scene for subscribe/scan) taken over by a target. */
export interface TypeHandler {
  name: string
  account: string
  kind: MessageKind
  /** For subscribe (via parameter QR code) and scan: only this scene. */
  scene?: string
  /** For menu events (click, view, scancode_*, pic_*, location_select, view_miniprogram): only this EventKey. */
  key?: string
  target: RuleTarget
  priority: number
  enabled: boolean
  /** As a text rule's: only senders in one of these groups. */
  users?: readonly string[]
  source: SourceRef
}

/** One place a rule set names a plugin (RuleSet.pluginUses). */
export type PluginUse = { kind: 'rule' | 'handler'; name: string; source: SourceRef } | { kind: 'system'; reply: keyof SystemReplies; account: string }

/**
 * ` (rule "ghost" at rules/a.yaml:4, the default reply)`: where a plugin is named, for a warning that it is
 * not there; '' when nowhere. `rulesDir` is the rules folder as the warning shows paths. Three at most.
 */
export function namedAt(uses: readonly PluginUse[], rulesDir: string): string {
  if (uses.length === 0) return ''
  const shown = uses.slice(0, 3).map((u) =>
    u.kind === 'system' ? `the ${u.reply} reply${u.account === '*' ? '' : ` of account ${u.account}`}` : `${u.kind} "${u.name}" at ${rulesDir}/${u.source.file}:${u.source.line}`,
  )
  return ` (${shown.join(', ')}${uses.length > 3 ? ` and ${uses.length - 3} more` : ''})`
}

export interface SystemReplies {
  welcome?: RuleTarget
  default?: RuleTarget
  /** Instead of `default` when a plugin failed on the message (threw, timed out, answered nonsense) and nothing else answered. */
  error?: RuleTarget
}

/** A candidate found for a message, in the order it must be tried. */
export interface Candidate {
  rule: string
  target: RuleTarget
  match: RuleMatch
  /** The rule's `users`: the router skips the candidate for a sender in none of them. */
  users?: readonly string[]
}

/** An immutable, compiled rule set: one generation; hot reload swaps the whole object. */
export interface RuleSet {
  /** Text rules matching `text` for `account`, best first (priority desc, then file, then position). */
  matchText(account: string, text: string, fromClick: boolean): Candidate[]
  /** Type handlers for a message kind, best first; `which` is the QR scene or the menu event's EventKey, for handlers that name one. */
  matchType(account: string, kind: MessageKind, which?: string): Candidate[]
  /** Welcome / default / error for an account (account-specific beats '*'). */
  system(account: string): SystemReplies
  /** How many rules, for /healthz and logs. */
  readonly size: { textRules: number; keywords: number; typeHandlers: number }
  /** Every plugin name the set refers to (checked against the loaded plugins). */
  pluginNames(): string[]
  /**
   * Where the set sends messages to plugin `name`, for warnings about a plugin that is not there: the rules
   * and handlers (with their file, relative to the rules folder, and line), then the system replies (`welcome`,
   * `default` or `error`, and their account scope).
   */
  pluginUses(name: string): PluginUse[]
  /**
   * The words `account`'s rules are written to answer, as written: its text rules' exact keywords and its
   * handlers' keys (menu events) and scenes. For "did you mean" (menu check) only: whether one answers a given
   * message is matchText's and matchType's to say.
   */
  literalKeys(account: string): string[]
}

export interface RuleLoadError {
  file: string
  line: number
  column?: number
  message: string
}
