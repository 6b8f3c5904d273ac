/**
 * Where a plugin worker's program comes from. This is the seam for the single binary.
 *
 * The worker program is core/plugin/sandbox/worker-main.ts and what it imports (vm2, sucrase, the reply
 * helpers). It is always run as one CommonJS source string, `new Worker(source, { eval: true })`:
 *
 * - Inside a single executable only built-in modules can be required, so the binary build calls
 *   `bundleWorkerSource()` at build time, embeds the string, and at start-up, before loading any
 *   plugin, calls `useEmbeddedWorkerSource(source)`.
 * - From the source tree the same bundle is made on first use (esbuild, about half a second, once per
 *   process). This is faster than running the .ts file under tsx (measured: a worker ready in ~0.3 s
 *   instead of ~1.1 s, mostly tsx's own start-up in each worker) and it runs the same code path as the
 *   binary.
 * - Without esbuild, the .ts file runs under tsx. On Node 20 tsx's hooks do not carry into worker
 *   threads (tsx registers itself on the main thread only there), so a small bootstrap registers them
 *   in the worker first.
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export type WorkerEntry = { source: string; eval: true } | { file: URL; eval: false }

let source: string | undefined

/** Called once by the binary's start-up with the string `bundleWorkerSource()` made at build time. */
export function useEmbeddedWorkerSource(bundled: string): void {
  source = bundled
}

export function workerEntry(): WorkerEntry {
  source ??= tryBundle()
  if (source !== undefined) return { source: BUNDLE_PRELUDE + source, eval: true }
  return fileWorkerEntry()
}

/**
 * vm2 refuses sandbox requires of files under its own lib folder, which it finds from `__dirname`. In an
 * eval'd bundle `__dirname` is '.', the working directory, so every plugin file under it would be
 * refused ("Cannot find module './util'"). The bundle runs inside the CommonJS wrapper, so this line
 * re-points `__dirname` for every module in it, whichever bundler produced it.
 */
const BUNDLE_PRELUDE = `__dirname = ${JSON.stringify('/nonexistent/wxengine-plugin-worker/vm2/lib')};\n`

/** The worker run from its .ts file (no esbuild at hand): under tsx, or a runtime that loads .ts itself. */
export function fileWorkerEntry(): WorkerEntry {
  const file = new URL('./sandbox/worker-main.ts', import.meta.url)
  const tsxApi = resolveFrom('tsx/esm/api')
  if (!tsxApi) return { file, eval: false }
  return { source: tsxBootstrap(tsxApi, file), eval: true }
}

/**
 * The worker program as one CommonJS string. vm2 requires `typescript` and `coffee-script` lazily for
 * compilers we never use: left out, they would add ~10 MB (shared/binary-and-sandbox.md).
 */
export function bundleWorkerSource(): string {
  // Looked up at run time, not imported: the engine's own bundle must not pull esbuild in.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild')
  const result = esbuild.buildSync({
    entryPoints: [fileURLToPath(new URL('./sandbox/worker-main.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    external: ['typescript', 'coffee-script'],
    logLevel: 'silent',
  })
  const out = result.outputFiles[0]
  if (!out) throw new Error('esbuild produced no worker bundle')
  return out.text
}

function tryBundle(): string | undefined {
  try {
    return bundleWorkerSource()
  } catch {
    return undefined
  }
}

function resolveFrom(specifier: string): string | undefined {
  try {
    return import.meta.resolve(specifier)
  } catch {
    return undefined
  }
}

function tsxBootstrap(tsxApi: string, file: URL): string {
  // Register tsx in the worker unless it did so itself (Node >= 22 re-runs an inherited --import tsx).
  return `
const wt = require('node:worker_threads');
const selfRegistered = 'isInternalThread' in wt && process.execArgv.some((a) => a.includes('tsx'));
(selfRegistered ? Promise.resolve() : import(${JSON.stringify(tsxApi)}).then((m) => m.register()))
  .then(() => import(${JSON.stringify(file.href)}));
`
}
