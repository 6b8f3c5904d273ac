/**
 * Runs one plugin in its own worker (a thread, or a child process: limits.pluginIsolation,
 * plugin-process.ts) and turns every call into a PluginOutcome.
 *
 * Why a worker per plugin (docs/plugins.md; the team's notes, ../shared/binary-and-sandbox.md beside the repository): a loop that starts after an
 * `await` runs in a microtask where no vm timeout reaches it, and it would hang the whole process. Only
 * `Worker.terminate()` stops it. So the deadline lives here, on the main thread: when it passes, the call
 * is answered PLUGIN_TIMEOUT, the worker is terminated and a fresh one is started (setup runs again).
 */
import type { EngineError, Result } from '../errors.ts'
import { fail, ok } from '../errors.ts'
import { createLineBudget, type LineBudget } from '../log/line-budget.ts'
import type { Logger } from '../log/logger.ts'
import { parseReply } from '../reply/reply-builders.ts'
import type { PluginCall, PluginOutcome, PluginServices, SessionOp } from './plugin-host-types.ts'
import { resolvePluginIsolation, type PluginIsolation } from './plugin-isolation.ts'
import { startPluginProcess, type PluginWorker } from './plugin-process.ts'
import { servePluginRpc } from './serve-plugin-rpc.ts'
import { describeThrown, sandboxEntryName } from './sandbox/describe-thrown.ts'
import { createTurnSlicer } from './turn-slicer.ts'
import { startThread } from '../binary/worker-program.ts'
import { workerEntry, type WorkerEntry } from './worker-entry.ts'
import { checkWorkerMessage } from './worker-message.ts'
import type { CallRequest, CallResult, MainToWorker, WorkerData, WorkerInit, WorkerToMain } from './worker-protocol.ts'

export interface PluginRunnerOptions {
  init: WorkerInit
  /** Hard deadline of one call. */
  timeoutMs: number
  /** Bound on loading the module and running setup (each worker start). */
  startTimeoutMs: number
  /**
   * The worker's memory: on its heap, and its ArrayBuffers and Buffers outside it. Past it the worker is
   * replaced (sandbox/memory-watch.ts); V8's own limit for the worker is twice this, for the reason there.
   */
  memoryMb: number
  /**
   * The setting `memoryMb` comes from, named when the worker is replaced for it (default
   * `limits.pluginMemoryMb`): a plugin's own `plugins.<name>.memoryMb` is raised there, not in limits.
   */
  memorySetting?: string
  services: PluginServices
  /** A worker thread, or a child process (default: limits.pluginIsolation's default, plugin-isolation.ts). */
  isolation?: PluginIsolation
  /** Host events (restarts, crashes), already bound to the plugin's name. */
  log: Logger
  /**
   * The budget of the lines that can come once per message (a call timed out, its worker crashed or was
   * stopped), keyed by the plugin's name: the engine's, shared across reloads and with its other per-message
   * lines (log/line-budget.ts). Over a log not bound to the plugin, so its lines name it themselves. Default:
   * one of the runner's own, over services.log.
   */
  lines?: LineBudget
  /** The worker's program (default: the engine's, worker-entry.ts). Tests give a stand-in that breaks the protocol. */
  workerEntry?: () => WorkerEntry
}

export interface PluginRunner {
  /** Starts the first worker; a failure here means the plugin did not load. */
  start(): Promise<Result<void>>
  invoke(call: PluginCall): Promise<PluginOutcome>
  /** The shared storage areas the plugin declares (definePlugin's sharedStorage), as its last started worker read them; [] before one did. */
  sharedAreas(): readonly string[]
  /**
   * Lets running calls finish (each within its deadline, or all within `callsWithinMs`, past which they
   * fail), runs the plugin's dispose, then stops the worker.
   */
  dispose(callsWithinMs?: number): Promise<void>
  /**
   * Its set was retired by a reload (PluginSet.retire): a call that would wait for a worker of this
   * runner's (none is ready: one is being restarted, or its restart failed) goes to `successor`, the
   * reloaded set's plugin of the same name, which is up, rather than waiting out its deadline for a worker
   * of a set nobody will call again. Without one (the reload removed or disabled the plugin) such a call
   * fails at once, saying so. No worker is started for this runner any more.
   */
  handOver(successor: ((call: PluginCall) => Promise<PluginOutcome>) | undefined): void
}

interface Running {
  worker: PluginWorker
  ready: boolean
  /** Its module loaded and its definition was checked ('defined'): what is left of the start is setup. */
  defined: boolean
  startedAt: number
  /** Settles the start (ready, load failure, crash or start timeout). */
  settleStart: (r: Result<void>) => void
  onDisposed?: () => void
  /** Pings not yet answered (the liveness check, watchLiveness). */
  unanswered: number
  /** When it last answered a ping (or became ready): how long it lived well, for the backoff. */
  aliveAt: number
}

interface PendingCall {
  /** As the engine made it: what a reloaded set is given when the call is handed over (handOver). */
  call: PluginCall
  request: CallRequest
  resolve: (o: PluginOutcome) => void
  timer: NodeJS.Timeout
  /**
   * The worker it was sent to; null while waiting for a worker to be ready; 'successor' once handed to the
   * reloaded set (handOver), which answers it (its deadline here still bounds it).
   */
  sentTo: PluginWorker | null | 'successor'
}

/**
 * Restarts after crashes, and after timed-out calls, back off, so a plugin that dies at once, or hangs on
 * every message, does not spin a core restarting (a fresh isolate, compile, setup) for every message.
 */
const BACKOFF_FIRST_MS = 100
const BACKOFF_MAX_MS = 30_000
/**
 * A failed start waits this many times as long as it ran before the next one. A setup that busy-loops
 * until the start timeout (15 s) then retried every 30 s, a third of a core for as long as it lasted; now a
 * failing plugin holds at most a tenth of one.
 */
const FAILED_START_WAIT_FACTOR = 9
/** The longest wait between restarts of a setup that keeps failing slowly. */
const FAILED_START_WAIT_MAX_MS = 5 * 60_000
/** A worker that lived this long before crashing starts the backoff over. */
const STABLE_AFTER_MS = 10_000
/** Extra time given to the worker to answer `dispose` beyond the plugin's own bound. */
const DISPOSE_MARGIN_MS = 500
/**
 * The liveness check (watchLiveness): a worker that does not answer a ping for the plugin's timeoutMs, but
 * at least this long (a test's 400 ms deadline must not take a loaded machine's pause for a loop), is
 * replaced; it is pinged at most this far apart, so a loop is found within the bound and one interval.
 */
const LIVENESS_FLOOR_MS = 2_000
const LIVENESS_EVERY_MAX_MS = 10_000

export function createPluginRunner(opts: PluginRunnerOptions): PluginRunner {
  const { init, services, log } = opts
  // A plugin's data is plain data already: its errors come described by the worker (log-forwarder.ts), and
  // pino's own `err` serializer, meant for Error objects, would name such an object's type "Object".
  const pluginLog = services.log.child({ plugin: init.name }, { serializers: { err: (value: unknown) => value } })
  // Under load a plugin that hangs (or crashes) on some messages met a deadline, and wrote a line, per message.
  const lines = opts.lines ?? createLineBudget(services.log)
  const pending = new Map<number, PendingCall>()
  /** Workers we terminated on purpose: their exit is not a crash. */
  const stopping = new WeakSet<PluginWorker>()
  /** The worker's requests to this thread (storage, API), run a slice of a turn at a time. */
  const requests = createTurnSlicer()
  let current: Running | null = null
  let status: 'running' | 'failed' | 'disposing' | 'disposed' = 'running'
  /** Set by handOver: this runner's set was retired by a reload; calls with no worker ready go here. */
  let retired: { successor: ((call: PluginCall) => Promise<PluginOutcome>) | undefined } | undefined
  let lastFailure = ''
  let failures = 0
  /**
   * Calls that timed out, each ending its worker, with no call answered in between: a handler that hangs
   * on every message. Its own count, not `failures`: an answer, not a long life, shows the handler well.
   */
  let timeoutsInARow = 0
  let restartTimer: NodeJS.Timeout | undefined
  /** When restartTimer fires, and why the worker it replaces is gone: a call that cannot wait that long fails at once. */
  let restartAt = 0
  let downBecause = ''
  let nextId = 1
  let onIdle: (() => void) | undefined
  /** What the worker's definition declares (sent before its setup): every worker of this runner runs the same code. */
  let declaredAreas: readonly string[] = []
  const isolation = opts.isolation ?? resolvePluginIsolation()

  function spawn(): Promise<Result<void>> {
    const entry = (opts.workerEntry ?? workerEntry)()
    // Twice the bound: the memory watch replaces the worker at the bound, well before V8's limit, which on
    // Node 20 and 22 can end the whole process (sandbox/memory-watch.ts).
    const resourceLimits = { maxOldGenerationSizeMb: 2 * opts.memoryMb }
    const workerData: WorkerData = { ...init, memoryMb: opts.memoryMb }
    const worker: PluginWorker =
      isolation === 'process'
        ? startPluginProcess({ entry, workerData, heapMb: resourceLimits.maxOldGenerationSizeMb, log })
        : startThread(entry, { workerData, env: {}, resourceLimits })
    // Workers never keep the process alive on their own: pending calls and deadlines hold timers that do.
    worker.unref()
    return new Promise((resolve) => {
      const startTimer = setTimeout(() => {
        stop(worker)
        // Which of the two: "load and setup" sent the author of a module that loops at its top level to setup.
        const reason = running.defined
          ? `setup did not finish within ${opts.startTimeoutMs} ms (a loop, or a wait that never ends, in setup?)`
          : `its module did not finish loading within ${opts.startTimeoutMs} ms (a loop at its top level, or in a file it imports?)`
        running.settleStart(fail('PLUGIN_LOAD', reason))
      }, opts.startTimeoutMs)
      const running: Running = {
        worker,
        ready: false,
        defined: false,
        startedAt: Date.now(),
        unanswered: 0,
        aliveAt: Date.now(),
        settleStart: (r) => {
          clearTimeout(startTimer)
          running.settleStart = () => {}
          resolve(r)
        },
      }
      current = running
      worker.on('message', (msg: unknown) => onWorkerMessage(running, msg))
      let crash = 'exited'
      worker.on('error', (e) => {
        // A thread's is the plugin's own error, cloned: said as a failed call says it, with its line. A
        // process's is already said so (sandbox/worker-port.ts), or is node's own FATAL ERROR line.
        crash = isolation === 'thread' ? describeThrown(e, sandboxEntryName(init.entry)) : e instanceof Error ? e.message : String(e)
      })
      // A process ended by a signal (SIGABRT at V8's heap limit, SIGKILL from the OS) has no exit code.
      worker.on('exit', (code, signal) => onWorkerExit(running, `${crash} (${signal ? `signal ${signal}` : `exit code ${code}`})`))
    })
  }

  function onWorkerMessage(running: Running, raw: unknown): void {
    // A worker being terminated may still have a message or two in flight: it is no longer ours to use.
    if (stopping.has(running.worker)) return
    const breach = checkWorkerMessage(raw)
    if (breach !== undefined) {
      // Not made by the worker program (worker-message.ts): the plugin's code talks to the engine itself.
      // Nothing it sent is acted on.
      replaceFor(running, `its worker sent ${breach}, which the engine's worker program never sends (the plugin's code got out of the sandbox?)`)
      return
    }
    const msg = raw as WorkerToMain
    switch (msg.t) {
      case 'defined':
        declaredAreas = msg.sharedStorage
        running.defined = true
        return
      case 'ready':
        running.ready = true
        running.aliveAt = Date.now()
        running.settleStart(ok(undefined))
        watchLiveness(running)
        for (const p of pending.values()) if (p.sentTo === null) send(running, p)
        return
      case 'load-failed':
        stop(running.worker)
        running.settleStart(fail('PLUGIN_LOAD', msg.reason))
        return
      case 'result': {
        const p = pending.get(msg.id)
        // Already answered as a timeout.
        if (!p) return
        // Answered within its deadline (a reply, a pass or an error of the plugin's): the handler is not stuck.
        timeoutsInARow = 0
        settle(msg.id, toOutcome(msg.result, msg.sessionOps))
        return
      }
      case 'rpc':
        // Sliced across turns: a burst of storage writes must not hold every account's messages (turn-slicer.ts).
        requests.run(() => {
          // A request still waiting when its worker was stopped (a call timed out, memory): nobody is left to
          // answer, and a write the plugin was never told succeeded is not made.
          if (stopping.has(running.worker)) return
          void servePluginRpc(init.name, msg, services, declaredAreas).then((answer) => {
            if (!stopping.has(running.worker)) post(running.worker, answer)
          })
        })
        return
      case 'log':
        pluginLog[msg.level](msg.data ?? {}, msg.msg)
        return
      case 'over-memory': {
        if (stopping.has(running.worker)) return
        const held = msg.where === 'heap' ? `${msg.mb} MB on its heap` : `${msg.mb} MB outside its heap (ArrayBuffers, Buffers)`
        const reason = `it held ${held}, over ${opts.memorySetting ?? 'limits.pluginMemoryMb'} (${opts.memoryMb} MB)`
        replaceFor(running, reason, `setup: ${reason}`)
        return
      }
      case 'pong':
        running.unanswered = 0
        running.aliveAt = Date.now()
        return
      case 'disposed':
        log.debug({ cleared: msg.cleared, error: msg.error }, `plugin ${init.name} disposed; ${msg.cleared} timers and hooks undone`)
        if (msg.error) log.warn({ code: 'PLUGIN_ERROR', reason: msg.error }, `plugin ${init.name} dispose failed: ${msg.error}`)
        if (msg.unsettled?.length) {
          // Left pending, and the hooks after them ran: this line is all that says which cleanup may not have happened.
          const reason = msg.unsettled.join('; ')
          log.warn({ code: 'PLUGIN_TIMEOUT', reason, unsettled: msg.unsettled }, `plugin ${init.name} unloaded without waiting for ${reason}`)
        }
        running.onDisposed?.()
        return
      default:
        assertNever(msg)
    }
  }

  function onWorkerExit(running: Running, reason: string): void {
    if (stopping.has(running.worker)) return
    stopping.add(running.worker)
    if (current === running) current = null
    running.settleStart(fail('PLUGIN_LOAD', `worker ${reason}`))
    if (!running.ready) return
    if (closing()) {
      // Died while unloading (an uncaught error in dispose's own timers): nothing is restarted, and the
      // dispose waiting for its answer (or its bound) ends now.
      log.error({ code: 'PLUGIN_ERROR', reason }, `plugin ${init.name} worker exited while disposing: ${reason}`)
      failSentTo(running.worker, `the plugin's worker exited while the plugin was being unloaded (${reason})`)
      running.onDisposed?.()
      return
    }
    // A crash after start (an uncaught error in a timer, out of memory): calls on it are lost, restart.
    running.aliveAt = Date.now()
    replaceLost(running, reason, `the plugin's worker crashed (${reason}) and was restarted`, `plugin ${init.name} worker crashed: ${reason}; restarting`)
  }

  /**
   * A worker stopped for cause (memory over its bound, a message its program never sends), replaced as after
   * a crash. During load or setup the start fails instead, saying `startReason` (its caller decides about
   * restarting).
   */
  function replaceFor(running: Running, reason: string, startReason = reason): void {
    // It was alive until now (a message came); a hung one stopped being so when it stopped answering.
    if (running.unanswered === 0) running.aliveAt = Date.now()
    stop(running.worker)
    running.settleStart(fail('PLUGIN_LOAD', startReason))
    if (!running.ready) return
    replaceLost(running, reason, `the plugin's worker was replaced: ${reason}`, `plugin ${init.name} worker replaced: ${reason}`)
  }

  /** A worker that is gone or stopped for cause: its calls fail saying why, and a new one starts (backing off). */
  function replaceLost(running: Running, reason: string, callsFailWith: string, line: string): void {
    lines.error(`PLUGIN_ERROR worker lost ${init.name}`, { code: 'PLUGIN_ERROR', plugin: init.name, reason }, line)
    downBecause = reason
    failSentTo(running.worker, callsFailWith)
    failures = running.aliveAt - running.startedAt >= STABLE_AFTER_MS ? 1 : failures + 1
    scheduleRestart(failures)
  }

  /**
   * Between calls no deadline looks at the worker: a timer of setup's that loops for good (a `while`
   * waiting on what cannot change while it runs), or a loop a call left running after it answered, spun
   * a core, with no line in the log, until a message came for the plugin and timed out (never, for a plugin
   * that only sends from timers). So the worker is pinged; one whose event loop does not come back to
   * answer within the plugin's deadline is replaced as after a crash (backing off: it lived only until it
   * stopped answering). A call stuck in a loop meets its own deadline first: its ping comes later.
   */
  function watchLiveness(running: Running): void {
    const bound = Math.max(opts.timeoutMs, LIVENESS_FLOOR_MS)
    const every = Math.min(bound, LIVENESS_EVERY_MAX_MS)
    const missedAtMost = Math.ceil(bound / every)
    const timer = setInterval(() => {
      // Disposing: its dispose has a bound of its own, and a worker being stopped is no crash.
      if (stopping.has(running.worker) || current !== running || closing()) {
        clearInterval(timer)
        return
      }
      if (running.unanswered >= missedAtMost) {
        clearInterval(timer)
        replaceFor(running, `its worker did not answer the engine for ${bound} ms between calls (a loop in a timer of setup's, an api.every or api.after callback, or one left running by a call?)`)
        return
      }
      running.unanswered++
      post(running.worker, { t: 'ping' })
    }, every)
    // Never what keeps the process up.
    timer.unref()
  }

  function send(running: Running, p: PendingCall): void {
    p.sentTo = running.worker
    try {
      post(running.worker, p.request)
    } catch (e) {
      // A call that cannot be cloned (DataCloneError) must fail now, not after the deadline and a restart.
      settle(p.request.id, { status: 'error', error: { code: 'PLUGIN_ERROR', reason: `the call could not be sent to the worker: ${(e as Error).message}` }, sessionOps: [] })
    }
  }

  function post(worker: PluginWorker, msg: MainToWorker): void {
    worker.postMessage(msg)
  }

  function stop(worker: PluginWorker): void {
    stopping.add(worker)
    void worker.terminate()
    if (current?.worker === worker) current = null
  }

  function settle(id: number, outcome: PluginOutcome): void {
    const p = pending.get(id)
    if (!p) return
    pending.delete(id)
    clearTimeout(p.timer)
    p.resolve(outcome)
    if (pending.size === 0) onIdle?.()
  }

  function failSentTo(worker: PluginWorker, reason: string): void {
    for (const [id, p] of pending) {
      if (p.sentTo === worker) settle(id, errorOutcome('PLUGIN_ERROR', reason))
    }
  }

  function onDeadline(id: number): void {
    const p = pending.get(id)
    if (!p) return
    const reason = `no answer within ${opts.timeoutMs} ms`
    const where = p.sentTo === null ? " (the plugin's worker was not ready)" : p.sentTo === 'successor' ? ' (handed to the reloaded plugins while its worker restarted)' : ''
    settle(id, errorOutcome('PLUGIN_TIMEOUT', `${reason}${where}`))
    // Still waiting for a worker, or handed over: nothing of the plugin's ran here, so there is nothing to stop.
    if (p.sentTo === null || p.sentTo === 'successor' || current?.worker !== p.sentTo) return
    const hung = p.sentTo
    stop(hung)
    failSentTo(hung, `the plugin's worker was restarted: another call on it timed out after ${opts.timeoutMs} ms`)
    timeoutsInARow++
    downBecause = `a call got ${reason}`
    // Backing off as after crashes: the first restart is at once, the next ones later and later until a call is answered.
    const delay = scheduleRestart(timeoutsInARow)
    const when = delay === undefined ? '' : delay === 0 ? '; restarting its worker' : `; restarting its worker in ${delay} ms (${timeoutsInARow} timeouts in a row)`
    // Whose message hung it, as the engine's per-message lines name one (its key is the engine's dedup key).
    // Its own budget key: the engine's 'plugin <name> failed' line for the same call is keyed by code and
    // plugin (`PLUGIN_TIMEOUT <name>`, engine.ts), and sharing it each flood wrote half as many of either,
    // with one count of both said as the other's.
    const { account, message, key } = p.call
    lines.warn(
      `PLUGIN_TIMEOUT call ${init.name}`,
      { code: 'PLUGIN_TIMEOUT', plugin: init.name, reason, account: account.id, openId: message.fromUser, key, timeoutsInARow, restartInMs: delay },
      `plugin ${init.name} call timed out${when}`,
    )
  }

  async function restart(): Promise<void> {
    restartTimer = undefined
    if (closing() || retired) return
    const startedAt = Date.now()
    const started = await spawn()
    if (started.ok) {
      if (status === 'failed') status = 'running'
      // Budgeted as the timeout or crash line that comes before each: a plugin hanging on some messages restarts once per such message.
      lines.info(`restarted ${init.name}`, { plugin: init.name }, `plugin ${init.name} restarted`)
      return
    }
    // Disposed while starting: nothing to restart any more. Retired meanwhile: handOver dealt with the calls.
    if (closing() || retired) return
    // The plugin loaded once, so this is likely a setup that depends on something gone (a file, the network).
    status = 'failed'
    lastFailure = started.error.reason
    log.error({ code: 'PLUGIN_LOAD', reason: lastFailure }, `plugin ${init.name} failed to restart: ${lastFailure}`)
    for (const [id, p] of pending) if (p.sentTo === null) settle(id, errorOutcome('PLUGIN_ERROR', `the plugin is not running: ${lastFailure}`))
    failures++
    scheduleRestart(failures, Math.min((Date.now() - startedAt) * FAILED_START_WAIT_FACTOR, FAILED_START_WAIT_MAX_MS))
  }

  function closing(): boolean {
    return status === 'disposing' || status === 'disposed'
  }

  /**
   * `inARow`: the failures of the kind that stopped the worker (crashes, or timed-out calls) in a row; the
   * first restart is at once, then 100 ms, 200 ms... up to 30 s. `atLeast`: after a failed start, the wait
   * its duration calls for. Returns the delay; undefined when nothing is restarted (unloading, retired).
   */
  function scheduleRestart(inARow: number, atLeast = 0): number | undefined {
    // Retired by a reload: a call that would need the worker goes to the reloaded set (handOver).
    if (closing() || retired) return undefined
    const delay = Math.max(atLeast, inARow <= 1 ? 0 : Math.min(BACKOFF_FIRST_MS * 2 ** (inARow - 2), BACKOFF_MAX_MS))
    restartAt = Date.now() + delay
    restartTimer = setTimeout(() => void restart(), delay)
    // A restart pending during idle time must not keep the process up.
    restartTimer.unref()
    return delay
  }

  /** A call on a retired runner with no worker up (handOver): the reloaded set's plugin answers it, or none can. */
  function invokeSuccessor(call: PluginCall): Promise<PluginOutcome> {
    const successor = retired?.successor
    if (successor) {
      log.info(`plugin ${init.name}: a call that came after a reload, while its worker was down, handed to the reloaded plugins`)
      return successor(call)
    }
    return Promise.resolve(errorOutcome('PLUGIN_ERROR', `the plugin's worker is down and a reload removed or disabled the plugin`))
  }

  function toOutcome(result: CallResult, sessionOps: SessionOp[]): PluginOutcome {
    switch (result.kind) {
      case 'pass':
        return { status: 'pass', sessionOps }
      case 'reply': {
        const reply = parseReply(result.reply)
        if (!reply.ok) return { status: 'error', error: { code: 'PLUGIN_BAD_REPLY', reason: reply.error.reason }, sessionOps }
        return { status: 'reply', reply: reply.value, sessionOps }
      }
      case 'error':
        return { status: 'error', error: { code: 'PLUGIN_ERROR', reason: result.message }, sessionOps }
      case 'bad-reply':
        return { status: 'error', error: { code: 'PLUGIN_BAD_REPLY', reason: result.reason }, sessionOps }
      default:
        return assertNever(result)
    }
  }

  return {
    async start() {
      const started = await spawn()
      if (!started.ok) status = 'disposed'
      return started
    },

    sharedAreas: () => declaredAreas,

    invoke(call) {
      if (closing()) {
        return Promise.resolve(errorOutcome('PLUGIN_ERROR', 'the plugin set was disposed (reloaded or shut down)'))
      }
      // A message that started before a reload, while no worker of this set's is up: the reloaded set's is.
      if (retired && !current?.ready) return invokeSuccessor(call)
      if (status === 'failed') return Promise.resolve(errorOutcome('PLUGIN_ERROR', `the plugin is not running: ${lastFailure}`))
      // A worker that crashed again and again comes back after its backoff (up to 30 s). A call whose
      // deadline comes first would only wait it out, and hold the user's next messages behind it.
      const restartsIn = restartTimer === undefined || current !== null ? 0 : restartAt - Date.now()
      if (restartsIn >= opts.timeoutMs) {
        return Promise.resolve(errorOutcome('PLUGIN_ERROR', `the plugin's worker is down (${downBecause}) and restarts in ${restartsIn} ms, after this call's deadline (${opts.timeoutMs} ms)`))
      }
      const id = nextId++
      const request: CallRequest = {
        t: 'call',
        id,
        deadline: Date.now() + opts.timeoutMs,
        message: call.message,
        key: call.key,
        account: call.account,
        match: call.match,
        session: call.session,
      }
      if (call.groups !== undefined && call.groups.length > 0) request.groups = call.groups
      return new Promise<PluginOutcome>((resolve) => {
        const p: PendingCall = { call, request, resolve, timer: setTimeout(() => onDeadline(id), opts.timeoutMs), sentTo: null }
        pending.set(id, p)
        if (current?.ready) send(current, p)
      })
    },

    handOver(successor) {
      if (closing() || retired) return
      retired = { successor }
      clearTimeout(restartTimer)
      restartTimer = undefined
      const waiting = [...pending].filter(([, p]) => p.sentTo === null)
      if (waiting.length === 0) return
      const calls = waiting.length === 1 ? '1 call' : `${waiting.length} calls`
      if (successor) {
        log.info({ calls: waiting.length }, `plugin ${init.name}: ${calls} waiting for its worker to restart handed to the reloaded plugins`)
        for (const [id, p] of waiting) {
          p.sentTo = 'successor'
          void successor(p.call).then((outcome) => settle(id, outcome))
        }
        return
      }
      const reason = `the plugin's worker was being restarted when a reload removed or disabled the plugin`
      log.warn({ code: 'PLUGIN_ERROR', reason }, `plugin ${init.name}: ${calls} waiting for its worker failed: ${reason}`)
      for (const [id] of waiting) settle(id, errorOutcome('PLUGIN_ERROR', reason))
    },

    async dispose(callsWithinMs) {
      if (closing()) return
      status = 'disposing'
      clearTimeout(restartTimer)
      // Hot reload: calls that started on this generation finish on it (each is bounded by its deadline).
      // Shutdown bounds the wait: a call hung until its deadline (30 s by default) would hold the process
      // past any stop timeout; what is still running then fails and is stopped with the worker.
      if (pending.size > 0) {
        const idle = new Promise<void>((resolve) => (onIdle = resolve))
        if (callsWithinMs === undefined) await idle
        else {
          let timer: NodeJS.Timeout | undefined
          await Promise.race([idle, new Promise<void>((resolve) => (timer = setTimeout(resolve, callsWithinMs)))])
          clearTimeout(timer)
          for (const [id, p] of pending) {
            clearTimeout(p.timer)
            pending.delete(id)
            p.resolve(errorOutcome('PLUGIN_ERROR', 'the engine shut down while the call was running'))
          }
        }
      }
      const running = current
      if (running?.ready) {
        await new Promise<void>((resolve) => {
          // The worker bounds dispose, then the onDispose hooks, each by disposeTimeoutMs, and says so
          // (worker-main.ts); it cannot when dispose or a hook loops: then only this says which plugin held the unload.
          const bound = 2 * init.disposeTimeoutMs + DISPOSE_MARGIN_MS
          const timer = setTimeout(() => {
            const reason = `dispose did not finish within ${bound} ms (a loop in dispose or in an onDispose hook?)`
            lines.warn(`PLUGIN_TIMEOUT dispose ${init.name}`, { code: 'PLUGIN_TIMEOUT', plugin: init.name, reason }, `plugin ${init.name} ${reason}; its worker was stopped`)
            resolve()
          }, bound)
          running.onDisposed = () => {
            clearTimeout(timer)
            resolve()
          }
          post(running.worker, { t: 'dispose' })
        })
      }
      if (running) {
        stopping.add(running.worker)
        running.settleStart(fail('PLUGIN_LOAD', 'disposed while starting'))
        await running.worker.terminate()
      }
      current = null
      status = 'disposed'
    },
  }
}

function errorOutcome(code: EngineError['code'], reason: string): PluginOutcome {
  return { status: 'error', error: { code, reason }, sessionOps: [] }
}

function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`)
}
