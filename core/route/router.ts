/**
 * The routing order of one message (protocol.md §7, WeEngine's model), top to bottom:
 *   1. context lock: the plugin holding this user's conversation
 *   2. text rules: text content, or a menu CLICK's EventKey (marked fromClick)
 *   3. special-type handlers: by message kind (and QR scene for subscribe/scan)
 *   4. system replies: welcome on subscribe; default for user messages and clicks nothing took, or error
 *      instead of default when a plugin failed on the message
 * Candidates run in turn; the first reply wins. A plugin that passes, throws, times out or returns a non-reply
 * hands the message to the next candidate. Once the reply budget has run out (the engine already answered
 * `success`), the candidate running at that moment may still answer late, but no further candidate is tried.
 */
import { dedupKeyOf } from '../dedup/dedup-key.ts'
import { isBug, type EngineError } from '../errors.ts'
import { answersUserMessage, USER_MESSAGE_KINDS, type InboundMessage, type MessageKind } from '../normalize/message-types.ts'
import type { AccountInfo, JsonValue } from '../plugin/plugin-api.ts'
import type { PluginSet, SessionOp } from '../plugin/plugin-host-types.ts'
import type { Reply } from '../reply/reply-types.ts'
import { mayHaveApplied, type SessionRecord, type SessionStore } from '../store/store.ts'
import { LockLostError } from '../store/lock-lost-error.ts'
import { KEY_KINDS, type Candidate, type RuleSet, type RuleTarget } from './rule-types.ts'
import { buildSystemCandidate } from './rules/compile-rule-set.ts'
import { NO_GROUPS, permits, type UserGroupIndex } from './user-groups.ts'
import { NO_REPLY_KINDS } from './no-reply-kinds.ts'

export type HandledBy = 'session' | 'rule' | 'type' | 'welcome' | 'default' | 'error' | 'none'

export interface RouteResult {
  reply: Reply | null
  handledBy: HandledBy
  rule?: string
  keyword?: string
  plugin?: string
  /**
   * Faults met on the way (plugin errors, timeouts, bad replies, a session write that failed, an inline reply's
   * media file without a media_id), each already logged. `plugin` names the plugin, or for a media file `media:<file>`.
   */
  errors: Array<EngineError & { plugin: string }>
}

export interface RouteDeps {
  rules: RuleSet
  plugins: PluginSet
  sessions: SessionStore
  now: () => number
  /**
   * The groups of each account's users (engine.config.ts's userGroups). Absent: nobody is in any group, so a
   * rule with `users:` exists for nobody.
   */
  userGroups?: UserGroupIndex
  /**
   * Told about each plugin fault as it happens (logging, metrics); the result lists them too. `about`: the
   * message it failed on, as the engine's lines name it (made on the failure only: the path where nothing
   * fails does no more work). `heldLock`: the plugin held the user's conversation, which its failure ends (the
   * lock is released).
   */
  onPluginError?: (plugin: string, error: EngineError, about: AboutMessage, heldLock?: boolean) => void
  /**
   * Told when a rule's inline reply names a media file the account has no media_id for (the rule fails; listed
   * too). The callbacks below get the message's `about` as onPluginError does, for the same reason.
   */
  onMediaUnavailable?: (rule: string, file: string, error: EngineError, about: AboutMessage) => void
  /** Told when writing a plugin's session calls failed after it answered (the reply still goes out); listed too. */
  onStoreError?: (plugin: string, error: EngineError, about: AboutMessage) => void
  /**
   * Told when deleting a session whose plugin is not loaded failed. The message was routed without it all the
   * same; the next one finds the session again and tries again. Not listed: the delete is not waited for.
   */
  onOrphanSessionKept?: (plugin: string, error: EngineError, about: AboutMessage) => void
  /**
   * Told when a dialogue's session was gone by the time its plugin's answer updated it: ended from another
   * process meanwhile (`wxengine session end`), or swept once expired. The update is not written (the
   * session stays ended); the reply still goes out.
   */
  onSessionEndedMeanwhile?: (plugin: string, about: AboutMessage) => void
  /** Told when a reply to a push no reply can reach (an unsubscribe, a platform report) is withheld (no-reply-kinds.ts). */
  onReplyWithheld?: (result: RouteResult, kind: MessageKind, about: AboutMessage) => void
}

/**
 * The message a callback is told about, by the fields every engine line about one message carries: its
 * account, its sender and its dedup key (the one the signal carries, made once by the engine).
 */
export interface AboutMessage {
  account: string
  openId: string
  key: string
}

const aboutOf = (accountId: string, message: InboundMessage, key: string): AboutMessage => ({ account: accountId, openId: message.fromUser, key })

/** Shared between the router and the engine while a message is routed. */
export interface RouteSignal {
  /**
   * Set by the engine when the reply budget is spent: no candidate after the running one is tried. The first
   * plugin candidate always runs: a message that spent its budget waiting behind its user's earlier one
   * (user-queue.ts) is still answered, late.
   */
  budgetSpent: boolean
  /** Set by the router: the candidate whose plugin is running now (what the engine records at the budget). */
  running?: Pick<RouteResult, 'handledBy' | 'rule' | 'keyword' | 'plugin'>
  /**
   * Set by the engine: the message's dedup key (dedup-key.ts), made once per message. The callbacks' lines and
   * the plugin's call (its PLUGIN_TIMEOUT line, its ctx.log) carry it. Made again from the message in each of
   * those, an event's cost a sha1 each time, and a plugin that rewrote its ctx.message before its first line
   * skewed the key its own lines carried.
   */
  readonly key: string
}

/** Kinds a default reply answers: things a user said or pressed. Other events get no default (`success`). */
const DEFAULT_REPLY_KINDS: ReadonlySet<MessageKind> = new Set<MessageKind>([
  ...USER_MESSAGE_KINDS,
  'click', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select',
])

/**
 * Whether the default (or error) reply answers `message`. A message of a type this engine does not read (a
 * MsgType added by the platform, a known one whose fields did not fit) is `unknown`, and still something the
 * user sent unless it came as an event (answersUserMessage): left out, the user got nothing at all, where any
 * other message nothing took gets the default. Asked only once nothing else answered.
 */
const defaultAnswers = (message: InboundMessage): boolean => DEFAULT_REPLY_KINDS.has(message.kind) || (message.kind === 'unknown' && answersUserMessage(message))

/** What a handler's `scene` or `key` is compared with: a QR code's scene, a menu event's EventKey. */
function handlerKeyOf(message: InboundMessage): string | undefined {
  if (message.kind === 'subscribe' || message.kind === 'scan') return message.scene
  return MENU_EVENT_KINDS.has(message.kind) ? (message as { eventKey?: string }).eventKey : undefined
}

const MENU_EVENT_KINDS: ReadonlySet<MessageKind> = new Set(KEY_KINDS)

interface Step {
  handledBy: HandledBy
  candidate: Candidate
}

/**
 * A plugin that ran and failed on the message (threw, timed out, answered nonsense), or an inline reply whose
 * media file could not be made a media_id: the user was understood and we failed them.
 */
const pluginFailed = (e: EngineError): boolean => e.code === 'PLUGIN_ERROR' || e.code === 'PLUGIN_TIMEOUT' || e.code === 'PLUGIN_BAD_REPLY' || e.code === 'MEDIA_UNAVAILABLE'

/** What text rules match a message by: a text's content, a menu click's key (as if typed); none for the rest. */
export function textRulesRead(message: InboundMessage): string | undefined {
  if (message.kind === 'text') return message.content
  if (message.kind === 'click' && message.eventKey) return message.eventKey
  return undefined
}

/**
 * A rule or handler with `users:` does not exist for a sender in none of its groups: skipped as if it had not
 * matched, so the rest of the order answers and nothing tells the sender it is there. Rules without `users`
 * pay one property read.
 */
const forSender = (candidate: Candidate, groups: readonly string[]): boolean => candidate.users === undefined || permits(candidate.users, groups)

/**
 * `errors`: the faults met so far, read when the walk reaches the system replies (error instead of default).
 * `groups`: the sender's. The session is not filtered by them: its plugin chose to talk to this user.
 */
function* candidatesFor(message: InboundMessage, account: string, rules: RuleSet, session: SessionRecord | null, errors: RouteResult['errors'], groups: readonly string[]): Generator<Step> {
  if (session) {
    yield {
      handledBy: 'session',
      candidate: {
        rule: `session:${session.plugin}`,
        target: { plugin: session.plugin, args: {} },
        match: { rule: `session:${session.plugin}`, via: 'session', captures: [], groups: {}, fromClick: false, args: {} },
      },
    }
  }
  const text = textRulesRead(message)
  if (text !== undefined) {
    for (const candidate of rules.matchText(account, text, message.kind === 'click')) if (forSender(candidate, groups)) yield { handledBy: 'rule', candidate }
  }
  for (const candidate of rules.matchType(account, message.kind, handlerKeyOf(message))) if (forSender(candidate, groups)) yield { handledBy: 'type', candidate }
  const system = rules.system(account)
  if (message.kind === 'subscribe' && system.welcome) {
    yield { handledBy: 'welcome', candidate: buildSystemCandidate('welcome', system.welcome) }
  } else if (defaultAnswers(message)) {
    // "Sorry, I did not understand" is wrong when the user was understood and our plugin failed them. A rule
    // naming a plugin that is not loaded (disabled, or left out by the test kit's `only`) is not such a failure.
    if (system.error && errors.some(pluginFailed)) yield { handledBy: 'error', candidate: buildSystemCandidate('error', system.error) }
    else if (system.default) yield { handledBy: 'default', candidate: buildSystemCandidate('default', system.default) }
  }
}

/**
 * Every candidate the router would try for `message`, in order, for a sender holding no conversation and in
 * `groups`, without running any: what-answers.ts walks it for `wxengine menu check` (a press of each button)
 * and `wxengine qrcode create` (a scan's two pushes), so the checks and the engine cannot disagree. A plugin candidate may still pass, so the ones after it are listed too.
 * Taken one at a time: a caller that finds a candidate would fail (a media file with no media_id) adds the
 * error to `errors` as the walk does, and the system reply at the end is then `error`, as the engine's is.
 */
export function candidatesWithoutSession(message: InboundMessage, account: string, rules: RuleSet, groups: readonly string[], errors: RouteResult['errors'] = []): Iterable<{ handledBy: HandledBy; candidate: Candidate }> {
  return candidatesFor(message, account, rules, null, errors, groups)
}

/**
 * Routes one message. Returns the result itself, not a promise, when nothing on the way needs to wait: the
 * session store answers synchronously (SQLite, memory) and the message is settled by an inline reply before
 * any plugin would run. That is the common case (a keyword rule with a reply in YAML), and skipping the
 * promise chain there (with ExactlyOnce's and the engine's) cut the CPU a request over HTTP by about a tenth
 * (BENCHMARKS.md). The engine then needs no budget timer either: there is nothing to wait for.
 * `session`, when given, is the user's session already read (with the fleet's user lock): not read again.
 * `signal`: the engine's; a caller without one (a test) gets one keyed as the engine keys the message.
 */
export function routeMessage(
  message: InboundMessage,
  account: AccountInfo,
  deps: RouteDeps,
  signal: RouteSignal = { budgetSpent: false, key: dedupKeyOf(account.id, message) },
  session?: SessionRecord | null,
): RouteResult | Promise<RouteResult> {
  if (session !== undefined) return walk(message, account, deps, signal, session)
  const { sessions } = deps
  if (sessions.getSync) return walk(message, account, deps, signal, sessions.getSync(account.id, message.fromUser))
  return sessions.get(account.id, message.fromUser).then((session) => walk(message, account, deps, signal, session))
}

/**
 * Whether a candidate naming `plugin` asks it, `asked` holding the plugins asked so far about the message (it
 * is added). A plugin that passed on this message, or failed on it, is not asked again through another of its
 * rules or a system reply (a dialogue's plugin is the session candidate first, then often a rule candidate
 * too): "not mine" is final for the message, and a second call would repeat its side effects. what-answers.ts
 * describes the walk by the same rule.
 */
export function askedFirstTime(asked: Set<string>, plugin: string): boolean {
  if (asked.has(plugin)) return false
  asked.add(plugin)
  return true
}

/** A step that falls through to the next candidate. */
const NEXT = Symbol('next candidate')
type PluginTarget = Extract<RuleTarget, { plugin: string }>

/** Walks the candidates synchronously up to the first plugin that must run; the rest is `runPlugins`'s. */
function walk(
  message: InboundMessage,
  account: AccountInfo,
  deps: RouteDeps,
  signal: RouteSignal,
  stored: SessionRecord | null,
): RouteResult | Promise<RouteResult> {
  // A session whose plugin is gone (removed or disabled in a reload) must not swallow the user's messages,
  // and is deleted: restoring the folder later must not bring back a dialogue the user has left meanwhile.
  let session = stored
  if (stored && !deps.plugins.has(stored.plugin)) {
    session = null
    deleteOrphanSession(deps, account.id, message, signal.key, stored.plugin)
  }
  const errors: RouteResult['errors'] = []
  const groups = deps.userGroups?.groupsOf(account.id, message.fromUser) ?? NO_GROUPS
  // Not `for...of`: leaving that loop would close the generator, and runPlugins goes on with it.
  const steps = candidatesFor(message, account.id, deps.rules, session, errors, groups)
  for (let next = steps.next(); !next.done; next = steps.next()) {
    const settled = settleWithoutPlugin(next.value, deps, errors, account.id, message, signal.key)
    if (settled === NEXT) continue
    if ('handledBy' in settled) return reachable(settled, message, deps, account.id, signal.key)
    return runPlugins(next.value, steps, message, account, deps, signal, session, errors, groups)
  }
  return { reply: null, handledBy: 'none', errors }
}

/**
 * Deletes the session of a plugin that is gone, without waiting: the message is routed as if there were none
 * either way. A failure, rejected or thrown at once (a store that answers synchronously), is told, never thrown
 * into the walk: it would have dropped a message that did not need the store, and said nothing when it rejected.
 */
function deleteOrphanSession(deps: RouteDeps, accountId: string, message: InboundMessage, key: string, plugin: string): void {
  const failed = (e: unknown): void => {
    const error: EngineError = {
      code: 'STORE_UNAVAILABLE',
      reason: `deleting the session of plugin "${plugin}", which is not loaded, failed: ${e instanceof Error ? e.message : String(e)}`,
    }
    deps.onOrphanSessionKept?.(plugin, error, aboutOf(accountId, message, key))
  }
  try {
    Promise.resolve(deps.sessions.delete(accountId, message.fromUser)).catch(failed)
  } catch (e) {
    failed(e)
  }
}

/**
 * Settles a step that needs no plugin call (an inline reply, or a rule naming a plugin that is not loaded);
 * otherwise returns the plugin target to run.
 */
function settleWithoutPlugin(step: Step, deps: RouteDeps, errors: RouteResult['errors'], accountId: string, message: InboundMessage, key: string): RouteResult | PluginTarget | typeof NEXT {
  const { candidate } = step
  const target = candidate.target
  if ('reply' in target) {
    if (target.logins === undefined) return found(step, target.reply, undefined, errors)
    // Articles that open their pages through a login: the account's own links, never the bare pages.
    const withLinks = target.byAccount?.[accountId]
    if (withLinks) return found(step, withLinks, undefined, errors)
    const error: EngineError = { code: 'BAD_CONFIG', reason: `rule "${candidate.rule}": its news articles with login: have no link for account "${accountId}" (the rules were loaded without the configuration's publicUrl and pageDomains)` }
    errors.push({ ...error, plugin: `login:${candidate.rule}` })
    deps.onPluginError?.(`login:${candidate.rule}`, error, aboutOf(accountId, message, key))
    return NEXT
  }
  if ('media' in target) {
    const outcome = target.byAccount?.[accountId]
    if (outcome && 'reply' in outcome) return found(step, outcome.reply, undefined, errors)
    const why = outcome ? outcome.failed : 'it was not uploaded (the rules were loaded without a platform to upload to)'
    const error: EngineError = { code: 'MEDIA_UNAVAILABLE', reason: `rule "${candidate.rule}": ${target.media.type} file ${target.media.file} (${target.media.at}) has no media_id: ${why}` }
    errors.push({ ...error, plugin: `media:${target.media.file}` })
    deps.onMediaUnavailable?.(candidate.rule, target.media.file, error, aboutOf(accountId, message, key))
    return NEXT
  }
  if (deps.plugins.has(target.plugin)) return target
  const error: EngineError = { code: 'PLUGIN_LOAD', reason: `rule "${candidate.rule}" names plugin "${target.plugin}", which is not loaded` }
  errors.push({ ...error, plugin: target.plugin })
  deps.onPluginError?.(target.plugin, error, aboutOf(accountId, message, key))
  return NEXT
}

/** From the first plugin candidate on: each runs in turn until one replies; later inline replies still count. */
async function runPlugins(
  first: Step,
  rest: Generator<Step>,
  message: InboundMessage,
  account: AccountInfo,
  deps: RouteDeps,
  signal: RouteSignal,
  initial: SessionRecord | null,
  errors: RouteResult['errors'],
  groups: readonly string[],
): Promise<RouteResult> {
  let session = initial
  const asked = new Set<string>()
  // A session write that may still be applied (a store that timed out waiting for it) does not cost the
  // user the reply their plugin gave: dropped, the user would have no question while their state moved on to
  // expect its answer. One that surely failed (refused, never sent) drops the message as a failed lookup
  // does: the dialogue stays where it was, and the user's retry finds it there. Sent then, the reply would
  // say "thank you" while the dialogue still waited for an answer (a review). Our own bugs throw too.
  const storeFailed = (plugin: string, what: string, e: unknown): void => {
    // A write the user's lock refused (it lapsed under this message: store/lock-lost-error.ts) is not the
    // store failing: nothing was written, on purpose, and the reply still goes out.
    const lost = e instanceof LockLostError
    if (isBug(e) || !(lost || mayHaveApplied(e))) throw e
    const error: EngineError = lost
      ? { code: 'LOCK_LOST', reason: `${what} not written: ${e.message}` }
      : { code: 'STORE_UNAVAILABLE', reason: `${what} failed (it may yet be applied): ${e instanceof Error ? e.message : String(e)}` }
    errors.push({ ...error, plugin })
    deps.onStoreError?.(plugin, error, aboutOf(account.id, message, signal.key))
  }
  for (let step: Step | undefined = first; step; step = nextOf(rest)) {
    if (signal.budgetSpent && asked.size > 0) break
    const settled = settleWithoutPlugin(step, deps, errors, account.id, message, signal.key)
    if (settled === NEXT) continue
    if ('handledBy' in settled) return reachable(settled, message, deps, account.id, signal.key)
    const { candidate } = step
    const { plugin } = settled
    if (!askedFirstTime(asked, plugin)) continue
    const own = session && session.plugin === plugin ? session : null
    const m = candidate.match
    signal.running = { handledBy: step.handledBy, rule: step.handledBy === 'session' ? undefined : candidate.rule, keyword: m.keyword, plugin }
    const outcome = await deps.plugins.invoke({
      plugin,
      message,
      key: signal.key,
      account,
      match: candidate.match,
      session: { active: own !== null, state: own?.state ?? undefined },
      groups,
    })
    signal.running = undefined
    // A plugin that failed gave the user nothing: a lock it began would hold them to a dialogue nobody
    // started, so its session calls count only with a reply or a pass.
    if (outcome.status !== 'error') {
      try {
        const endedMeanwhile = () => deps.onSessionEndedMeanwhile?.(plugin, aboutOf(account.id, message, signal.key))
        session = await applySessionOps(deps, account.id, message.fromUser, plugin, own, outcome.sessionOps, session, endedMeanwhile)
      } catch (e) {
        storeFailed(plugin, 'writing its session calls', e)
      }
    }
    if (outcome.status === 'reply') return reachable(found(step, outcome.reply, plugin, errors), message, deps, account.id, signal.key)
    if (outcome.status === 'error') {
      errors.push({ ...outcome.error, plugin })
      deps.onPluginError?.(plugin, outcome.error, aboutOf(account.id, message, signal.key), own !== null)
      // The dialogue's own plugin failed (threw, timed out, answered nonsense): its lock is released, or
      // a broken or hung plugin would hold the user, and every message of theirs, until the lock expires.
      // The message goes on down the routing order like any other.
      if (own) {
        try {
          await deps.sessions.delete(account.id, message.fromUser)
        } catch (e) {
          storeFailed(plugin, "releasing the user's lock", e)
        }
        session = null
      }
    }
  }
  return { reply: null, handledBy: 'none', errors }
}

/**
 * The answer as it may go out: a reply to a push no reply can reach (no-reply-kinds.ts) is withheld, with a
 * line, and the engine answers `success`, passively or late alike. The candidate still took the message:
 * routing stops there. One set lookup, and only for a message that got a reply.
 */
function reachable(result: RouteResult, message: InboundMessage, deps: RouteDeps, accountId: string, key: string): RouteResult {
  if (result.reply === null || !NO_REPLY_KINDS.has(message.kind)) return result
  const withheld = { ...result, reply: null }
  if (result.reply.type !== 'none') deps.onReplyWithheld?.(result, message.kind, aboutOf(accountId, message, key))
  return withheld
}

function nextOf(steps: Generator<Step>): Step | undefined {
  const next = steps.next()
  return next.done ? undefined : next.value
}

function found(step: Step, reply: Reply, plugin: string | undefined, errors: RouteResult['errors']): RouteResult {
  const m = step.candidate.match
  return {
    reply,
    handledBy: step.handledBy,
    rule: step.handledBy === 'session' ? undefined : step.candidate.rule,
    keyword: m.keyword,
    plugin,
    errors,
  }
}

/**
 * Applies a plugin's recorded ctx.session calls; returns the user's session as it now stands. A dialogue's
 * update of the session it had (no begin) is written with the store's `update` where there is one: a session
 * ended meanwhile from another process stays ended (`endedMeanwhile` is told), and no session is returned.
 */
async function applySessionOps(
  deps: RouteDeps,
  accountId: string,
  openId: string,
  plugin: string,
  own: SessionRecord | null,
  ops: SessionOp[],
  current: SessionRecord | null,
  endedMeanwhile: () => void,
): Promise<SessionRecord | null> {
  if (ops.length === 0) return current
  let record: SessionRecord | null = own
  let ended = false
  let begun = false
  for (const op of ops) {
    const now = deps.now()
    switch (op.op) {
      case 'begin':
        record = { account: accountId, openId, plugin, state: (op.state ?? null) as JsonValue | null, expiresAt: now + op.ttlMs }
        ended = false
        begun = true
        break
      case 'update':
        if (record) record = { ...record, state: op.state }
        break
      case 'refresh':
        if (record) record = { ...record, expiresAt: now + op.ttlMs }
        break
      case 'end':
        record = null
        ended = true
        begun = false
        break
      default: {
        const never: never = op
        throw new Error(`unknown session op ${JSON.stringify(never)}`)
      }
    }
  }
  if (record && !begun && deps.sessions.update) {
    if (await deps.sessions.update(record)) return record
    endedMeanwhile()
    return null
  }
  if (record) {
    await deps.sessions.put(record)
    return record
  }
  // Only the lock holder can end a lock; another plugin's end() has nothing to end.
  if (ended && own) {
    await deps.sessions.delete(accountId, openId)
    return null
  }
  return current
}
