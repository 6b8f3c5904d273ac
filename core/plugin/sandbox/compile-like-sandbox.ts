/**
 * What the sandbox does to a plugin's file before it runs it, and nothing after: for `wxengine rules check`,
 * so that a file compiled here is one the engine's load compiles. Three steps, each of which can refuse it:
 * sucrase (toCommonJs); vm2's own parse (its transformer: acorn at ES2022, which refuses some syntax V8
 * takes, a regular expression's v flag); and V8's compile inside the module wrapper vm2 puts around it.
 * Only vm2's compile step is loaded, not the sandbox (NodeVM): the check runs nothing.
 */
import { Script } from 'node:vm'
import { removeShebang } from 'vm2/lib/compiler.js'
import { MODULE_PREFIX, MODULE_SUFFIX, STRICT_MODULE_PREFIX } from 'vm2/lib/script.js'
import { transformer } from 'vm2/lib/transformer.js'
import { toCommonJs } from '../../to-commonjs.ts'

/** The files the sandbox compiles as code (NodeVM's sourceExtensions); vm2 adds .json and .node after them. */
export const SANDBOX_SOURCE_EXTENSIONS = ['ts', 'js'] as const

/**
 * The CommonJS sucrase makes of `code` (the file `file`): its require() calls are what the file loads.
 * Throws what the load would throw: sucrase's `Error transforming <file>: ... (3:7)`, or a SyntaxError whose
 * stack begins with `<file>:<line>`, that line and a ^ under the place (node writes V8's so, and vm2's parse
 * copies the form). The entry is compiled as NodeVM.run compiles a string (sloppy mode, as written), a file it
 * requires as vm2's require does (strict mode, a `#!` line commented out).
 */
export function compileLikeTheSandbox(code: string, file: string, isEntry: boolean): string {
  const commonJs = toCommonJs(isEntry ? code : removeShebang(code), file)
  const checked = transformer(null, commonJs, false, false, file).code
  // Compiled, not run: a Script is code until it is run in a context.
  new Script((isEntry ? MODULE_PREFIX : STRICT_MODULE_PREFIX) + checked + MODULE_SUFFIX, { filename: file })
  return commonJs
}
