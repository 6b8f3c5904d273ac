/**
 * Evaluates engine.config.ts, and the project's own files it imports, without a TypeScript loader, so the
 * same code works under tsx and inside the single binary: sucrase turns each into CommonJS, and
 * `wxengine/config` resolves to `defineConfig`.
 *
 * An import of a path (`./accounts.ts`, `../shared/groups.json`) is read here from disk, at every read, not
 * by node's require: node keeps a module it has loaded until the process ends, so a reload (SIGHUP, a save
 * under `wxengine dev`) applied an edit of engine.config.ts but not of a file it imports; and the single
 * binary's require reads no TypeScript. A package or a built-in (`node:os`, `zod`) goes to node's require,
 * from the file's folder.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { compileFunction, Script } from 'node:vm'
import { fail, ok, type Result } from '../errors.ts'
import { isPathSpecifier } from '../path-specifier.ts'
import { requireCalls, sourceColumn } from '../require-calls.ts'
import { shownPath, sourcePlace, sucraseErrorParts, syntaxErrorAt } from '../shown-path.ts'
import { toCommonJs } from '../to-commonjs.ts'
import { isDeadlineError, underDeadline } from '../under-deadline.ts'
import { utf8Text } from '../utf8-text.ts'
import { defineConfig, type UserConfig } from './config-types.ts'
import { CONFIG_IMPORT_EXTENSIONS, resolveConfigImport } from './config-import-path.ts'

export interface ReadConfigOptions {
  /** Told each file read: the configuration file, then every file of the project it imports (watched with it under `watch: true`). */
  onFileRead?: (file: string) => void
  /** How long the files may run, together, before the read is given up (default CONFIG_RUN_DEADLINE_MS; tests shorten it). */
  deadlineMs?: number
}

/**
 * How long engine.config.ts and the files it imports may run. They run synchronously on the serving thread: a
 * loop that never ends (or an Atomics.wait) hung `npm start` without a word, deaf to SIGTERM, and a reload
 * (SIGHUP, a save under `wxengine dev`) hung a serving engine for good. Past this the run is stopped (node's
 * vm timeout), the start fails or the reload is refused, saying which file was still running. Generous: a
 * configuration that requires a large package on a slow disk takes a second or two.
 */
export const CONFIG_RUN_DEADLINE_MS = 10_000

/**
 * The same, at a reload of a serving engine: messages wait while the file runs on the serving thread, and
 * WeChat waits 5 s for each. What it requires was loaded at the start already (node's require cache), so a
 * configuration that finishes does in milliseconds.
 */
export const CONFIG_RELOAD_DEADLINE_MS = 2_000

/** Whether a read's refusal is one stopped at its deadline (the reason readConfigFile gives). */
export const isStoppedRead = (reason: string): boolean => STOPPED.test(reason)
const STOPPED = /: still running after [\d.]+ s\b.* and stopped \(a loop that never ends, or a wait\?\)/

/** What one read knows while its files run: defineConfig's calls, and the files running, outermost first. */
interface ReadState {
  /** How many times the files called defineConfig, to tell a configuration never exported from none. */
  defineConfigCalls: number
  /** Left as it was when a run is stopped at the deadline (a stopped run runs no `finally`): its last is the file that was running. */
  running: string[]
  /** The package a file was requiring when the run was stopped, if it was: the loop may be the package's. */
  requiring?: string
}

/** A problem already said with its place (`accounts.ts:3:5: SyntaxError: ...`): passed up through the files that import it as it is. */
class PlacedError extends Error {}

export function readConfigFile(file: string, opts: ReadConfigOptions = {}): Result<UserConfig> {
  // One read's modules: a file imported twice runs once, and an import cycle gets the exports made so far, as in node.
  const modules = new Map<string, { exports: Record<string, unknown> }>()
  let top: { exports: Record<string, unknown> }
  const state: ReadState = { defineConfigCalls: 0, running: [] }
  const deadlineMs = opts.deadlineMs ?? CONFIG_RUN_DEADLINE_MS
  const requireCache = createRequire(file).cache
  const cachedBefore = new Set(Object.keys(requireCache))
  try {
    top = underDeadline(() => load(file, modules, opts, state), deadlineMs)
  } catch (e) {
    if (e instanceof PlacedError) return fail('BAD_CONFIG', e.message)
    if (isDeadlineError(e)) {
      forgetHalfLoaded(requireCache, cachedBefore)
      // The running files, outermost first: the last was stuck, the one before it imported it.
      const still = state.running.at(-1) ?? file
      const importer = state.running.at(-2)
      const where = state.requiring === undefined ? ',' : `, in the package "${state.requiring}" it requires,`
      return fail(
        'BAD_CONFIG',
        `${shownPath(still)}: still running after ${deadlineMs / 1000} s${where} and stopped (a loop that never ends, or a wait?): ${importer === undefined ? 'the configuration' : `it is imported by ${shownPath(importer)}, and`} runs synchronously, at start and at every reload, and must finish`,
      )
    }
    return fail('BAD_CONFIG', located(e, [...modules.keys()], file))
  }
  // A file with no default export was read as an empty configuration: "accounts: needs at least one account",
  // about a file that lists one. (One that exports nothing and calls nothing is a file for the environment alone.)
  if (!('default' in top.exports)) {
    const named = Object.keys(top.exports)
    if (top.exports.__esModule === true && named.length > 0) {
      return fail('BAD_CONFIG', `${shownPath(file)}: has no default export (it exports ${named.join(', ')}): the configuration is export default defineConfig({...})`)
    }
    if (named.length === 0 && state.defineConfigCalls > 0) {
      return fail('BAD_CONFIG', `${shownPath(file)}: calls defineConfig({...}) but exports nothing: write export default defineConfig({...})`)
    }
  }
  const value = (top.exports.default ?? top.exports) as UserConfig
  if (typeof value !== 'object' || value === null) return fail('BAD_CONFIG', `${shownPath(file)}: must export default defineConfig({...})`)
  // A Promise was read as an object of no settings: "accounts: needs at least one account", about a file that
  // lists one (a review of bad input). Its rejection, if it comes, is handled here: at a reload it would
  // otherwise reach the served engine as an unhandled one.
  if (typeof (value as { then?: unknown }).then === 'function') {
    ;(value as unknown as PromiseLike<unknown>).then(undefined, () => undefined)
    return fail('BAD_CONFIG', `${shownPath(file)}: exports a Promise (an async function's result?): the file is run synchronously, so export default defineConfig({...}) itself, with what it needs read synchronously (readFileSync, process.env)`)
  }
  return ok(value)
}

/**
 * Removes from node's require cache the modules a stopped run left half-loaded. Node puts a module in its cache
 * before running it and takes it out again if it throws, in a `finally` that a stopped run does not run: the
 * package then stayed as far as it got (`exports.a` set, `exports.b` not), and the next reload, the loop
 * mended, got that half (with node's warning about a circular dependency) until a restart. Only modules
 * added by this run and not finished are removed: what finished loading, and everything the engine loaded,
 * stays.
 */
function forgetHalfLoaded(cache: NodeJS.Require['cache'], before: ReadonlySet<string>): void {
  for (const [id, mod] of Object.entries(cache)) {
    if (!before.has(id) && mod !== undefined && !mod.loaded) delete cache[id]
  }
}

function load(file: string, modules: Map<string, { exports: Record<string, unknown> }>, opts: ReadConfigOptions, state: ReadState): { exports: Record<string, unknown> } {
  const known = modules.get(file)
  if (known) return known
  const module = { exports: {} as Record<string, unknown> }
  modules.set(file, module)
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (e) {
    throw new PlacedError(`${shownPath(file)}: cannot read it: ${(e as Error).message}`)
  }
  // A file saved as GBK: its replies and names would be read garbled, without a word.
  const read = utf8Text(bytes)
  if (!read.ok) throw new PlacedError(`${sourcePlace(file, read.line, read.column)}: ${read.message}`)
  const source = read.text
  opts.onFileRead?.(file)
  if (path.extname(file) === '.json') {
    try {
      module.exports = JSON.parse(source) as Record<string, unknown>
    } catch (e) {
      throw new PlacedError(`${shownPath(file)}: ${(e as Error).message}`)
    }
    return module
  }
  let code: string
  try {
    code = toCommonJs(source, file)
  } catch (e) {
    // `engine.config.ts:2:1: SyntaxError: ...`, as plugins' and rules' errors are said, for the editor to jump to.
    const parts = sucraseErrorParts((e as Error).message)
    throw new PlacedError(parts ? syntaxErrorAt(file, parts.line, parts.column, parts.message) : `${shownPath(file)}: ${(e as Error).message}`)
  }
  const nodeRequire = createRequire(file)
  const requireHere = (id: string): unknown => {
    if (id === 'wxengine/config' || id === 'wxengine') {
      return {
        defineConfig: (config: UserConfig) => {
          state.defineConfigCalls++
          return defineConfig(config)
        },
      }
    }
    if (!isPathSpecifier(id)) {
      // Left set when the run is stopped inside (no `finally` runs then); a package that threw, caught by the file, is not blamed later.
      state.requiring = id
      try {
        return nodeRequire(id)
      } finally {
        state.requiring = undefined
      }
    }
    const found = resolveConfigImport(id, path.dirname(file))
    if (found === undefined) throw new PlacedError(`${importPlace(file, source, code, id)}: cannot find "${id}" (tried it with ${CONFIG_IMPORT_EXTENSIONS.join(', ')}, and as a folder's index)`)
    // A YAML or text file would be compiled as code, and fail with a syntax error about the file's content.
    if (!CONFIG_IMPORT_EXTENSIONS.includes(path.extname(found))) throw new PlacedError(`${importPlace(file, source, code, id)}: "${id}" is not a file the configuration can import: ${CONFIG_IMPORT_EXTENSIONS.join(', ')} are`)
    return load(found, modules, opts, state).exports
  }
  // Compiled under the file's name (sucrase keeps the lines), so a syntax error sucrase let through and an
  // error thrown while it runs both say where they are.
  let run: ReturnType<typeof compileFunction>
  try {
    run = compileFunction(code, ['require', 'module', 'exports', '__filename', '__dirname'], { filename: file })
  } catch (e) {
    // The same error, its place (its stack) kept, in words that say what to do.
    if (awaitsAtTopLevel(e, code)) (e as Error).message = 'await at the top level: the file is run synchronously, at start and at every reload; read what it needs synchronously (readFileSync, process.env)'
    throw e
  }
  state.running.push(file)
  try {
    run(requireHere, module, module.exports, file, path.dirname(file))
  } finally {
    state.running.pop()
  }
  return module
}

/**
 * `accounts.ts:2:26`, where the file requires `id` (its compiled require call, placed back in the source as
 * rules check places a plugin's), for the editor to jump to; the file alone when the name is computed. On a
 * failure only: it parses the compiled code again.
 */
function importPlace(file: string, source: string, code: string, id: string): string {
  const call = requireCalls(code).find((c) => c.specifier === id)
  if (call === undefined) return shownPath(file)
  const column = sourceColumn(source.split(/\r?\n/)[call.line - 1], code.split(/\r?\n/)[call.line - 1] ?? '', call.column, call.raw)
  return sourcePlace(file, call.line, column)
}

/**
 * What a file threw while it ran, at the line and column its stack points at in the innermost of the files
 * read (sucrase keeps the lines): `engine.config.ts:4:9: ReferenceError: x is not defined`.
 */
function located(thrown: unknown, files: readonly string[], top: string): string {
  const e = thrown instanceof Error ? thrown : new Error(String(thrown))
  // `s3cretValue is not defined`: a token or key written without quotes is a name, and the line goes to the
  // journal (at start, and at a reload). The place points at it; the name is not repeated.
  const what = e.name === 'ReferenceError' && / is not defined$/.test(e.message)
    ? 'ReferenceError: a name there is not defined (a string missing its quotes? The name is not repeated here: it could be a secret)'
    : `${e.name}: ${e.message}`
  const stack = String(e.stack ?? '')
  // The first of the files the stack names, from its top: where it was thrown, or the import that led to a package that threw.
  let best: { at: number; file: string } | undefined
  for (const f of files) {
    const at = stack.indexOf(`${f}:`)
    if (at !== -1 && (best === undefined || at < best.at)) best = { at, file: f }
  }
  const m = best ? /^:(\d+)(?::(\d+))?/.exec(stack.slice(best.at + best.file.length)) : null
  return best && m ? `${sourcePlace(best.file, Number(m[1]), m[2] === undefined ? undefined : Number(m[2]))}: ${what}` : `${shownPath(top)}: ${what}`
}

/**
 * Whether a file failed to compile only for an `await` at its top level. The file is compiled as a function's
 * body, not as a module, and node's words for it sent the reader astray (a review of bad input): "await is
 * only valid in async functions and the top level bodies of modules", about an await at the top level, or,
 * as `await` is a name outside async functions, "Unexpected identifier '_promises'" for `await readFile()`
 * imported from node:fs/promises. The code is compiled once more as an async function's body, which differs
 * only in taking `await` as the operator: an await inside a function not marked async fails there too.
 * Only on failure.
 */
function awaitsAtTopLevel(e: unknown, code: string): boolean {
  if (!(e instanceof SyntaxError) || !code.includes('await')) return false
  try {
    new Script(`(async function (require, module, exports, __filename, __dirname) {${code}\n})`)
    return true
  } catch {
    return false
  }
}
