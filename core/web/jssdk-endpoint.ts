/**
 * GET /jssdk-config?url=<page url>            the default account
 * GET /jssdk-config/<account-id>?url=<...>    any account
 *
 * What a page inside WeChat needs for `wx.config` (seeds/002's getConfig.php, done once for every page):
 * `{ appId, timestamp, nonceStr, signature }` for the page's URL, signed with the account's jsapi_ticket
 * (platform/jsapi-ticket.ts, jssdk-signature.ts). Only for pages on the account's page domains (page-domains.ts),
 * and a page there may call it from the browser (CORS: its origin is allowed, and no other).
 *
 * Every refusal answers JSON `{ error, reason }` with the status below and leaves a log line (budgeted):
 *   404 UNKNOWN_ACCOUNT  no such account
 *   404 BAD_CONFIG       the account has no pageDomains: the endpoint is off for it
 *   503 BAD_CONFIG       the account has no appSecret (the ticket needs an access_token)
 *   400 BAD_QUERY        no url, not a full http(s) URL, or a page not on the account's page domains
 *   405                  a method other than GET or HEAD (OPTIONS, a preflight, is answered 204)
 *   502 API_ERROR / 503 STORE_UNAVAILABLE   the ticket could not be had
 */
import type Koa from 'koa'
import type { AccountConfig } from '../config/config-types.ts'
import type { ErrorCode } from '../errors.ts'
import type { LineBudget } from '../log/line-budget.ts'
import type { Logger } from '../log/logger.ts'
import { accountPathReader, readQuery } from '../receive/read-request.ts'
import type { JsapiTicket } from '../platform/jsapi-ticket.ts'
import { createRefuse } from './web-refusal.ts'
import type { CountWebRequest } from './web-outcome.ts'
import { jsSdkConfig } from './jssdk-signature.ts'
import { answerCors } from './page-cors.ts'
import { pageProblem } from './page-domains.ts'

export const JSSDK_PATH = '/jssdk-config'
const accountOf = accountPathReader(JSSDK_PATH)

export interface JsSdkEndpointOptions {
  accounts: readonly AccountConfig[]
  defaultAccount: string
  /** An account's pageDomains as they stand now: the serving generation's, so a reload applies a change. */
  pageDomainsOf: (accountId: string) => readonly string[]
  /** The account's ticket, or why it has none (no appSecret). */
  ticketFor: (accountId: string) => JsapiTicket | { unavailable: string }
  log: Logger
  lines: LineBudget
  now?: () => number
  /** Each answer, for /metrics. */
  count?: CountWebRequest
}

export function createJsSdkEndpoint(opts: JsSdkEndpointOptions): Koa.Middleware {
  const now = opts.now ?? Date.now
  const byId = new Map(opts.accounts.map((a) => [a.id, a]))
  const { pageDomainsOf } = opts

  const count = opts.count ?? (() => {})
  const refused = createRefuse({ what: 'jssdk-config', lines: opts.lines, count, as: 'json' })
  const refuse = (ctx: Koa.Context, status: number, code: ErrorCode, reason: string, account?: string) => refused(ctx, 'jssdk-config', { status, code, reason, account })

  return async (ctx, next) => {
    const accountId = accountOf(ctx.path)
    if (accountId === null) return next()
    const account = accountId === '' ? undefined : byId.get(accountId ?? opts.defaultAccount)
    if (!account) return refuse(ctx, 404, 'UNKNOWN_ACCOUNT', `no account at ${ctx.path.slice(0, 80)}`)
    const domains = pageDomainsOf(account.id)
    // A page on the account's domains may read the answer from its script; no other page's script may.
    if (answerCors(ctx, domains, 'GET, HEAD, OPTIONS')) return
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD, OPTIONS')
      return refuse(ctx, 405, 'METHOD_NOT_ALLOWED', `${ctx.method.slice(0, 16)} is not GET or HEAD`, account.id)
    }
    if (domains.length === 0) {
      const setting = account.id === opts.defaultAccount ? 'accounts[].pageDomains or WECHAT_PAGE_DOMAINS' : 'accounts[].pageDomains'
      return refuse(ctx, 404, 'BAD_CONFIG', `account "${account.id}" has no page domains, so it signs no page: set ${setting} to the hosts of its pages, its JS接口安全域名 in mp.weixin.qq.com`, account.id)
    }
    const pageUrl = readQuery(ctx.querystring).url
    const problem = pageProblem(pageUrl, domains)
    if (problem) return refuse(ctx, 400, 'BAD_QUERY', problem, account.id)
    const ticket = opts.ticketFor(account.id)
    if ('unavailable' in ticket) return refuse(ctx, 503, 'BAD_CONFIG', ticket.unavailable, account.id)
    const got = await ticket.get()
    if (!got.ok) {
      // The platform's own words stay in the log: they can name this server's IP (40164), and anyone may ask.
      return refused(ctx, 'jssdk-config', {
        status: got.error.code === 'API_ERROR' ? 502 : 503,
        code: got.error.code,
        reason: `jsapi_ticket unavailable: ${got.error.reason}`,
        shown: 'the jsapi_ticket could not be had; the server log says why',
        account: account.id,
        fields: { errcode: got.error.errcode },
      })
    }
    ctx.set('Cache-Control', 'no-store')
    // The signature is good for this url alone; the ticket itself never leaves the server.
    ctx.body = jsSdkConfig(account.appId, got.value, pageUrl!, now())
    opts.log.debug({ account: account.id, host: new URL(pageUrl!).host }, 'jssdk-config signed')
    count('jssdk-config', account.id, 'ok')
  }
}
