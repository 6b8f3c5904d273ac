/**
 * The file a path import of the configuration names (`./accounts.ts`, `../shared`): for reading it
 * (read-config-file.ts) and for finding where a setting it gives is written (setting-places.ts), so both
 * follow an import to the same file.
 */
import { statSync } from 'node:fs'
import path from 'node:path'

/** What a path import tries, in order, after the path as written: node's extensions and TypeScript's. */
export const CONFIG_IMPORT_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json']

/**
 * The file a path import names: as written, then with each extension, then a folder's index with each; and
 * `./x.js` is `./x.ts` when there is no x.js, as TypeScript writes imports (NodeNext) and tsx finds them.
 */
export function resolveConfigImport(id: string, fromDir: string): string | undefined {
  const target = path.resolve(fromDir, id)
  const asTs = /\.[mc]?js$/.test(target) ? [target.replace(/js$/, 'ts')] : []
  const candidates = [target, ...asTs, ...CONFIG_IMPORT_EXTENSIONS.map((e) => target + e), ...CONFIG_IMPORT_EXTENSIONS.map((e) => path.join(target, `index${e}`))]
  return candidates.find((p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true)
}
