/**
 * Loads every plugin in plugins/ into one PluginSet (one generation). A plugin that fails to load is
 * reported in `errors` and is absent from the set; the others load regardless.
 *
 * A reload that changed some plugins only (`reuse`) takes the others' running workers into the new set: a
 * worker then belongs to every set that holds it, and stops with the last of them (`holders`), so a set
 * given up (a refused reload) or retired never stops a worker another set serves with.
 */
import { readdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import type { PluginSettings } from '../config/config-types.ts'
import type { EngineError } from '../errors.ts'
import type { LineBudget } from '../log/line-budget.ts'
import type { Logger } from '../log/logger.ts'
import type { LoginLinkSettings } from '../web/login-link.ts'
import type { AccountInfo } from './plugin-api.ts'
import type { PluginManifest, PluginServices, PluginSet } from './plugin-host-types.ts'
import { resolvePluginIsolation, type PluginIsolationSetting } from './plugin-isolation.ts'
import { createPluginRunner, type PluginRunner } from './plugin-runner.ts'
import { readPluginFolder } from './read-plugin-folder.ts'
import { isSharedCodeFolder, sharedFolderNote } from './shared-code-folders.ts'
import { didYouMean } from '../did-you-mean.ts'
import { createLimiter } from '../limit-concurrency.ts'

export interface LoadPluginSetOptions {
  dir: string
  settings: Record<string, PluginSettings>
  /** config limits.pluginTimeoutMs, for plugins without their own timeoutMs. */
  defaultTimeoutMs: number
  /** config limits.pluginMemoryMb, for plugins without their own memoryMb. */
  defaultMemoryMb?: number
  /** config limits.pluginIsolation: each worker a thread or a child process (default: plugin-isolation.ts's). */
  isolation?: PluginIsolationSetting
  services: PluginServices
  log: Logger
  /** The engine's budget of per-message lines (a plugin call timed out, ...), over `log`: plugin-runner.ts. */
  lines?: LineBudget
  /** Bound on loading one plugin and running its setup. */
  startTimeoutMs?: number
  /** The engine's accounts, for setup's `api.accounts` and `api.platform` (none when left out). */
  accounts?: AccountInfo[]
  /** What plugins build login links with (`ctx.web`); none can be built when left out. */
  web?: LoginLinkSettings
  /** Bound on one plugin's dispose(). */
  disposeTimeoutMs?: number
  /** A reload's: the plugins of `from` to take as they run (their folders and settings unchanged), not start again. */
  reuse?: { from: PluginSet; names: ReadonlySet<string> }
}

/** A plugin's running worker and what it was loaded as, shared by the sets that hold it. */
interface LoadedPlugin {
  runner: PluginRunner
  manifest: PluginManifest
  /** How many sets hold it; the last one's dispose stops the worker. */
  holders: number
}

/** Each set's plugins, for a reload's `reuse` and `retire` (which must see whether the next set holds the same worker). */
const loadedOf = new WeakMap<PluginSet, ReadonlyMap<string, LoadedPlugin>>()

const DEFAULT_START_TIMEOUT_MS = 15_000
const DEFAULT_DISPOSE_TIMEOUT_MS = 2_000
const DEFAULT_MEMORY_MB = 256

export async function loadPluginSet(opts: LoadPluginSetOptions): Promise<{ set: PluginSet; errors: EngineError[] }> {
  const dir = resolve(opts.dir)
  const errors: EngineError[] = []
  const isolation = resolvePluginIsolation(opts.isolation)
  const names = listPluginFolders(dir, opts.log)
  for (const { plugin, message } of settingsWithoutFolder(opts.settings, names, dir)) opts.log.warn({ plugin }, message)

  // Starting a worker is CPU work (vm2, sucrase, the plugin's own setup): more at once than there are
  // cores only makes each slower, and each is bounded by the start timeout.
  const limit = createLimiter(Math.max(1, availableParallelism()))
  const reusable = opts.reuse && loadedOf.get(opts.reuse.from)
  const started = await Promise.all(
    names.map(async (name): Promise<{ name: string; loaded: LoadedPlugin } | undefined> => {
      const settings = opts.settings[name] ?? {}
      if (settings.enabled === false) {
        opts.log.info({ plugin: name }, `plugin ${name} is disabled`)
        return undefined
      }
      const running = opts.reuse?.names.has(name) ? reusable?.get(name) : undefined
      if (running) return { name, loaded: running }
      const folder = readPluginFolder(join(dir, name), name, settings.config)
      if (!folder.ok) {
        errors.push(folder.error)
        return undefined
      }
      const runner = createPluginRunner({
        init: {
          name,
          dir: folder.value.dir,
          entry: folder.value.entry,
          config: folder.value.config,
          allow: settings.allow ?? [],
          disposeTimeoutMs: opts.disposeTimeoutMs ?? DEFAULT_DISPOSE_TIMEOUT_MS,
          logLevel: opts.services.log.level,
          accounts: opts.accounts ?? [],
          web: opts.web ?? { publicUrl: undefined, accounts: [] },
        },
        timeoutMs: settings.timeoutMs ?? opts.defaultTimeoutMs,
        startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
        memoryMb: settings.memoryMb ?? opts.defaultMemoryMb ?? DEFAULT_MEMORY_MB,
        ...(settings.memoryMb === undefined ? {} : { memorySetting: `plugins.${name}.memoryMb` }),
        services: opts.services,
        isolation,
        log: opts.log.child({ plugin: name }),
        lines: opts.lines,
      })
      const result = await limit(() => runner.start())
      if (!result.ok) {
        errors.push({ code: 'PLUGIN_LOAD', reason: `plugin ${name}: ${result.error.reason}` })
        return undefined
      }
      return { name, loaded: { runner, manifest: folder.value.manifest, holders: 0 } }
    }),
  )

  const plugins = new Map<string, LoadedPlugin>()
  for (const p of started) if (p) plugins.set(p.name, p.loaded)
  for (const e of errors) opts.log.error({ code: e.code, reason: e.reason }, e.reason)
  return { set: createPluginSet(plugins), errors }
}

/**
 * Settings in engine.config.ts for a plugin with no folder (a misspelt name): they apply to nothing. Said by
 * the start and by `rules check`, with the plugins' directory as each shows it.
 */
export function settingsWithoutFolder(settings: Record<string, PluginSettings>, folders: string[], shownDir: string): Array<{ plugin: string; message: string }> {
  return Object.keys(settings)
    .filter((name) => !folders.includes(name))
    .map((name) => ({ plugin: name, message: `engine.config.ts has settings for plugin "${name}", which is not in ${shownDir}${sharedFolderNote(name)}: they apply to nothing${didYouMean(name, folders)}` }))
}

/** The plugin folders the engine loads from `dir` (not `.hidden` ones, nor `_shared` code: shared-code-folders.ts), sorted; [] when it is missing. */
export function listPluginFolders(dir: string, log?: Logger): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && !isSharedCodeFolder(d.name))
      .map((d) => d.name)
      .sort()
  } catch (e) {
    // An engine that answers only with inline replies needs no plugins/ folder.
    log?.info({ dir }, `no plugins loaded: ${e instanceof Error ? e.message : String(e)}`)
    return []
  }
}

function createPluginSet(plugins: ReadonlyMap<string, LoadedPlugin>): PluginSet {
  for (const p of plugins.values()) p.holders++
  let disposing: Promise<void> | undefined
  const set: PluginSet = {
    has: (name) => plugins.has(name),
    names: () => [...plugins.keys()],
    manifest: (name) => plugins.get(name)?.manifest,
    sharedAreas: () => [...new Set([...plugins.values()].flatMap((p) => p.runner.sharedAreas()))].sort(),
    invoke(call) {
      const p = plugins.get(call.plugin)
      if (!p) {
        return Promise.resolve({
          status: 'error',
          error: { code: 'PLUGIN_ERROR', reason: `no plugin named ${JSON.stringify(call.plugin)} is loaded` },
          sessionOps: [],
        })
      }
      return p.runner.invoke(call)
    },
    retire(next) {
      const nextLoaded = loadedOf.get(next)
      for (const [name, p] of plugins) {
        // Taken into the next set as it runs: its calls stay its own.
        if (nextLoaded?.get(name) === p) continue
        p.runner.handOver(next.has(name) ? (call) => next.invoke(call) : undefined)
      }
    },
    dispose(o) {
      disposing ??= Promise.all([...plugins.values()].map((p) => (--p.holders === 0 ? p.runner.dispose(o?.callsWithinMs) : undefined))).then(() => undefined)
      return disposing
    },
  }
  loadedOf.set(set, plugins)
  return set
}
