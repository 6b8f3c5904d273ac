/**
 * Where a plugin's worker program runs: a worker thread of the engine's process, or a child process of its
 * own (plugin-process.ts). limits.pluginIsolation picks; docs/plugins.md#sandbox says what each costs.
 *
 * Why a process at all: on Node 20 and 22 a worker thread that reaches its V8 heap limit with one allocation
 * larger than node's 16 MB leeway ends the whole process ("FATAL ERROR: Reached heap limit"), every account
 * down; node 24 stops only the worker. A child process that does so ends only itself, and is restarted.
 */
export type PluginIsolationSetting = 'auto' | 'thread' | 'process'
export type PluginIsolation = 'thread' | 'process'

/**
 * The default of limits.pluginIsolation: the one place to change it (to 'auto', once the whole suite has run
 * under process isolation).
 */
export const DEFAULT_PLUGIN_ISOLATION: PluginIsolationSetting = 'thread'

/** The first Node major whose worker threads stop alone at their heap limit. */
const THREAD_SAFE_AT_HEAP_LIMIT_FROM = 24

/** `auto`: a process on Node < 24, a thread from 24 on. */
export function resolvePluginIsolation(setting: PluginIsolationSetting = DEFAULT_PLUGIN_ISOLATION, nodeVersion: string = process.versions.node): PluginIsolation {
  if (setting !== 'auto') return setting
  return Number(nodeVersion.split('.')[0]) >= THREAD_SAFE_AT_HEAP_LIMIT_FROM ? 'thread' : 'process'
}
