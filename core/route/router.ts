/**
 * The routing order of one message (protocol.md §7, WeEngine's model), top to bottom:
 *   1. context lock: the plugin holding this user's conversation
 *   2. text rules: text content, or a menu CLICK's EventKey (marked fromClick)
 *   3. special-type handlers: by message kind (and QR scene for subscribe/scan)
 *   4. system replies: welcome on subscribe; default for user messages and clicks nothing took
 * Candidates run in turn; the first reply wins. A plugin that passes, throws, times out or returns a non-reply
 * hands the message to the next candidate. Once the reply budget has run out (the engine already answered
 * `success`), the candidate running at that moment may still answer late, but no further candidate is tried.
 */
import type { EngineError } from '../errors.ts'
import { USER_MESSAGE_KINDS, type InboundMessage, type MessageKind } from '../normalize/message-types.ts'
import type { AccountInfo, JsonValue, RuleMatch } from '../plugin/plugin-api.ts'
import type { PluginSet, SessionOp } from '../plugin/plugin-host-types.ts'
import type { Reply } from '../reply/reply-types.ts'
import type { SessionRecord, SessionStore } from '../store/store.ts'
import type { Candidate, RuleSet } from './rule-types.ts'

export type HandledBy = 'session' | 'rule' | 'type' | 'welcome' | 'default' | 'none'

export interface RouteResult {
  reply: Reply | null
  handledBy: HandledBy
  rule?: string
  keyword?: string
  plugin?: string
  /** Faults met on the way (plugin errors, timeouts, bad replies), each already logged. */
  errors: Array<EngineError & { plugin: string }>
}

export interface RouteDeps {
  rules: RuleSet
  plugins: PluginSet
  sessions: SessionStore
  now: () => number
  onPluginError?: (plugin: string, error: EngineError) => void
}

/** Set by the engine when the reply budget is spent: stop trying further candidates. */
export interface RouteSignal {
  budgetSpent: boolean
}

/** Kinds a default reply answers: things a user said or pressed. Other events get no default (`success`). */
const DEFAULT_REPLY_KINDS: ReadonlySet<MessageKind> = new Set<MessageKind>([
  ...USER_MESSAGE_KINDS,
  'click', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select',
])

interface Step {
  handledBy: HandledBy
  candidate: Candidate
}

function* candidatesFor(message: InboundMessage, account: string, rules: RuleSet, session: SessionRecord | null): Generator<Step> {
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
  if (message.kind === 'text') {
    for (const candidate of rules.matchText(account, message.content, false)) yield { handledBy: 'rule', candidate }
  } else if (message.kind === 'click' && message.eventKey) {
    for (const candidate of rules.matchText(account, message.eventKey, true)) yield { handledBy: 'rule', candidate }
  }
  const scene = message.kind === 'subscribe' || message.kind === 'scan' ? message.scene : undefined
  for (const candidate of rules.matchType(account, message.kind, scene)) yield { handledBy: 'type', candidate }
  const system = rules.system(account)
  if (message.kind === 'subscribe' && system.welcome) {
    yield { handledBy: 'welcome', candidate: systemCandidate('welcome', system.welcome) }
  } else if (DEFAULT_REPLY_KINDS.has(message.kind) && system.default) {
    yield { handledBy: 'default', candidate: systemCandidate('default', system.default) }
  }
}

function systemCandidate(via: 'welcome' | 'default', target: Candidate['target']): Candidate {
  const args = 'plugin' in target ? target.args : {}
  return { rule: via, target, match: { rule: via, via, captures: [], groups: {}, fromClick: false, args } }
}

export async function routeMessage(
  message: InboundMessage,
  account: AccountInfo,
  deps: RouteDeps,
  signal: RouteSignal = { budgetSpent: false },
): Promise<RouteResult> {
  const errors: RouteResult['errors'] = []
  let session = await deps.sessions.get(account.id, message.fromUser)
  // A session whose plugin is gone (removed in a reload) must not swallow the user's messages.
  if (session && !deps.plugins.has(session.plugin)) session = null
  for (const step of candidatesFor(message, account.id, deps.rules, session)) {
    if (signal.budgetSpent) break
    const { candidate } = step
    const target = candidate.target
    if ('reply' in target) return found(step, target.reply, undefined, errors)
    if (!deps.plugins.has(target.plugin)) {
      const error: EngineError = { code: 'PLUGIN_LOAD', reason: `rule "${candidate.rule}" names plugin "${target.plugin}", which is not loaded` }
      errors.push({ ...error, plugin: target.plugin })
      deps.onPluginError?.(target.plugin, error)
      continue
    }
    const own = session && session.plugin === target.plugin ? session : null
    const outcome = await deps.plugins.invoke({
      plugin: target.plugin,
      message,
      account,
      match: candidate.match as RuleMatch,
      session: { active: own !== null, state: own?.state ?? undefined },
    })
    // A plugin that failed gave the user nothing: a lock it began would hold them to a dialogue nobody
    // started, so its session calls count only with a reply or a pass.
    if (outcome.status !== 'error') {
      session = await applySessionOps(deps, account.id, message.fromUser, target.plugin, own, outcome.sessionOps, session)
    }
    if (outcome.status === 'reply') return found(step, outcome.reply, target.plugin, errors)
    if (outcome.status === 'error') {
      errors.push({ ...outcome.error, plugin: target.plugin })
      deps.onPluginError?.(target.plugin, outcome.error)
    }
  }
  return { reply: null, handledBy: 'none', errors }
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

/** Applies a plugin's recorded ctx.session calls; returns the user's session as it now stands. */
async function applySessionOps(
  deps: RouteDeps,
  accountId: string,
  openId: string,
  plugin: string,
  own: SessionRecord | null,
  ops: SessionOp[],
  current: SessionRecord | null,
): Promise<SessionRecord | null> {
  if (ops.length === 0) return current
  let record: SessionRecord | null = own
  let ended = false
  for (const op of ops) {
    const now = deps.now()
    switch (op.op) {
      case 'begin':
        record = { account: accountId, openId, plugin, state: (op.state ?? null) as JsonValue | null, expiresAt: now + op.ttlMs }
        ended = false
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
        break
      default: {
        const never: never = op
        throw new Error(`unknown session op ${JSON.stringify(never)}`)
      }
    }
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
