/**
 * What answers a press of each menu button, asked of the router itself: for each button whose press reaches
 * the engine with its key (KEYED_TYPES), the push WeChat sends for it is built as XML fields, normalized as
 * the server normalizes a push, and handed to the router's own candidate walk (router.ts
 * candidatesWithoutSession) for the account's compiled rules. No plugin runs. So `menu check` says what the
 * engine does: a CLICK's key reaches text rules (fromClick), scancode_waitmsg's does not; a catch-all
 * `type: click` handler answers every click; a rule for another account does not; a press nothing takes
 * gets the default reply, or nothing (scancode_push gets no default, as in the engine).
 */
import { suggest } from '../did-you-mean.ts'
import { normalizeMessage } from '../normalize/normalize-message.ts'
import type { RawFields } from '../normalize/message-types.ts'
import { candidatesWithoutSession, type HandledBy, type RouteResult } from '../route/router.ts'
import type { MediaFile, RuleSet, RuleTarget } from '../route/rule-types.ts'
import type { LeafButton } from './menu-file.ts'
import { KEYED_TYPES } from './menu-file.ts'

export interface AnswerStep {
  handledBy: HandledBy
  /** `rule "hello" (keyword "hello")`, `handler "click@default.yaml:49"`, `default reply`. */
  by: string
  /** `plugin menu-click` or `reply text`. */
  target: string
  /** Only senders in these groups see it (the rule's `users:`). */
  users?: readonly string[]
  /** Why the engine would skip it (its plugin is not there or disabled, its media file has no media_id). */
  skipped?: string
  /**
   * Skipped as a failure (MEDIA_UNAVAILABLE: a media file the engine cannot upload): logged as an error at
   * each press, which then gets the error reply where the rules have one. Worth a warning even when a later
   * candidate answers: the rule was written to answer and never will.
   */
  fails?: true
}

export interface PressAnswer {
  /** The candidates in the order the router tries them, up to the first that surely answers everyone. */
  steps: AnswerStep[]
  /** A rule or handler (not default) answers everyone's press. */
  answered: boolean
  /** What a press gets when nothing of the rules takes it. */
  otherwise: string
  /** Unanswered: a key close to the button's that the rules do answer for this button (a typo, likely). */
  nearKey?: string
}

export interface PressContext {
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

/** The push WeChat sends when the button is pressed (protocol.md §3), as parsed XML fields. */
export function pushFieldsFor(button: LeafButton): RawFields | undefined {
  if (!KEYED_TYPES.includes(button.type) || button.key === undefined) return undefined
  const base: RawFields = { ToUserName: 'gh_menu_check', FromUserName: 'menu-check', CreateTime: '1700000000', MsgType: 'event', Event: button.type === 'click' ? 'CLICK' : button.type, EventKey: button.key }
  switch (button.type) {
    case 'scancode_push':
    case 'scancode_waitmsg':
      return { ...base, ScanCodeInfo: { ScanType: 'qrcode', ScanResult: 'menu-check' } }
    case 'pic_sysphoto':
    case 'pic_photo_or_album':
    case 'pic_weixin':
      return { ...base, SendPicsInfo: { Count: '1', PicList: { item: { PicMd5Sum: '0' } } } }
    case 'location_select':
      return { ...base, SendLocationInfo: { Location_X: '23.13', Location_Y: '113.26', Scale: '15', Label: 'menu check', Poiname: '' } }
    default:
      return base
  }
}

export function answersFor(button: LeafButton, ctx: PressContext): PressAnswer | undefined {
  const answer = walkCandidates(button, ctx)
  if (!answer || answer.answered) return answer
  const nearKey = nearestAnsweredKey(button, ctx)
  return nearKey === undefined ? answer : { ...answer, nearKey }
}

/**
 * Of the keys the account's rules are written for (exact keywords, handler keys), the one nearest the button's
 * that answers this button's press, asked of the router as the button's own key is: a location_select's key
 * does not reach the text rules, a click handler's key is no scancode's, a rule for some users answers not all.
 */
function nearestAnsweredKey(button: LeafButton, ctx: PressContext): string | undefined {
  const key = button.key!
  // Within did-you-mean's distance of 2, the lengths differ by 2 at most: the rest need no walk.
  const near = ctx.rules.literalKeys(ctx.account).filter((k) => k !== key && Math.abs(k.length - key.length) <= 2 && walkCandidates({ ...button, key: k }, ctx)?.answered)
  return suggest(key, near)
}

function walkCandidates(button: LeafButton, ctx: PressContext): PressAnswer | undefined {
  const fields = pushFieldsFor(button)
  if (!fields) return undefined
  const message = normalizeMessage(fields)
  // A bug of ours if it does not normalize: the fields above are what the platform sends.
  if (!message.ok) throw new Error(`menu check: the ${button.type} push did not normalize: ${message.error.reason}`)
  const steps: AnswerStep[] = []
  let answered = false
  let otherwise = 'no reply (the engine answers "success")'
  // The faults the walk has met, as the router's own walk collects them: one there makes the system reply at
  // the end `error` instead of `default`, as in the engine.
  const errors: RouteResult['errors'] = []
  for (const { handledBy, candidate } of candidatesWithoutSession(message.value, ctx.account, ctx.rules, ctx.groups, errors)) {
    const t = candidate.target
    const target = 'plugin' in t ? `plugin ${t.plugin}` : 'media' in t ? `reply ${t.media.type} (file ${t.media.file})` : `reply ${t.reply.type}`
    const noMedia = 'media' in t ? mediaUnavailable(t, ctx) : undefined
    const skipped = 'plugin' in t ? ctx.pluginMissing(t.plugin) : noMedia
    if (handledBy === 'default' || handledBy === 'error') {
      otherwise = `the ${handledBy} reply (${target})`
      if (!answered) steps.push({ handledBy, by: `${handledBy} reply`, target, ...(skipped ? { skipped } : {}) })
      break
    }
    const by = handledBy === 'rule' ? `rule "${candidate.rule}"${candidate.match.keyword !== undefined ? ` (keyword ${JSON.stringify(candidate.match.keyword)})` : ''}` : `handler "${candidate.rule}"`
    steps.push({ handledBy, by, target, ...(candidate.users ? { users: candidate.users } : {}), ...(skipped ? { skipped } : {}), ...(noMedia ? { fails: true as const } : {}) })
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
function mediaUnavailable(t: Extract<RuleTarget, { media: MediaFile }>, ctx: PressContext): string | undefined {
  const known = t.byAccount?.[ctx.account]
  if (known) return 'failed' in known ? known.failed : undefined
  return ctx.mediaUnavailable?.(t.media)
}

/** One line: `rule "hello" (keyword "hello") -> reply text`, then what follows a plugin that may pass. */
export function describeAnswer(a: PressAnswer): string {
  if (!a.answered) {
    const restricted = a.steps.filter((s) => s.users && !s.skipped)
    const only = restricted.length > 0 ? `; only users in ${[...new Set(restricted.flatMap((s) => s.users!))].join(', ')} get ${restricted.map((s) => `${s.by} -> ${s.target}`).join(', then ')}` : ''
    const skipped = a.steps.filter((s) => s.skipped).map((s) => `; ${s.by} -> ${s.target} is skipped: ${s.skipped}`).join('')
    const meant = a.nearKey !== undefined ? ` (did you mean ${JSON.stringify(a.nearKey)}?)` : ''
    return `nothing answers it${meant}: a press gets ${a.otherwise}${only}${skipped}`
  }
  // After a step the engine skips, the next is tried whatever happens: "if it passes" is for a plugin.
  const chain = a.steps
    .map((s, i) => `${i === 0 ? '' : a.steps[i - 1]!.skipped ? '; then: ' : '; if it passes: '}${s.by} -> ${s.target}${s.users ? ` (only users in ${s.users.join(', ')})` : ''}${s.skipped ? ` (skipped: ${s.skipped})` : ''}`)
    .join('')
  const last = a.steps[a.steps.length - 1]
  return last && last.target.startsWith('plugin ') && !last.skipped ? `${chain}; if it passes: ${a.otherwise}` : chain
}
