/**
 * `dialogue()`: a `handle` that asks questions one message at a time (NoneBot's `got`, python-telegram-bot's
 * ConversationHandler), written as a list of steps instead of a step counter by hand.
 *
 * Everything it knows between messages is in the session state (`DialogueState`): which question is open
 * and the answers so far. Nothing is kept in memory, so a dialogue goes on across a restart, a reload and
 * the instances of a fleet, as any `ctx.session` does. The open question is kept by its key, not by its
 * position: a plugin updated mid-dialogue (a step added, removed or moved) still reads an answer as the
 * answer to the question the user saw, and a state it cannot read starts the dialogue over.
 *
 * Plugins get it from `wxengine/plugin`: the sandbox's module of that name is plugin-api.ts's run-time
 * exports (load-plugin-module.ts). It runs in the worker's realm, called from the plugin's sandbox as
 * `definePlugin` is, and the `handle` it returns is called by the worker with its own `ctx`: only the
 * spec's functions are the plugin's, called across vm2's bridge. Evaluating it inside the sandbox instead
 * would need its source as text there, which the single binary's bundle does not keep as written.
 * Its declarations go out with plugin-api.ts's (core/binary/build-types.ts).
 */
import { comboOf, foldText } from '../route/rules/fold-text.ts'
import { trimForMatching } from '../route/rules/invisible-characters.ts'
import { toPlain } from './sandbox/to-plain.ts'
import { ttlSecondsProblem } from './ttl-seconds.ts'
import type { HandleResult, JsonValue, PluginContext, Reply } from './plugin-api.ts'

/** The session state a dialogue keeps: the key of the open question, and the answers so far. */
export interface DialogueState<T extends object> {
  asking: Extract<keyof T, string>
  answers: Partial<T>
}

/** What the user is told: text, a reply, or either made from the answers so far. */
export type DialoguePrompt<T extends object, C = Record<string, JsonValue>> =
  | string
  | Reply
  | ((answers: Partial<T>, ctx: PluginContext<C, DialogueState<T>>) => string | Reply | Promise<string | Reply>)

interface StepBase<T extends object, C, K extends Extract<keyof T, string>> {
  /** Where the answer goes in the answers (distinct in a dialogue). */
  key: K
  /** The question. */
  ask: DialoguePrompt<T, C>
  /** Said when `parse` refused the text; the question again if not given. */
  retry?: string | Reply | ((text: string, answers: Partial<T>, ctx: PluginContext<C, DialogueState<T>>) => string | Reply | Promise<string | Reply>)
}

interface StepParse<T extends object, C, K extends keyof T> {
  /**
   * The answer made of the user's text (trimmed; never empty: a blank text is refused before), or undefined
   * to refuse it and ask again (null is an answer). It must be JSON
   * data: it is kept in the session state. A throw is a bug of the plugin, and fails the call. `ctx` as
   * `ask` and `retry` get it: a check against the plugin's config (`ctx.config.maxGuests`).
   */
  parse: (text: string, answers: Partial<T>, ctx: PluginContext<C, DialogueState<T>>) => T[K] | undefined | Promise<T[K] | undefined>
}

/**
 * One question. `parse` may be left out where the answer is a string: the text itself is the answer.
 */
export type DialogueStep<T extends object, C = Record<string, JsonValue>> = {
  [K in Extract<keyof T, string>]: StepBase<T, C, K> & (string extends T[K] ? Partial<StepParse<T, C, K>> : StepParse<T, C, K>)
}[Extract<keyof T, string>]

export interface DialogueSpec<T extends object, C = Record<string, JsonValue>> {
  /** Asked in order; a step whose answer is already there (from `prefill`) is not asked. */
  steps: DialogueStep<T, C>[]
  /** How long the user has to answer each question; every answer (and every refused one) restarts the clock. */
  ttlSeconds: number
  /** Words that end the dialogue (compared trimmed, case and width folded: `Cancel`, `ＣＡＮＣＥＬ`). None if not given. */
  cancel?: string[]
  /** Said when a cancel word ends it (default: `Cancelled.`). */
  cancelled?: DialoguePrompt<T, C>
  /** Said when the user sends something other than text (default: `Please answer in text.` and the question). */
  notText?: DialoguePrompt<T, C>
  /**
   * Answers known before the first question, as texts that go through their step's `parse`: e.g. a rule's
   * capture, `(ctx) => ({ size: ctx.match.groups.size })`. One that is missing or refused is asked as usual.
   */
  prefill?: (ctx: PluginContext<C, DialogueState<T>>) => Partial<Record<Extract<keyof T, string>, string | undefined>>
  /**
   * Called with every answer once the last one is in, after the session has ended: what it returns is the
   * reply. If it throws, nothing of the call is applied and the user's lock is released (docs/plugins.md).
   * Not `HandleResult`: returning nothing passed, and a `done` that only saved the answers (a missing
   * `return`) sent the user's last answer on to the default reply ("Sorry, I did not understand"); a pass
   * or no reply at all is said with `ctx.pass()` or `ctx.reply.none()`. Returning nothing anyway (no type
   * check at load) fails the call.
   */
  done(answers: T, ctx: PluginContext<C, DialogueState<T>>): DoneResult | Promise<DoneResult>
}

/** What `done` returns: a reply (a string is a text), or a pass; never nothing. */
type DoneResult = Exclude<HandleResult, undefined | void>

type DialogueContext<T extends object, C> = PluginContext<C, DialogueState<T>>

interface CheckedStep {
  index: number
  key: string
  ask: unknown
  retry: unknown
  parse: ((text: string, answers: object, ctx: unknown) => unknown) | undefined
}

/**
 * A `handle` that holds the dialogue `spec` describes. A spec that cannot work (no steps, a key twice, a
 * ttl that is not 1 s to ten years, ttl-seconds.ts) throws a TypeError here, when the plugin loads.
 */
export function dialogue<T extends object, C = Record<string, JsonValue>>(spec: DialogueSpec<T, C>): (ctx: DialogueContext<T, C>) => Promise<HandleResult> {
  const fail = (what: string): never => {
    throw new TypeError(`dialogue(): ${what}`)
  }
  if (typeof spec !== 'object' || spec === null) fail('takes { steps, ttlSeconds, done }')
  const { ttlSeconds, done, prefill } = spec
  const ttlProblem = ttlSecondsProblem(ttlSeconds)
  if (ttlProblem !== undefined) fail(ttlProblem)
  if (typeof done !== 'function') fail('done must be a function (it gets the answers and says the last reply)')
  if (prefill !== undefined && typeof prefill !== 'function') fail('prefill must be a function of ctx')
  if (!Array.isArray(spec.steps) || spec.steps.length === 0) fail('steps must be a non-empty array')
  // Copied: the plugin keeps its spec object, and changing it later must not change a running dialogue.
  const steps: CheckedStep[] = []
  for (let i = 0; i < spec.steps.length; i++) {
    const step: unknown = spec.steps[i]
    if (typeof step !== 'object' || step === null) fail(`steps[${i}] is not an object`)
    const { key, ask, retry, parse } = step as { key: unknown; ask: unknown; retry?: unknown; parse?: unknown }
    if (typeof key !== 'string' || key === '') fail(`steps[${i}].key must be a non-empty string`)
    if (steps.some((s) => s.key === key)) fail(`steps[${i}].key ${JSON.stringify(key)} is used twice; each answer needs its own key`)
    if (!isPrompt(ask)) fail(`steps[${i}].ask (${JSON.stringify(key)}) must be a string, a reply or a function`)
    if (retry !== undefined && !isPrompt(retry)) fail(`steps[${i}].retry (${JSON.stringify(key)}) must be a string, a reply or a function`)
    if (parse !== undefined && typeof parse !== 'function') fail(`steps[${i}].parse (${JSON.stringify(key)}) must be a function`)
    steps.push({ index: i, key: key as string, ask, retry, parse: parse as CheckedStep['parse'] })
  }
  const cancel = spec.cancel ?? []
  if (!Array.isArray(cancel) || cancel.some((w) => typeof w !== 'string' || w.trim() === '')) fail('cancel must be an array of non-empty strings')
  const cancelWords = new Set(cancel.map(fold))
  for (const [name, value] of [['cancelled', spec.cancelled], ['notText', spec.notText]] as const) {
    if (value !== undefined && !isPrompt(value)) fail(`${name} must be a string, a reply or a function`)
  }
  const cancelled = spec.cancelled ?? 'Cancelled.'
  const notText = spec.notText

  type Ctx = DialogueContext<T, C>
  const say = async (prompt: unknown, answers: object, ctx: Ctx, what: string): Promise<string | Reply> =>
    typeof prompt === 'function' ? said(await (prompt as (a: object, c: Ctx) => unknown)(answers, ctx), what) : (prompt as string | Reply)

  /**
   * What a prompt function gave, which must be something to say. `ask: (so) => { \`How many?\` }` (braces,
   * no return) gave undefined, which is a pass: the session had moved on to the question, the user saw the
   * default reply instead of it, and their next text answered a question never shown, with no line in the
   * log. There is no type check at load, so only this says so.
   */
  const said = (value: unknown, what: string): string | Reply => {
    if (value === undefined || value === null) fail(`${what} returned ${String(value)}; it must return what to say, a string or a reply (a function with braces needs a return)`)
    // A number or a boolean failed later as "a reply must be an object, got number", naming no step.
    if (typeof value !== 'string' && typeof value !== 'object') fail(`${what} returned a ${typeof value} (${String(value).slice(0, 40)}); it must return what to say, a string or a reply (String(n) for a number)`)
    return value as string | Reply
  }
  const askOf = (step: CheckedStep) => `steps[${step.index}].ask (${JSON.stringify(step.key)})`

  /** The first step without an answer, asked with the session (re)set to wait for it; or `done` when there is none. */
  async function askNext(answers: Record<string, unknown>, ctx: Ctx): Promise<HandleResult> {
    const next = steps.find((s) => !Object.hasOwn(answers, s.key))
    const { session } = ctx
    if (next === undefined) {
      if (session.active) session.end()
      // Only the keys of today's steps: a dialogue begun by an older version may hold answers to steps since removed.
      // Nothing returned is a missing return (`done(o) { save(o) }`), not a pass: its type has none, but
      // nothing checks types at load, and as a pass the user's last answer got the default reply ("Sorry, I
      // did not understand") after their every answer was taken. `ctx.pass()` passes.
      const reply: unknown = await done(Object.fromEntries(steps.map((s) => [s.key, answers[s.key]])) as T, ctx)
      if (reply === undefined || reply === null) fail(`done returned ${String(reply)}; it must return the last reply, a string or a reply (ctx.reply.none() to say nothing, ctx.pass() to pass)`)
      return reply as HandleResult
    }
    const state = { asking: next.key, answers } as DialogueState<T>
    if (session.active) {
      session.update(state)
      session.refresh(ttlSeconds)
    } else {
      session.begin(ttlSeconds, state)
    }
    return say(next.ask, answers, ctx, askOf(next))
  }

  /**
   * The answer `text` makes for `step`, or undefined when refused. A blank text (an answer of spaces, an
   * empty capture) is refused before `parse` sees it: `Number('')` is 0, and a step that reads numbers with
   * it took "   " as the answer 0.
   */
  async function parsed(step: CheckedStep, text: string, answers: object, ctx: Ctx): Promise<unknown> {
    if (text === '') return undefined
    if (step.parse === undefined) return text
    const value = await step.parse(text, answers, ctx)
    // Checked here, not when the session state is written: `parse: Number` gives NaN for "abc", which the
    // state cannot hold, and the failure at the write named neither the step nor the text.
    if (value !== undefined) {
      const plain = toPlain(value)
      if (!plain.ok) {
        fail(`steps[${step.index}].parse (${JSON.stringify(step.key)}) made ${JSON.stringify(text)} into an answer that is not JSON data (${plain.error.reason}); answers are kept in the session state. Return undefined to refuse a text`)
      }
    }
    return value
  }

  return async (ctx) => {
    const { session, message } = ctx
    if (!session.active) {
      // The rule brought the user here: a new dialogue, with what the rule already said.
      const answers: Record<string, unknown> = {}
      const given = prefill?.(ctx) ?? {}
      for (const step of steps) {
        const text = (given as Record<string, unknown>)[step.key]
        if (typeof text !== 'string') continue
        const value = await parsed(step, trimForMatching(text), answers, ctx)
        if (value !== undefined) answers[step.key] = value
      }
      return askNext(answers, ctx)
    }
    // Events (a menu press, a location report, unsubscribe) are not answers: routing goes on with them.
    if ('event' in message) return ctx.pass()
    const state = readState(session.state)
    // Trimmed as rules trim: an answer pasted with a zero-width space (`42\u200b`) is the answer 42.
    const text = message.kind === 'text' ? trimForMatching(message.content) : undefined
    if (text !== undefined && cancelWords.has(fold(text))) {
      session.end()
      return say(cancelled, state?.answers ?? {}, ctx, 'cancelled')
    }
    const step = state && steps.find((s) => s.key === state.asking)
    // A state this dialogue cannot read (begun by an older version of the plugin, whose open question is
    // gone, or by another handle): start over rather than guess what the text answers.
    if (!state || !step) return askNext({}, ctx)
    if (text === undefined) {
      if (notText !== undefined) return say(notText, state.answers, ctx, 'notText')
      const question = await say(step.ask, state.answers, ctx, askOf(step))
      const shown = typeof question === 'string' ? question : question.type === 'text' ? question.content : undefined
      return shown === undefined ? 'Please answer in text.' : `Please answer in text. ${shown}`
    }
    const value = await parsed(step, text, state.answers, ctx)
    if (value === undefined) {
      session.refresh(ttlSeconds)
      const retryOf = `steps[${step.index}].retry (${JSON.stringify(step.key)})`
      if (typeof step.retry === 'function') return said(await (step.retry as (t: string, a: object, c: Ctx) => unknown)(text, state.answers, ctx), retryOf)
      return step.retry === undefined ? say(step.ask, state.answers, ctx, askOf(step)) : say(step.retry, state.answers, ctx, retryOf)
    }
    return askNext({ ...state.answers, [step.key]: value }, ctx)
  }
}

function isPrompt(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'function' || (typeof value === 'object' && value !== null)
}

/** Cancel words match as rule keywords do, with the rules' folding: case and width (`ＣＡＮＣＥＬ` is `cancel`). */
const CASE_AND_WIDTH = comboOf(true, true)
function fold(text: string): string {
  return foldText(trimForMatching(text), CASE_AND_WIDTH)
}

function readState(state: unknown): { asking: string; answers: Record<string, unknown> } | undefined {
  if (typeof state !== 'object' || state === null) return undefined
  const { asking, answers } = state as { asking?: unknown; answers?: unknown }
  if (typeof asking !== 'string' || typeof answers !== 'object' || answers === null || Array.isArray(answers)) return undefined
  return { asking, answers: answers as Record<string, unknown> }
}
