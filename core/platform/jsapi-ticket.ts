/**
 * The account's jsapi_ticket (seeds/002 "JS-SDK": access_token -> jsapi_ticket -> the wx.config signature),
 * from GET /cgi-bin/ticket/getticket?type=jsapi: `{ errcode: 0, errmsg: 'ok', ticket, expires_in: 7200 }`.
 *
 * WeChat limits how often it may be fetched and asks every server to cache it globally, as the access_token:
 * so it is kept exactly as the token is (access-token-manager.ts): in the store, shared by every instance,
 * one refresher at a time, refreshed before it expires, the old one served while a refresh fails. Its own
 * store key keeps it apart from the token's.
 */
import type { Result } from '../errors.ts'
import { ok } from '../errors.ts'
import type { Logger } from '../log/logger.ts'
import type { LineBudget } from '../log/line-budget.ts'
import { createAccessTokenManager, LOCK_HOLDER_STORE_MS, lifetimeOf, withTokenTold, type AccessTokenFailure, type AccessTokenManager } from './access-token-manager.ts'
import { apiError, type ApiClient } from './api-client.ts'
import type { TokenStore } from '../store/store.ts'

export const TICKET_PATH = '/cgi-bin/ticket/getticket'

/**
 * getticket's own answers that asking again cannot change, held a minute as the token's are. Not the token's
 * (40125, 40164, ...): those come through the token manager, which holds them and names their setting already.
 */
export const TICKET_CONFIG_ERRCODES: ReadonlyMap<number, { setting: string; hint: string }> = new Map([
  [45009, { setting: 'jsapi_ticket daily quota', hint: 'the daily quota of /cgi-bin/ticket/getticket is used up (it resets at midnight): something else fetches tickets for this AppID; share this engine\'s (/jssdk-config) instead' }],
])

/** Tries of one ticket fetch that fails in passing (isTransientTokenError), the first included: as the token's. */
export const TICKET_FETCH_ATTEMPTS = 3

export interface JsapiTicket {
  /** A ticket valid for at least the refresh margin. */
  get(): Promise<Result<string>>
}

export interface JsapiTicketOptions {
  appId: string
  /** The account's access_token manager's `withToken`: getticket is called with its token, retried once on a rejected one. */
  withToken: AccessTokenManager['withToken']
  /** That manager's `waitBoundMs`: a getticket request may first wait this long for the access_token. */
  tokenWaitBoundMs: number
  client: ApiClient
  tokens: TokenStore
  log: Logger
  /** The budget of per-call lines, shared with the engine's (log/line-budget.ts). */
  lines?: LineBudget
  now?: () => number
}

export function ticketKey(appId: string): string {
  return `jsapi_ticket:${appId}`
}

export function createJsapiTicket(opts: JsapiTicketOptions): JsapiTicket {
  // One request is withToken's: the access_token (perhaps refreshed), getticket, and once more both when the
  // platform rejects the token. Another instance's ticket refresh is waited for that long, and the refresh
  // lock outlives it: the manager's defaults (5 s requests) gave up on a ticket still coming.
  const requestBoundMs = 2 * (opts.tokenWaitBoundMs + opts.client.timeoutMs)
  const manager = createAccessTokenManager({
    appId: opts.appId,
    appSecret: '',
    client: opts.client,
    tokens: opts.tokens,
    log: opts.log,
    lines: opts.lines,
    now: opts.now,
    // getticket's own passing failures (-1 "system busy", no answer, a 5xx page) are tried again as the
    // token's are, the same few times with the same backoff: with one try, one busy answer failed every page
    // view waiting on this refresh. The token under it is not tried again here: a failure of the token is
    // marked (withTokenTold) and returned at once, its own manager has tried it 3 times already, and a second
    // layer of tries would multiply them, each spending the token API's daily quota.
    fetchAttempts: TICKET_FETCH_ATTEMPTS,
    // No try starts past half the lock's life (fetchToken's rule), and one try may last requestBoundMs: the
    // lock outlives the last try that starts and the storing of its ticket, so no other instance fetches too.
    lockTtlMs: Math.max(30_000, 2 * (requestBoundMs + 2 * LOCK_HOLDER_STORE_MS)),
    credential: { name: 'jsapi_ticket', key: ticketKey(opts.appId), request: requestTicket, configErrcodes: TICKET_CONFIG_ERRCODES, requestBoundMs },
  })

  async function requestTicket(): Promise<Result<{ value: string; expiresIn: number }> | AccessTokenFailure> {
    // getticket's own answer, told apart from a failure of the access_token under it (a refusal its manager
    // holds: 40164, its own 45009 quota): that one is the token's, worded and logged by its manager already.
    const r = await withTokenTold({ withToken: opts.withToken }, (token) => opts.client.getJson(TICKET_PATH, { type: 'jsapi', access_token: token }))
    if (!r.ok) return r
    const { ticket } = r.value
    const expiresIn = lifetimeOf(r.value.expires_in)
    if (typeof ticket !== 'string' || ticket === '' || expiresIn === undefined) {
      // A garbled 200 (as the token manager says of its own): asking again answers the same way.
      return apiError(`GET ${TICKET_PATH}: the answer has no ticket/expires_in`, undefined, 200)
    }
    return ok({ value: ticket, expiresIn })
  }

  return { get: () => manager.getToken() }
}
