/**
 * Loads a project's test files for `wxengine test`, inside this process: TypeScript and ES modules become
 * CommonJS through sucrase (the transpiler the plugin sandbox uses), and `wxengine/testkit` and
 * `wxengine/plugin` are the engine's own modules. This is what lets a project next to the single binary,
 * with no node_modules and no TypeScript toolchain, run the tests `wxengine plugin new` writes: inside the
 * binary, `require` knows only node's built-ins, so nothing can be resolved the usual way.
 *
 * Relative imports are loaded the same way (`./helper.ts`, `./helper.js` meaning helper.ts, `./dir` meaning
 * dir/index.ts); built-ins and the project's own packages go through node's require from the file's folder.
 * Sucrase keeps every line where it was, so stack traces point at the right lines of the .ts file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { inspect } from 'node:util'
import vm from 'node:vm'
import { escapeRegExp } from '../escape-regexp.ts'
import { toCommonJs } from '../to-commonjs.ts'

const SOURCE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']
/** Sucrase leaves `import.meta` alone, which is a syntax error in CommonJS: each module gets its own object. */
const IMPORT_META = /\bimport\.meta\b/g
const IMPORT_META_NAME = '__wxengine_import_meta'
const PARAMETERS = ['exports', 'require', 'module', '__filename', '__dirname', IMPORT_META_NAME]

interface LoadedModule {
  exports: unknown
}

export interface ProjectTestLoader {
  /**
   * Runs one test file. Its body runs as an async function, so top-level `await` works in test files
   * (not in the helpers they import, which load synchronously, as `require` does).
   */
  runTestFile(file: string): Promise<void>
}

/** `provided`: module names answered with the given values (`wxengine/testkit`, `wxengine/plugin`). */
export function createProjectTestLoader(modules: Readonly<Record<string, object>>): ProjectTestLoader {
  const cache = new Map<string, LoadedModule>()
  const provided = Object.fromEntries(Object.entries(modules).map(([name, exports]) => [name, strictExports(name, exports)]))

  function requireFrom(parent: string): (specifier: string) => unknown {
    const nodeRequire = createRequire(parent)
    return (specifier) => {
      if (Object.hasOwn(provided, specifier)) return provided[specifier]
      if (specifier.startsWith('./') || specifier.startsWith('../') || path.isAbsolute(specifier)) {
        return loadSync(resolveRelative(path.resolve(path.dirname(parent), specifier), specifier, parent))
      }
      // Built-ins, and packages in the project's own node_modules (none inside the binary's bundle).
      return nodeRequire(specifier)
    }
  }

  function compile(file: string, asAsync: boolean): (...args: unknown[]) => unknown {
    let code: string
    try {
      code = toCommonJs(readFileSync(file, 'utf8'), file)
    } catch (e) {
      throw compileError(file, e)
    }
    // The wrapper goes on the first line, so line numbers stay those of the file.
    const wrapped = `(${asAsync ? 'async ' : ''}function (${PARAMETERS.join(', ')}) {${code.replace(IMPORT_META, IMPORT_META_NAME)}\n})`
    try {
      return new vm.Script(wrapped, { filename: file }).runInThisContext() as (...args: unknown[]) => unknown
    } catch (e) {
      if (!asAsync && e instanceof SyntaxError && /await is only valid/.test(e.message)) {
        throw new SyntaxError(`${file}: top-level await works in test files only, not in the modules they import (${e.message})`)
      }
      // What sucrase lets through and V8 refuses (`let a` twice): V8 puts the file and line only in the
      // stack's header, which node's runner does not show, so the message named no file at all.
      if (e instanceof SyntaxError) {
        const line = new RegExp(`^${escapeRegExp(file)}:(\\d+)\n`).exec(e.stack ?? '')?.[1]
        if (line) throw new SyntaxError(`${file}:${line}: ${e.message}`)
      }
      throw e
    }
  }

  function argumentsFor(file: string, module: LoadedModule): unknown[] {
    const dirname = path.dirname(file)
    const meta = { url: pathToFileURL(file).href, filename: file, dirname }
    return [module.exports, requireFrom(file), module, file, dirname, meta]
  }

  function loadSync(file: string): unknown {
    const cached = cache.get(file)
    if (cached) return cached.exports
    const module: LoadedModule = { exports: {} }
    if (file.endsWith('.json')) {
      module.exports = JSON.parse(readFileSync(file, 'utf8'))
      cache.set(file, module)
      return module.exports
    }
    // Cached before it runs, as CommonJS does, so an import cycle sees the partial exports instead of looping.
    cache.set(file, module)
    try {
      compile(file, false)(...argumentsFor(file, module))
    } catch (e) {
      cache.delete(file)
      throw e
    }
    return module.exports
  }

  return {
    async runTestFile(file) {
      const module: LoadedModule = { exports: {} }
      cache.set(file, module)
      try {
        await compile(file, true)(...argumentsFor(file, module))
      } catch (e) {
        throw namingFile(file, e)
      }
    },
  }
}

/** Probes a module object may see without meaning an import (promise checks, interop, inspection). */
const NOT_IMPORTS = new Set(['then', 'default', 'constructor', 'toJSON', 'inspect', 'asymmetricMatch', 'nodeType'])

/**
 * The module's exports, where a name it does not export is an error naming what it does export. Compiled to
 * CommonJS, `import { expectReply } from 'wxengine/testkit'` reads a property, which would otherwise be
 * undefined without a word (node's ES modules refuse such an import at once).
 */
function strictExports(name: string, exports: object): object {
  return new Proxy(exports, {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol' || prop in target || prop.startsWith('__') || NOT_IMPORTS.has(prop)) return Reflect.get(target, prop, receiver)
      throw new SyntaxError(`'${name}' has no export '${prop}'; it exports ${Object.keys(target).sort().join(', ')}`)
    },
  })
}

/** `./x.ts`, `./x` (x.ts, x.js, ...), `./x.js` written for x.ts (TypeScript's convention), `./dir` (dir/index.ts). */
function resolveRelative(base: string, specifier: string, parent: string): string {
  const candidates = [base, ...SOURCE_EXTENSIONS.map((ext) => base + ext), ...SOURCE_EXTENSIONS.map((ext) => path.join(base, `index${ext}`))]
  const jsForTs = /\.(m|c)?js$/.exec(base)
  if (jsForTs) candidates.splice(1, 0, `${base.slice(0, -jsForTs[0].length)}.${jsForTs[1] ?? ''}ts`)
  for (const candidate of candidates) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  const error = new Error(`Cannot find module '${specifier}' imported from ${parent}`) as Error & { code: string }
  error.code = 'MODULE_NOT_FOUND'
  throw error
}

/**
 * A test file that throws while it loads: its suite is declared by `wxengine test`, so node's runner gives
 * the failure the runner's own location (core/cli/commands/test.ts), and the message alone ("boom") named
 * no file. The message gets `file:line:` in front, the line of the test file the stack passes through
 * (the throw, or the import of the helper that threw). No column: sucrase keeps lines, not columns.
 * The error itself is kept, not wrapped, so its class, code and assertion details still show.
 */
function namingFile(file: string, e: unknown): unknown {
  if (!(e instanceof Error)) return new Error(`${file}: threw ${inspect(e)} while loading`)
  if (e.message.includes(file)) return e
  const line = new RegExp(`${escapeRegExp(file)}:(\\d+):\\d+`).exec(e.stack ?? '')?.[1]
  const header = `${e.name}: ${e.message}`
  e.message = `${file}${line ? `:${line}` : ''}: ${e.message}`
  if (e.stack?.startsWith(header)) e.stack = `${e.name}: ${e.message}${e.stack.slice(header.length)}`
  return e
}

/** Sucrase's "Error transforming <file>: <reason> (3:7)" as `file:line:col: reason`, the form editors jump to. */
function compileError(file: string, e: unknown): SyntaxError {
  const message = e instanceof Error ? e.message : String(e)
  const loc = (e as { loc?: { line?: unknown; column?: unknown } } | null)?.loc
  const reason = message.replace(/^Error transforming .*?: /, '').replace(/ \(\d+:\d+\)$/, '')
  const where = typeof loc?.line === 'number' && typeof loc.column === 'number' ? `:${loc.line}:${loc.column}` : ''
  return new SyntaxError(`${file}${where}: ${reason}`)
}
