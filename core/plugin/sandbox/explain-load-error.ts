/**
 * A plugin's load error as its author needs it: where (file:line:col) and what to do. One wording for the
 * engine's load (load-plugin-module.ts) and for `wxengine rules check`, which compiles the plugins without
 * running them (compile-plugin-sources.ts). Free of vm2, so that the check does not load the sandbox.
 */
import { isBuiltin } from 'node:module'
import path from 'node:path'
import { parse } from 'acorn'
import { toCommonJs } from '../../to-commonjs.ts'
import { shownPath, sucraseErrorParts, syntaxErrorAt } from '../../shown-path.ts'
import { explainMissingGlobal } from './explain-missing-global.ts'

/** A built-in's name as `allow` and vm2 take it: `node:fs` is `fs`. */
export function withoutNodePrefix(name: string): string {
  return name.startsWith('node:') ? name.slice(5) : name
}

/** The one module name plugins import; `definePlugin` is the identity at run time. */
export const PLUGIN_MODULE_NAME = 'wxengine/plugin'

export const TOP_LEVEL_AWAIT_HINT = 'plugins run as CommonJS, where a top-level await is not possible; do that work in setup(api) or in handle'
const NOT_ASYNC_AWAIT_HINT = 'the function that holds it is not async: mark it so (`async handle(ctx)`, `async (x) => ...`)'
const EITHER_AWAIT_HINT = `inside a function, mark that function async (\`async handle(ctx)\`); at the top of the file, ${TOP_LEVEL_AWAIT_HINT}`

/**
 * Which of the two mistakes an `await` V8 refused is: at the file's top level (CommonJS has none), or in a
 * function not marked async (the newcomer's `handle(ctx) { await ... }`). V8 says the same for both. Read as
 * a module, where a top-level await is allowed and one in a plain function is not, the compiled file parses
 * in the first case and fails on the await in the second. Without the source, both are said.
 */
export function awaitHint(source: string | undefined, file: string): string {
  if (source === undefined) return EITHER_AWAIT_HINT
  try {
    parse(toCommonJs(source, file), { ecmaVersion: 'latest', sourceType: 'module' })
    return TOP_LEVEL_AWAIT_HINT
  } catch (e) {
    return /\bawait\b/.test(e instanceof Error ? e.message : '') ? NOT_ASYNC_AWAIT_HINT : EITHER_AWAIT_HINT
  }
}

/**
 * For the mistakes a newcomer makes. vm2 and sucrase say "Cannot find module 'x'" and
 * "Error transforming <file>: ... (3:7)".
 */
export function explainLoadError(reason: string, dir: string, failed?: { source: string; file: string }): string {
  const transform = sucraseErrorParts(reason)
  if (transform) return syntaxErrorAt(transform.file, transform.line, transform.column, transform.message)
  if (/await is only valid in async functions/.test(reason)) return `${reason}: ${awaitHint(failed?.source, failed?.file ?? 'index.ts')}`
  const missing = /Cannot find module '([^']+)'/.exec(reason)
  if (!missing) return explainMissingGlobal(reason, dir)
  const name = missing[1]
  const plugin = path.basename(dir)
  if (name.startsWith('wxengine') && name !== PLUGIN_MODULE_NAME) return `${reason}: plugins import only '${PLUGIN_MODULE_NAME}'`
  if (isBuiltin(name)) return `${reason}: a Node built-in must be allowed first: plugins: { '${plugin}': { allow: ['${withoutNodePrefix(name)}'] } } in engine.config.ts`
  if (name.startsWith('.') || path.isAbsolute(name)) {
    // Another plugin's file is out of reach too: code two plugins use goes in a shared folder.
    return (
      `${reason}: no such file in the plugin's folder or a shared one (imports reach ${shownPath(dir)} and the folders beside it ` +
      `whose names start with _, such as ${shownPath(path.join(path.dirname(dir), '_shared'))}; write the extension: './util.ts')`
    )
  }
  return `${reason}: npm packages are not available in the plugin sandbox; copy what you need into the plugin's folder (or a shared one, plugins/_shared/), or do it in the engine`
}
