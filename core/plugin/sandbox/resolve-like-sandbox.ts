/**
 * Which file a plugin's require of a path (`./util`, `../x.ts`) loads, found as the sandbox's resolver finds
 * it (vm2's, Node's algorithm): the path as written, then with each extension the sandbox knows, then as a
 * folder (its package.json `main`, then its index.*). For `wxengine rules check`, which follows a plugin's
 * imports without running it. A file outside the plugin's folder and the shared ones (shared-code-folders.ts),
 * symlinks followed, is not found: the sandbox keeps requires inside them (`require.root`).
 */
import { readFileSync, realpathSync, statSync } from 'node:fs'
import path from 'node:path'
import { isInside } from '../../is-inside.ts'
import { importRootsOf } from '../shared-code-folders.ts'
import { SANDBOX_SOURCE_EXTENSIONS } from './compile-like-sandbox.ts'

/** In vm2's order: the source extensions, then the two it always adds. */
const EXTENSIONS = [...SANDBOX_SOURCE_EXTENSIONS.map((e) => `.${e}`), '.json', '.node']

/**
 * Whether the sandbox compiles `file` as code: vm2 picks the loader by the extension, parses .json, refuses
 * .node, and compiles anything else (.ts, .js, and also .mjs, .cjs, ... as .js).
 */
export function sandboxCompiles(file: string): boolean {
  const ext = path.extname(file)
  return ext !== '.json' && ext !== '.node'
}

/** The file a require of `specifier` from a file in `fromDir` loads, or undefined where the sandbox says "Cannot find module". */
export function resolveLikeTheSandbox(specifier: string, fromDir: string, pluginDir: string): string | undefined {
  const roots = importRootsOf(pluginDir).map(realOrSelf)
  const isFile = (p: string) => roots.some((root) => isWithin(root, p)) && isAFile(p)
  const asFile = (p: string) => [p, ...EXTENSIONS.map((e) => p + e)].find(isFile)
  const asIndex = (p: string) => EXTENSIONS.map((e) => path.join(p, `index${e}`)).find(isFile)
  const target = path.resolve(fromDir, specifier)
  const main = packageMain(target, isFile)
  if (main === undefined) return asFile(target) ?? asIndex(target)
  const m = path.join(target, main)
  return asFile(target) ?? asFile(m) ?? asIndex(m) ?? asIndex(target)
}

/** Whether `p` is inside `root` once symlinks are followed (`root` is real already), as vm2 compares. */
function isWithin(root: string, p: string): boolean {
  return isInside(root, realOrSelf(p))
}

function isAFile(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isFile() === true
  } catch {
    // ENOTDIR (`util.ts/index.ts`), EACCES: not a file the sandbox could load either.
    return false
  }
}

/** A folder's package.json `main`, when it names one (vm2 reads no other field for a path). */
function packageMain(folder: string, isFile: (p: string) => boolean): string | undefined {
  const file = path.join(folder, 'package.json')
  if (!isFile(file)) return undefined
  try {
    const main = (JSON.parse(readFileSync(file, 'utf8')) as { main?: unknown }).main
    return typeof main === 'string' ? main : undefined
  } catch {
    return undefined
  }
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p)
  } catch {
    return path.resolve(p)
  }
}
