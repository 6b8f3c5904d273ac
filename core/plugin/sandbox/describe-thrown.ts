/**
 * What a plugin threw, as one line for its author: the error's name and message and, when its stack goes
 * through the plugin's entry file, the line there (`TypeError: x is undefined (at plugins/weather/index.ts:12:9)`),
 * the line and column of the source as written (entry-positions.ts), not of the code the sandbox compiled.
 *
 * Why only the entry: vm2 hides every frame of a script named by an absolute path (its guard against
 * leaking host paths into the sandbox), and it loads the files a plugin imports under absolute paths.
 * The entry runs under its relative name (`sandboxEntryName`), so its frames stay visible; an error in a
 * helper file points at the line of index.ts that called into it.
 */
import path from 'node:path'
import { sourcePlace } from '../../shown-path.ts'
import { entryPlaceInSource } from './entry-positions.ts'

/** The name the plugin's entry runs under in the sandbox: relative to the working directory, so that vm2 keeps its frames. */
export function sandboxEntryName(entry: string): string {
  const rel = path.relative(process.cwd(), entry)
  return rel && !path.isAbsolute(rel) ? rel : entry
}

/**
 * Formats stack traces inside the sandbox. vm2's default writes every frame as `CallSite {}`; this one
 * writes the frames vm2 lets the sandbox see (the entry's) as V8 does and leaves the rest out. Run in the
 * sandbox before the plugin; a plugin may set its own.
 */
export const SANDBOX_STACK_FORMAT = `
Error.stackTraceLimit = 50
Error.prepareStackTrace = (error, sites) => {
  let out
  try { out = String(error.name) + (error.message ? ': ' + String(error.message) : '') } catch { out = 'Error' }
  for (const site of sites) {
    try {
      const file = site.getFileName()
      if (file) out += '\\n    at ' + (site.getFunctionName() || '<anonymous>') + ' (' + file + ':' + site.getLineNumber() + ':' + site.getColumnNumber() + ')'
    } catch {}
  }
  return out
}
`

/** What follows the file in a frame: `:line:col`, the end of the line or of the parentheses. */
const LINE_COL = /^:(\d+):(\d+)\)?\s*$/

/**
 * The message of anything thrown in the sandbox, without trusting it to be an Error (its getters may
 * throw), and where in `entryName` (the sandbox's name of the plugin's entry) it came through, if it did.
 */
export function describeThrown(e: unknown, entryName?: string): string {
  try {
    if (typeof e === 'object' && e !== null && 'message' in e) {
      const name = bounded(String((e as { name?: unknown }).name ?? 'Error'), 100)
      const what = `${name}: ${bounded(String((e as { message: unknown }).message), MAX_MESSAGE_CHARS)}`
      const where = entryName === undefined ? undefined : whereIn(e, entryName)
      return where ? `${what} (at ${where})` : what
    }
    // An object with no prototype has no toString: String() throws on it, and it was "a value that cannot
    // be described" where its JSON said it all.
    const text = typeof e === 'object' && e !== null && Object.getPrototypeOf(e) === null ? '[object Object]' : String(e)
    // `throw { code: 1 }` was "[object Object]" in the log, saying nothing of what was thrown.
    if (typeof e === 'object' && e !== null && text.startsWith('[object ')) {
      const json = jsonOf(e)
      if (json !== undefined) return bounded(`a thrown ${text.slice(8, -1)}, not an Error: ${json}`, MAX_MESSAGE_CHARS)
    }
    return bounded(text, MAX_MESSAGE_CHARS)
  } catch {
    return 'a value that cannot be described'
  }
}

/** JSON of a thrown value, or undefined when it has none (a cycle, a getter that throws, a BigInt). */
function jsonOf(value: object): string | undefined {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}

/**
 * The characters of a thrown message kept in the reason. It goes into the log line of the failure (twice)
 * and the message log: an error of five million characters made a line over the log's whole backlog,
 * which was dropped, and the failed message left no line at all (a robustness review).
 */
export const MAX_MESSAGE_CHARS = 2_000

function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`
}

/**
 * Where in the plugin's entry the engine's API was called from, for a later line about what the call
 * registered (an onDispose hook that did not settle); undefined when the call did not come through it.
 */
export function calledFromEntry(entryName: string): string | undefined {
  // Deep enough to pass the engine's and vm2's own frames between the API and the plugin's line.
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 50
  try {
    return whereIn(new Error(), entryName)
  } finally {
    Error.stackTraceLimit = limit
  }
}

function whereIn(e: object, entryName: string): string | undefined {
  let stack: unknown
  try {
    stack = (e as { stack?: unknown }).stack
  } catch {
    return undefined
  }
  if (typeof stack !== 'string') return undefined
  // The first frame in the entry: an error raised by the engine's API (a host error, formatted by node)
  // has the engine's own frames above it. Found by the name as written (it may hold spaces or parentheses).
  for (const line of stack.split('\n', 60)) {
    // `at fn (file:1:2)` or, for an anonymous frame, `at file:1:2`.
    for (const before of ['(', 'at ']) {
      const i = line.indexOf(before + entryName + ':')
      const m = i < 0 ? null : LINE_COL.exec(line.slice(i + before.length + entryName.length))
      if (!m) continue
      // V8's line and column are of the compiled code, inside vm2's wrapper: said where they are in the source.
      const at = entryPlaceInSource(entryName, Number(m[1]), Number(m[2]))
      return sourcePlace(path.resolve(entryName), at.line, at.column)
    }
  }
  return undefined
}
