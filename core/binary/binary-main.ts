/**
 * The single binary's entry (bundled to CommonJS by core/binary/build-binary.ts, so no top-level await).
 * Started as a plugin's child process (PLUGIN_CHILD_ENV), it runs the plugin worker program instead.
 * Before any command runs, plugin workers, the rules parser and the message-log thread are pointed at their
 * embedded programs (the log thread also at the extracted SQLite addon); better-sqlite3's
 * addon is swapped in at bundle time (see build-binary.ts) and written out on first use.
 */
import { createRequire } from 'node:module'
import { compileFunction } from 'node:vm'
import { childProgram, PLUGIN_CHILD_ENV } from '../plugin/plugin-process.ts'
import { useEmbeddedWorkerSource, workerEntry } from '../plugin/worker-entry.ts'
import { LOG_WORKER_ASSET, PLUGIN_WORKER_ASSET, RULES_WORKER_ASSET } from './asset-names.ts'
import { isSingleBinary, readTextAsset } from './sea-assets.ts'

if (isSingleBinary() && process.env[PLUGIN_CHILD_ENV] === '1' && process.send) {
  // A plugin's child process (limits.pluginIsolation 'process', core/plugin/plugin-process.ts): the worker
  // program, not the CLI, whose modules are not even loaded (imported below only for the CLI). Its
  // `require` loads built-ins, all the bundle needs.
  delete process.env[PLUGIN_CHILD_ENV]
  delete process.env.NODE_OPTIONS
  useEmbeddedWorkerSource(readTextAsset(PLUGIN_WORKER_ASSET))
  // As a CommonJS file's wrapper: the bundle's prelude re-points `__dirname` (worker-entry.ts).
  const run = compileFunction(childProgram(workerEntry()), ['exports', 'require', 'module', '__filename', '__dirname'], { filename: 'wxengine-plugin-worker.cjs' })
  const mod = { exports: {} }
  run(mod.exports, createRequire(process.execPath), mod, 'wxengine-plugin-worker.cjs', '.')
} else {
  void startCli().catch((e: unknown) => {
    process.stderr.write(`wxengine: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exitCode = 1
  })
}

async function startCli(): Promise<void> {
  const [{ exitQuietlyWhenStdoutCloses }, { buildCli }, { rulesParseProgram }, { useEmbeddedLogWorker }, { embeddedSqliteAddonFile }] = await Promise.all([
    import('../cli/cli-context.ts'),
    import('../cli/program.ts'),
    import('../route/rules/read-rules-off-thread.ts'),
    import('../store/sqlite-log-writer.ts'),
    import('./native-addon.ts'),
  ])
  if (isSingleBinary()) {
    useEmbeddedWorkerSource(readTextAsset(PLUGIN_WORKER_ASSET))
    rulesParseProgram.useEmbedded(readTextAsset(RULES_WORKER_ASSET))
    useEmbeddedLogWorker(readTextAsset(LOG_WORKER_ASSET), embeddedSqliteAddonFile)
  }
  exitQuietlyWhenStdoutCloses()
  await buildCli().parseAsync(process.argv)
}
