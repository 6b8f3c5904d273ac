/**
 * A page's web login (网页授权): who the WeChat user opening a page is, without the page holding the
 * AppSecret. Three requests, the first two in the user's browser:
 *
 *   GET /oauth[/<account>]?to=<page>[&scope=base|userinfo]
 *       -> 302 to WeChat's consent (open.weixin.qq.com), which comes back to this same path with `code` and
 *          `state`: the engine's host must be the account's 网页授权域名.
 *   GET /oauth[/<account>]?code=&state=      (WeChat's redirect back)
 *       -> the code exchanged for the user's openid (and, for userinfo, their profile), kept under a one-time
 *          ticket for 5 minutes, and 302 to the page with `wxe_ticket=<ticket>` added (`wxe_login=refused`
 *          when the user refused a userinfo login).
 *   GET /oauth-identity[/<account>]?ticket=  (from the page's server, or its script)
 *       -> 200 `{ openid, scope, unionid?, userinfo? }` once; the ticket is gone after.
 *
 * Why a ticket, not the openid in the URL: a URL is easy to forge and leaks into logs and Referer headers; a
 * ticket is random, good once, for minutes, and only ever sent to the account's own pages (`to` must be on
 * its pageDomains), so no link can deliver someone's identity to another site. The pending login (`state`)
 * is kept server-side and good once too: a callback not started here is refused.
 *
 * Both are kept in the store's kv (shared by a fleet on Redis: the callback may land on another instance).
 * Every refusal leaves a `web login refused` line with the reason (budgeted); the browser steps answer it as
 * text, /oauth-identity as JSON `{ error, reason }`.
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
import { readQuery } from '../receive/read-request.ts'
import type { KvStore } from '../store/store.ts'
import { accountUnder } from './account-path.ts'
import { isPageOrigin, pageProblem } from './page-domains.ts'
import { createRefuse } from './web-refusal.ts'
import type { CountWebRequest, WebEndpointName } from './web-outcome.ts'

export const LOGIN_PATH = '/oauth'
export const IDENTITY_PATH = '/oauth-identity'
export const LOGIN_NAMESPACE = 'oauth'
/** A login not back from WeChat within this is forgotten (WeChat's own code lives 5 minutes). */
export const PENDING_LOGIN_MS = 10 * 60_000
/** A ticket not redeemed within this is forgotten. */
export const TICKET_MS = 5 * 60_000

export interface WebLoginOptions {
  accounts: readonly AccountConfig[]
  defaultAccount: string
  /** https://open.weixin.qq.com (platform.openBase). */
  openBase: string
  client: ApiClient
  kv: KvStore
  log: Logger
  lines: LineBudget
  /** Each answer, for /metrics. */
  count?: CountWebRequest
}

interface PendingLogin {
  to: string
  scope: WebScope
}

const SCOPES: Record<string, WebScope> = { base: 'snsapi_base', snsapi_base: 'snsapi_base', userinfo: 'snsapi_userinfo', snsapi_userinfo: 'snsapi_userinfo' }

/** `to` with `name=value` added to its query, before its fragment (a single-page app's `#/route` stays). */
export function withParam(to: string, name: string, value: string): string {
  const hash = to.indexOf('#')
  const base = hash === -1 ? to : to.slice(0, hash)
  const fragment = hash === -1 ? '' : to.slice(hash)
  const sep = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?'
  return `${base}${sep}${name}=${encodeURIComponent(value)}${fragment}`
}

export function createWebLoginEndpoint(opts: WebLoginOptions): Koa.Middleware {
  const byId = new Map(opts.accounts.map((a) => [a.id, a]))
  const { kv } = opts

  const count = opts.count ?? (() => {})
  /** Which step a request is, for /metrics and the log: set as the request is dispatched. */
  const stepOf = (ctx: Koa.Context): WebEndpointName => (ctx.state.webStep as WebEndpointName | undefined) ?? 'oauth'
  const refused = createRefuse({ what: 'web login', lines: opts.lines, count, as: (step) => (step === 'oauth-identity' ? 'json' : 'text') })
  const refuse = (ctx: Koa.Context, status: number, code: ErrorCode, reason: string, account: string | undefined) => refused(ctx, stepOf(ctx), { status, code, reason, account })

  /** The value at the key, deleted in the same step: a second taker (a replay, another instance) gets nothing. */
  async function takeOnce(key: string): Promise<JsonValue | undefined> {
    const value = await kv.get(LOGIN_NAMESPACE, key)
    if (value === undefined) return undefined
    return (await kv.compareAndSet(LOGIN_NAMESPACE, key, value, undefined)) ? value : undefined
  }

  async function start(ctx: Koa.Context, account: AccountConfig, query: Record<string, string | undefined>): Promise<void> {
    const domains = account.pageDomains ?? []
    if (domains.length === 0) {
      const setting = account.id === opts.defaultAccount ? 'accounts[].pageDomains or WECHAT_PAGE_DOMAINS' : 'accounts[].pageDomains'
      return refuse(ctx, 404, 'BAD_CONFIG', `account "${account.id}" has no page domains, so no page can be logged in to: set ${setting} to the hosts of its pages`, account.id)
    }
    if (!account.appSecret) {
      return refuse(ctx, 503, 'BAD_CONFIG', `account "${account.id}" has no appSecret, which exchanging the login's code needs: set ${account.id === opts.defaultAccount ? 'WECHAT_APPSECRET or ' : ''}the account's appSecret in engine.config.ts`, account.id)
    }
    const problem = pageProblem(query.to, domains, 'to')
    if (problem) return refuse(ctx, 400, 'BAD_QUERY', problem, account.id)
    const scope = SCOPES[query.scope ?? 'base']
    if (!scope) return refuse(ctx, 400, 'BAD_QUERY', `scope ${JSON.stringify(String(query.scope).slice(0, 40))} is not base or userinfo (snsapi_base, snsapi_userinfo)`, account.id)
    const state = randomBytes(18).toString('base64url')
    const pending: PendingLogin = { to: query.to!, scope }
    await kv.set(LOGIN_NAMESPACE, `login:${account.id}:${state}`, pending as unknown as JsonValue, PENDING_LOGIN_MS)
    // Back to this same path. Behind a proxy the scheme is the proxy's (X-Forwarded-Proto); WeChat only
    // sends the user back to a redirect_uri on the account's 网页授权域名 anyway.
    const proto = ctx.get('X-Forwarded-Proto').split(',')[0]?.trim() || ctx.protocol
    const redirectUri = `${proto}://${ctx.host}${ctx.path}`
    ctx.set('Cache-Control', 'no-store')
    ctx.redirect(authorizeUrl(opts.openBase, account.appId, redirectUri, scope, state))
    count('oauth', account.id, 'ok')
  }

  async function callback(ctx: Koa.Context, account: AccountConfig, query: Record<string, string | undefined>): Promise<void> {
    const pending = (await takeOnce(`login:${account.id}:${query.state}`)) as PendingLogin | undefined
    if (!pending) return refuse(ctx, 400, 'BAD_QUERY', 'this login was not started here, was used already, or is older than 10 minutes: open the page again', account.id)
    ctx.set('Cache-Control', 'no-store')
    if (!query.code) {
      // WeChat sends the user back with the state alone when they refuse a userinfo login.
      opts.log.info({ account: account.id, scope: pending.scope }, 'web login refused by the user')
      ctx.redirect(withParam(pending.to, 'wxe_login', 'refused'))
      count('oauth-callback', account.id, 'user_refused')
      return
    }
    const who = await identityFromCode(opts.client, account.appId, account.appSecret ?? '', query.code, pending.scope)
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
    const ticket = randomBytes(18).toString('base64url')
    await kv.set(LOGIN_NAMESPACE, `identity:${account.id}:${ticket}`, who.value as unknown as JsonValue, TICKET_MS)
    opts.log.debug({ account: account.id, openId: who.value.openid, scope: pending.scope }, 'web login')
    ctx.redirect(withParam(pending.to, 'wxe_ticket', ticket))
    count('oauth-callback', account.id, 'ok')
  }

  async function identity(ctx: Koa.Context, account: AccountConfig, query: Record<string, string | undefined>): Promise<void> {
    if (isPageOrigin(ctx.get('Origin'), account.pageDomains ?? [])) ctx.set('Access-Control-Allow-Origin', ctx.get('Origin'))
    ctx.vary('Origin')
    if (!query.ticket) return refuse(ctx, 400, 'BAD_QUERY', 'no ticket: pass the wxe_ticket the login added to the page URL, as ?ticket=', account.id)
    const who = (await takeOnce(`identity:${account.id}:${query.ticket}`)) as WebIdentity | undefined
    if (!who) return refuse(ctx, 404, 'BAD_QUERY', 'no such ticket: it was used already, is older than 5 minutes, or is not from this account', account.id)
    ctx.set('Cache-Control', 'no-store')
    ctx.body = who
    count('oauth-identity', account.id, 'ok')
  }

  return async (ctx, next) => {
    const login = accountUnder(LOGIN_PATH, ctx.path, opts.defaultAccount)
    const redeem = login === null ? accountUnder(IDENTITY_PATH, ctx.path, opts.defaultAccount) : null
    const accountId = login ?? redeem
    if (accountId === null) return next()
    ctx.state.webStep = redeem !== null ? 'oauth-identity' : readQuery(ctx.querystring).state !== undefined ? 'oauth-callback' : 'oauth'
    const account = accountId === '' ? undefined : byId.get(accountId)
    if (!account) return refuse(ctx, 404, 'UNKNOWN_ACCOUNT', `no account at ${ctx.path.slice(0, 80)}`, undefined)
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD')
      return refuse(ctx, 405, 'METHOD_NOT_ALLOWED', `${ctx.method.slice(0, 16)} is not GET or HEAD`, account.id)
    }
    const query = readQuery(ctx.querystring)
    try {
      if (redeem !== null) await identity(ctx, account, query)
      else if (query.state !== undefined) await callback(ctx, account, query)
      else await start(ctx, account, query)
    } catch (e) {
      // The store: a login cannot be kept or found without it. Its error (a Redis address) stays in the log.
      refused(ctx, stepOf(ctx), { status: 503, code: 'STORE_UNAVAILABLE', reason: `the store did not answer: ${(e as Error).message}`, shown: 'the store did not answer; try again (the server log says why)', account: account.id })
    }
  }
}
