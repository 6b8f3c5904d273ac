/**
 * `wxengine start` (production) and `wxengine dev` (watch rules/, plugins/ and engine.config.ts, pretty logs).
 * SIGTERM/SIGINT (and SIGUSR2, which nodemon sends to restart): stop accepting, finish in-flight messages,
 * flush, exit 0. SIGHUP (`systemctl reload`, `kill -HUP`): reload rules/ and plugins/, and the user groups and
 * plugin settings of engine.config.ts (read again as the start read it), keep serving.
 * Node's default for SIGHUP and SIGUSR2 is to end the process at once, with no line and messages in flight.
 */
import path from 'node:path'
import type { EngineConfig } from '../../config/config-types.ts'
import { findConfigFile, loadConfig } from '../../config/load-config.ts'
import { CONFIG_RELOAD_DEADLINE_MS } from '../../config/read-config-file.ts'
import { notRunAgainWhileStuck } from '../../reload/reread-config.ts'
import { ok, type Result } from '../../errors.ts'
import { flushLogger, type Logger } from '../../log/logger.ts'
import { startRuntime, StartupError, type Runtime } from '../../runtime.ts'
import { WITHOUT_SECRET } from '../../platform/create-platform.ts'
import { configFailureLines } from '../cli-context.ts'
import { accountWarnings, publicUrlWarning } from '../../config/account-warnings.ts'

export interface StartFlags {
  root: string
  config?: string
  dev?: boolean
  port?: number
}

/**
 * The configuration as `start` and `dev` read it: the file, dev's overrides, the environment, then --port.
 * Read again, the same way, at each reload (runtime.ts rereadConfig): only its user groups, page domains and
 * plugin settings are applied then, and any other change is named for a restart (reload/reread-config.ts).
 * `onFileRead` hears of the file and of the project's files it imports.
 */
function readConfig(flags: StartFlags, onFileRead?: (file: string) => void, deadlineMs?: number): Result<EngineConfig> {
  const loaded = loadConfig({
    root: flags.root,
    file: flags.config,
    onFileRead,
    deadlineMs,
    // dev listens on this machine only: it is served with the example token, which anyone can sign with
    // (a plugin author's review found it on 0.0.0.0). HOST still wins: a tunnel or a container sets it.
    overrides: flags.dev ? { watch: true, host: '127.0.0.1', log: { pretty: true, level: 'debug' } } : undefined,
  })
  if (!loaded.ok) return loaded
  // A flag on the command line is the most specific wish: it wins over PORT, which wins over the file.
  return flags.port === undefined ? loaded : ok({ ...loaded.value, port: flags.port })
}

/** The other ways a listen fails because of the settings, said in terms of the settings. */
function listenProblem(err: NodeJS.ErrnoException, host: string, port: number): string | undefined {
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name "${host}" does not resolve; set HOST to an address of this machine (0.0.0.0 for every interface)`
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine; set HOST to one of its addresses (0.0.0.0 for every interface)`
    case 'EACCES':
      return `port ${port} needs privileges; use a port above 1023 (PORT or --port) behind a proxy`
    default:
      return undefined
  }
}

export async function runStart(flags: StartFlags): Promise<number> {
  // Who started us, taken first thing: see the parent watch below.
  const parent = process.ppid
  // A SIGHUP while starting (systemd's reload right after a restart) would end the process at node's
  // default, with no line, and systemd counts that as a clean exit (no restart). Noted here, done once started.
  let reloadAsked = false
  const askReload = () => {
    reloadAsked = true
  }
  process.on('SIGHUP', askReload)
  // Likewise a stop: start-up takes seconds (plugins' workers, the store), and a SIGTERM then ended the
  // process at node's default, exit 143 with no line (an operator's review). Noted, and done once started.
  let stopAsked: string | undefined
  const askStop = (signal: NodeJS.Signals) => {
    stopAsked ??= signal
  }
  for (const signal of STOP_SIGNALS) process.on(signal, askStop)
  const release = () => {
    process.off('SIGHUP', askReload)
    for (const signal of STOP_SIGNALS) process.off(signal, askStop)
  }
  try {
    const started = await startEngine(flags)
    if (typeof started === 'number') return started
    // The serving listeners are added before these go: with none at all for a moment, node would give the
    // signals back their default (the end of the process).
    await serveUntilStopped(flags, started, parent, () => {
      release()
      return { reload: reloadAsked, stop: stopAsked }
    })
    endEvenIfHeld(started.log)
    return 0
  } finally {
    release()
  }
}

/** How long a stopped engine's process may go on before it is ended all the same (endEvenIfHeld). */
const HELD_AFTER_STOP_MS = 2_000

/**
 * Stopped, the process ends by itself once nothing holds it: its last lines are out then, whatever their pace.
 * Something may still hold it: a handle a library opened during the stop (chokidar did: watch-sources.ts), a
 * timer engine.config.ts set. The process then said "stopped" and went on, until a process manager's stop timed
 * out and killed it, or for ever in a terminal. After HELD_AFTER_STOP_MS it says what holds it and exits.
 * The timer itself holds nothing (unref): a process that ends by itself never sees it.
 */
function endEvenIfHeld(log: Logger): void {
  setTimeout(() => {
    const held = process.getActiveResourcesInfo()
    log.warn({ held }, `still running ${HELD_AFTER_STOP_MS / 1000} s after it stopped, held by ${held.join(', ') || 'nothing node can name'}: exiting`)
    // process.exit() takes the exit code the command set (program.ts). A flush that never answers does not hold it.
    const flushed = Promise.race([flushLogger(log), new Promise((resolve) => setTimeout(resolve, 1_000).unref())])
    void flushed.finally(() => process.exit())
  }, HELD_AFTER_STOP_MS).unref()
}

/** The signals that stop the engine gracefully (SIGUSR2: nodemon's restart). */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGUSR2'] as const

/** Loads the configuration and starts the runtime; a number is the exit code of a start that failed. */
async function startEngine(flags: StartFlags): Promise<Runtime | number> {
  // The project's files engine.config.ts imports, as the last read found them: watched with it under `watch: true`.
  let imported: string[] = []
  const read = (deadlineMs?: number) => {
    const files: string[] = []
    const r = readConfig(flags, (f) => files.push(f), deadlineMs)
    imported = files.slice(1)
    return r
  }
  const loaded = read()
  if (!loaded.ok) {
    process.stderr.write(configFailureLines(flags, loaded.error.reason).map((l) => `${l}\n`).join(''))
    return 2
  }
  const config = loaded.value
  const root = path.resolve(flags.root)
  // The file as the start found it (a `-c` one, or the first of root's): watched under `watch: true`.
  const file = flags.config ? path.resolve(root, flags.config) : findConfigFile(root)
  let runtime
  try {
    // A reload's read runs while messages wait: a shorter deadline, and not again while stuck and unchanged.
    const reread = notRunAgainWhileStuck(() => read(CONFIG_RELOAD_DEADLINE_MS), () => (file ? [file, ...imported] : imported))
    runtime = await startRuntime(config, { rereadConfig: { file, read: reread, imported: () => imported } })
  } catch (e) {
    // 1 when starting again later may work as it is (Redis not up yet, the old engine still holding the
    // data directory or the port); 2 when the settings must change first. The systemd unit restarts on 1 only.
    if (e instanceof StartupError) {
      // Files inside the working directory as rules check names them (rules/a.yaml:3:15): the rules' errors
      // came with their full path, the plugins' beside them without.
      process.stderr.write(`wxengine: ${e.message.split(process.cwd() + path.sep).join('')}\n`)
      return e.transient ? 1 : 2
    }
    const err = e as NodeJS.ErrnoException
    if (err.code === 'EADDRINUSE') {
      // The admin port (admin.port) can be the one taken, too.
      const taken = (err as NodeJS.ErrnoException & { port?: number }).port ?? config.port
      process.stderr.write(`wxengine: port ${taken} is in use; ${taken === config.port ? 'set PORT or --port to another one' : 'set admin.port in engine.config.ts to another one'}\n`)
      return 1
    }
    const cannotListen = listenProblem(err, config.host, config.port)
    if (cannotListen) {
      process.stderr.write(`wxengine: cannot listen on ${config.host}:${config.port}: ${cannotListen}\n`)
      return 2
    }
    throw e
  }
  return runtime
}

/**
 * The default (admin endpoints on the public port, no token) is right for development and wrong on the
 * internet: anyone can read the rule names and traffic in /metrics. Said at start when the public port is
 * reachable from outside (an operator's review); not in `dev`, and not when HOST is loopback (behind a proxy).
 */
export function publicAdminWarning(config: Pick<EngineConfig, 'host' | 'admin'>): string | undefined {
  const { enabled, port, token } = config.admin
  if (!enabled || port !== undefined || token) return undefined
  if (['127.0.0.1', 'localhost', '::1'].includes(config.host) || config.host.startsWith('127.')) return undefined
  return `/healthz and /metrics are served on the public port (${config.host}) without a token: anyone who reaches it can read rule names and traffic; set ADMIN_TOKEN, give them their own port (admin.port, bound to 127.0.0.1), or HOST=127.0.0.1 behind a proxy`
}

/** `takeOver` is called once the signal listeners are in place: it says whether a reload or a stop was asked for while starting. */
async function serveUntilStopped(flags: StartFlags, runtime: Runtime, parent: number, takeOver: () => { reload: boolean; stop: string | undefined }): Promise<void> {
  const log = runtime.log
  for (const { account, message } of accountWarnings(runtime.config.accounts)) log.warn({ account }, message)
  for (const account of runtime.config.accounts) {
    // Said at start: without it the first sign is a late reply failing, maybe hours later, in the outbox.
    if (!account.appSecret) log.warn({ account: account.id }, `account "${account.id}" has no appSecret: ${WITHOUT_SECRET}`)
  }
  const unreachable = publicUrlWarning(runtime.config)
  if (unreachable) log.warn(unreachable)
  const exposed = flags.dev ? undefined : publicAdminWarning(runtime.config)
  if (exposed) log.warn(exposed)
  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      log.info({ signal }, 'shutting down: finishing in-flight messages')
      runtime
        .close()
        .then(() => log.info('stopped'))
        .catch((e) => log.error({ err: e }, 'shutdown error'))
        .then(() => flushLogger(log))
        .finally(resolve)
    }
    for (const signal of STOP_SIGNALS) process.once(signal, () => stop(signal))
    // The reload says how it went (reloaded, or refused with the reasons, keeping the last good set).
    const reload = (during: string) => {
      if (stopping) return
      log.info({ signal: 'SIGHUP' }, `reloading rules and plugins${during}`)
      void runtime.reload()
    }
    process.on('SIGHUP', () => reload(''))
    const asked = takeOver()
    if (asked.stop) stop(`${asked.stop} (while starting)`)
    else if (asked.reload) reload(' (asked for while starting)')
    // `npm start` under a process manager: npm 11 exits on SIGTERM without passing it on, and we would be
    // left running under init. A changed parent means npm is gone: shut down the same way. Only under npm
    // (which sets npm_lifecycle_event for its scripts): any other parent may leave on purpose (a shell that
    // started us in the background, a daemonizing launcher), and stopping then took the service down.
    // The parent was taken before start-up, so one that went away during it is noticed too.
    if (process.env.npm_lifecycle_event !== undefined) {
      const watchParent = () => {
        if (process.ppid !== parent) stop('npm exited')
      }
      setInterval(watchParent, 500).unref()
      watchParent()
    }
  })
}
