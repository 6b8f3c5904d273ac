/**
 * Which plugins' workers a reload starts again. A restart costs a plugin its setup, its `api.every` timers and
 * what it held in memory (and, as processes, a second set of them while the first drains), so a reload starts
 * again only the plugins something of theirs changed for:
 * - a file in the plugin's own folder (plugins/<name>/...), or the folder itself (added, removed);
 * - its settings in engine.config.ts (`plugins.<name>`).
 *
 * Every plugin is started again when what they all share changed: a shared-code folder (plugins/_shared/,
 * which any plugin may import), the settings every worker is started with (timeout, memory, isolation, the
 * accounts, login links), or when the reload was asked for as a whole (SIGHUP, runtime.reload()).
 */
import path from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import type { EngineConfig, PluginSettings } from '../config/config-types.ts'
import { isInside } from '../is-inside.ts'
import { isSharedCodeFolder } from '../plugin/shared-code-folders.ts'
import type { LoginLinkSettings } from '../web/login-link.ts'
import type { ChangedSources } from './watch-sources.ts'

/** What the plugins' workers are started with from the configuration (loadPluginSet's options). */
export interface PluginInputs {
  pluginsDir: string
  /** What every worker is started with: a change starts them all again. */
  shared: unknown
  /** Each plugin's own settings: a change starts that plugin again. */
  settings: Readonly<Record<string, PluginSettings>>
}

export function pluginInputsOf(config: EngineConfig, loginLinks: LoginLinkSettings): PluginInputs {
  return {
    pluginsDir: path.resolve(config.pluginsDir),
    shared: {
      timeoutMs: config.limits.pluginTimeoutMs,
      memoryMb: config.limits.pluginMemoryMb,
      isolation: config.limits.pluginIsolation,
      accounts: config.accounts.map((a) => ({ id: a.id, appId: a.appId, originalId: a.originalId })),
      web: loginLinks,
    },
    settings: config.plugins,
  }
}

/**
 * 'all', or the names of the plugins to start again (names of no plugin, a README.md directly in plugins/,
 * match nothing). An empty set: every worker serves on.
 */
export function pluginsToRestart(changed: ChangedSources, before: PluginInputs, after: PluginInputs): 'all' | ReadonlySet<string> {
  if (changed === 'everything' || before.pluginsDir !== after.pluginsDir || !isDeepStrictEqual(before.shared, after.shared)) return 'all'
  const names = new Set<string>()
  for (const file of changed) {
    if (!isInside(after.pluginsDir, file)) continue
    const first = path.relative(after.pluginsDir, file).split(path.sep)[0]!
    // plugins/ itself (removed, put back), or code any plugin may import.
    if (first === '' || isSharedCodeFolder(first)) return 'all'
    names.add(first)
  }
  for (const name of new Set([...Object.keys(before.settings), ...Object.keys(after.settings)])) {
    if (!isDeepStrictEqual(before.settings[name], after.settings[name])) names.add(name)
  }
  return names
}
