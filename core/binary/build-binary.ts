/**
 * Builds the single executable (Node SEA), the route measured in the team's notes (../shared/binary-and-sandbox.md, beside the repository, not in it):
 *
 *   1. esbuild bundles the plugin worker (core/plugin/sandbox/worker-main.ts), the rules parser's worker
 *      (core/route/rules/parse-worker-main.ts), the message-log worker (core/store/sqlite-log-worker.cjs) and
 *      the CLI (core/binary/binary-main.ts) into one CommonJS file each: inside a SEA `require` loads
 *      built-ins only.
 *   2. `node --experimental-sea-config` makes the blob: the CLI bundle with its V8 code cache, plus assets:
 *      the worker bundles, better-sqlite3's native addon, the templates of `plugin new` and `init`, and the
 *      declaration files and the user docs `init` writes into a project.
 *   3. postject injects the blob into a copy of this very node (the addon and the code cache belong to it:
 *      one binary per Node major and platform).
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'
import { DOCS_ASSET, LOG_WORKER_ASSET, PLUGIN_WORKER_ASSET, RULES_WORKER_ASSET, SQLITE_ADDON_ASSET, TYPES_ASSET } from './asset-names.ts'
import { buildDeclarations } from './build-types.ts'
import { readDocsFolder } from './project-docs.ts'
import { placeFile } from './place-file.ts'

/** The marker Node looks for to know a blob was injected (Node's SEA docs). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

export interface BuildBinaryOptions {
  /** Where the executable goes (default dist/wxengine in the source tree). */
  out?: string
  /** Strip the copied node's static symbol table first (smaller; dynamic symbols, which addons need, stay). */
  strip?: boolean
  /**
   * The same binary, byte for byte, from the same source, node and SQLite addon (to check a binary against
   * its source). Leaves out V8's code cache of the CLI, which V8 does not make the same twice: the CLI then
   * starts ~100 ms slower (BENCHMARKS.md).
   */
  reproducible?: boolean
  progress?: (line: string) => void
}

export interface BuildBinaryResult {
  file: string
  bytes: number
  ms: number
}

export const SOURCE_ROOT = fileURLToPath(new URL('../..', import.meta.url))

export async function buildBinary(opts: BuildBinaryOptions = {}): Promise<BuildBinaryResult> {
  const started = Date.now()
  const progress = opts.progress ?? (() => {})
  const out = path.resolve(opts.out ?? path.join(SOURCE_ROOT, 'dist', 'wxengine'))
  const work = mkdtempSync(path.join(os.tmpdir(), 'wxengine-build-'))
  try {
    progress('bundling the plugin worker, the rules parser, the message-log worker and the CLI (esbuild)')
    const workerFile = path.join(work, PLUGIN_WORKER_ASSET)
    const rulesWorkerFile = path.join(work, RULES_WORKER_ASSET)
    const logWorkerFile = path.join(work, LOG_WORKER_ASSET)
    const mainFile = path.join(work, 'wxengine.cjs')
    await bundle(path.join(SOURCE_ROOT, 'core/plugin/sandbox/worker-main.ts'), workerFile)
    await bundle(path.join(SOURCE_ROOT, 'core/route/rules/parse-worker-main.ts'), rulesWorkerFile)
    await bundle(path.join(SOURCE_ROOT, 'core/store/sqlite-log-worker.cjs'), logWorkerFile)
    await bundle(path.join(SOURCE_ROOT, 'core/binary/binary-main.ts'), mainFile)

    progress('writing the declaration files for `wxengine init` (tsc)')
    const typesFile = path.join(work, TYPES_ASSET)
    // @types/node's sea.d.ts quotes the SEA fuse, and postject refuses a binary holding that string more than
    // once: a JSON escape hides it in the asset, and JSON.parse gives it back.
    writeFileSync(typesFile, JSON.stringify(buildDeclarations()).replaceAll(SEA_FUSE, SEA_FUSE.replace(/_/g, '\\u005f')))

    // The user docs for `init` (a page could quote the fuse too).
    const docsFile = path.join(work, DOCS_ASSET)
    writeFileSync(docsFile, JSON.stringify(readDocsFolder(path.join(SOURCE_ROOT, 'docs'))).replaceAll(SEA_FUSE, SEA_FUSE.replace(/_/g, '\\u005f')))

    progress(opts.reproducible ? 'making the SEA blob (without a code cache: reproducible)' : 'making the SEA blob (with V8 code cache)')
    const blob = path.join(work, 'sea-prep.blob')
    const seaConfig = {
      // Relative to the work folder (node is run there): the blob keeps main's path as given, and the work
      // folder's random name made every build's binary differ.
      main: path.relative(work, mainFile),
      output: path.relative(work, blob),
      disableExperimentalSEAWarning: true,
      useCodeCache: !opts.reproducible,
      assets: {
        [PLUGIN_WORKER_ASSET]: workerFile,
        [RULES_WORKER_ASSET]: rulesWorkerFile,
        [LOG_WORKER_ASSET]: logWorkerFile,
        [SQLITE_ADDON_ASSET]: sqliteAddonFile(),
        [TYPES_ASSET]: typesFile,
        [DOCS_ASSET]: docsFile,
        ...templateAssets(),
      },
    }
    const configFile = path.join(work, 'sea-config.json')
    writeFileSync(configFile, JSON.stringify(seaConfig, null, 2))
    execFileSync(process.execPath, ['--experimental-sea-config', configFile], { cwd: work, stdio: 'pipe' })

    progress(`injecting it into a copy of ${process.execPath} (node ${process.version})`)
    const exe = path.join(work, 'wxengine')
    copyFileSync(process.execPath, exe)
    chmodSync(exe, 0o755)
    if (opts.strip) execFileSync('strip', ['--strip-all', exe], { stdio: 'pipe' })
    // postject's CLI in a child: its LIEF core prints harmless ELF warnings we keep off the console.
    const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js')
    execFileSync(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'pipe' })

    placeFile(exe, out, 0o755)
    return { file: out, bytes: statSync(out).size, ms: Date.now() - started }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

async function bundle(entry: string, outfile: string): Promise<void> {
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    // vm2 requires typescript lazily, only for its 'typescript' compiler, which we never use (sucrase does it).
    external: ['typescript'],
    plugins: [embeddedModules()],
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'error',
    logOverride: {
      // import.meta appears only on source-tree paths (tsx); the binary never reaches them.
      'empty-import-meta': 'silent',
    },
  })
}

/** Module replacements that exist only in the binary. */
function embeddedModules(): esbuild.Plugin {
  const nativeAddon = path.join(SOURCE_ROOT, 'core/binary/native-addon.ts')
  return {
    name: 'wxengine-embedded',
    setup(build) {
      // `debug` tries `supports-color` in a try/catch, which a SEA reports as a warning: give it nothing.
      build.onResolve({ filter: /^supports-color$/ }, () => ({ path: 'supports-color', namespace: 'wxengine-embedded' }))
      // better-sqlite3 finds its addon with `require('bindings')(...)`: hand it the one embedded in the binary.
      build.onResolve({ filter: /^bindings$/ }, () => ({ path: 'bindings', namespace: 'wxengine-embedded' }))
      // recheck requires synckit as it loads, for a backend we never use (regex-worst-case.ts runs its pure
      // JavaScript build); synckit's own loading reads `require.extensions`, which a SEA's require lacks.
      build.onResolve({ filter: /^synckit$/ }, () => ({ path: 'synckit', namespace: 'wxengine-embedded' }))
      build.onLoad({ filter: /.*/, namespace: 'wxengine-embedded' }, (args) => ({
        contents: args.path === 'bindings'
          ? `module.exports = function bindings(name) {
              if (name !== 'better_sqlite3.node') throw new Error('the single binary embeds only better-sqlite3, not ' + name)
              return require(${JSON.stringify(nativeAddon)}).embeddedSqliteAddon()
            }`
          : args.path === 'synckit'
            ? `exports.createSyncFn = function () { throw new Error('synckit is not in the single binary (recheck runs on its pure backend)') }`
            : 'module.exports = {}',
        resolveDir: SOURCE_ROOT,
        loader: 'js',
      }))
    },
  }
}

function sqliteAddonFile(): string {
  const pkg = createRequire(path.join(SOURCE_ROOT, 'package.json')).resolve('better-sqlite3/package.json')
  return path.join(path.dirname(pkg), 'build', 'Release', 'better_sqlite3.node')
}

function templateAssets(): Record<string, string> {
  // Every file under templates/ (plugin/ for `plugin new`, project/ for `init`), by its path from the root.
  const dir = path.join(SOURCE_ROOT, 'templates')
  // Sorted: the assets go into the blob in this order, and a directory lists its files in no set order.
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(path.join(dir, f)).isFile()).sort()
  return Object.fromEntries(files.map((f) => [`templates/${f.split(path.sep).join('/')}`, path.join(dir, f)]))
}
