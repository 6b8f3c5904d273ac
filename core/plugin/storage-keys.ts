/**
 * Where a plugin's storage lives in the KvStore. One namespace per plugin; per-user keys share a prefix so
 * a user's data can be purged with one `deletePrefix` (log.purgeOnUnsubscribe), and plugin-wide keys get
 * their own prefix so no plugin-wide key can fall inside a user's prefix.
 */
export function pluginNamespace(plugin: string): string {
  return `plugin:${plugin}`
}

/**
 * A shared storage area's namespace (ctx.storage.shared): a prefix of its own, so no area is any plugin's
 * namespace, whatever the names.
 */
export function sharedNamespace(area: string): string {
  return `shared:${area}`
}

/** A shared area's name, as a plugin's is (lowercase letters, digits, single hyphens), at most 40 characters. */
export const SHARED_AREA_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/
export const MAX_SHARED_AREA_CHARS = 40
/** Areas one plugin may declare: a list, not a namespace per key. */
export const MAX_SHARED_AREAS = 16

export function isSharedAreaName(area: unknown): area is string {
  return typeof area === 'string' && area.length <= MAX_SHARED_AREA_CHARS && SHARED_AREA_NAME.test(area)
}

export function userKeyPrefix(openId: string): string {
  return `u:${openId}:`
}

export function userKey(openId: string, key: string): string {
  return userKeyPrefix(openId) + key
}

export function globalKey(key: string): string {
  return `g:${key}`
}

/** Every namespace where a user of these plugins may have keys: each plugin's own, and each shared area's. */
export function storageNamespacesOf(plugins: { names(): string[]; sharedAreas(): string[] }): string[] {
  return [...plugins.names().map(pluginNamespace), ...plugins.sharedAreas().map(sharedNamespace)]
}
