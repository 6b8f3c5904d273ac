/**
 * The declaration files of the package's three entry points (`wxengine/plugin`, `wxengine/config`,
 * `wxengine/testkit`) and everything they refer to, for editors in a project made by `wxengine init`: the
 * single binary carries them as one asset, and a checkout makes them on the spot. With them go Node's own
 * (@types/node and undici-types, about 2.5 MB), since a project's tests import node:test and node:assert.
 * tsc writes them (the package's own TypeScript, a devDependency: only the build and a checkout run this).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const TYPE_ENTRIES = {
  'wxengine/plugin': 'core/plugin/plugin-api',
  'wxengine/config': 'core/config/config-types',
  'wxengine/testkit': 'core/testkit/plugin-test-client',
} as const

/** path (relative, e.g. `core/plugin/plugin-api.d.ts`) -> content. */
export function buildDeclarations(): Record<string, string> {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const resolve = createRequire(path.join(root, 'package.json')).resolve
  const tsc = resolve('typescript/bin/tsc')
  const out = mkdtempSync(path.join(os.tmpdir(), 'wxengine-types-'))
  try {
    execFileSync(
      process.execPath,
      [
        tsc,
        '--ignoreConfig',
        ...['--declaration', '--emitDeclarationOnly', '--outDir', out, '--rootDir', root],
        ...['--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--strict', '--skipLibCheck'],
        ...['--allowImportingTsExtensions', '--resolveJsonModule', '--types', 'node'],
        ...Object.values(TYPE_ENTRIES).map((entry) => path.join(root, `${entry}.ts`)),
      ],
      { cwd: root, stdio: 'pipe' },
    )
    const files: Record<string, string> = {}
    // Sorted: a directory lists its files in no set order, and the asset (JSON, in this order) is in the binary.
    for (const file of readdirSync(out, { recursive: true, encoding: 'utf8' }).sort()) {
      if (file.endsWith('.d.ts')) files[file.split(path.sep).join('/')] = readFileSync(path.join(out, file), 'utf8')
    }
    // Node's own types too (tests import node:test and node:assert), as a node_modules of their own.
    for (const pkg of ['@types/node', 'undici-types']) {
      const dir = path.dirname(resolve(`${pkg}/package.json`))
      for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
        if (file.endsWith('.d.ts') || file === 'package.json') files[`node_modules/${pkg}/${file.split(path.sep).join('/')}`] = readFileSync(path.join(dir, file), 'utf8')
      }
    }
    return files
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}
