/**
 * Where each kind of state lives in Redis. Every key starts with the store's prefix (default `wx:`), so
 * several engines or test runs can share one Redis without seeing each other's data.
 *
 *   <p>session:<account>:<openId>    SessionRecord JSON, PX = time left
 *   <p>dedup:<key>                   `pending:<owner>` while claimed, then StoredReply JSON
 *   <p>kv:<namespace>:<key>          JsonValue JSON, optional PX
 *   <p>token:<appId>                 TokenRecord JSON, PX = time left
 *   <p>token-lock:<appId>            random owner value, PX = lock ttl
 *   <p>user-lock:<account>:<openId>  random owner value while an instance routes one of the user's messages
 *   <p>health                        written by healthy() to prove the server takes writes
 *
 * Only the last segment may contain `:` as is; earlier segments are escaped so that account `a:b` with
 * openId `c` and account `a` with openId `b:c` cannot share a key.
 */

export interface RedisKeys {
  session(account: string, openId: string): string
  /** What every session key of `account` (of every account, without one) begins with. */
  sessionsOf(account?: string): string
  dedup(key: string): string
  kv(namespace: string, key: string): string
  token(appId: string): string
  tokenLock(appId: string): string
  userLock(account: string, openId: string): string
  health(): string
}

export function escapeSegment(segment: string): string {
  return segment.replace(/%/g, '%25').replace(/:/g, '%3A')
}

/**
 * Makes a string match itself literally in a Redis glob (SCAN MATCH): `*`, `?`, `[`, `]` and `\` are
 * special there, and a backslash makes the next character literal.
 */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
}

export function createRedisKeys(prefix: string): RedisKeys {
  return {
    session: (account, openId) => `${prefix}session:${escapeSegment(account)}:${openId}`,
    sessionsOf: (account) => (account === undefined ? `${prefix}session:` : `${prefix}session:${escapeSegment(account)}:`),
    dedup: (key) => `${prefix}dedup:${key}`,
    kv: (namespace, key) => `${prefix}kv:${escapeSegment(namespace)}:${key}`,
    token: (appId) => `${prefix}token:${appId}`,
    tokenLock: (appId) => `${prefix}token-lock:${appId}`,
    userLock: (account, openId) => `${prefix}user-lock:${escapeSegment(account)}:${openId}`,
    health: () => `${prefix}health`,
  }
}
