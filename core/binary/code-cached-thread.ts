/**
 * A worker thread that compiles its program's bundle with V8's code cache. A worker is a fresh isolate: it
 * parses its whole program again, and the rules parser's bundle is 6 MB (recheck alone is 3.5): ~150 ms of a
 * worker's ~280 ms load went to compiling it. The first worker of a program compiles it as before and hands
 * back V8's code cache for it; the ones after compile it from that in ~10 ms (bench/worker-code-cache.bench.ts).
 *
 * How: the thread runs a small bootstrap instead of the bundle. The bundle, the cache and the program's own
 * workerData come in workerData; the bootstrap puts the program's back in place before the program runs, so
 * the program sees what it would see as an eval'd worker (`require`, `module`, `__dirname`, workerData).
 * The cache comes back on a port of its own, so the program's messages are untouched.
 *
 * Kept in memory for the reloads and plugin restarts of the process, and in the cache directory for the
 * first worker of the next (code-cache-file.ts). A cache V8 refuses (another V8, other flags) costs its speed
 * only: the program then compiles as before, and its worker hands back a new cache.
 */
import { MessageChannel, Worker, type WorkerOptions } from 'node:worker_threads'
import { cacheDir } from '../cache-dir.ts'
import { codeCacheFileOf, keepCodeCacheFile, readCodeCacheFile } from './code-cache-file.ts'

/** One program's cache, shared by every worker started from that program. */
export interface CodeCache {
  /** The program's name: `wxengine:<name>` in stacks, as a file's name would be, and its cache file's. */
  readonly name: string
  readonly filename: string
  data?: Uint8Array
  /** How the workers that ran their program's top level compiled it: what a debug line or a test can tell. */
  readonly compiled: { fromCache: number; fromSource: number }
  /** The directory its cache is kept in between runs (code-cache-file.ts); false: memory only. */
  readonly dir: string | false
  /** Its file there, found with the first worker; null: memory only. */
  file?: string | null
}

export function newCodeCache(name: string, { dir = cacheDir() }: { dir?: string | false } = {}): CodeCache {
  return { name, filename: `wxengine:${name}`, dir, compiled: { fromCache: 0, fromSource: 0 } }
}

/** The bootstrap's one message: how it compiled, and the cache it made when it had none V8 took. */
interface Compiled {
  fromCache: boolean
  data?: Uint8Array
}

/** What the bootstrap finds in workerData. */
interface Boot {
  source: string
  filename: string
  cachedData?: Uint8Array
  /** Where the bootstrap says how it compiled (Compiled), with a cache when it was given none V8 took. */
  port: MessagePort
  data: unknown
}

// In a function, so that nothing of it outlives the program's start: a top-level `const` of an eval'd script
// lives as long as the thread, and the source and cache (some MB, counted against a plugin's memory) with it.
const BOOTSTRAP = `(function () {
const wt = require('node:worker_threads');
const boot = wt.workerData;
wt.workerData = boot.data;
const script = new (require('node:vm').Script)(
  '(function (exports, require, module, __filename, __dirname) {' + boot.source + '\\n})',
  { filename: boot.filename, cachedData: boot.cachedData });
const fromCache = boot.cachedData !== undefined && script.cachedDataRejected === false;
const run = script.runInThisContext();
try {
  run.call(exports, exports, require, module, __filename, __dirname);
} finally {
  // After the program's top level, so the cache holds the functions its start-up compiled too.
  try {
    boot.port.postMessage(fromCache ? { fromCache } : { fromCache, data: script.createCachedData() });
  } catch (e) {}
  boot.port.close();
}
})();
`

/**
 * `new Worker(source, { eval: true, ...options })`, compiled from `cache` when it holds one, filling it when
 * it does not. `options.workerData` is what the program reads as its workerData.
 */
export function startCodeCachedThread(source: string, cache: CodeCache, options: WorkerOptions = {}): Worker {
  if (cache.file === undefined) {
    cache.file = cache.dir === false ? null : codeCacheFileOf(cache.name, source, cache.dir)
    if (cache.file) cache.data ??= readCodeCacheFile(cache.file)
  }
  const { port1, port2 } = new MessageChannel()
  const boot: Boot = { source, filename: cache.filename, cachedData: cache.data, port: port2 as unknown as MessagePort, data: options.workerData }
  const worker = new Worker(BOOTSTRAP, { ...options, eval: true, workerData: boot, transferList: [...(options.transferList ?? []), port2] })
  port1.once('message', ({ fromCache, data }: Compiled) => {
    cache.compiled[fromCache ? 'fromCache' : 'fromSource']++
    if (!data) return
    cache.data = data
    if (cache.file) void keepCodeCacheFile(cache.file, cache.name, data)
  })
  // This end closes with the bootstrap's, after its message if any, or when the thread ends before it.
  port1.unref()
  return worker
}
