/**
 * Where a setting is written in engine.config.ts, for the line of a validation error (`engine.config.ts:7:27:
 * accounts[0].mode: ...`): the editor jumps to it, where a path alone left the author counting accounts. Only
 * values written in the file's object literal are found, through `const` names at its top level (`accounts:
 * [shop]`); a value computed, spread in (`...base`) or imported from another file has no place here, and its
 * error keeps the path alone. Run only when the configuration is refused: it costs a second transform.
 */
import { parse, type Node } from 'acorn'
import { toCommonJs } from '../to-commonjs.ts'

export interface SettingPlace {
  line: number
  column?: number
}

/** Finds settings' places in one file's source; undefined for each setting when the file cannot be read as code. */
export function settingPlacesIn(source: string, file: string): (path: readonly PropertyKey[]) => SettingPlace | undefined {
  let compiled: string
  let program: AnyNode
  try {
    compiled = toCommonJs(source, file)
    program = parse(compiled, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, locations: true }) as AnyNode
  } catch {
    return () => undefined
  }
  const constants = new Map<string, AnyNode>()
  let config: AnyNode | undefined
  for (const statement of program.body as AnyNode[]) {
    if (statement.type === 'VariableDeclaration' && statement.kind === 'const') {
      for (const d of statement.declarations as AnyNode[]) if (d.id.type === 'Identifier' && d.init) constants.set(d.id.name, d.init)
    }
    const assigned = statement.type === 'ExpressionStatement' ? statement.expression : undefined
    if (assigned?.type === 'AssignmentExpression' && isDefaultExport(assigned.left)) config = assigned.right
  }
  const sourceLines = source.split('\n')
  const compiledLines = compiled.split('\n')
  /** The literal a value is: through a call's first argument (defineConfig) and a top-level const's name. */
  const literal = (node: AnyNode | undefined, depth = 0): AnyNode | undefined => {
    if (node === undefined || depth > 8) return undefined
    // `defineConfig({...})`, compiled as `_config.defineConfig.call(void 0, {...})`.
    if (node.type === 'CallExpression') return literal(node.arguments[isDotCall(node.callee) ? 1 : 0], depth + 1)
    if (node.type === 'Identifier') return literal(constants.get(node.name), depth + 1)
    return node.type === 'ObjectExpression' || node.type === 'ArrayExpression' ? node : undefined
  }
  /** Lines are kept by sucrase, columns not (a type removed before it): a key is looked for in the line as written. */
  const placeOf = (node: AnyNode, key?: string): SettingPlace => {
    const { line, column } = node.loc!.start as { line: number; column: number }
    const written = sourceLines[line - 1] ?? ''
    const compiledLine = compiledLines[line - 1] ?? ''
    if (written === compiledLine) return { line, column: column + 1 }
    if (key === undefined) return { line }
    const pattern = new RegExp(`(?<![\\w$'"])(?:${escape(key)}|'${escape(key)}'|"${escape(key)}")\\s*:`, 'g')
    // The same key twice on a line (two accounts on one): the nth as compiled is the nth as written.
    const nth = [...compiledLine.slice(0, column).matchAll(pattern)].length
    const found = [...written.matchAll(pattern)][nth]
    return found?.index === undefined ? { line } : { line, column: found.index + 1 }
  }
  return (path) => {
    let node = literal(config)
    if (node === undefined) return undefined
    let place: SettingPlace = placeOf(node)
    for (let i = 0; i < path.length; i++) {
      const step = path[i]
      const found: ReturnType<typeof stepInto> = node && stepInto(node, step)
      // A key the literal lacks (a required setting missing): the object it is missing from.
      if (found === 'absent') return i === path.length - 1 ? place : undefined
      if (found === undefined) return undefined
      place = placeOf(found.at, typeof step === 'number' ? undefined : String(step))
      node = literal(found.value)
      if (i === path.length - 1) break
      if (node === undefined) return undefined
      // Through a name (`accounts: [shop]`): what lies deeper is in the literal the name is given.
      if (node !== found.value) place = placeOf(node)
    }
    return place
  }
}

// acorn's node types are a union without the fields used here on most members: walked loosely, checked by `type`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyNode = Node & Record<string, any>

function isDotCall(callee: AnyNode): boolean {
  return callee.type === 'MemberExpression' && callee.property.type === 'Identifier' && callee.property.name === 'call'
}

function isDefaultExport(left: AnyNode): boolean {
  if (left.type !== 'MemberExpression') return false
  const name = left.property.type === 'Identifier' ? left.property.name : left.property.value
  const object = left.object
  if (object.type === 'Identifier' && object.name === 'exports' && name === 'default') return true
  return object.type === 'Identifier' && object.name === 'module' && name === 'exports'
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

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
