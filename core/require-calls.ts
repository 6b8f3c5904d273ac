/**
 * The `require('...')` calls of code sucrase compiled, and where each is in the source it came from: for
 * `rules check`'s compile of a plugin (compile-plugin-sources.ts), and for a configuration import that cannot
 * be found (config/read-config-file.ts), each said at the quoted name, for the editor to jump to.
 */
import { parse, type AnyNode } from 'acorn'

export interface RequireCall {
  specifier: string
  /** The string as written, quotes included: found again in the source line to say the column. */
  raw: string
  line: number
  /** 0-based, in the compiled line. */
  column: number
  atLoad: boolean
}

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression'])

/** The `require('...')` calls of compiled code, each said to run at load (not inside any function) or not. */
export function requireCalls(commonJs: string): RequireCall[] {
  let program: AnyNode
  try {
    program = parse(commonJs, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, locations: true })
  } catch {
    // V8 compiled it already: syntax acorn does not know yet only leaves this file's requires unfollowed.
    return []
  }
  const calls: RequireCall[] = []
  visit(program, false, (node, inFunction) => {
    const arg = node.type === 'CallExpression' && node.callee.type === 'Identifier' && node.callee.name === 'require' ? node.arguments[0] : undefined
    if (arg?.type !== 'Literal' || typeof arg.value !== 'string') return
    calls.push({ specifier: arg.value, raw: arg.raw ?? '', line: arg.loc!.start.line, column: arg.loc!.start.column, atLoad: !inFunction })
  })
  return calls
}

/** Every node under `node`, each with whether it is inside a function. */
export function visit(node: unknown, inFunction: boolean, each: (node: AnyNode, inFunction: boolean) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) visit(n, inFunction, each)
    return
  }
  if (typeof node !== 'object' || node === null || typeof (node as { type?: unknown }).type !== 'string') return
  const n = node as AnyNode
  each(n, inFunction)
  const inside = inFunction || FUNCTIONS.has(n.type)
  for (const [key, child] of Object.entries(n)) if (key !== 'loc') visit(child, inside, each)
}

/**
 * The column (1-based) in the source of a place in the compiled line. Sucrase keeps lines, not always
 * columns: it drops types and rewrites imports, and before line 1 it puts "use strict" (vm2, its wrapper).
 * Where the compiled line ends with the source line the place maps over; else where the text at the place
 * appears once in the source line, it is there; else unknown, and the line alone is said.
 */
export function sourceColumn(sourceLine: string | undefined, compiledLine: string, at: number, text: string): number | undefined {
  if (sourceLine === undefined) return undefined
  const shift = compiledLine.length - sourceLine.length
  if (sourceLine !== '' && compiledLine.endsWith(sourceLine) && at >= shift) return at - shift + 1
  const first = text === '' ? -1 : sourceLine.indexOf(text)
  return first >= 0 && sourceLine.indexOf(text, first + 1) < 0 ? first + 1 : undefined
}
