/**
 * Where a plugin's storage lives in the KvStore. One namespace per plugin; per-user keys share a prefix so
 * a user's data can be purged with one `deletePrefix` (log.purgeOnUnsubscribe), and plugin-wide keys get
 * their own prefix so no plugin-wide key can fall inside a user's prefix.
 */
export function pluginNamespace(plugin: string): string {
  return `plugin:${plugin}`
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
