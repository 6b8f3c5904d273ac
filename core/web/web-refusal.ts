/**
 * How the web endpoints refuse: one log line with the reason (budgeted: anyone can call them), the count for
 * /metrics, the status, `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`, and the reason for the caller: JSON `{ error, reason }`
 * for a script or a server, a line of text for a browser step (a login's redirects). When the reason holds
 * what only the operator should read (the platform's words, which can name this server's IP; a store's
 * address), `shown` is what the caller reads instead, and the log keeps the rest.
 */
import type Koa from 'koa'
import type { ErrorCode } from '../errors.ts'
import type { LineBudget } from '../log/line-budget.ts'
import type { CountWebRequest, WebEndpointName } from './web-outcome.ts'

export interface Refusal {
  status: number
  code: ErrorCode
  reason: string
  /** What the caller reads, when not the reason itself. */
  shown?: string
  /** The account the request named, when one is configured. */
  account?: string
  /** More fields for the log line (an errcode). */
  fields?: Record<string, unknown>
}

export type Refuse = (ctx: Koa.Context, endpoint: WebEndpointName, refusal: Refusal) => void

/** `what` starts the log line: `jssdk-config refused: <reason>`, `web login refused: <reason>`. */
export function createRefuse(opts: { what: string; lines: LineBudget; count?: CountWebRequest; as: 'json' | ((endpoint: WebEndpointName) => 'json' | 'text') }): Refuse {
  return (ctx, endpoint, r) => {
    opts.count?.(endpoint, r.account ?? '', r.code)
    const line = { code: r.code, reason: r.reason, account: r.account, status: r.status, path: ctx.path.slice(0, 80), ...r.fields }
    const key = `${endpoint}:${r.code}`
    if (r.status >= 500) opts.lines.error(key, line, `${opts.what} refused: ${r.reason}`)
    else opts.lines.warn(key, line, `${opts.what} refused: ${r.reason}`)
    ctx.status = r.status
    ctx.set('Cache-Control', 'no-store')
    // The reason can quote the query (a `to` or `url` refused): never sniffed as a page, whatever a browser guesses.
    ctx.set('X-Content-Type-Options', 'nosniff')
    const shown = r.shown ?? r.reason
    if ((opts.as === 'json' ? 'json' : opts.as(endpoint)) === 'json') ctx.body = { error: r.code, reason: shown }
    else {
      ctx.type = 'text/plain; charset=utf-8'
      ctx.body = `${r.code}: ${shown}\n`
    }
  }
}
