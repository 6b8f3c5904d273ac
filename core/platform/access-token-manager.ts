/**
 * The account's access_token (protocol.md §6, seeds/002 "Access token"):
 *   - valid about 2 h; every fetch from /cgi-bin/token makes the previous token stop working 5 min later,
 *     so instances must not each fetch their own: one refresher at a time, result shared in the TokenStore;
 *   - refreshed `refreshMarginMs` before expiry, while the old one still works;
 *   - refreshed on demand when the platform rejects it (40001, 40014, 42001), then the call is retried once;
 *     when that new one is rejected too, it is held a while, not replaced per call (REJECTED_HOLD_FIRST_MS);
 *   - not asked for again for a while when the answer can only change with a setting (wrong AppSecret, IP not
 *     whitelisted, daily quota: TOKEN_CONFIG_ERRCODES), and logged once naming that setting;
 *   - asked again at once, a few times, when the failure may pass by itself (-1 "system busy", no answer, a
 *     5xx page): one hiccup of the token API would otherwise fail every call waiting on this refresh; when
 *     all those tries failed, the next refresh waits 1 s, doubled after each refresh that failed so in a row
 *     up to a minute (TRANSIENT_HOLD_*), callers meanwhile getting the same failure: each late reply's and
 *     plugin's retries asked again for themselves, and an outage of an hour spent the day's 2000 fetches;
 *   - any other failure (an errcode the platform means, a garbled 200, a redirect, a 4xx page) is held as a
 *     setting's is: asking again answers the same way;
 *   - a lifetime (expires_in) past the 7200 s the platform gives is taken as 7200 s (MAX_LIFETIME_S): one of
 *     1e308 s was kept for ever (and refused by Redis as a TTL, every call failing as "store unavailable");
 *   - while an early refresh fails (inside the margin), the old token is served until it expires: it still
 *     works, and the refresh is tried again REFRESH_RETRY_MS later, not on every call.
 *
 * One refresh at a time has two layers: in this process, concurrent callers share one in-flight refresh
 * (single flight); across processes, `tokens.lock` picks the refresher and the others read its token from
 * the store (polling, bounded), serving the old token meanwhile if it has not expired.
 */
import type { EngineError, Result } from '../errors.ts'
import { fail, ok } from '../errors.ts'
import type { Logger } from '../log/logger.ts'
import { createLineBudget, type LineBudget } from '../log/line-budget.ts'
import type { HeldTokenLock, TokenRecord, TokenStore } from '../store/store.ts'
import { apiError, type ApiClient } from './api-client.ts'

/** After an early refresh failed, how long the old (still valid) token is served before the next try. */
export const REFRESH_RETRY_MS = 10_000

/** After a refresh whose every try failed transiently, no new one for this long; doubled per failure in a row. */
export const TRANSIENT_HOLD_FIRST_MS = 1_000
export const TRANSIENT_HOLD_MAX_MS = 60_000

/**
 * When the token fetched to replace a rejected one is rejected as well, it is not replaced again at once: a
 * third would be rejected too (another server with this AppSecret fetching with force_refresh, an apiBase
 * that is not the platform's), and replacing it on every call spent the token API's daily quota (2000), one
 * fetch per message. Calls with it fail meanwhile as it did, without a request; the hold doubles per such
 * rejection in a row, up to REJECTED_HOLD_MAX_MS, and ends with the first call a token answers.
 */
export const REJECTED_HOLD_FIRST_MS = 30_000
export const REJECTED_HOLD_MAX_MS = 10 * 60_000

/**
 * The longest lifetime taken from an answer: the platform's tokens and tickets live 7200 s ("目前是7200秒之内
 * 的值"). A longer one is a garbled answer, kept 7200 s (said once).
 */
export const MAX_LIFETIME_S = 7200

/** errcodes meaning "this access_token is not good (any more)": refresh and retry once. */
export const TOKEN_REJECTED_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001])

/**
 * A failed fetch worth repeating at once: -1 (the platform's "system busy, try again later"), no answer at all
 * (timeout, network error) or a 5xx page from something in between. Any other errcode is the platform's
 * considered answer, and a redirect, a 4xx page or a garbled 200 is a proxy or a setting (apiBase) that
 * answers the same way again.
 */
export function isTransientTokenError(error: EngineError): boolean {
  if (error.code !== 'API_ERROR') return false
  if (error.errcode !== undefined) return error.errcode === -1
  return error.httpStatus === undefined || error.httpStatus >= 500
}

/**
 * /cgi-bin/token answers that asking again cannot change: a setting or the account's administrator must.
 * Each names what to change. Asking again at once would only spend the token API's daily quota (2000,
 * seeds/002: "1天内获取次数有限"), one request per message or plugin call: held for `configErrorCooldownMs`.
 */
export const TOKEN_CONFIG_ERRCODES: ReadonlyMap<number, { setting: string; hint: string }> = new Map([
  [40013, { setting: 'accounts[].appId', hint: 'the platform does not know this AppID: check accounts[].appId (WECHAT_APPID)' }],
  [40125, { setting: 'accounts[].appSecret', hint: 'the AppSecret is wrong: check accounts[].appSecret (WECHAT_APPSECRET); resetting it in mp.weixin.qq.com changes it' }],
  [41002, { setting: 'accounts[].appId', hint: 'the AppID is missing: set accounts[].appId (WECHAT_APPID)' }],
  [41004, { setting: 'accounts[].appSecret', hint: 'the AppSecret is missing: set accounts[].appSecret (WECHAT_APPSECRET)' }],
  [40164, { setting: 'IP whitelist', hint: "this server's IP is not in the account's IP whitelist: add it in mp.weixin.qq.com (基本配置 > IP白名单)" }],
  [89503, { setting: 'IP whitelist', hint: "the platform asked the account's administrator to confirm this server's IP: have them confirm it, or add it to the IP whitelist" }],
  [89501, { setting: 'IP whitelist', hint: "this server's IP waits for the account's administrator to confirm it: have them confirm it, or add it to the IP whitelist" }],
  [89506, { setting: 'IP whitelist', hint: "the account's administrator refused this server's IP twice: it cannot ask for 24 h; add it to the IP whitelist" }],
  [89507, { setting: 'IP whitelist', hint: "the account's administrator refused this server's IP: it cannot ask for 1 h; add it to the IP whitelist" }],
  [40001, { setting: 'accounts[].appSecret', hint: "the AppSecret is wrong or not this account's (40001 from the token API): check accounts[].appSecret (WECHAT_APPSECRET)" }],
  [40243, { setting: 'accounts[].appSecret', hint: 'the AppSecret is frozen: unfreeze it in mp.weixin.qq.com (基本配置), then restart or wait for the next try' }],
  [45009, { setting: 'token daily quota', hint: 'the daily quota of /cgi-bin/token is used up (it resets at midnight); something else fetches tokens for this AppID, or fetched them in a loop: it can be reset once with /cgi-bin/clear_quota' }],
])

export interface AccessTokenManagerOptions {
  appId: string
  appSecret: string
  client: ApiClient
  tokens: TokenStore
  log: Logger
  /** The budget of the lines that can come once per API call (log/line-budget.ts); default one of its own. */
  lines?: LineBudget
  now?: () => number
  /** Refresh this long before expiry; default 5 minutes. */
  refreshMarginMs?: number
  /** Use POST /cgi-bin/stable_token instead of GET /cgi-bin/token. */
  useStableToken?: boolean
  /** Lifetime of the cross-instance refresh lock; must outlive one token fetch. Default 30 s. */
  lockTtlMs?: number
  /**
   * How long a caller waits for another instance's refresh before giving up. Default: as long as that refresh
   * may still succeed (refreshBoundMs, from the same settings) plus the holder's store round trips, so a
   * waiter never gives up on a refresh that is still trying.
   */
  lockWaitMs?: number
  /** After a TOKEN_CONFIG_ERRCODES answer, the same failure is returned without a request this long; default 60 s. */
  configErrorCooldownMs?: number
  /** Store polling interval while another instance refreshes; default 50 ms. */
  pollMs?: number
  /**
   * Tries of one fetch when it fails transiently (isTransientTokenError), the first included; default 3.
   * No try starts past half of `lockTtlMs` from the first, so the refresh lock still covers it.
   */
  fetchAttempts?: number
  /** Wait before the 2nd try, doubled before each next one; default 200 ms. */
  fetchRetryDelayMs?: number
  sleep?: (ms: number) => Promise<void>
  /**
   * Another of the account's credentials kept the same way, instead of the access_token: one with the same
   * life and the same rule (fetched rarely, shared by every instance), such as the jsapi_ticket
   * (core/platform/jsapi-ticket.ts). Stored under `key`, fetched by `request`, named `name` in the log lines;
   * `configErrcodes` are its own answers that only a setting changes (held as TOKEN_CONFIG_ERRCODES are for
   * the token, whose refusals its own manager holds and words already). appSecret and useStableToken are then
   * not used. A failure `request` marks `ofAccessToken` is not the credential's own answer but the
   * access_token's (fetched with it): that manager has held, worded and logged it already, so it is returned
   * as it is, neither worded with `configErrcodes` (an errcode may mean another API's quota there: 45009) nor
   * logged again on every call while that manager holds it.
   */
  credential?: {
    name: string
    key: string
    request: () => Promise<Result<{ value: string; expiresIn: number }> | AccessTokenFailure>
    configErrcodes: ReadonlyMap<number, { setting: string; hint: string }>
    /** The longest one `request` may take (it may wait on the access_token's own refresh); default the client's timeout. */
    requestBoundMs?: number
  }
}

/**
 * What the holder of the refresh lock may do after a waiter began waiting, besides fetching: read the
 * stored token (the double check) and store the new one. A Redis command fails after its command timeout
 * (1 s by default, twice that behind a hung pipeline: connect-redis.ts).
 */
export const LOCK_HOLDER_STORE_MS = 2_000

/**
 * The longest one refresh (fetchToken) can take: every try lasting its whole `requestMs` (a token API that
 * does not answer), the backoff between tries, and no try started past half of `lockTtlMs` (fetchToken's
 * rule), whichever ends first. With the defaults: 5 s + 0.2 s + 5 s + 0.4 s + 5 s = 15.6 s.
 */
export function refreshBoundMs(o: { requestMs: number; fetchAttempts: number; fetchRetryDelayMs: number; lockTtlMs: number }): number {
  let everyTry = 0
  for (let attempt = 1; attempt <= o.fetchAttempts; attempt++) {
    everyTry += o.requestMs
    if (attempt < o.fetchAttempts) everyTry += o.fetchRetryDelayMs * 2 ** (attempt - 1)
  }
  // Shorter tries leave room for more of them, but the last one starts before half of the lock's TTL.
  return Math.min(everyTry, o.fetchAttempts > 1 ? o.lockTtlMs / 2 + o.requestMs : everyTry)
}

/** A credential's fetch that failed for want of an access_token (see `credential`). */
export interface AccessTokenFailure {
  ok: false
  error: EngineError
  ofAccessToken: true
}

export interface AccessTokenManager {
  readonly appId: string
  /** The longest getToken waits on a refresh (this instance's or another's) before it answers. */
  readonly waitBoundMs: number
  /** A token valid for at least the refresh margin (or the old one while another instance refreshes). */
  getToken(): Promise<Result<string>>
  /** Forget a token the platform rejected, so the next getToken fetches a new one. */
  invalidate(token: string): Promise<void>
  /**
   * Run `call` with a token; on a rejected-token errcode, invalidate, refresh and retry exactly once; a new
   * token rejected as well is held a while (REJECTED_HOLD_FIRST_MS), calls with it failing without a request.
   */
  withToken<T>(call: (token: string) => Promise<Result<T>>): Promise<Result<T>>
}

export const TOKEN_PATH = '/cgi-bin/token'
export const STABLE_TOKEN_PATH = '/cgi-bin/stable_token'

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export function createAccessTokenManager(opts: AccessTokenManagerOptions): AccessTokenManager {
  const { appId, appSecret, client, tokens, log } = opts
  const lines = opts.lines ?? createLineBudget(log)
  const name = opts.credential?.name ?? 'access_token'
  /** Where the store keeps it, and the name of its refresh lock. */
  const key = opts.credential?.key ?? appId
  const configErrcodes = opts.credential?.configErrcodes ?? TOKEN_CONFIG_ERRCODES
  const now = opts.now ?? Date.now
  const marginMs = opts.refreshMarginMs ?? 5 * 60_000
  const lockTtlMs = opts.lockTtlMs ?? 30_000
  const pollMs = opts.pollMs ?? 50
  const sleep = opts.sleep ?? defaultSleep
  const cooldownMs = opts.configErrorCooldownMs ?? 60_000
  const fetchAttempts = Math.max(1, opts.fetchAttempts ?? 3)
  const fetchRetryDelayMs = opts.fetchRetryDelayMs ?? 200
  // Another instance's refresh is waited for as long as it may still succeed: a fixed 10 s gave up on one
  // whose third try (at 10.6 s, 5 s timeouts) was about to bring the token, and failed the caller's API call.
  const requestMs = opts.credential?.requestBoundMs ?? client.timeoutMs
  const lockWaitMs = opts.lockWaitMs ?? refreshBoundMs({ requestMs, fetchAttempts, fetchRetryDelayMs, lockTtlMs }) + LOCK_HOLDER_STORE_MS
  // Counted in polls, not clock time: an injected clock that stands still must not make the wait endless.
  const maxPolls = Math.max(1, Math.ceil(lockWaitMs / pollMs))

  /** Last token seen, to spare a store round trip per API call. */
  let memo: TokenRecord | undefined
  let inflight: Promise<Result<string>> | undefined
  let warnedShortLifetime = false
  let warnedLongLifetime = false
  /** The last failed refresh's answer, returned as is until `until` (a setting's, or a transient failure's hold). */
  let refused: { until: number; result: { ok: false; error: EngineError } } | undefined
  /** Refreshes in a row whose every try failed transiently: the hold after the next one doubles. */
  let transientInARow = 0
  /** When an early refresh last failed with the old token still valid: calls use that token meanwhile. */
  let refreshFailedAt = -Infinity
  /** A replacement token the platform rejected too: calls with it fail as `result` until `until`, without a request. */
  let rejectedHold: { token: string; until: number; result: { ok: false; error: EngineError } } | undefined
  /** Replacements rejected in a row: the next hold doubles. */
  let replacementsRejectedInARow = 0

  const isFresh = (r: TokenRecord, t: number) => t < r.expiresAt - marginMs
  const storeError = (e: unknown, op: string) => {
    const reason = `token store ${op} failed${name === 'access_token' ? '' : ` (${name})`}: ${e instanceof Error ? e.message : String(e)}`
    // Budgeted: with the store away every API call (a plugin's, a late reply's, a page's ticket) fails here,
    // and each wrote its line. Per credential and AppID: one account's outage does not hide another's.
    lines.error(`STORE_UNAVAILABLE ${name} ${appId}`, { code: 'STORE_UNAVAILABLE', reason, appId }, `${name} store failed`)
    return fail('STORE_UNAVAILABLE', reason)
  }

  /**
   * One token, tried again on a transient failure (all of this refresh's waiters share the tries: they wait
   * on `inflight`, and other instances on the lock). Logs every failure: a retry as a warning, the end as an
   * error.
   */
  async function fetchToken(): Promise<Result<TokenRecord>> {
    const startedAt = now()
    for (let attempt = 1; ; attempt++) {
      const r = await requestToken()
      if (r.ok) return r
      if ('ofAccessToken' in r) return { ok: false, error: r.error }
      const { code, reason, errcode } = r.error
      const config = errcode === undefined ? undefined : configErrcodes.get(errcode)
      if (config) {
        const held = apiError(`${reason} (${config.hint})`, errcode)
        held.error.setting = config.setting
        refused = { until: now() + cooldownMs, result: held }
        log.error(
          { code: held.error.code, reason: held.error.reason, errcode, setting: config.setting, appId, retryInMs: cooldownMs },
          `${name} fetch failed`,
        )
        return held
      }
      const transient = isTransientTokenError(r.error)
      const delayMs = fetchRetryDelayMs * 2 ** (attempt - 1)
      if (!transient || attempt >= fetchAttempts || now() - startedAt + delayMs >= lockTtlMs / 2) {
        const holdMs = transient ? Math.min(TRANSIENT_HOLD_MAX_MS, TRANSIENT_HOLD_FIRST_MS * 2 ** transientInARow++) : cooldownMs
        refused = { until: now() + holdMs, result: r }
        log.error({ code, reason, errcode, appId, attempts: attempt, transient, retryInMs: holdMs }, `${name} fetch failed`)
        return r
      }
      log.warn({ code, reason, errcode, appId, attempt, retryInMs: delayMs }, `${name} fetch failed; retrying`)
      await sleep(delayMs)
    }
  }

  /** One request to the token API and its answer checked; logs only success. */
  async function requestToken(): Promise<Result<TokenRecord> | AccessTokenFailure> {
    const sentAt = now()
    if (opts.credential) {
      const r = await opts.credential.request()
      if (!r.ok) return r
      return accepted(r.value.value, r.value.expiresIn, sentAt)
    }
    const r = opts.useStableToken
      ? await client.postJson(STABLE_TOKEN_PATH, undefined, {
          grant_type: 'client_credential',
          appid: appId,
          secret: appSecret,
          force_refresh: false,
        })
      : await client.getJson(TOKEN_PATH, { grant_type: 'client_credential', appid: appId, secret: appSecret })
    if (!r.ok) return r
    const where = opts.useStableToken ? `POST ${STABLE_TOKEN_PATH}` : `GET ${TOKEN_PATH}`
    const token = r.value.access_token
    const expiresIn = lifetimeOf(r.value.expires_in)
    // A 2xx answer (the client refuses others) of the wrong shape: a garbled 200, which asking again
    // answers the same way. Without an httpStatus it would read as "no answer" and be fetched 3 times.
    if (typeof token !== 'string' || token === '') return apiError(`${where}: the answer has no access_token`, undefined, 200)
    if (expiresIn === undefined) return apiError(`${where}: the answer's expires_in is not a number of seconds above 0 (${shownValue(r.value.expires_in)})`, undefined, 200)
    return accepted(token, expiresIn, sentAt)
  }

  function accepted(token: string, said: number, sentAt: number): Result<TokenRecord> {
    refused = undefined
    transientInARow = 0
    const expiresIn = Math.min(said, MAX_LIFETIME_S)
    if (said > MAX_LIFETIME_S && !warnedLongLifetime) {
      warnedLongLifetime = true
      log.warn({ appId, expiresIn: said, keptS: MAX_LIFETIME_S }, `${name} said to live ${said} s, longer than the ${MAX_LIFETIME_S} s the platform gives: kept ${MAX_LIFETIME_S} s`)
    }
    // Counted from when the request left: the conservative end of the token's life.
    const record = { token, expiresAt: sentAt + expiresIn * 1000 }
    if (expiresIn * 1000 <= marginMs && !warnedShortLifetime) {
      warnedShortLifetime = true
      log.warn({ appId, expiresIn, refreshMarginMs: marginMs }, `${name} lives shorter than the refresh margin; every call will refresh`)
    }
    log.info({ appId, expiresIn }, `${name} refreshed`)
    return ok(record)
  }

  async function refresh(): Promise<Result<string>> {
    for (let poll = 0; ; poll++) {
      let held: HeldTokenLock | null
      try {
        held = await tokens.lock(key, lockTtlMs)
      } catch (e) {
        return storeError(e, 'lock')
      }
      if (held) return refreshHoldingLock(held)

      // Another instance is refreshing: take its token once stored, or the old one while it still works.
      let current: TokenRecord | null
      try {
        current = await tokens.get(key)
      } catch (e) {
        return storeError(e, 'get')
      }
      const t = now()
      if (current && isFresh(current, t)) {
        memo = current
        return ok(current.token)
      }
      if (current && t < current.expiresAt) return ok(current.token)
      if (poll >= maxPolls) {
        const bad = apiError(`${name} refresh by another instance did not finish after ${maxPolls} polls of ${pollMs} ms`)
        log.error({ code: bad.error.code, reason: bad.error.reason, appId }, `${name} unavailable`)
        return bad
      }
      await sleep(pollMs)
    }
  }

  async function refreshHoldingLock(held: HeldTokenLock): Promise<Result<string>> {
    try {
      // Double check: another instance may have stored a fresh token between our read and the lock.
      const current = await tokens.get(key)
      if (current && isFresh(current, now())) {
        memo = current
        return ok(current.token)
      }
      const fetched = await fetchToken()
      if (!fetched.ok) return stillValid(current, fetched)
      // Stored only while the lock is still ours: a refresh paused past the lock's TTL (GC, SIGSTOP) wrote its
      // token over the newer one of the refresher that took the lock meanwhile. Refused, the token fetched
      // still answers this call (a replaced token works 5 more minutes: protocol.md §6) but is not kept:
      // the next call reads the stored one. The store logs the refusal with its reason.
      if (!(await held.set(fetched.value))) {
        lines.warn(`LOCK_LOST ${name} ${appId}`, { code: 'LOCK_LOST', appId, reason: `the ${name} refresh lock lapsed during the refresh (held ${lockTtlMs} ms)` }, `${name} fetched but not stored: the refresh lock lapsed, another instance may have stored a newer one`)
        return ok(fetched.value.token)
      }
      memo = fetched.value
      return ok(fetched.value.token)
    } catch (e) {
      return storeError(e, 'get/set')
    } finally {
      await held.release().catch((e: unknown) => log.warn({ appId, reason: String(e) }, `${name} lock release failed`))
    }
  }

  /**
   * A failed refresh, answered with the current token while it has not expired (an early refresh, inside the
   * margin): the token still works, so a hiccup of the token API fails no call until it really expires.
   */
  function stillValid(current: TokenRecord | null, failed: { ok: false; error: EngineError }): Result<string> {
    const t = now()
    if (!current || t >= current.expiresAt) return failed
    refreshFailedAt = t
    log.warn(
      { code: failed.error.code, errcode: failed.error.errcode, appId, expiresInMs: current.expiresAt - t, retryInMs: REFRESH_RETRY_MS },
      `${name} refresh failed; the current one is used until it expires`,
    )
    return ok(current.token)
  }

  async function getToken(): Promise<Result<string>> {
    const t = now()
    if (memo && isFresh(memo, t)) return ok(memo.token)
    if (inflight) return inflight
    let stored: TokenRecord | null
    try {
      stored = await tokens.get(key)
    } catch (e) {
      return storeError(e, 'get')
    }
    if (stored && isFresh(stored, now())) {
      memo = stored
      return ok(stored.token)
    }
    if (!inflight) {
      const refusal = refused !== undefined && now() < refused.until ? refused.result : undefined
      // Not fresh but not expired, after a failed refresh or a refusal: used, and no new try before its time.
      const held = refusal !== undefined || now() - refreshFailedAt < REFRESH_RETRY_MS
      if (held && stored && now() < stored.expiresAt) return ok(stored.token)
      if (refusal) return refusal
    }
    // Re-checked after the await: a caller that arrived meanwhile may have started the refresh.
    inflight ??= refresh().finally(() => {
      inflight = undefined
    })
    return inflight
  }

  async function invalidate(token: string): Promise<void> {
    if (memo?.token === token) memo = undefined
    try {
      await tokens.invalidate(key, token)
    } catch (e) {
      storeError(e, 'invalidate')
    }
  }

  async function withToken<T>(call: (token: string) => Promise<Result<T>>): Promise<Result<T>> {
    const first = await getToken()
    if (!first.ok) return first
    if (rejectedHold?.token === first.value && now() < rejectedHold.until) return rejectedHold.result
    const r = await call(first.value)
    if (r.ok || !isTokenRejected(r.error)) return answered(r)
    // Budgeted: once per call while the platform keeps rejecting fresh tokens (another server fetching them).
    lines.warn(`token rejected ${appId}`, { code: r.error.code, errcode: r.error.errcode, reason: r.error.reason, appId }, 'access_token rejected; refreshing and retrying once')
    await invalidate(first.value)
    const second = await getToken()
    if (!second.ok) return second
    const again = await call(second.value)
    if (again.ok || !isTokenRejected(again.error)) return answered(again)
    return hold(second.value, again.error)
  }

  /** An answer that shows a token works (or is not about the token): a hold, if any, ends. */
  function answered<T>(r: Result<T>): Result<T> {
    replacementsRejectedInARow = 0
    rejectedHold = undefined
    return r
  }

  /** The replacement `token` was rejected as well: held, not replaced, for a while (REJECTED_HOLD_FIRST_MS). */
  function hold(token: string, error: EngineError): { ok: false; error: EngineError } {
    const holdMs = Math.min(REJECTED_HOLD_MAX_MS, REJECTED_HOLD_FIRST_MS * 2 ** replacementsRejectedInARow++)
    const reason =
      `${error.reason} (the platform rejected the access_token fetched to replace a rejected one as well: another server ` +
      `using this AppSecret with force_refresh, or an apiBase that is not the platform's? not fetched again for ${holdMs / 1000} s, calls failing meanwhile)`
    const result = { ok: false as const, error: { ...error, reason } }
    rejectedHold = { token, until: now() + holdMs, result }
    log.error({ code: error.code, errcode: error.errcode, reason, appId, retryInMs: holdMs }, 'replacement access_token rejected')
    return result
  }

  return { appId, waitBoundMs: lockWaitMs, getToken, invalidate, withToken }
}

/**
 * `call` with the manager's token, as withToken does it; a failure that is not `call`'s answer but the
 * token's (none could be had: a refusal its manager holds, the token API out) is marked `ofAccessToken`, so
 * that what reads the answer (the jsapi_ticket, a template list) does not take it for that API's own.
 */
export async function withTokenTold<T>(manager: Pick<AccessTokenManager, 'withToken'>, call: (token: string) => Promise<Result<T>>): Promise<Result<T> | AccessTokenFailure> {
  let answered: Result<T> | undefined
  const r = await manager.withToken(async (token) => (answered = await call(token)))
  return r.ok || r === answered ? r : { ...r, ofAccessToken: true }
}

export function isTokenRejected(error: EngineError): boolean {
  return error.code === 'API_ERROR' && error.errcode !== undefined && TOKEN_REJECTED_ERRCODES.has(error.errcode)
}

/**
 * An answer's expires_in as seconds above 0: a number, or its digits as a string (a gateway that re-encodes
 * the JSON, as api-client.ts reads a string errcode); undefined for anything else.
 */
export function lifetimeOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN
  return Number.isFinite(n) && n > 0 ? n : undefined
}

/** A value of a JSON answer, as a reason shows it (JSON, cut to 40 characters), or `absent`. */
function shownValue(value: unknown): string {
  return value === undefined ? 'absent' : JSON.stringify(value).slice(0, 40)
}
