/** The plugin system as the engine uses it. Plugins themselves import only plugin-api.ts (`wxengine/plugin`). */
export { loadPluginSet } from './load-plugin-set.ts'
export type { LoadPluginSetOptions } from './load-plugin-set.ts'
export { bundleWorkerSource, useEmbeddedWorkerSource, workerEntry } from './worker-entry.ts'
export type { WorkerEntry } from './worker-entry.ts'
export { pluginNamespace, userKeyPrefix } from './storage-keys.ts'
export type { PluginCall, PluginManifest, PluginOutcome, PluginServices, PluginSet, SessionOp } from './plugin-host-types.ts'
