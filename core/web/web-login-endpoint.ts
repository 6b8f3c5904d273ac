/**
 * A page's web login (网页授权): who the WeChat user opening a page is, without the page holding the
 * AppSecret. Three requests, the first two in the user's browser:
 *
 *   GET /oauth[/<account>]?to=<page>[&scope=base|userinfo]
 *       -> a login cookie (login-cookie.ts) and 302 to WeChat's consent (open.weixin.qq.com), which comes
 *          back to this same path with `code` and `state`: the engine's host must be the account's 网页授权域名.
 *   GET /oauth[/<account>]?code=&state=      (WeChat's redirect back, in the browser that started it)
 *       -> the code exchanged for the user's openid (and, for userinfo, their profile), kept under a one-time
 *          ticket for 5 minutes, and 302 to the page with `wxe_ticket=<ticket>` added (`wxe_login=refused`
 *          when the user refused a userinfo login).
 *   GET /oauth-identity[/<account>]?ticket=  (from the page's server, or its script)
 *       -> 200 `{ openid, scope, unionid?, snapshot?, userinfo? }` once; the ticket is gone after.
 *
 * Why a ticket, not the openid in the URL: a URL is easy to forge and leaks into logs and Referer headers; a
 * ticket is random, good once, for minutes, and only ever sent to the account's own pages (`to` must be on
 * its pageDomains), so no link can deliver someone's identity to another site. The login in progress lives
 * in a signed cookie of the browser that started it, so a callback URL handed to someone else does not log
 * them in (login CSRF), and starting logins writes nothing to the store (finishing one spends its state there).
 *
 * Tickets are kept in the store's kv (shared by a fleet on Redis: the redemption may land on another
 * instance; the cookie is read by any). Every refusal leaves a `web login refused` line with the reason
 * (budgeted); the browser steps answer it as text, /oauth-identity as JSON `{ error, reason }`.
 */
import { randomBytes } from 'node:crypto'
import type Koa from 'koa'
import type { AccountConfig } from '../config/config-types.ts'
import type { ErrorCode } from '../errors.ts'
import type { LineBudget } from '../log/line-budget.ts'
import type { Logger } from '../log/logger.ts'
import type { ApiClient } from '../platform/api-client.ts'
import { authorizeUrl, identityFromCode, type WebIdentity, type WebScope } from '../platform/web-authorization.ts'
import type { JsonValue } from '../plugin/plugin-api.ts'
import { accountPathReader, readQuery } from '../receive/read-request.ts'
import type { KvStore } from '../store/store.ts'
import { answerCors } from './page-cors.ts'
import { pageProblem } from './page-domains.ts'
import { loginCookieName, loginCookiesIn, loginKey, MAX_LOGIN_TO, MAX_PENDING_LOGINS, openLogin, sealLogin } from './login-cookie.ts'
import { downgradeProblem } from './login-link.ts'
import { createRefuse } from './web-refusal.ts'
import type { CountWebRequest, WebEndpointName } from './web-outcome.ts'

export const LOGIN_PATH = '/oauth'
export const IDENTITY_PATH = '/oauth-identity'
const loginAccountOf = accountPathReader(LOGIN_PATH)
const identityAccountOf = accountPathReader(IDENTITY_PATH)
export const LOGIN_NAMESPACE = 'oauth'
/** A login not back from WeChat within this is forgotten (WeChat's own code lives 5 minutes). */
export const PENDING_LOGIN_MS = 10 * 60_000
/** A ticket not redeemed within this is forgotten. */
export const TICKET_MS = 5 * 60_000
/** A ticket is this many random bytes, as base64url: 24 characters. */
const TICKET_BYTES = 18
const TICKET_FORMAT = /^[A-Za-z0-9_-]{24}$/

export interface WebLoginOptions {
  accounts: readonly AccountConfig[]
  defaultAccount: string
  /** The engine's publicUrl (validated, no trailing slash): the address WeChat is told to come back to. */
  publicUrl?: string
  /** https://open.weixin.qq.com (platform.openBase). */
  openBase: string
  client: ApiClient
  kv: KvStore
  /** An account's pageDomains as they stand now: the serving generation's, so a reload applies a change. */
  pageDomainsOf: (accountId: string) => readonly string[]
  log: Logger
  lines: LineBudget
  /** Each answer, for /metrics. */
  count?: CountWebRequest
  now?: () => number
}

/**
 * The code exchange's refusals that are the code's (WeChat's 网页授权 errors): 40029 invalid (unknown, expired,
 * another AppID's), 40163 used already. What the browser came back with, not a failing platform.
 */
const BAD_CODE_ERRCODES: ReadonlySet<number> = new Set([40029, 40163])

/** `scope=` to the platform's; a Map, so `__proto__` or `constructor` is no scope. */
const SCOPES: ReadonlyMap<string, WebScope> = new Map([
  ['base', 'snsapi_base'],
  ['snsapi_base', 'snsapi_base'],
  ['userinfo', 'snsapi_userinfo'],
  ['snsapi_userinfo', 'snsapi_userinfo'],
])

/**
 * The page to go back to, with `name=value` in its query: as parsed (what was checked is what is used: a
 * `https:h5.example.com` or a leading space would otherwise read as a path on the engine's host), without
 * any `wxe_` parameter it came with (a link carrying someone else's ticket must not put two in the URL), its
 * `#fragment` kept (a single-page app's route).
 */
export function backToPage(to: string, name: string, value: string): string {
  const url = new URL(to)
  // Deleting re-writes the query, so only when there is one to delete: the page's own query stays as it was.
  const foreign = [...url.searchParams.keys()].filter((k) => k.startsWith('wxe_'))
  for (const k of foreign) url.searchParams.delete(k)
  const query = url.search.replace(/^\?/, '')
  url.search = `${query === '' ? '' : `${query}&`}${name}=${encodeURIComponent(value)}`
  return url.href
}

/** A store that did not answer, told apart from a bug (which Koa's error handler logs with its stack). */
class StoreFailure extends Error {}

async function stored<T>(p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (e) {
    throw new StoreFailure((e as Error).message)
  }
}

/** A Host header that is a host: a name or an IPv4 address, or an IPv6 one in brackets, and maybe a port. */
const HOST_HEADER = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

export function createWebLoginEndpoint(opts: WebLoginOptions): Koa.Middleware {
  const byId = new Map(opts.accounts.map((a) => [a.id, a]))
  const { pageDomainsOf } = opts
  const { kv } = opts
  const now = opts.now ?? Date.now
  const keys = new Map(opts.accounts.flatMap((a) => (a.appSecret ? [[a.id, loginKey(a.appId, a.appSecret)] as const] : [])))

  const count = opts.count ?? (() => {})
  /** Which step a request is, for /metrics and the log: set as the request is dispatched. */
  const stepOf = (ctx: Koa.Context): WebEndpointName => (ctx.state.webStep as WebEndpointName | undefined) ?? 'oauth'
  const refused = createRefuse({ what: 'web login', lines: opts.lines, count, as: (step) => (step === 'oauth-identity' ? 'json' : 'text') })
  const refuse = (ctx: Koa.Context, status: number, code: ErrorCode, reason: string, account: string | undefined) => refused(ctx, stepOf(ctx), { status, code, reason, account })

  /** The value at the key, deleted in the same step: a second taker (a replay, another instance) gets nothing. */
  async function takeOnce(key: string): Promise<JsonValue | undefined> {
    const value = await stored(kv.get(LOGIN_NAMESPACE, key))
    if (value === undefined) return undefined
    return (await stored(kv.compareAndSet(LOGIN_NAMESPACE, key, value, undefined))) ? value : undefined
  }

  const publicUrl = opts.publicUrl === undefined ? undefined : new URL(opts.publicUrl)
  /**
   * Where the browser reached this path: its URL (WeChat comes back to it), the path its cookie is for, and
   * whether it is https. On publicUrl when set, a proxy's path prefix included (nginx serving the engine at
   * /wx/ passes /oauth on). Else as the request says: its Host, and a proxy's scheme (X-Forwarded-Proto),
   * which is only as true as the proxy in front; undefined without a Host (an HTTP/1.0 client).
   */
  function reachedAt(ctx: Koa.Context): { url: string; cookiePath: string; https: boolean } | undefined {
    if (publicUrl) {
      const cookiePath = `${publicUrl.pathname.replace(/\/$/, '')}${ctx.path}`
      return { url: `${publicUrl.origin}${cookiePath}`, cookiePath, https: publicUrl.protocol === 'https:' }
    }
    // Only a host (and port), and only http or https: `Host: evil.example/x?y=` or `X-Forwarded-Proto:
    // javascript` went into the redirect_uri as written.
    if (!HOST_HEADER.test(ctx.host)) return undefined
    const forwarded = ctx.get('X-Forwarded-Proto').split(',')[0]?.trim().toLowerCase()
    const scheme = forwarded === 'http' || forwarded === 'https' ? forwarded : ctx.protocol
    return { url: `${scheme}://${ctx.host}${ctx.path}`, cookiePath: ctx.path, https: scheme === 'https' }
  }

  function start(ctx: Koa.Context, account: AccountConfig, query: Record<string, string | undefined>): void {
    const domains = pageDomainsOf(account.id)
    if (domains.length === 0) {
      const setting = account.id === opts.defaultAccount ? 'accounts[].pageDomains or WECHAT_PAGE_DOMAINS' : 'accounts[].pageDomains'
      return refuse(ctx, 404, 'BAD_CONFIG', `account "${account.id}" has no page domains, so no page can be logged in to: set ${setting} to the hosts of its pages`, account.id)
    }
    // A key exactly when the account has an AppSecret.
    const key = keys.get(account.id)
    if (!key) {
      return refuse(ctx, 503, 'BAD_CONFIG', `account "${account.id}" has no appSecret, which exchanging the login's code needs: set ${account.id === opts.defaultAccount ? 'WECHAT_APPSECRET or ' : ''}the account's appSecret in engine.config.ts`, account.id)
    }
    const problem = pageProblem(query.to, domains, 'to')
    if (problem) return refuse(ctx, 400, 'BAD_QUERY', problem, account.id)
    // What was checked is what is kept and used: the page as parsed.
    const to = new URL(query.to!).href
    if (to.length > MAX_LOGIN_TO) return refuse(ctx, 400, 'BAD_QUERY', `the to is ${to.length} characters, over ${MAX_LOGIN_TO} (it is kept in a cookie until WeChat sends the user back)`, account.id)
    const scope = SCOPES.get(query.scope ?? 'base')
    if (!scope) return refuse(ctx, 400, 'BAD_QUERY', `scope ${JSON.stringify(String(query.scope).slice(0, 40))} is not base or userinfo (snsapi_base, snsapi_userinfo)`, account.id)
    const here = reachedAt(ctx)
    if (!here) return refuse(ctx, 400, 'BAD_HTTP', `${ctx.host === '' ? 'no Host header' : `the Host header ${JSON.stringify(ctx.host.slice(0, 80))} is no host name`}, so there is no address for WeChat to send the user back to: set publicUrl (PUBLIC_URL)`, account.id)
    const { https } = here
    const downgrade = downgradeProblem(to, https)
    if (downgrade) return refuse(ctx, 400, 'BAD_QUERY', downgrade, account.id)
    // Letters and digits: what WeChat's document allows in a state (a-zA-Z0-9, at most 128 bytes).
    const state = randomBytes(16).toString('hex')
    // The browser is on https (publicUrl, or the proxy says so): the cookie may say Secure though this hop is http.
    if (https) ctx.cookies.secure = true
    forgetOldLogins(ctx, account, here.cookiePath)
    ctx.cookies.set(loginCookieName(state), sealLogin(key, { state, to, scope, expiresAt: now() + PENDING_LOGIN_MS }, here.cookiePath), {
      httpOnly: true,
      // Sent on the top-level navigation WeChat redirects back with; not on another site's requests.
      sameSite: 'lax',
      secure: https,
      path: here.cookiePath,
      maxAge: PENDING_LOGIN_MS,
      signed: false,
      overwrite: true,
    })
    ctx.set('Cache-Control', 'no-store')
    // Back to this same path; WeChat only sends the user back to a redirect_uri on the account's 网页授权域名.
    ctx.redirect(authorizeUrl(opts.openBase, account.appId, here.url, scope, state))
    count('oauth', account.id, 'ok')
  }

  /**
   * Clears the browser's oldest unfinished logins beyond MAX_PENDING_LOGINS (the one starting counted), each at
   * the path it was set at: else a few abandoned ones outgrow the request header limit (login-cookie.ts).
   */
  function forgetOldLogins(ctx: Koa.Context, account: AccountConfig, here: string): void {
    const held = loginCookiesIn(ctx.get('Cookie'), here)
    const old = held.slice(0, Math.max(0, held.length - (MAX_PENDING_LOGINS - 1)))
    if (old.length === 0) return
    for (const c of old) ctx.cookies.set(c.name, null, { path: c.path, signed: false, overwrite: true })
    opts.lines.info(
      `web login forgotten ${account.id}`,
      { account: account.id, forgotten: old.length },
      `web login started with ${held.length} others unfinished in this browser: the oldest ${old.length} forgotten (a browser keeps ${MAX_PENDING_LOGINS}, or their cookies outgrow the request header limit)`,
    )
  }

  async function callback(ctx: Koa.Context, account: AccountConfig, query: Record<string, string | undefined>): Promise<void> {
    const key = keys.get(account.id)
    const state = query.state ?? ''
    if (!key || !/^[0-9a-f]{32}$/.test(state)) return refuse(ctx, 400, 'BAD_QUERY', 'this login was not started here: open the page again', account.id)
    const name = loginCookieName(state)
    const pending = openLogin(key, ctx.cookies.get(name, { signed: false }), state, now())
    if ('problem' in pending) return refuse(ctx, 400, 'BAD_QUERY', pending.problem, account.id)
    // Checked at the start; checked again, as a reload since may have taken the page's domain off the list.
    const gone = pageProblem(pending.to, pageDomainsOf(account.id), 'to')
    if (gone) return refuse(ctx, 400, 'BAD_QUERY', `the login's page is no longer one of the account's: ${gone}`, account.id)
    // Good once: the browser forgets it now (and WeChat takes a code once).
    // At the path it was set for (publicUrl's prefix included), or the browser keeps it.
    ctx.cookies.set(name, null, { path: reachedAt(ctx)?.cookiePath ?? ctx.path, signed: false, overwrite: true })
    ctx.set('Cache-Control', 'no-store')
    // And spent in the store, before the exchange: the clearing is only as good as the client, and one that kept
    // the cookie brought back every code WeChat gave for this state, each exchanged. Kept until the cookie's own
    // expiry, after which the cookie is refused anyway; a double tap's second request stops here too.
    const spent = await stored(kv.compareAndSet(LOGIN_NAMESPACE, `state:${account.id}:${state}`, undefined, 1, Math.max(1, pending.expiresAt - now())))
    if (!spent) return refuse(ctx, 400, 'BAD_QUERY', 'this login was finished already: open the page again', account.id)
    if (!query.code) {
      // WeChat sends the user back with the state alone when they refuse a userinfo login; a silent base
      // login has nothing to refuse.
      if (pending.scope === 'snsapi_base') return refuse(ctx, 400, 'BAD_QUERY', 'WeChat sent the user back without a code: open the page again', account.id)
      // Budgeted per account: a page sending every visitor to a userinfo login, on a day many decline it,
      // wrote a line each. Each refusal is counted (user_refused) below.
      opts.lines.info(`web login user refused ${account.id}`, { account: account.id, scope: pending.scope }, 'web login refused by the user')
      ctx.redirect(backToPage(pending.to, 'wxe_login', 'refused'))
      count('oauth-callback', account.id, 'user_refused')
      return
    }
    const who = await identityFromCode(opts.client, account.appId, account.appSecret ?? '', query.code, pending.scope)
    if (!who.ok && who.error.errcode !== undefined && BAD_CODE_ERRCODES.has(who.error.errcode)) {
      // The code the request brought, not the platform: anyone can bring a made-up one, so a warning (no alert).
      return refused(ctx, 'oauth-callback', {
        status: 400,
        code: 'BAD_QUERY',
        reason: `WeChat did not take the code: ${who.error.reason}`,
        shown: "the code WeChat sent back is not good (expired, used already, or not WeChat's): open the page again",
        account: account.id,
        fields: { errcode: who.error.errcode },
      })
    }
    if (!who.ok) {
      // The platform's words stay in the log (they can name this server's IP); the user reads what to do.
      return refused(ctx, 'oauth-callback', {
        status: 502,
        code: who.error.code,
        reason: who.error.reason,
        shown: 'the login could not be completed; open the page again (the server log says why)',
        account: account.id,
        fields: { errcode: who.error.errcode },
      })
    }
    const ticket = randomBytes(TICKET_BYTES).toString('base64url')
    await stored(kv.set(LOGIN_NAMESPACE, `identity:${account.id}:${ticket}`, who.value as unknown as JsonValue, TICKET_MS))
    opts.log.debug({ account: account.id, openId: who.value.openid, scope: who.value.scope }, 'web login')
    ctx.redirect(backToPage(pending.to, 'wxe_ticket', ticket))
    count('oauth-callback', account.id, 'ok')
  }

  async function identity(ctx: Koa.Context, account: AccountConfig, query: Record<string, string | undefined>): Promise<void> {
    if (!query.ticket) return refuse(ctx, 400, 'BAD_QUERY', 'no ticket: pass the wxe_ticket the login added to the page URL, as ?ticket=', account.id)
    // Said apart from a used or expired one (the page passed something else), and no store lookup under any key a client makes up.
    if (!TICKET_FORMAT.test(query.ticket)) {
      const given = JSON.stringify(query.ticket.length > 40 ? `${query.ticket.slice(0, 40)}...` : query.ticket)
      return refuse(ctx, 400, 'BAD_QUERY', `the ticket ${given} is not one a login gives (24 letters, digits, - and _): pass the wxe_ticket value alone, as it is`, account.id)
    }
    const who = (await takeOnce(`identity:${account.id}:${query.ticket}`)) as WebIdentity | undefined
    if (!who) return refuse(ctx, 404, 'BAD_QUERY', 'no such ticket: it was used already, is older than 5 minutes, or is not from this account', account.id)
    ctx.set('Cache-Control', 'no-store')
    ctx.body = who
    count('oauth-identity', account.id, 'ok')
  }

  return async (ctx, next) => {
    const login = loginAccountOf(ctx.path)
    const redeeming = login === null
    const named = redeeming ? identityAccountOf(ctx.path) : login
    if (named === null) return next()
    // undefined: the path names no account, so the default one.
    const accountId = named ?? opts.defaultAccount
    const query = readQuery(ctx.querystring)
    ctx.state.webStep = redeeming ? 'oauth-identity' : query.state !== undefined ? 'oauth-callback' : 'oauth'
    const account = accountId === '' ? undefined : byId.get(accountId)
    if (!account) return refuse(ctx, 404, 'UNKNOWN_ACCOUNT', `no account at ${ctx.path.slice(0, 80)}`, undefined)
    if (redeeming) {
      // A page on the account's domains may redeem from its script; no other page's script may read it.
      if (answerCors(ctx, pageDomainsOf(account.id), 'GET, OPTIONS')) return
    }
    // GET alone: each step changes something (a login cookie, a code exchanged, a ticket used up), and a
    // HEAD from a link checker or a prefetch must not spend a user's login.
    if (ctx.method !== 'GET') {
      ctx.set('Allow', redeeming ? 'GET, OPTIONS' : 'GET')
      return refuse(ctx, 405, 'METHOD_NOT_ALLOWED', `${ctx.method.slice(0, 16)} is not GET`, account.id)
    }
    try {
      if (redeeming) await identity(ctx, account, query)
      else if (query.state !== undefined) await callback(ctx, account, query)
      else start(ctx, account, query)
    } catch (e) {
      if (!(e instanceof StoreFailure)) throw e
      // The store: a ticket cannot be kept or found without it. Its error (a Redis address) stays in the log.
      refused(ctx, stepOf(ctx), { status: 503, code: 'STORE_UNAVAILABLE', reason: `the store did not answer: ${e.message}`, shown: 'the store did not answer; try again (the server log says why)', account: account.id })
    }
  }
}
