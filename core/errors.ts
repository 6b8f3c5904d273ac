/**
 * Every way a request or a plugin call can fail, in one place.
 * Codes are stable: logs, metrics and tests match on them.
 *
 *   BAD_QUERY          a push's timestamp or nonce missing or invalid, or a mode the account
 *                      does not take (plaintext to a safe-mode account)    -> 400
 *   BAD_SIGNATURE      signature or msg_signature missing or not matching;
 *                      a verification GET missing any of its parameters    -> 401
 *   STALE_TIMESTAMP    timestamp outside the replay window                 -> 401
 *   BODY_TOO_LARGE     body over the configured limit                      -> 413
 *   BAD_BODY           the body could not be read (the client left midway) -> 400
 *                      compressed (Content-Encoding) or UTF-16             -> 415
 *   BAD_HTTP           not HTTP node can parse (before Koa sees a request) -> 400 (431 headers too large)
 *   REQUEST_TIMEOUT    headers and body not received within the limit      -> 408
 *   METHOD_NOT_ALLOWED a method other than GET or POST on /wechat          -> 405
 *   BAD_XML            not well-formed XML, or not a <xml> document        -> 400
 *   XML_DTD_FORBIDDEN  DOCTYPE / ENTITY declaration (XXE, billion laughs)  -> 400
 *   MISSING_FIELD      ToUserName / FromUserName / MsgType absent          -> 400
 *   BAD_ENCRYPT        Encrypt not base64, wrong block size, bad padding,
 *                      length field past the end                           -> 400
 *   WRONG_APPID        decrypted AppId differs from the account's          -> 401
 *   UNKNOWN_ACCOUNT    no account with that id                             -> 404
 *   UNAUTHORIZED       /healthz or /metrics without the admin token        -> 401
 *   BAD_CONFIG         configuration invalid (at start; or read again at a reload, which is refused)
 *   RULE_INVALID       a rules file failed validation (file:line)
 *   PLUGIN_LOAD        a plugin failed to load
 *   PLUGIN_ERROR       a plugin threw / rejected
 *   PLUGIN_TIMEOUT     a plugin exceeded its deadline (worker restarted)
 *   PLUGIN_BAD_REPLY   a plugin returned something that is not a Reply
 *   MEDIA_UNAVAILABLE  an inline reply's media file has no media_id for the account (its upload failed,
 *                      or the account has no appSecret): the rule fails as a failing plugin does
 *   STORE_UNAVAILABLE  the state store could not be reached
 *   API_ERROR          the platform API answered an errcode
 *   LOG_UNWRITABLE     the process log (stdout) cannot be written (a full disk); the engine serves on
 *   FD_EXHAUSTED       the process is at its open-files limit: the OS drops new connections before node
 *                      sees them (server/open-files-watch.ts says so once a second while it lasts)
 *   INTERNAL           a bug: logged with a stack, answered `success`
 */
import type { JsonValue } from './plugin/plugin-api.ts'

export type ErrorCode =
  | 'BAD_QUERY'
  | 'BAD_SIGNATURE'
  | 'STALE_TIMESTAMP'
  | 'BODY_TOO_LARGE'
  | 'BAD_BODY'
  | 'BAD_HTTP'
  | 'REQUEST_TIMEOUT'
  | 'METHOD_NOT_ALLOWED'
  | 'BAD_XML'
  | 'XML_DTD_FORBIDDEN'
  | 'MISSING_FIELD'
  /** A push handled already, seen again past the reply cache but inside the replay window: answered `success`, not run (dedup/replay-memory.ts). */
  | 'REPLAYED'
  | 'BAD_ENCRYPT'
  | 'WRONG_APPID'
  | 'UNKNOWN_ACCOUNT'
  | 'UNAUTHORIZED'
  | 'BAD_CONFIG'
  | 'RULE_INVALID'
  | 'PLUGIN_LOAD'
  | 'PLUGIN_ERROR'
  | 'PLUGIN_TIMEOUT'
  | 'PLUGIN_BAD_REPLY'
  | 'MEDIA_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  /**
   * A write fenced by a lock in the shared store (a user's session, the access_token) refused: the lock was
   * no longer the writer's (it lapsed while the writer was paused past its TTL, and another instance may hold it).
   */
  | 'LOCK_LOST'
  | 'API_ERROR'
  | 'LOG_UNWRITABLE'
  | 'FD_EXHAUSTED'
  | 'RATE_LIMITED'
  | 'INTERNAL'

export interface EngineError {
  code: ErrorCode
  reason: string
  /** API_ERROR only: the platform's errcode (protocol.md §6); absent for network failures and timeouts. */
  errcode?: number
  /** API_ERROR only: the HTTP status of an answer that carried no errcode (a gateway's page, a redirect). */
  httpStatus?: number
  /**
   * API_ERROR with an errcode only: the platform's whole answer. Some refusals carry more than errcode and
   * errmsg: a mass send's 45065 (its clientmsgid already sent) names the msg_id of the send it repeats.
   */
  answer?: { [key: string]: JsonValue }
  /**
   * A refusal only a setting changes (the token API's wrong AppSecret, an IP not in the whitelist): the
   * setting. Asking again answers the same, so a caller that retries (the late-reply sender) stops.
   */
  setting?: string
}

export type Result<T, E = EngineError> = { ok: true; value: T } | { ok: false; error: E }

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value })
export const fail = (code: ErrorCode, reason: string): Result<never, EngineError> => ({
  ok: false,
  error: { code, reason },
})

/** HTTP status for errors a client can cause; anything else is ours and is answered 500-free. */
export const httpStatusOf: Partial<Record<ErrorCode, number>> = {
  BAD_QUERY: 400,
  BAD_SIGNATURE: 401,
  STALE_TIMESTAMP: 401,
  BODY_TOO_LARGE: 413,
  BAD_BODY: 400,
  BAD_HTTP: 400,
  REQUEST_TIMEOUT: 408,
  METHOD_NOT_ALLOWED: 405,
  BAD_XML: 400,
  XML_DTD_FORBIDDEN: 400,
  MISSING_FIELD: 400,
  BAD_ENCRYPT: 400,
  WRONG_APPID: 401,
  UNKNOWN_ACCOUNT: 404,
  UNAUTHORIZED: 401,
}

/**
 * A fault in our own code rather than in what it depends on: the errors JavaScript raises for a bug (a
 * property of undefined, a name not defined, a value out of range). A store reached over a socket or a
 * file fails with plain Errors of its own (ioredis, SQLite), so the engine tells an outage from a bug by this.
 */
export function isBug(e: unknown): boolean {
  return e instanceof TypeError || e instanceof ReferenceError || e instanceof RangeError || e instanceof SyntaxError
}
