/**
 * Where a setting is written, for the line of a validation error (`engine.config.ts:7:27: accounts[0].mode:
 * ...`): the editor jumps to it, where a path alone left the author counting accounts. Values written in the
 * file's object literal are found, through `const` names at its top level (`accounts: [shop]`), and through
 * the project's files it imports (`import accounts from './accounts.ts'`, a JSON file), where the value is
 * then written (`accounts.ts:3:55: accounts[0].mode: ...`). A value computed or spread in (`...base`) has no
 * place: in engine.config.ts its error keeps the path alone; in an imported file it names that file, the one
 * to look in. Run only when the configuration is refused: it costs a second transform of each file it reads.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parse, parseExpressionAt, type Node } from 'acorn'
import { escapeRegExp } from '../escape-regexp.ts'
import { isPathSpecifier } from '../path-specifier.ts'
import { toCommonJs } from '../to-commonjs.ts'
import { CONFIG_IMPORT_EXTENSIONS, resolveConfigImport } from './config-import-path.ts'

/** A place in `file`; no line when only the file is known (a value an imported file computes). */
export interface SettingPlace {
  file: string
  line?: number
  column?: number
}

/**
 * Finds settings' places from the configuration file's source (`file` names it, and imports are resolved
 * from its folder); undefined for a setting whose place cannot be known.
 */
export function settingPlacesIn(source: string, file: string): (path: readonly PropertyKey[]) => SettingPlace | undefined {
  const modules = new Map<string, ModuleCode | undefined>([[file, moduleCode(source, file)]])
  const moduleAt = (at: string): ModuleCode | undefined => {
    if (!modules.has(at)) {
      let text: string | undefined
      try {
        text = readFileSync(at, 'utf8')
      } catch {
        // Read a moment ago by the configuration's reader: gone since, the value's file is all that is known.
      }
      modules.set(at, text === undefined ? undefined : moduleCode(text, at))
    }
    return modules.get(at)
  }
  const main = modules.get(file)
  /** Lost track of a value in `at`: an imported file is named (the value comes from there), the configuration file not. */
  const lost = (at: string): SettingPlace | undefined => (at === file ? undefined : { file: at })

  /** The literal a value is: through a call's first argument (defineConfig), a top-level const's name, an import. */
  const literal = (mod: ModuleCode, node: AnyNode | undefined, depth = 0): Located | Lost | undefined => {
    if (node === undefined || depth > MAX_HOPS) return undefined
    // `defineConfig({...})`, compiled as `_config.defineConfig.call(void 0, {...})`.
    if (node.type === 'CallExpression') return literal(mod, node.arguments[isDotCall(node.callee) ? 1 : 0], depth + 1)
    if (node.type === 'Identifier') return literal(mod, mod.constants.get(node.name), depth + 1)
    // An imported name, compiled as `_accountsts.accounts` (or `_accountsts2.default` for a default import).
    if (node.type === 'MemberExpression' && node.object.type === 'Identifier' && mod.imports.has(node.object.name)) {
      const name = propertyName(node)
      const from = mod.imports.get(node.object.name)!
      return name === undefined ? { lostIn: from } : exported(from, name, depth + 1)
    }
    return node.type === 'ObjectExpression' || node.type === 'ArrayExpression' ? { mod, node } : undefined
  }
  /** What the file exports under `name`, as a literal, or the file it is lost in. */
  const exported = (at: string, name: string, depth: number): Located | Lost | undefined => {
    const mod = moduleAt(at)
    if (mod === undefined || depth > MAX_HOPS) return { lostIn: at }
    const value = mod.exports.get(name)
    if (value !== undefined) return literal(mod, value, depth + 1) ?? { lostIn: at }
    const again = mod.reexports.get(name)
    if (again !== undefined) return exported(again.from, again.name, depth + 1)
    if (mod.whole !== undefined) {
      // A JSON file or `module.exports = ...`: the whole value is the default import, its keys the named ones.
      const whole = literal(mod, mod.whole, depth + 1)
      if (name === 'default' || whole === undefined || !('node' in whole)) return whole ?? { lostIn: at }
      const found = stepInto(whole.node, name)
      return typeof found === 'object' ? (literal(mod, found.value, depth + 1) ?? { lostIn: at }) : { lostIn: at }
    }
    for (const star of name === 'default' ? [] : mod.stars) {
      const found = exported(star, name, depth + 1)
      if (found !== undefined && 'node' in found) return found
    }
    return { lostIn: at }
  }

  return (setting) => {
    if (main === undefined) return undefined
    const start = literal(main, main.config)
    if (start === undefined) return undefined
    if (!('node' in start)) return lost(start.lostIn)
    let at: Located = start
    let place: SettingPlace = placeOf(at.mod, at.node)
    for (let i = 0; i < setting.length; i++) {
      const step = setting[i]
      const found = stepInto(at.node, step)
      // A key the literal lacks (a required setting missing): the object it is missing from.
      if (found === 'absent') return i === setting.length - 1 ? place : undefined
      if (found === undefined) return lost(at.mod.file)
      place = placeOf(at.mod, found.at, typeof step === 'number' ? undefined : String(step))
      if (i === setting.length - 1) break
      const next = literal(at.mod, found.value)
      if (next === undefined) return lost(at.mod.file)
      if (!('node' in next)) return lost(next.lostIn)
      // Through a name or an import (`accounts: [shop]`): what lies deeper is in the literal it gives.
      if (next.node !== found.value) place = placeOf(next.mod, next.node)
      at = next
    }
    return place
  }
}

/** Names and imports followed from one value before giving up: a cycle of imports or of names ends here. */
const MAX_HOPS = 16

/** One file as compiled, with what the search needs of it. */
interface ModuleCode {
  file: string
  sourceLines: string[]
  compiledLines: string[]
  /** Top-level `const` names and their values. */
  constants: Map<string, AnyNode>
  /** Names bound to a project file's exports (`var _accountsts = require('./accounts.ts')`), to that file. */
  imports: Map<string, string>
  /** `exports.name = value` (`default` for the default export). */
  exports: Map<string, AnyNode>
  /** `export { y as x } from './y'`: x -> the file and its name there. */
  reexports: Map<string, { from: string; name: string }>
  /** `export * from './x'`: the files. */
  stars: string[]
  /** `module.exports = value`, or a JSON file's value. */
  whole?: AnyNode
  /** What the configuration file exports as its default (the search's start). */
  config?: AnyNode
}

interface Located {
  mod: ModuleCode
  node: AnyNode
}

/** The value comes from this file, where it is not a literal the search can walk. */
interface Lost {
  lostIn: string
}

function moduleCode(source: string, file: string): ModuleCode | undefined {
  const mod: ModuleCode = { file, sourceLines: source.split('\n'), compiledLines: [], constants: new Map(), imports: new Map(), exports: new Map(), reexports: new Map(), stars: [] }
  if (path.extname(file) === '.json') {
    try {
      // Lines and columns as written: the text is parsed as it is, as an expression.
      mod.whole = parseExpressionAt(source, 0, { ecmaVersion: 'latest', locations: true }) as AnyNode
    } catch {
      return undefined
    }
    mod.compiledLines = mod.sourceLines
    return mod
  }
  let compiled: string
  let program: AnyNode
  try {
    compiled = toCommonJs(source, file)
    program = parse(compiled, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, locations: true }) as AnyNode
  } catch {
    return undefined
  }
  mod.compiledLines = compiled.split('\n')
  const required = (init: AnyNode): string | undefined => {
    if (init.type !== 'CallExpression' || init.callee.type !== 'Identifier') return undefined
    const [arg] = init.arguments as AnyNode[]
    // `_interopRequireDefault(_accountsts)`, `_interopRequireWildcard(_allts)`: the same file's exports.
    if (init.callee.name.startsWith('_interopRequire')) return arg?.type === 'Identifier' ? mod.imports.get(arg.name) : undefined
    if (init.callee.name !== 'require' || arg?.type !== 'Literal' || typeof arg.value !== 'string' || !isPathSpecifier(arg.value)) return undefined
    const found = resolveConfigImport(arg.value, path.dirname(file))
    return found !== undefined && CONFIG_IMPORT_EXTENSIONS.includes(path.extname(found)) ? found : undefined
  }
  for (const statement of program.body as AnyNode[]) {
    if (statement.type === 'VariableDeclaration') {
      for (const d of statement.declarations as AnyNode[]) {
        if (d.id.type !== 'Identifier' || !d.init) continue
        const from = required(d.init)
        if (from !== undefined) mod.imports.set(d.id.name, from)
        // Only a const: a `let` may be given another value before the export.
        else if (statement.kind === 'const') mod.constants.set(d.id.name, d.init)
      }
    }
    const expression = statement.type === 'ExpressionStatement' ? statement.expression : undefined
    if (expression?.type === 'AssignmentExpression') {
      const name = exportName(expression.left)
      if (name === 'module.exports') mod.whole = expression.right
      else if (name !== undefined) mod.exports.set(name, expression.right)
    }
    if (expression?.type === 'CallExpression' && expression.callee.type === 'Identifier') {
      const [from, local, imported] = expression.arguments as AnyNode[]
      const fromFile = from?.type === 'Identifier' ? mod.imports.get(from.name) : undefined
      if (fromFile === undefined) continue
      // `export { y as x } from './y'` -> `_createNamedExportFrom(_y, 'x', 'y')`; `export *` -> `_createStarExport(_y)`.
      if (expression.callee.name === '_createNamedExportFrom' && local?.type === 'Literal' && imported?.type === 'Literal') {
        mod.reexports.set(String(local.value), { from: fromFile, name: String(imported.value) })
      } else if (expression.callee.name === '_createStarExport') mod.stars.push(fromFile)
    }
  }
  mod.config = mod.exports.get('default') ?? mod.whole
  return mod
}

/** Lines are kept by sucrase, columns not (a type removed before it): a key is looked for in the line as written. */
function placeOf(mod: ModuleCode, node: AnyNode, key?: string): SettingPlace {
  const { line, column } = node.loc!.start as { line: number; column: number }
  const written = mod.sourceLines[line - 1] ?? ''
  const compiledLine = mod.compiledLines[line - 1] ?? ''
  if (written === compiledLine) return { file: mod.file, line, column: column + 1 }
  if (key === undefined) return { file: mod.file, line }
  const pattern = new RegExp(`(?<![\\w$'"])(?:${escapeRegExp(key)}|'${escapeRegExp(key)}'|"${escapeRegExp(key)}")\\s*:`, 'g')
  // The same key twice on a line (two accounts on one): the nth as compiled is the nth as written.
  const nth = [...compiledLine.slice(0, column).matchAll(pattern)].length
  const found = [...written.matchAll(pattern)][nth]
  return found?.index === undefined ? { file: mod.file, line } : { file: mod.file, line, column: found.index + 1 }
}

// acorn's node types are a union without the fields used here on most members: walked loosely, checked by `type`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyNode = Node & Record<string, any>

function isDotCall(callee: AnyNode): boolean {
  return callee.type === 'MemberExpression' && callee.property.type === 'Identifier' && callee.property.name === 'call'
}

/** `x` of `a.x` or `a['x']`; undefined for a computed name. */
function propertyName(member: AnyNode): string | undefined {
  if (!member.computed && member.property.type === 'Identifier') return member.property.name
  return member.property.type === 'Literal' ? String(member.property.value) : undefined
}

/** `exports.x = ...` -> 'x', `module.exports = ...` -> 'module.exports'; undefined for any other target. */
function exportName(left: AnyNode): string | undefined {
  if (left.type !== 'MemberExpression' || left.object.type !== 'Identifier') return undefined
  const name = propertyName(left)
  if (left.object.name === 'exports') return name
  return left.object.name === 'module' && name === 'exports' ? 'module.exports' : undefined
}

/**
 * One step of a setting's path in a literal: the property (the last of its name, as JavaScript takes it) or the
 * element. 'absent' when the literal surely has none; undefined when a spread makes it unknowable.
 */
function stepInto(node: AnyNode, step: PropertyKey): { at: AnyNode; value: AnyNode } | 'absent' | undefined {
  if (node.type === 'ArrayExpression') {
    if (typeof step !== 'number') return undefined
    const before = (node.elements as (AnyNode | null)[]).slice(0, step + 1)
    if (before.some((e) => e?.type === 'SpreadElement')) return undefined
    const element = before[step]
    return element ? { at: element, value: element } : 'absent'
  }
  if (node.type !== 'ObjectExpression') return undefined
  const properties = node.properties as AnyNode[]
  for (let k = properties.length - 1; k >= 0; k--) {
    const p = properties[k]
    if (p.type === 'SpreadElement') return undefined
    if (p.computed && p.key.type !== 'Literal') return undefined
    const name = p.key.type === 'Identifier' ? p.key.name : String(p.key.value)
    if (name === String(step)) return { at: p, value: p.value }
  }
  return 'absent'
}
