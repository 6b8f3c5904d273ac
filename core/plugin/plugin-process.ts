/**
 * A plugin's worker program in a child process of its own (limits.pluginIsolation, plugin-isolation.ts),
 * with the little of `Worker`'s surface plugin-runner.ts uses: `message`, `error` and `exit` events,
 * `postMessage`, `terminate`, `unref`. Why: on Node 20 and 22 a worker thread reaching its heap limit with a
 * large allocation ends the whole engine; a child that does so ends alone, and is restarted as a crash.
 *
 * - The program: the same bundle a thread evaluates (worker-entry.ts), written once to a file in the cache
 *   directory (core/cache-dir.ts; named by its hash) and run by this node, without the engine's execArgv
 *   (no `--import tsx`: the bundle is plain CommonJS). Inside the single binary, the binary itself is run
 *   with PLUGIN_CHILD_ENV set, and binary-main.ts runs its embedded bundle instead of the CLI.
 * - Its data: `WorkerData` is the first IPC message; the program waits for it before the bundle runs
 *   (sandbox/worker-port.ts takes it). Messages are structured clones, as `postMessage` makes them
 *   (`serialization: 'advanced'`).
 * - Its heap: `--max-old-space-size`, as `resourceLimits.maxOldGenerationSizeMb` bounds a thread; through
 *   NODE_OPTIONS for the binary, which takes no node options on its command line.
 * - Its environment: none of the engine's (WECHAT_APPSECRET, ADMIN_TOKEN, REDIS_URL...), as a thread gets
 *   `env: {}`; only the time zone and locale, which a thread shares with the engine.
 * - Its output: stdout and stderr lines go to the engine's log under the plugin's name (bounded); a
 *   "FATAL ERROR" line, or the line sandbox/worker-port.ts writes for an uncaught error, is the crash's reason.
 * - Its end: it exits when its IPC channel closes (the engine ended or was killed: worker-port.ts); one
 *   busy in a loop never hears of it, so an engine that ends (an uncaught error, process.exit) kills its
 *   children on the way out; one killed outright (SIGKILL) cannot, and the child's orphan watchdog (below)
 *   kills it within WATCH_MS.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { existsSync, lstatSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { cacheDir, isOnlyOurs, makePrivateDir, removeStaleCacheFiles, touchCacheFile } from '../cache-dir.ts'
import { isSingleBinary } from '../binary/sea-assets.ts'
import type { Logger } from '../log/logger.ts'
import type { WorkerEntry } from './worker-entry.ts'
import { CHILD_CRASH_LINE_PREFIX, CHILD_WORKER_DATA_KEY, type MainToWorker, type WorkerData, type WorkerToMain } from './worker-protocol.ts'

/** Set in the environment of a plugin child started from the single binary: binary-main.ts then runs the worker program. */
export const PLUGIN_CHILD_ENV = 'WXENGINE_PLUGIN_CHILD'

/** What plugin-runner.ts uses of a worker: a `Worker` has it, and so does a plugin process. */
export interface PluginWorker {
  on(event: 'message', listener: (msg: WorkerToMain) => void): this
  on(event: 'error', listener: (e: Error) => void): this
  /** A thread gives only its exit code; a process its code, or null and the signal that ended it. */
  on(event: 'exit', listener: (code: number | null, signal?: NodeJS.Signals | null) => void): this
  postMessage(msg: MainToWorker): void
  terminate(): Promise<unknown>
  unref(): void
}

export interface PluginProcessOptions {
  entry: WorkerEntry
  workerData: WorkerData
  /** V8's old-generation limit, in MB. */
  heapMb: number
  /** Bound to the plugin's name: the child's output goes here. */
  log: Logger
}

/** Lines of a child's output logged, at most: a native crash prints a stack of a few dozen. */
const MAX_OUTPUT_LINES = 200
/** Characters of one output line logged. */
const MAX_LINE_CHARS = 2000
/** What the child's environment keeps of the engine's: what a thread shares with it by being in its process. */
const KEPT_ENV = ['TZ', 'LANG', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'LC_NUMERIC', 'LC_TIME', 'LC_COLLATE', 'LC_MONETARY']

/**
 * The file this process runs, for its plugin children. `process.execPath` is the path it was started from: a
 * binary moved, renamed or replaced there since (a deploy that puts the new one in place before the restart)
 * left every later plugin restart and reload failing with ENOENT, or starting the new version's code beside
 * the old engine (a review of the single binary). On Linux /proc/self/exe is the running file, wherever it is
 * now, and in the child (a fork of this process until its exec) it still is.
 */
const RUNNING_EXECUTABLE = process.platform === 'linux' && existsSync('/proc/self/exe') ? '/proc/self/exe' : process.execPath

const CODE_CACHE_REJECTED = /^\(node:\d+\) Warning: Code cache data rejected\.$/

export function startPluginProcess(opts: PluginProcessOptions): PluginWorker {
  const heapArg = `--max-old-space-size=${opts.heapMb}`
  const env: NodeJS.ProcessEnv = {}
  for (const name of KEPT_ENV) if (process.env[name] !== undefined) env[name] = process.env[name]
  let args: string[]
  if (isSingleBinary()) {
    // A single executable takes no node options as arguments (they are its own CLI's); NODE_OPTIONS it reads.
    env[PLUGIN_CHILD_ENV] = '1'
    env.NODE_OPTIONS = heapArg
    args = []
  } else {
    args = [heapArg, childProgramFile(opts.entry)]
  }
  const child = spawn(RUNNING_EXECUTABLE, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', windowsHide: true })
  killOnEngineExit(child)
  return wrapChild(child, opts)
}

/** The plugin processes not yet ended, killed if the engine's process ends first. */
const liveChildren = new Set<ChildProcess>()
let killingOnExit = false

/**
 * A child in a loop (a call before its deadline, a timer that never returns) handles no IPC event, so it
 * never sees the channel close (worker-port.ts): an uncaught error in the engine left it spinning a core
 * under init. 'exit' runs on process.exit() and after an uncaught error; kill() is synchronous.
 */
function killOnEngineExit(child: ChildProcess): void {
  if (!killingOnExit) process.on('exit', killLiveChildren)
  killingOnExit = true
  liveChildren.add(child)
  child.once('exit', () => liveChildren.delete(child))
  child.once('error', () => {
    if (child.pid === undefined) liveChildren.delete(child)
  })
}

function killLiveChildren(): void {
  for (const child of liveChildren) child.kill('SIGKILL')
}

function wrapChild(child: ChildProcess, opts: PluginProcessOptions): PluginWorker {
  const events = new EventEmitter()
  let crashReason: string | undefined
  let linesLogged = 0
  let hintNext = false
  let exited = false
  let exitedAt: Promise<void> | undefined

  const onLine = (stream: 'stdout' | 'stderr', line: string): void => {
    if (line.startsWith(CHILD_CRASH_LINE_PREFIX)) {
      try {
        crashReason = String(JSON.parse(line.slice(CHILD_CRASH_LINE_PREFIX.length)))
      } catch {
        crashReason = line.slice(CHILD_CRASH_LINE_PREFIX.length)
      }
      return
    }
    if (line.trim() === '') return
    // The binary's code cache was made without the child's --max-old-space-size, so V8 refuses it (and
    // compiles instead): said on every start, with node's hint after it; nothing the plugin's owner can act on.
    if (CODE_CACHE_REJECTED.test(line)) {
      hintNext = true
      return
    }
    if (hintNext && line.startsWith('(Use `')) {
      hintNext = false
      return
    }
    hintNext = false
    const fatal = line.startsWith('FATAL ERROR:')
    if (fatal) crashReason ??= line
    linesLogged++
    if (linesLogged > MAX_OUTPUT_LINES) {
      if (linesLogged === MAX_OUTPUT_LINES + 1) opts.log.warn({ stream }, `plugin ${opts.workerData.name} process: further output left out (over ${MAX_OUTPUT_LINES} lines)`)
      return
    }
    const shown = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line
    opts.log[fatal || stream === 'stderr' ? 'error' : 'info']({ stream }, `plugin ${opts.workerData.name} process ${stream}: ${shown}`)
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    let rest = ''
    child[stream]?.setEncoding('utf8')
    child[stream]?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      // A line without end (a flood) is cut rather than kept growing.
      if (rest.length > MAX_LINE_CHARS * 4) {
        lines.push(rest)
        rest = ''
      }
      for (const line of lines) onLine(stream, line)
    })
    child[stream]?.on('end', () => {
      if (rest) onLine(stream, rest)
      rest = ''
    })
  }

  const exit = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (exited) return
    exited = true
    if (crashReason !== undefined) events.emit('error', new Error(crashReason))
    events.emit('exit', code, signal)
  }
  // 'close' comes after the output is all read, so a FATAL ERROR line is in before the exit is told.
  child.on('close', exit)
  child.on('error', (e) => {
    // Not started (no executable, no memory for a process): as a thread that could not start.
    if (child.pid === undefined) {
      crashReason ??= `could not start a process: ${e.message}`
      exit(1, null)
    }
  })
  child.on('message', (msg: WorkerToMain) => {
    if (!exited) events.emit('message', msg)
  })
  // The first message is the program's data (sandbox/worker-port.ts).
  child.send(opts.workerData)

  const worker = {
    on(event: string, listener: (...args: any[]) => void) {
      events.on(event, listener)
      return worker
    },
    postMessage(msg: MainToWorker) {
      // As a terminated Worker's postMessage, a dead process's is nothing (not an `error` event).
      if (!child.connected) return
      child.send(msg)
    },
    terminate() {
      // Held open until the exit is seen, as Worker.terminate() holds it: the child and its pipes are unref'd.
      exitedAt ??= exited
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const hold = setInterval(() => {}, 60_000)
            events.once('exit', () => {
              clearInterval(hold)
              resolve()
            })
          })
      // SIGKILL: what terminate() is for is a plugin that does not stop (a loop), and it cannot catch this.
      if (!exited) child.kill('SIGKILL')
      return exitedAt
    },
    unref() {
      child.unref()
      child.channel?.unref()
      for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.unref?.()
    },
  }
  return worker as PluginWorker
}

/**
 * The orphan watchdog: a thread of the child's (its own event loop, so a plugin's loop on the main thread
 * does not block it) that looks every WATCH_MS whether the engine that started the child is still its
 * parent, and kills the child (SIGKILL, as terminate() does; process.exit() in a thread ends only the
 * thread) when it is not. The IPC channel's 'disconnect' (sandbox/worker-port.ts) needs the main thread's
 * event loop, which a plugin in `for (;;) {}` never returns to: an engine killed outright (SIGKILL, the OOM
 * killer) left such a child spinning a core for good.
 *
 * Why this and not Linux's parent-death signal (PR_SET_PDEATHSIG, through util-linux `setpriv --pdeathsig
 * SIGKILL` wrapping the spawn): that needs a program the machine may not have (Alpine, distroless images,
 * macOS, Windows), so the watchdog would be needed anyway; it is one more exec on every start; and a child
 * then dies with the *thread* that forked it, not the engine. The watchdog is plain Node, the same under tsx
 * and in the single binary (whose child runs this program too: binary-main.ts). Its cost: a thread and a
 * small isolate, about 9 MB RSS a child (docs/deployment.md); an interval every WATCH_MS; calls unchanged.
 *
 * The parent is gone when the child's parent pid is no longer the engine's: on Linux and macOS an orphan is
 * given to init (or a subreaper) at once, whether or not the dead engine has been reaped. Windows keeps the
 * pid, so there it is gone when no process has it (signal 0: ESRCH). The thread is unref'd: it never keeps
 * the child alive; and one that cannot start (no memory) leaves the child as it was without it.
 */
const WATCH_MS = 500
const WATCHDOG_SOURCE = `'use strict';
const parent = require('node:worker_threads').workerData;
function gone() {
  if (process.ppid !== parent) return true;
  try { process.kill(parent, 0); return false } catch (e) { return e.code === 'ESRCH' }
}
setInterval(function () { if (gone()) process.kill(process.pid, 'SIGKILL') }, ${WATCH_MS});
`

/**
 * No core dump worth the disk: a child reaching its heap limit aborts (SIGABRT), and where `ulimit -c`
 * allows, the kernel writes its whole memory as a core file into the engine's working directory (165 MB for
 * the heap-limit test's two crashes at 64 MB), or hands it to systemd-coredump/apport: for a plugin's
 * allocation, not a bug a core would show. With /proc/self/coredump_filter at 0 (Linux; the process may set
 * its own) a core holds no memory, only its ELF notes (144 KB there). Preventing the file altogether needs
 * RLIMIT_CORE at 0, which Node cannot set in a process: only a wrapper program could (`prlimit --core=0`, a
 * shell's `ulimit -c 0`), absent where the engine may run (distroless, busybox), so that is left alone.
 */
const NO_CORE_MEMORY = `try { require('node:fs').writeFileSync('/proc/self/coredump_filter', '0') } catch (e) {}\n`

/**
 * The child's program: start the orphan watchdog, keep memory out of a core dump, wait for the WorkerData
 * (the first IPC message), then run the worker program. Plain CommonJS: run as a file by node, and by the
 * single binary through compileFunction with a `require` of built-ins (binary-main.ts).
 */
export function childProgram(entry: WorkerEntry): string {
  const run = entry.eval ? `(function () {\n${entry.source}\n})();` : `import(${JSON.stringify(entry.file.href)});`
  const watchdog =
    `try {\n  const watchdog = new (require('node:worker_threads').Worker)(${JSON.stringify(WATCHDOG_SOURCE)}, ` +
    `{ eval: true, workerData: process.ppid, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 } });\n` +
    `  watchdog.on('error', function () {});\n  watchdog.unref();\n} catch (e) {}\n`
  return `${watchdog}${NO_CORE_MEMORY}process.once('message', function (data) {\n  globalThis[Symbol.for(${JSON.stringify(CHILD_WORKER_DATA_KEY)})] = data;\n  ${run}\n});\n`
}

const programFiles = new Map<string, string>()
const PROGRAM_PREFIX = 'plugin-worker-'
const PROGRAM_SUFFIX = '.cjs'

/**
 * The child's program as a file, written once (a process forks a file): in the cache directory, named by its
 * hash. Touched at each start of a plugin's process, so that another version's removal of stale programs
 * keeps it while it is in use.
 */
function childProgramFile(entry: WorkerEntry): string {
  const program = childProgram(entry)
  const known = programFiles.get(program)
  // Unless someone cleared the cache directory (or an engine of another version removed it as stale)
  // meanwhile: then it is written again.
  if (known && touchCacheFile(known)) return known
  const name = `${PROGRAM_PREFIX}${createHash('sha256').update(program).digest('hex').slice(0, 16)}${PROGRAM_SUFFIX}`
  let file: string
  try {
    const dir = cacheDir()
    makePrivateDir(dir)
    file = path.join(dir, name)
    writeProgramFile(file, program)
    touchCacheFile(file)
    // Each version of the engine has its own program: the last version's would stay for good.
    removeStaleCacheFiles(dir, PROGRAM_PREFIX, PROGRAM_SUFFIX, file)
  } catch {
    // No cache directory to write (a read-only home): a private one of this process's.
    file = path.join(mkdtempSync(path.join(os.tmpdir(), 'wxengine-plugin-worker-')), name)
    writeProgramFile(file, program)
  }
  programFiles.set(program, file)
  return file
}

/**
 * Writes `content` to `file` unless it holds it already, in a file only this user can change. The engine
 * runs it, with the engine's user: a copy left by someone while the cache directory was open to others
 * (makePrivateDir closes it, but keeps what is in it), still writable through its mode or a hard link they
 * keep elsewhere, would run their code later. Such a file is replaced, not trusted for its text.
 */
export function writeProgramFile(file: string, content: string): void {
  try {
    if (isOnlyOurs(lstatSync(file)) && readFileSync(file, 'utf8') === content) return
  } catch {
    // Not there yet.
  }
  // Whole or not at all: another engine may start a plugin from this file meanwhile. A new file ('wx'),
  // so a link planted at the temporary name is not followed.
  const temp = `${file}.${process.pid}.tmp`
  rmSync(temp, { force: true })
  writeFileSync(temp, content, { mode: 0o600, flag: 'wx' })
  renameSync(temp, file)
}
