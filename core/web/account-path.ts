/**
 * Which account a path under one of the web endpoints names, as /wechat does (receive/read-request.ts):
 * `<prefix>` -> the default account, `<prefix>/<id>` -> id (a trailing slash allowed), another path under
 * `<prefix>/` -> '' (no such account), anything else -> null (not this endpoint's).
 */
export function accountUnder(prefix: string, path: string, defaultAccount: string): string | null {
  if (path === prefix || path === `${prefix}/`) return defaultAccount
  if (!path.startsWith(`${prefix}/`)) return null
  const id = path.endsWith('/') ? path.slice(prefix.length + 1, -1) : path.slice(prefix.length + 1)
  if (id === '' || id.includes('/')) return ''
  try {
    return decodeURIComponent(id)
  } catch {
    return ''
  }
}
