/**
 * The code of a plugin's worker (a thread, or a child process: sandbox/worker-port.ts): loads the plugin into the sandbox, runs its setup, then answers
 * calls from the main thread until told to dispose (or terminated).
 *
 * This module is the whole worker program: it is started from its file (core/plugin/worker-entry.ts), and
 * the single-binary build bundles it, with everything it imports, into one source string run with
 * `new Worker(source, { eval: true })`. So it must not depend on anything outside its own imports
 * (no files next to it read at run time).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { inspect } from 'node:util'
import type { JsonValue, PluginDefinition, PluginLogger } from '../plugin-api.ts'
import type { CallRequest, CallResult, MainToWorker, WorkerToMain } from '../worker-protocol.ts'
import { buildContext, createPlatformApi, createSetupStorage, createWebLinks, PASS } from './build-context.ts'
import { isSharedAreaName, MAX_SHARED_AREAS } from '../storage-keys.ts'
import { apiError, useRealm } from '../api-error.ts'
import { useBytesRealm } from './copy-bytes.ts'
import { loadPluginModule } from './load-plugin-module.ts'
import { definitionProblem } from './definition-problem.ts'
import { MAX_REPLY_CHARS } from '../../reply/reply-limits.ts'
import { createRpcClient } from './rpc-client.ts'
import { createLogForwarder, levelValue } from './log-forwarder.ts'
import { createLineBudget } from '../../log/line-budget.ts'
import { createSetupRegistry } from './setup-registry.ts'
import { toPlain } from './to-plain.ts'
import { calledFromEntry, describeThrown as describeAnywhere, sandboxEntryName } from './describe-thrown.ts'
import { explainMissingGlobal } from './explain-missing-global.ts'
import { watchMemory } from './memory-watch.ts'
import { connectToEngine } from './worker-port.ts'

const { port, init } = connectToEngine()

const send = (msg: WorkerToMain): void => port.postMessage(msg)
const memory = watchMemory(init.memoryMb, (over) => send({ t: 'over-memory', ...over }))
const rpc = createRpcClient(port)
const log = createLogForwarder(send, init.logLevel)
// What the plugin threw, with the line of its entry file it came through (and what to do about a Node
// global the sandbox lacks: fetch, mostly).
const entryName = sandboxEntryName(init.entry)
const describeThrown = (e: unknown): string => explainMissingGlobal(describeAnywhere(e, entryName), init.dir)
// What timers and hooks throw belongs to no call: budgeted per what failed, as the engine's per-message lines
// are (line-budget.ts), and marked PLUGIN_ERROR as an unhandled rejection is. An every(10) that threw on each
// run wrote 100 lines a second, only the plugin's 100-a-second cap above it.
const timerLines = createLineBudget({
  info: (fields, msg) => log.info(msg, fields),
  warn: (fields, msg) => log.warn(msg, fields),
  error: (fields, msg) => log.error(msg, fields),
})
const registry = createSetupRegistry(
  (what, thrown) => {
    const reason = describeThrown(thrown)
    timerLines.error(what, { code: 'PLUGIN_ERROR', timer: what, reason }, `${what} failed: ${reason}`)
  },
  (everyMs, runningForMs) =>
    log.warn(`every(${everyMs}) skipped a run: the previous one is still going (for ${runningForMs} ms); runs never overlap, so the job runs less often than asked`, { everyMs, runningForMs }),
  {
    plugin: init.name,
    dropped: (what, ms) => log.info(`${what}(${ms}) not started: the plugin is unloading, and no timer of it starts once unloading began`, { timer: what, ms }),
  },
)

/**
 * The message of the call whose code runs now (handle, and what it started: its awaits, its timers), for the
 * plugin's console lines and the rejections it leaves unhandled. `console` belongs to the plugin's module, not
 * to one call: without this its lines in handle said nothing of whose message they were about, where ctx.log's
 * name it, and a plugin written with console.log (most first ones are) left lines nobody could join to a
 * message. Setup's timers and hooks run outside any call: their lines have no message, as ctx.log's in setup
 * have none.
 */
const callAbout = new AsyncLocalStorage<Readonly<Record<string, string>>>()
/** The log with the fields of the call whose code runs now, if any (callAbout). */
function logOfCall(): PluginLogger {
  const about = callAbout.getStore()
  return about === undefined ? log : log.about(about)
}

// Plugin code that leaves a promise rejected with nobody listening must not take the worker down with it.
// Only an async function's rejection comes here: vm2 swallows those of the sandbox's own `Promise`
// (`Promise.reject`, `new Promise`), on purpose (docs/plugins.md).
// Node calls this in the rejected promise's async context: one a call's code left behind names its message.
process.on('unhandledRejection', (e) => logOfCall().error(`unhandled rejection: ${describeThrown(e)}`, { code: 'PLUGIN_ERROR' }))

let plugin: PluginDefinition | undefined
/** The shared storage areas the definition declares, once it loaded. */
let sharedAreas: readonly string[] = []

port.onMessage((msg: MainToWorker) => {
  switch (msg.t) {
    case 'call':
      void answerCall(msg)
      break
    case 'rpc-result':
      rpc.settle(msg)
      break
    case 'dispose':
      void disposePlugin()
      break
    case 'ping':
      send({ t: 'pong' })
      break
    default:
      assertNever(msg)
  }
})

void start()

async function start(): Promise<void> {
  const loaded = loadPluginModule({
    entry: init.entry,
    dir: init.dir,
    allow: init.allow,
    onConsole: (level, args) => logOfCall()[level](args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ')),
    consoleLowest: levelValue(init.logLevel),
  })
  if (!loaded.ok) return send({ t: 'load-failed', reason: loaded.error.reason })
  // The API's errors made in the plugin's realm from here on, so that they say the line of the bad call.
  useRealm(loaded.value.errorMaker)
  useBytesRealm(loaded.value.bytesReader)
  const def = loaded.value.definition
  if (def.name !== init.name) {
    return send({ t: 'load-failed', reason: `the plugin is named ${JSON.stringify(def.name)} but its folder is ${JSON.stringify(init.name)}; they must be equal` })
  }
  const problem = definitionProblem(def)
  if (problem !== undefined) return send({ t: 'load-failed', reason: problem })
  const areas = declaredAreas(def.sharedStorage)
  if (typeof areas === 'string') return send({ t: 'load-failed', reason: areas })
  sharedAreas = areas
  // Before setup, whose api.storage may reach the areas already.
  send({ t: 'defined', sharedStorage: [...sharedAreas] })
  // What every and after return to the plugin: its stop function, made in its realm (timer-stop.ts says why).
  const stopOf = loaded.value.timerStopMaker
  try {
    await def.setup?.({
      config: init.config,
      log,
      storage: createSetupStorage(rpc, sharedAreas),
      every: (ms, fn) => stopOf(registry.every(ms, fn)),
      after: (ms, fn) => stopOf(registry.after(ms, fn)),
      onDispose: (fn) => registry.onDispose(fn, calledFromEntry(entryName)),
      accounts: init.accounts.map((a) => ({ ...a })),
      platform: (accountId) => createPlatformApi(rpc, servedAccount('platform', accountId), () => undefined),
      web: (accountId) => createWebLinks(init.web, servedAccount('web', accountId)),
    })
  } catch (e) {
    // Bounded as on unload: a hook that never settles must not turn setup's error into a start timeout.
    await registry.undo(init.disposeTimeoutMs)
    return send({ t: 'load-failed', reason: `setup failed: ${describeThrown(e)}` })
  }
  plugin = def
  send({ t: 'ready' })
}

/** definePlugin's `sharedStorage`, as a list of area names; what is wrong with it otherwise (the plugin does not load). */
function declaredAreas(value: unknown): string[] | string {
  if (value === undefined) return []
  const problem = `sharedStorage must be a list of at most ${MAX_SHARED_AREAS} area names, each lowercase letters, digits and hyphens (e.g. ['points'])`
  if (!Array.isArray(value)) return `${problem}, not ${typeof value}`
  if (value.length > MAX_SHARED_AREAS) return `${problem}: it has ${value.length}`
  const bad = value.find((a) => !isSharedAreaName(a))
  if (bad !== undefined) return `${problem}: ${typeof bad === 'string' ? JSON.stringify(bad.slice(0, 60)) : String(bad)} is not one`
  return [...new Set(value as string[])]
}

/**
 * The id setup's `api.platform(id)` or `api.web(id)` was given, when the engine serves it: checked here so the
 * mistake throws at the plugin's line, not later from the main thread.
 */
function servedAccount(call: 'platform' | 'web', accountId: string): string {
  if (!init.accounts.some((a) => a.id === accountId)) {
    throw apiError('TypeError', `api.${call}(${JSON.stringify(accountId)}): no such account; the engine serves ${init.accounts.map((a) => JSON.stringify(a.id)).join(', ') || 'none'} (api.accounts)`)
  }
  return String(accountId)
}

async function answerCall(call: CallRequest): Promise<void> {
  const built = buildContext(call, init.config, rpc, log, init.web, sharedAreas)
  const { ctx, sessionOps, finish } = built
  let result: CallResult
  try {
    // `plugin` is set: the main thread sends calls only after `ready`.
    const returned: unknown = await callAbout.run(built.about, () => plugin!.handle(ctx))
    result = interpretReturn(returned)
    if (returned === undefined && built.replyBuilt !== undefined) {
      log.about(built.about).warn(`handle built a reply with ctx.reply.${built.replyBuilt}() but returned nothing, so it passed: a missing return?`)
    }
    const unawaited = unawaitedInReply(result)
    if (unawaited) log.about(built.about).warn(unawaited)
  } catch (e) {
    result = { kind: 'error', message: describeThrown(e) }
  }
  finish()
  try {
    send({ t: 'result', id: call.id, result, sessionOps })
  } catch (e) {
    // Never leave the call unanswered: that would cost a timeout and a restart.
    send({ t: 'result', id: call.id, result: { kind: 'error', message: `could not send the result: ${describeThrown(e)}` }, sessionOps: [] })
  }
  // After the answer: the call's reply stands; what it left behind outside the heap decides the worker's fate.
  memory.check()
}

/**
 * A storage or API call used without `await` (`visit #${ctx.storage.user.increment('n')}`) puts the text
 * "[object Promise]" in the reply: no type check catches it in a template string, and the user reads it.
 * Said, not refused: the text may mean it.
 */
function unawaitedInReply(result: CallResult): string | undefined {
  if (result.kind !== 'reply') return undefined
  const reply = result.reply as { type?: unknown; content?: unknown }
  if (reply.type !== 'text' || typeof reply.content !== 'string' || !reply.content.includes('[object Promise]')) return undefined
  return 'the text reply holds "[object Promise]": a call used without await? (`const n = await ctx.storage.user.increment(...)`)'
}

/** The main thread validates the reply itself; here it only has to become plain data. */
function interpretReturn(returned: unknown): CallResult {
  if (returned === undefined || returned === PASS) return { kind: 'pass' }
  // `return 'Hi'` is a text reply, as in Koishi and NoneBot (checked like ctx.reply.text: not empty, not too
  // long). Bounded here, as every reply is, before a 300-million-character string is copied to the main thread.
  if (typeof returned === 'string') {
    if (returned.length > MAX_REPLY_CHARS) return { kind: 'bad-reply', reason: `the text returned is over ${MAX_REPLY_CHARS} characters (${returned.length})` }
    return { kind: 'reply', reply: { type: 'text', content: returned } }
  }
  // Copied as JSON would, a Date became its ISO string, and the reply check said "got string".
  if (Object.prototype.toString.call(returned) === '[object Date]') {
    return { kind: 'bad-reply', reason: 'a Date is not a reply: return text (a string, or ctx.reply.text(...)) that says it' }
  }
  const plain = toPlain(returned, MAX_REPLY_CHARS)
  if (!plain.ok) return { kind: 'bad-reply', reason: plain.error.reason }
  const value = plain.value
  if (isPassLiteral(value)) return { kind: 'pass' }
  return { kind: 'reply', reply: value }
}

function isPassLiteral(value: JsonValue): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && value.pass === true && Object.keys(value).length === 1
}

async function disposePlugin(): Promise<void> {
  let error: string | undefined
  // Timers first: none starts a new run once unloading began (one ticked while dispose closed what it
  // uses, or wrote after the hooks' flush). A run in flight may finish, within half of dispose's bound;
  // dispose gets the rest, so the whole stays within the bound the engine gives the worker.
  const startedAt = Date.now()
  const { unfinished } = await registry.stopTimers(init.disposeTimeoutMs / 2)
  if (unfinished > 0) {
    log.warn(`${unfinished === 1 ? 'a timer run' : `${unfinished} timer runs`} still going after ${Math.round(init.disposeTimeoutMs / 2)} ms: dispose runs beside ${unfinished === 1 ? 'it' : 'them'}`, { unfinished })
  }
  try {
    // Its bound as a whole in the message: what a timer run took of it is said above.
    await withTimeout(Promise.resolve(plugin?.dispose?.()), init.disposeTimeoutMs - (Date.now() - startedAt), `dispose did not finish within ${init.disposeTimeoutMs} ms`)
  } catch (e) {
    error = describeThrown(e)
  }
  // The hooks have a bound of their own: a dispose that used all of its bound leaves them their time.
  const { cleared, unsettled } = await registry.undo(init.disposeTimeoutMs)
  const disposed: WorkerToMain = { t: 'disposed', cleared }
  if (error !== undefined) disposed.error = error
  if (unsettled.length > 0) disposed.unsettled = unsettled
  send(disposed)
}

function withTimeout<T>(p: Promise<T>, ms: number, expiredMessage: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(expiredMessage)), ms)
  })
  return Promise.race([p, expired]).finally(() => clearTimeout(timer))
}

function assertNever(x: never): never {
  throw new Error(`unexpected message ${JSON.stringify(x)}`)
}
