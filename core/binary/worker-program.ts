/**
 * Where a worker thread's TypeScript program comes from: the seam for the single binary, shared by every
 * worker written in TypeScript (the plugin sandbox, the rules parser). A program is always run as one
 * CommonJS source string, `new Worker(source, { eval: true })`:
 *
 * - Inside a single executable only built-in modules can be required, so core/binary/build-binary.ts
 *   bundles each program at build time, embeds the string, and the binary's start-up hands it over with
 *   `useEmbedded(source)` (core/binary/binary-main.ts).
 * - From the source tree the same bundle is made on first use (esbuild, a few hundred ms, once per process).
 *   This is faster than running the .ts file under tsx (measured for the plugin worker: ready in ~0.3 s
 *   instead of ~1.1 s, mostly tsx's own start-up in each worker) and it runs the same code as the binary.
 * - A bundle's workers after the first compile it from V8's code cache, which the first hands back and the
 *   cache directory keeps for the next run (code-cached-thread.ts, code-cache-file.ts): the rules parser's
 *   6 MB took ~150 ms to compile in each worker. Plugin processes compile their program as before.
 * - Without esbuild, the .ts file runs under tsx. On Node 20 tsx's hooks do not carry into worker threads
 *   (tsx registers itself on the main thread only there), so a small bootstrap registers them in the worker.
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Worker, type WorkerOptions } from 'node:worker_threads'
import type { BuildOptions } from 'esbuild'
import { newCodeCache, startCodeCachedThread, type CodeCache } from './code-cached-thread.ts'

/** A bundle comes with its program's code cache (code-cached-thread.ts); a source made elsewhere (tests) may not. */
export type WorkerEntry = { source: string; eval: true; codeCache?: CodeCache } | { file: URL; eval: false }

/** A worker thread running `entry`'s program; `options.workerData` is the program's. */
export function startThread(entry: WorkerEntry, options: WorkerOptions = {}): Worker {
  if (!entry.eval) return new Worker(entry.file, options)
  if (entry.codeCache) return startCodeCachedThread(entry.source, entry.codeCache, options)
  return new Worker(entry.source, { ...options, eval: true })
}

export interface WorkerProgram {
  /** Called once by the binary's start-up with the string the build bundled. */
  useEmbedded(bundled: string): void
  /** Where to start the worker from; bundles on first use, blocking the calling thread while esbuild works. */
  entry(): WorkerEntry
  /** The same, for a thread that is serving: the first bundle is made in esbuild's own process, not on this thread. */
  entryAsync(): Promise<WorkerEntry>
  /** The program as one CommonJS string. */
  bundle(): string
  /** The program run from its .ts file (no esbuild at hand): under tsx, or a runtime that loads .ts itself. */
  fileEntry(): WorkerEntry
}

export interface WorkerProgramOptions {
  /** What its compiled code is called in stacks: `wxengine:<name>`. */
  name: string
  /**
   * The program's .ts file, asked for only when it is bundled or run from its file: inside the single binary
   * `import.meta.url` is undefined, and the embedded bundle is all it uses.
   */
  main: () => URL
  /** Modules left out of the bundle (required lazily by a dependency for features we never use). */
  external?: string[]
  /** Put before the bundle, embedded or not. */
  prelude?: string
}

export function workerProgram(opts: WorkerProgramOptions): WorkerProgram {
  let source: string | undefined
  /** The asynchronous bundle under way, shared by everyone who asks meanwhile. */
  let bundling: Promise<string | undefined> | undefined
  let codeCache: CodeCache | undefined
  const evalEntry = (bundled: string): WorkerEntry => {
    codeCache ??= newCodeCache(opts.name)
    return { source: (opts.prelude ?? '') + bundled, eval: true, codeCache }
  }
  const buildOptions = (): BuildOptions & { write: false } => ({
    entryPoints: [fileURLToPath(opts.main())],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    external: opts.external ?? [],
    logLevel: 'silent',
  })
  const program: WorkerProgram = {
    useEmbedded(bundled) {
      source = bundled
      codeCache = undefined
    },
    entry() {
      if (source === undefined) {
        try {
          source = program.bundle()
        } catch {
          return program.fileEntry()
        }
      }
      return evalEntry(source)
    },
    async entryAsync() {
      if (source === undefined) {
        bundling ??= Promise.resolve()
          .then(() => esbuild().build(buildOptions()))
          .then((r) => r.outputFiles[0]?.text)
          .catch(() => undefined)
        source ??= await bundling
      }
      return source === undefined ? program.fileEntry() : evalEntry(source)
    },
    bundle() {
      const out = esbuild().buildSync(buildOptions()).outputFiles[0]
      if (!out) throw new Error(`esbuild produced no bundle of ${fileURLToPath(opts.main())}`)
      return out.text
    },
    fileEntry() {
      const tsxApi = resolveFrom('tsx/esm/api')
      const main = opts.main()
      if (!tsxApi) return { file: main, eval: false }
      return { source: tsxBootstrap(tsxApi, main), eval: true }
    },
  }
  return program
}

/** Looked up at run time, not imported: the engine's own bundle must not pull esbuild in. Throws without it. */
function esbuild(): typeof import('esbuild') {
  return createRequire(import.meta.url)('esbuild') as typeof import('esbuild')
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
