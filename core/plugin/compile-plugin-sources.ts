/**
 * A plugin's code compiled as the engine's load compiles it, and none of it run (no worker, no sandbox, no
 * setup, no top level): for `wxengine rules check`, so that a plugin the engine would refuse for its code
 * fails the check, said as `plugins/x/util.ts:3:7: SyntaxError: ...`; and for the engine's own load, to
 * find where a SyntaxError V8 reported without a place is (sandbox/load-plugin-module.ts).
 *
 * Which files: the entry and what it requires, followed from the require() calls of the compiled code (an
 * import becomes one; a type-only import, which sucrase drops, does not). Not every file in the folder: the
 * engine compiles only what is required, and a broken file nothing requires does not stop it. A package or
 * built-in the sandbox would not give (any npm package; a built-in the plugin's `allow` does not name) is
 * said at its import as a missing file is.
 * A require at the top of a module runs when the plugin loads, so a problem in a file reached that way is an
 * error: the engine refuses the plugin. One inside a function (a dynamic import() too) runs when that is
 * called, so a problem reached only that way is a warning: the plugin starts, and fails there. (A function
 * that requires, called at the top, counts as the second: telling them apart would mean running the code.)
 */
import { readFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import path from 'node:path'
import { parse, type AnyNode, type CallExpression, type Program } from 'acorn'
import { MODULE_PREFIX, STRICT_MODULE_PREFIX } from 'vm2/lib/script.js'
import { compileLikeTheSandbox } from './sandbox/compile-like-sandbox.ts'
import { compiledPlaceInSource } from './sandbox/entry-positions.ts'
import { describeThrown } from './sandbox/describe-thrown.ts'
import { shownPath, sourcePlace, syntaxErrorAt } from '../shown-path.ts'
import { awaitHint, explainLoadError, PLUGIN_MODULE_NAME, withoutNodePrefix } from './sandbox/explain-load-error.ts'
import { isPathSpecifier } from '../path-specifier.ts'
import { type RequireCall, requireCalls, sourceColumn, visit } from '../require-calls.ts'
import { resolveLikeTheSandbox, sandboxCompiles } from './sandbox/resolve-like-sandbox.ts'

export interface SourceProblems {
  /** What the engine would refuse the plugin for. */
  errors: string[]
  /** What fails only once a function that requires it runs. */
  warnings: string[]
}

/**
 * `entry` is the plugin's index.ts or index.js, `dir` its folder, `allow` the Node built-ins its settings
 * allow (plugins.<name>.allow in engine.config.ts).
 */
export function compilePluginSources(entry: string, dir: string, allow: readonly string[] = []): SourceProblems {
  const errors: string[] = []
  const warnings: string[] = []
  const inAFunction = (p: Problem) => warnings.push(p.text + IN_A_FUNCTION)
  const seen = new Set<string>()
  const allowed = new Set(allow.map(withoutNodePrefix))
  // First what loading reaches, so that a file required both at the top and in a function counts as loaded.
  const later = walk([entry], { entry, dir, allowed, seen, inFunctionsToo: false }, (p) => (p.atLoad ? errors.push(p.text) : inAFunction(p)))
  walk(later, { entry, dir, allowed, seen, inFunctionsToo: true }, inAFunction)
  return { errors, warnings }
}

const IN_A_FUNCTION = ' (required inside a function: the plugin starts, and fails when that function runs)'

interface Problem {
  text: string
  /** Met when the file's top level runs (it does not compile, or an import there is missing), not in a function of it. */
  atLoad: boolean
}

interface Required {
  file: string
  atLoad: boolean
}

interface Walk {
  entry: string
  dir: string
  /** The built-ins the plugin may require, without `node:`. */
  allowed: ReadonlySet<string>
  seen: Set<string>
  /** Follow the requires inside functions too; otherwise they are returned, not followed. */
  inFunctionsToo: boolean
}

/** Compiles `start` and what it requires, breadth first; returns the files required only inside functions, when not followed. */
function walk(start: string[], w: Walk, report: (p: Problem) => void): string[] {
  const queue = [...new Set(start)].filter((f) => !w.seen.has(f))
  const notFollowed: string[] = []
  for (const f of queue) w.seen.add(f)
  // The queue grows as files are compiled.
  for (let i = 0; i < queue.length; i++) {
    const { problems, requires } = compileFile(queue[i], w.dir, queue[i] === w.entry, w.allowed)
    problems.forEach(report)
    for (const r of requires) {
      if (!r.atLoad && !w.inFunctionsToo) notFollowed.push(r.file)
      else if (!w.seen.has(r.file)) {
        w.seen.add(r.file)
        queue.push(r.file)
      }
    }
  }
  return notFollowed
}

/** One file: compiled, and the files it requires, found as the sandbox would find them. */
function compileFile(file: string, dir: string, isEntry: boolean, allowed: ReadonlySet<string>): { problems: Problem[]; requires: Required[] } {
  let source = ''
  let commonJs: string
  try {
    source = readFileSync(file, 'utf8')
    commonJs = compileLikeTheSandbox(source, file, isEntry)
  } catch (e) {
    const text = explainLoadError(markedSyntaxError(e, file, source) ?? describeThrown(e), dir, { source, file })
    return { problems: [{ text, atLoad: true }], requires: [] }
  }
  const problems: Problem[] = []
  const requires: Required[] = []
  const sourceLines = source.split(/\r?\n/)
  const compiledLines = commonJs.split(/\r?\n/)
  const missing = (call: RequireCall) => {
    const column = sourceColumn(sourceLines[call.line - 1], compiledLines[call.line - 1] ?? '', call.column, call.raw)
    problems.push({ text: `${sourcePlace(file, call.line, column)}: ${explainLoadError(`Cannot find module '${call.specifier}'`, dir)}`, atLoad: call.atLoad })
  }
  for (const call of requireCalls(commonJs)) {
    if (!isPathSpecifier(call.specifier)) {
      // As the sandbox gives them (sandbox/load-plugin-module.ts): the plugin API, and the built-ins the
      // plugin's settings allow; no npm package. A check that passed a plugin the start then refused was no check.
      if (!sandboxGives(call.specifier, allowed)) missing(call)
      continue
    }
    const found = resolveLikeTheSandbox(call.specifier, path.dirname(file), dir)
    if (found === undefined) missing(call)
    else if (sandboxCompiles(found)) requires.push({ file: found, atLoad: call.atLoad })
  }
  return { problems, requires }
}

/** Whether the sandbox answers a require of this package or built-in name. */
function sandboxGives(specifier: string, allowed: ReadonlySet<string>): boolean {
  if (specifier === PLUGIN_MODULE_NAME) return true
  return isBuiltin(specifier) && allowed.has(withoutNodePrefix(specifier))
}

/**
 * A SyntaxError from vm2's parse or V8's compile as `file:line:col: SyntaxError: ...`. Both put the place
 * at the top of the stack: `<file>:<line>`, the compiled line, and a ^ marker under the place.
 */
function markedSyntaxError(e: unknown, file: string, source: string): string | undefined {
  if (!(e instanceof SyntaxError) || typeof e.stack !== 'string' || !e.stack.startsWith(`${file}:`)) return undefined
  const [head, compiledLine = '', marker = ''] = e.stack.split('\n', 3)
  const line = Number(head.slice(file.length + 1))
  if (!Number.isInteger(line) || line < 1) return undefined
  const marked = /\^+/.exec(marker)
  const text = marked ? compiledLine.slice(marked.index, marked.index + marked[0].length) : ''
  // Where sucrase's map says (V8's mark on the first line counts vm2's wrapper in); where it does not, the text at the mark.
  const wrapper = line === 1 ? ([STRICT_MODULE_PREFIX, MODULE_PREFIX].find((p) => compiledLine.startsWith(p))?.length ?? 0) : 0
  const column = marked ? (compiledPlaceInSource(source, file, line, marked.index - wrapper).column ?? sourceColumn(source.split(/\r?\n/)[line - 1], compiledLine, marked.index, text)) : undefined
  // An `await x` where CommonJS has no await (its top level, a function not marked async) is the name `await`
  // followed by another: V8 says only "Unexpected identifier" (or token), at what follows it.
  const afterAwait = marked !== null && /(?:^|[^\w$.])await\s*$/.test(compiledLine.slice(0, marked.index))
  return syntaxErrorAt(file, line, column, afterAwait ? `${e.message} after await: ${awaitHint(source, file)}` : e.message)
}

/** An entry file compiled as the sandbox compiles it, and parsed: read once for the checks below. */
export interface ParsedEntry {
  file: string
  source: string
  compiled: string
  program: Program
}

/** Undefined when the file cannot be read or does not compile (compilePluginSources says why). */
export function parseEntry(file: string): ParsedEntry | undefined {
  try {
    const source = readFileSync(file, 'utf8')
    const compiled = compileLikeTheSandbox(source, file, true)
    const program = parse(compiled, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, locations: true })
    return { file, source, compiled, program }
  } catch {
    return undefined
  }
}

/**
 * The name an entry file's definition gives itself, when it is written as a text in the file
 * (`export default definePlugin({ name: 'echo', ... })`, `module.exports = { name: 'echo', ... }`), with its
 * place; undefined when the name is computed (known only by running it). For `rules check`: the engine
 * refuses a plugin named otherwise than its folder (a folder copied and renamed), and says so only when it
 * runs the file.
 */
export function declaredPluginName({ source, program }: ParsedEntry): { name: string; line: number; column: number | undefined } | undefined {
  let found: { name: string; line: number; column: number | undefined } | undefined
  visit(program, false, (node, inFunction) => {
    if (found || inFunction || node.type !== 'AssignmentExpression' || !isExportTarget(node.left)) return
    // Any call's argument: dialogue-made definitions too.
    const definition = node.right.type === 'CallExpression' ? calledWith(node.right).argument : node.right
    if (definition?.type !== 'ObjectExpression') return
    for (const p of definition.properties) {
      if (p.type !== 'Property' || p.computed || !((p.key.type === 'Identifier' && p.key.name === 'name') || (p.key.type === 'Literal' && p.key.value === 'name'))) continue
      if (p.value.type !== 'Literal' || typeof p.value.value !== 'string') return
      const line = p.value.loc!.start.line
      const column = sourceColumn(source.split(/\r?\n/)[line - 1], '', 0, p.value.raw ?? '')
      found = { name: p.value.value, line, column }
      return
    }
  })
  return found
}

/**
 * What the engine would say of an entry file's exports when it is no plugin, said without running it (for
 * `rules check`, which a newcomer's review found saying "ok" of all three): no default export, a function
 * exported as the default (`export default function handle(ctx)`), or a definition written as an object
 * whose keys are all written and none is `handle` (`handel(ctx)`). Undefined whenever running it could
 * tell otherwise (a spread, a computed key, a definition made elsewhere, a re-export).
 */
export function entryExportProblem({ file, compiled, program }: ParsedEntry): string | undefined {
  const functions = new Set<string>()
  const named: string[] = []
  let exported: { value: AnyNode; line: number; viaModule: boolean } | undefined
  for (const statement of program.body) {
    if (statement.type === 'FunctionDeclaration' && statement.id) functions.add(statement.id.name)
    if (statement.type !== 'ExpressionStatement' || statement.expression.type !== 'AssignmentExpression') continue
    const { left, right } = statement.expression
    if (isExportTarget(left)) exported = { value: right, line: statement.loc!.start.line, viaModule: left.type === 'MemberExpression' && left.object.type === 'Identifier' && left.object.name === 'module' }
    else if (left.type === 'MemberExpression' && !left.computed && left.object.type === 'Identifier' && left.object.name === 'exports' && left.property.type === 'Identifier') named.push(left.property.name)
  }
  const fix = "a plugin's index.ts ends with `export default definePlugin({ name, handle })`"
  if (exported === undefined) {
    // A default made any other way (`export { default } from './x'`, exports written by hand) is the run's to judge.
    if (/module\.exports|exports\.default|exports\[|['"]default['"]/.test(compiled)) return undefined
    const names = [...new Set(named)]
    // The module itself is the definition when it exports a handle (`export function handle`, `exports.handle =`).
    if (names.includes('handle')) return undefined
    return `${shownPath(file)}: the module has no default export${names.length > 0 ? ` (it exports ${names.join(', ')})` : ''}; ${fix}`
  }
  if (exported.viaModule) return undefined
  const value = exported.value
  const isFunction = value.type === 'FunctionExpression' || value.type === 'ArrowFunctionExpression' || (value.type === 'Identifier' && functions.has(value.name))
  if (isFunction) return `${shownPath(file)}: the default export is a function, not a plugin; ${fix}`
  let definition: AnyNode | undefined = value
  if (definition.type === 'CallExpression') {
    // Only definePlugin's argument is the definition as written: another function may add a handle.
    const call = calledWith(definition)
    if (call.callee !== 'definePlugin') return undefined
    definition = call.argument
  }
  if (definition?.type !== 'ObjectExpression') return undefined
  const keys: string[] = []
  for (const p of definition.properties) {
    if (p.type !== 'Property' || p.computed) return undefined
    if (p.key.type === 'Identifier') keys.push(p.key.name)
    else if (p.key.type === 'Literal' && typeof p.key.value === 'string') keys.push(p.key.value)
    else return undefined
  }
  if (keys.includes('handle')) return undefined
  return `${sourcePlace(file, exported.line, undefined)}: the default export has no handle function (it has ${keys.join(', ') || 'nothing'}); ${fix}`
}

/**
 * `f(arg)` as written: sucrase compiles a call of an imported function to `_module.f.call(void 0, arg)`. The
 * function's name when it is one (`definePlugin`), and the first argument.
 */
function calledWith(call: CallExpression): { callee: string | undefined; argument: AnyNode | undefined } {
  const { callee } = call
  if (callee.type === 'MemberExpression' && callee.property.type === 'Identifier' && callee.property.name === 'call') {
    const fn = callee.object.type === 'MemberExpression' ? callee.object.property : callee.object
    return { callee: fn.type === 'Identifier' ? fn.name : undefined, argument: call.arguments[1] as AnyNode | undefined }
  }
  return { callee: callee.type === 'Identifier' ? callee.name : undefined, argument: call.arguments[0] as AnyNode | undefined }
}

/** `exports.default` or `module.exports`. */
function isExportTarget(node: AnyNode): boolean {
  if (node.type !== 'MemberExpression' || node.computed || node.object.type !== 'Identifier' || node.property.type !== 'Identifier') return false
  return (node.object.name === 'exports' && node.property.name === 'default') || (node.object.name === 'module' && node.property.name === 'exports')
}
