/**
 * What answers a push, asked of the router itself: the push, normalized as the server normalizes it, handed
 * to the router's own candidate walk (router.ts candidatesWithoutSession) for the account's compiled rules,
 * for a sender holding no conversation. No plugin runs. `wxengine menu check` asks it about each button's
 * press (core/menu/menu-answers.ts), `wxengine qrcode create` about the two pushes a scan of a parameter QR
 * code sends (core/qrcode/qrcode-answers.ts), so what they say and what the engine does cannot differ.
 */
import type { AccountConfig, EngineConfig } from '../config/config-types.ts'
import type { InboundMessage, RawFields } from '../normalize/message-types.ts'
import { normalizeMessage } from '../normalize/normalize-message.ts'
import { whyPluginWouldNotRun } from '../plugin/check-plugin-folders.ts'
import type { RuleMatch } from '../plugin/plugin-api.ts'
import { cannotUploadFor } from '../platform/media-uploads.ts'
import { askedFirstTime, candidatesWithoutSession, type HandledBy, type RouteResult } from './router.ts'
import type { MediaFile, RuleSet, RuleTarget } from './rule-types.ts'
import { shownPath } from '../shown-path.ts'

export interface AnswerStep {
  handledBy: HandledBy
  /** The rule's or handler's name (`welcome`, `default`, `error` for those). */
  rule: string
  /** How the candidate matched: a keyword kind, `scene`, `key`, `type`, `welcome`, `default`, `error`. */
  via: RuleMatch['via']
  /** `rule "hello" (keyword "hello")`, `handler "click@default.yaml:68"`, `default reply`, `welcome reply`. */
  by: string
  /** `plugin menu-click` or `reply text`. */
  target: string
  /** Only senders in these groups see it (the rule's `users:`). */
  users?: readonly string[]
  /** Why the engine would skip it (its plugin is not there or disabled, its media file has no media_id). */
  skipped?: string
  /**
   * Skipped as a failure (MEDIA_UNAVAILABLE: a media file the engine cannot upload): logged as an error at
   * each push, which then gets the error reply where the rules have one. Worth a warning even when a later
   * candidate answers: the rule was written to answer and never will.
   */
  fails?: true
}

export interface Answer {
  /** The candidates in the order the router tries them, up to the first that surely answers everyone. */
  steps: AnswerStep[]
  /** A rule or handler (not a system reply) answers everyone's push. */
  answered: boolean
  /** What the push gets when nothing of the rules takes it: the welcome, default or error reply, or none. */
  otherwise: string
  /** Unanswered: a key close to the push's that the rules do answer for it (a typo, likely; menu check looks). */
  nearKey?: string
}

export interface AnswerContext {
  account: string
  rules: RuleSet
  /** Every group of the account (engine.config.ts userGroups): rules limited to groups are listed, marked. */
  groups: readonly string[]
  /** Why a plugin would not run (not in plugins/, disabled), or undefined when it would. */
  pluginMissing: (name: string) => string | undefined
  /**
   * Why an inline reply's media file would have no media_id for the account (no appSecret to upload it with:
   * media-uploads.ts cannotUploadFor), or undefined when the engine would upload it. Absent: always uploaded.
   * A target whose outcome is already known (byAccount, a running engine's set) is taken as it is.
   */
  mediaUnavailable?: (media: MediaFile) => string | undefined
}

/**
 * The context of an account of the project: its groups, its plugins as the engine would find them, and its
 * media files as the engine's start uploads them (none for an account without an appSecret, so a rule
 * answering with one fails: media-uploads.ts cannotUploadFor).
 */
export function answerContextOf(config: EngineConfig, account: AccountConfig, rules: RuleSet): AnswerContext {
  return {
    account: account.id,
    rules,
    groups: Object.keys(account.userGroups ?? {}),
    pluginMissing: whyPluginWouldNotRun(config.pluginsDir, config.plugins, shownPath(config.pluginsDir)),
    mediaUnavailable: () => cannotUploadFor(account),
  }
}

export const NO_REPLY = 'no reply (the engine answers "success")'

/**
 * What answers a push built as WeChat sends it (XML fields), normalized as the server normalizes it. `what`
 * names the push for the error thrown when it does not normalize: a bug of the caller's, whose fields are
 * the platform's own.
 */
export function whatAnswersPush(fields: RawFields, ctx: AnswerContext, what: string): Answer {
  const message = normalizeMessage(fields)
  if (!message.ok) throw new Error(`${what} did not normalize: ${message.error.reason}`)
  return whatAnswers(message.value, ctx)
}

export function whatAnswers(message: InboundMessage, ctx: AnswerContext): Answer {
  const steps: AnswerStep[] = []
  let answered = false
  let otherwise = NO_REPLY
  // The faults the walk has met, as the router's own walk collects them: one there makes the system reply at
  // the end `error` instead of `default`, as in the engine.
  const errors: RouteResult['errors'] = []
  // The plugins every sender's message asks so far, and the step that asks each: the router asks a plugin at
  // most once per message (router.ts askedFirstTime), so a later candidate naming it is skipped. One limited
  // to some users asks it only for them: the rest still reach the next candidate naming it.
  const asked = new Set<string>()
  const askedBy = new Map<string, string>()
  const askedBefore = (plugin: string, by: string, users: readonly string[] | undefined): string | undefined => {
    if (users ? !asked.has(plugin) : askedFirstTime(asked, plugin)) {
      if (!users) askedBy.set(plugin, by)
      return undefined
    }
    return `plugin ${plugin} was asked already, by ${askedBy.get(plugin)}: a plugin is asked once per message`
  }
  for (const { handledBy, candidate } of candidatesWithoutSession(message, ctx.account, ctx.rules, ctx.groups, errors)) {
    const t = candidate.target
    const target = 'plugin' in t ? `plugin ${t.plugin}` : 'media' in t ? `reply ${t.media.type} (file ${t.media.file})` : `reply ${t.reply.type}`
    const noMedia = 'media' in t ? mediaUnavailable(t, ctx) : undefined
    const via = candidate.match.via
    const system = handledBy === 'default' || handledBy === 'error' || handledBy === 'welcome'
    const by = system
      ? `${handledBy} reply`
      : handledBy === 'rule'
        ? `rule "${candidate.rule}"${candidate.match.keyword !== undefined ? ` (keyword ${JSON.stringify(candidate.match.keyword)})` : ''}`
        : `handler "${candidate.rule}"`
    // As the router: a plugin that is not loaded is skipped before it could count as asked.
    const skipped = 'plugin' in t ? (ctx.pluginMissing(t.plugin) ?? askedBefore(t.plugin, by, candidate.users)) : noMedia
    if (system) {
      if (!answered) steps.push({ handledBy, rule: candidate.rule, via, by, target, ...(skipped ? { skipped } : {}) })
      // A system reply whose media file has no media_id, or whose plugin is not there, is skipped as a
      // rule's is, and nothing follows it in the router's walk: the push gets no reply.
      if (!skipped) otherwise = `the ${handledBy} reply (${target})`
      break
    }
    steps.push({ handledBy, rule: candidate.rule, via, by, target, ...(candidate.users ? { users: candidate.users } : {}), ...(skipped ? { skipped } : {}), ...(noMedia ? { fails: true as const } : {}) })
    // As router.ts settleWithoutPlugin: a media file without a media_id is a failure of the message. (For a
    // rule limited to some users, only theirs: the rest never reach it, and get the default.)
    if (noMedia && !candidate.users && 'media' in t) errors.push({ code: 'MEDIA_UNAVAILABLE', reason: `rule "${candidate.rule}": ${noMedia}`, plugin: `media:${t.media.file}` })
    if (skipped || candidate.users) continue
    answered = true
    // An inline reply always answers; a plugin may pass, and the router goes on.
    if (!('plugin' in t)) break
  }
  return { steps, answered, otherwise }
}

/** Why the engine would have no media_id for this media target and account, or undefined when it would. */
function mediaUnavailable(t: Extract<RuleTarget, { media: MediaFile }>, ctx: AnswerContext): string | undefined {
  const known = t.byAccount?.[ctx.account]
  if (known) return 'failed' in known ? known.failed : undefined
  return ctx.mediaUnavailable?.(t.media)
}

/**
 * One line: `rule "hello" (keyword "hello") -> reply text`, then what follows a plugin that may pass; or,
 * when nothing answers, `nothing answers it: <push> gets the default reply (...)`. `push` names what is
 * answered: `a press`, `a scan`.
 */
export function describeAnswer(a: Answer, push = 'a press'): string {
  if (!a.answered) {
    const meant = a.nearKey !== undefined ? ` (did you mean ${JSON.stringify(a.nearKey)}?)` : ''
    return `nothing answers it${meant}: ${push} gets ${a.otherwise}${unansweredNotes(a)}`
  }
  return describeChain(a)
}

/** `; only users in admins get ...; rule "x" -> plugin y is skipped: ...`: why the candidates of an unanswered push did not count. */
export function unansweredNotes(a: Answer): string {
  const restricted = a.steps.filter((s) => s.users && !s.skipped)
  const only = restricted.length > 0 ? `; only users in ${[...new Set(restricted.flatMap((s) => s.users!))].join(', ')} get ${restricted.map((s) => `${s.by} -> ${s.target}`).join(', then ')}` : ''
  const skipped = a.steps.filter((s) => s.skipped).map((s) => `; ${s.by} -> ${s.target} is skipped: ${s.skipped}`).join('')
  return `${only}${skipped}`
}

/**
 * The candidates of an answered push, each `by -> target`, joined by `; if it passes: ` after a plugin (which
 * may pass) and by `; then: ` after a step the engine skips (the next is tried whatever happens).
 */
export function describeChain(a: Answer): string {
  const chain = a.steps
    .map((s, i) => `${i === 0 ? '' : a.steps[i - 1]!.skipped ? '; then: ' : '; if it passes: '}${s.by} -> ${s.target}${s.users ? ` (only users in ${s.users.join(', ')})` : ''}${s.skipped ? ` (skipped: ${s.skipped})` : ''}`)
    .join('')
  const last = a.steps[a.steps.length - 1]
  if (!last) return chain
  // After a plugin that may pass, or a step the engine skips (the walk goes on), comes what the rest get.
  if (last.skipped) return `${chain}; then: ${a.otherwise}`
  return last.target.startsWith('plugin ') ? `${chain}; if it passes: ${a.otherwise}` : chain
}
