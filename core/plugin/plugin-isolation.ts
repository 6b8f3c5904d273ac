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
 * The default of limits.pluginIsolation: a plugin's one-line mistake must not take every account down, so
 * processes where threads cannot promise it, at ~40 MB more a plugin (docs/plugins.md#sandbox). The whole
 * suite runs under it on Node 20 and 22 (processes) and 24 (threads).
 */
export const DEFAULT_PLUGIN_ISOLATION: PluginIsolationSetting = 'auto'

/** The first Node major whose worker threads stop alone at their heap limit. */
const THREAD_SAFE_AT_HEAP_LIMIT_FROM = 24

/** `auto`: a process on Node < 24, a thread from 24 on. */
export function resolvePluginIsolation(setting: PluginIsolationSetting = DEFAULT_PLUGIN_ISOLATION, nodeVersion: string = process.versions.node): PluginIsolation {
  if (setting !== 'auto') return setting
  return Number(nodeVersion.split('.')[0]) >= THREAD_SAFE_AT_HEAP_LIMIT_FROM ? 'thread' : 'process'
}
