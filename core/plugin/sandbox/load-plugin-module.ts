/**
 * Runs a plugin's module in a vm2 NodeVM and returns its definition.
 *
 * The sandbox is fault containment, not a security boundary (vm2 has a history of escapes; see
 * docs/plugins.md): it keeps honest mistakes and stray globals away from the engine. The hard guarantees
 * (a hang or a crash never touches other plugins or the engine) come from the worker thread around it.
 * Everything vm2-specific is in this file and its two companions for `wxengine rules check`, which does
 * what this does up to running the code (compile-like-sandbox.ts, resolve-like-sandbox.ts): replacing the
 * sandbox means replacing these three.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { NodeVM } from 'vm2'
import { fail, ok, type Result } from '../../errors.ts'
import { shownPath } from '../../shown-path.ts'
import { toCommonJs } from '../../to-commonjs.ts'
import { REALM_ERROR_MAKER_SOURCE, type ErrorMaker } from '../api-error.ts'
import * as pluginApi from '../plugin-api.ts'
import type { PluginDefinition } from '../plugin-api.ts'
import { allowProblem } from './allow-problem.ts'
import { SANDBOX_SOURCE_EXTENSIONS } from './compile-like-sandbox.ts'
import { REALM_BYTES_SOURCE, type RealmBytes } from './copy-bytes.ts'
import { REALM_TIMER_STOP_SOURCE, type TimerStopMaker } from './timer-stop.ts'
import { REALM_CONSOLE_SOURCE, type ConsoleInstaller, type ConsoleLevel } from './sandbox-console.ts'
import { describeThrown, SANDBOX_STACK_FORMAT, sandboxEntryName } from './describe-thrown.ts'
import { rememberEntrySource } from './entry-positions.ts'
import { explainLoadError, PLUGIN_MODULE_NAME, withoutNodePrefix } from './explain-load-error.ts'
import { compilePluginSources } from '../compile-plugin-sources.ts'
import { importRootsOf } from '../shared-code-folders.ts'

export interface SandboxOptions {
  entry: string
  dir: string
  /** Node built-ins the plugin may require; everything else is refused. */
  allow: string[]
  /** Where the sandbox's console goes. */
  onConsole: (level: ConsoleLevel, args: unknown[]) => void
  /** pino's number of the lowest level the console's lines are kept at (20 debug, 30 info, ...); default all. */
  consoleLowest?: number
}

/** The plugin's definition, and the maker of errors in its realm (api-error.ts says why it matters). */
export interface LoadedModule {
  definition: PluginDefinition
  errorMaker: ErrorMaker
  /** The reader of bytes made in its realm (copy-bytes.ts says why). */
  bytesReader: RealmBytes
  /** The maker of the stop functions setup's timers return, in its realm (timer-stop.ts says why). */
  timerStopMaker: TimerStopMaker
}

export function loadPluginModule(opts: SandboxOptions): Result<LoadedModule> {
  const notGiven = allowProblem(opts.allow)
  if (notGiven !== undefined) return fail('PLUGIN_LOAD', notGiven)
  let vm: NodeVM
  try {
    vm = new NodeVM({
      // Its own console is installed below (sandbox-console.ts).
      console: 'off',
      // No WebAssembly compilation in plugins (see SHARED_MEMORY_OFF).
      wasm: false,
      // The sandbox gets vm2's own `process` stub: no exit, no kill, env {}, argv [].
      env: {},
      argv: [],
      sourceExtensions: [...SANDBOX_SOURCE_EXTENSIONS],
      compiler: toCommonJs,
      require: {
        builtin: opts.allow.map(withoutNodePrefix),
        // plugin-api.ts's run-time exports, functions of this realm the sandbox calls through vm2's bridge:
        // `definePlugin` is the identity; the handle `dialogue` makes runs here too (dialogue.ts says why).
        mock: { [PLUGIN_MODULE_NAME]: { ...pluginApi } },
        // Relative imports only within the plugin's folder and the shared ones beside it, run inside the
        // sandbox too (vm2 follows links before it compares).
        external: true,
        root: importRootsOf(opts.dir),
        context: 'sandbox',
      },
    })
  } catch (e) {
    return fail('PLUGIN_LOAD', `cannot create the sandbox: ${describeThrown(e)}`)
  }
  // Memory a plugin could hold where the worker's bound cannot see it (a review grew the engine by 1.5 GB
  // with SharedArrayBuffers, nothing replaced). A plugin's worker has no thread to share memory with.
  let errorMaker: ErrorMaker
  let bytesReader: RealmBytes
  let timerStopMaker: TimerStopMaker
  try {
    vm.run(SHARED_MEMORY_OFF + SANDBOX_STACK_FORMAT, path.join(opts.dir, '<wxengine sandbox setup>'))
    errorMaker = vm.run(REALM_ERROR_MAKER_SOURCE, path.join(opts.dir, '<wxengine api errors>')) as ErrorMaker
    bytesReader = vm.run(REALM_BYTES_SOURCE, path.join(opts.dir, '<wxengine bytes>')) as RealmBytes
    timerStopMaker = vm.run(REALM_TIMER_STOP_SOURCE, path.join(opts.dir, '<wxengine timer stop>')) as TimerStopMaker
    const installConsole = vm.run(REALM_CONSOLE_SOURCE, path.join(opts.dir, '<wxengine console>')) as ConsoleInstaller
    installConsole((level, text, args) => opts.onConsole(level, text !== undefined ? [text] : (args ?? [])), opts.consoleLowest ?? 0)
  } catch (e) {
    return fail('PLUGIN_LOAD', `cannot create the sandbox: ${describeThrown(e)}`)
  }

  let exported: unknown
  // Under its relative name, so that a runtime error can say which line (describe-thrown.ts says why).
  const entryName = sandboxEntryName(opts.entry)
  try {
    const source = readFileSync(opts.entry, 'utf8')
    // The places its errors name are of the code compiled from this source: found back in it (entry-positions.ts).
    rememberEntrySource(entryName, source)
    exported = vm.run(source, entryName)
  } catch (e) {
    // V8's own SyntaxErrors (a name declared twice in a file index.ts imports) come without a place, and a
    // missing module's place is vm2's, a column of the compiled line (sucrase rewrites imports): the compile
    // `rules check` does says both where they are in the source, and runs nothing (only now, on a load
    // that already failed).
    const placed = placedInSource(e, opts)
    if (placed !== undefined) return fail('PLUGIN_LOAD', placed)
    return fail('PLUGIN_LOAD', explainLoadError(describeThrown(e, entryName), opts.dir))
  }
  const def = pickDefinition(exported)
  // At the entry file, as its other load errors are: the plugin's name alone did not say which file to open.
  if (!def) return fail('PLUGIN_LOAD', `${shownPath(opts.entry)}: ${whatWasExported(exported)}; a plugin's index.ts ends with \`export default definePlugin({ name, handle })\``)
  return ok({ definition: def, errorMaker, bytesReader, timerStopMaker })
}

/**
 * Run in each sandbox before the plugin: no SharedArrayBuffer, no Atomics, no WebAssembly. Shared memory
 * is outside what the worker's bound can count (a SharedArrayBuffer is not in V8's external memory; shared
 * wasm memory is counted nowhere), and WebAssembly is a way to it that no wrapper closes: a module can
 * declare and export its own shared memory, and a shared buffer's `.constructor` is SharedArrayBuffer
 * again (a review found four ways past a wrapper of WebAssembly.Memory). vm2's `wasm: false` already
 * stops compiling modules; the objects go too.
 */
const SHARED_MEMORY_OFF = `
delete globalThis.SharedArrayBuffer
delete globalThis.Atomics
delete globalThis.WebAssembly
`

/** What the module exported instead of a plugin, in the author's terms ("no `handle`: it has name, handel"). */
function whatWasExported(exported: unknown): string {
  try {
    if (typeof exported !== 'object' || exported === null) return 'the module exports nothing'
    const keys = Object.keys(exported)
    if (!('default' in exported)) {
      return keys.length === 0 ? 'the module has no default export' : `the module has no default export (it exports ${keys.join(', ')})`
    }
    const d = (exported as { default: unknown }).default
    if (typeof d !== 'object' || d === null) return `the default export is ${d === null ? 'null' : `a ${typeof d}`}, not a plugin`
    const has = Object.keys(d)
    if (typeof (d as { handle?: unknown }).handle !== 'function') return `the default export has no handle function (it has ${has.join(', ') || 'nothing'})`
    return `the default export has no name (it has ${has.join(', ')})`
  } catch {
    return 'the module does not export a plugin'
  }
}

function pickDefinition(exported: unknown): PluginDefinition | undefined {
  if (typeof exported !== 'object' || exported === null) return undefined
  const candidate = 'default' in exported ? (exported as { default: unknown }).default : exported
  if (typeof candidate !== 'object' || candidate === null) return undefined
  const def = candidate as Partial<PluginDefinition>
  if (typeof def.name !== 'string' || typeof def.handle !== 'function') return undefined
  return def as PluginDefinition
}

/** The load error `e` as rules check says it, at its place in the source; undefined when the check does not find it. */
function placedInSource(e: unknown, opts: SandboxOptions): string | undefined {
  const err = e as Error | undefined
  const missing = /Cannot find module '([^']+)'/.exec(String(err?.message))
  if (err?.name !== 'SyntaxError' && !missing) return undefined
  const errors = compilePluginSources(opts.entry, opts.dir, opts.allow).errors
  return missing ? errors.find((r) => r.includes(`: Cannot find module '${missing[1]}'`)) : errors.find((r) => r.includes(': SyntaxError: '))
}
