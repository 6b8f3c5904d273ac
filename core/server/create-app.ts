/**
 * The HTTP face of the engine: Koa hands each request under /wechat to receive/ (which account, the query,
 * the bounded body), calls engine.handle, and writes back what it returns. Nothing about WeChat lives here.
 *
 *   GET|POST /wechat              the default account
 *   GET|POST /wechat/:account     any configured account
 *
 * and, besides WeChat's pushes, what pages inside WeChat ask for (`web`, core/web/: /jssdk-config, /oauth).
 */
import type Router from '@koa/router'
import type { IncomingMessage } from 'node:http'
import Koa from 'koa'
import type { Engine, EngineEvent } from '../engine.ts'
import { httpStatusOf, type ErrorCode } from '../errors.ts'
import type { Logger } from '../log/logger.ts'
import { createLineBudget, type LineBudget } from '../log/line-budget.ts'
import { readBody, readQuery, wechatAccountOf } from '../receive/read-request.ts'
import type { WireResponse } from '../receive/wire-types.ts'
import { shortened } from '../shown-text.ts'
import { answeredByServer } from './http-server.ts'

export interface AppOptions {
  engine: Engine
  log: Logger
  /** The account /wechat serves: named in this layer's lines about a push there, as the engine's lines name it. */
  defaultAccount: string
  maxBodyBytes: number
  /** What pages inside WeChat ask for (core/web/: /jssdk-config, /oauth), after /wechat. */
  web?: Koa.Middleware[]
  /** Extra routes (health, metrics) mounted on the same app when they share the public port. */
  extraRoutes?: Router
  /** Told about requests refused here, before the engine sees them (oversized bodies), so metrics count them. */
  observe?: (event: EngineEvent) => void
  /** The budget of per-request lines, shared with the engine's (log/line-budget.ts). */
  lines?: LineBudget
}

/**
 * Resolves at the end of the current event-loop turn, one setImmediate shared by every caller in the turn.
 * Answers are written there together rather than one by one as each finishes: under load the sockets'
 * writes then go out as a burst, which the measured throughput rewards by about a quarter (BENCHMARKS.md),
 * for a delay of at most one turn. Not when the engine's answers come out together anyway (waiting for the
 * message log's once-a-turn write): a second turn only added latency.
 */
let turnEnd: Promise<void> | null = null
function endOfTurn(): Promise<void> {
  turnEnd ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      turnEnd = null
      resolve()
    }),
  )
  return turnEnd
}

/** Whether a request says it has a body (a length above 0, or chunks) that was not read to its end. */
function bodyUnread(req: IncomingMessage): boolean {
  if (req.readableEnded) return false
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/** Whether a query has the three parameters WeChat signs every request it sends with (signature, timestamp, nonce). */
function signedLikeWeChat(querystring: string): boolean {
  if (!querystring.includes('signature=')) return false
  const query = readQuery(querystring)
  return Boolean(query.signature && query.timestamp && query.nonce)
}

/** Errors of a connection the client broke or left: theirs, not a failure of ours. */
function isClientGone(err: Error & { code?: string }): boolean {
  const code = err.code ?? ''
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code.startsWith('HPE_')
}

export function createApp(opts: AppOptions): Koa {
  const app = new Koa()
  const { engine, log } = opts
  const lines = opts.lines ?? createLineBudget(log)

  // ctx.set, not ctx.type: the engine already gives the full header value, no MIME lookup needed.
  const answer = (ctx: Koa.Context, res: WireResponse) => {
    ctx.status = res.status
    ctx.set('Content-Type', res.contentType)
    ctx.body = res.body
  }

  // Refusals made here, before the engine: the same answer, log line and metric as the engine's own.
  const refuse = (ctx: Koa.Context, code: ErrorCode, reason: string, account?: string, status = httpStatusOf[code] ?? 400) => {
    lines.warn(code, { code, reason, account, status }, `request refused: ${reason}`)
    opts.observe?.({ type: 'rejected', code, status, account })
    ctx.status = status
    ctx.set('Content-Type', 'text/plain; charset=utf-8')
    ctx.body = code
  }

  // Whatever answers without reading the request's body (a refusal here, the endpoint check, a web endpoint,
  // Koa's 404) closes the connection after the answer. Kept open, node went on reading the body, for nothing,
  // until the request timeout: 10 GB of a PUT's, a connection at a time (a robustness review). Checked where
  // such answers are made, not in a middleware around every request: a push's path then stays as it was.
  const closeIfBodyUnread = (ctx: Koa.Context) => {
    if (bodyUnread(ctx.req)) ctx.set('Connection', 'close')
  }
  const wechat = async (ctx: Koa.Context, accountId: string | undefined) => {
    const query = readQuery(ctx.querystring)
    if (ctx.method === 'GET') {
      answer(ctx, await engine.handle({ method: 'GET', accountId, query, body: '' }))
      closeIfBodyUnread(ctx)
      return
    }
    const refused = engine.refuseBeforeBody(accountId, query)
    if (refused) {
      answer(ctx, refused)
      // The body is not read: the connection is not reused, or its rest would be taken for the next request.
      ctx.set('Connection', 'close')
      return
    }
    // Past the engine's check the account is a configured one: at /wechat the default, named in the lines below.
    const account = accountId ?? opts.defaultAccount
    const read = await readBody(ctx.req, opts.maxBodyBytes)
    if (!read.ok && answeredByServer(ctx.req.socket)) {
      // The request timeout cut the body short and has said so (REQUEST_TIMEOUT, 408): one request, one line.
      log.debug({ reason: read.reason }, 'body read ended by the request timeout')
      return
    }
    if (!read.ok) {
      refuse(ctx, read.code, read.reason, account, read.status)
      // Close the connection: the rest of an oversized body is not worth reading, nor is a compressed one,
      // refused before its first byte was read.
      closeIfBodyUnread(ctx)
      return
    }
    // Served, but its text is not what was sent: said, or a message that matched no rule looked like the
    // user's own doing. Its own budget key: a proxy that transcodes garbles every message.
    if (read.notUtf8 !== undefined) lines.warn('BODY_NOT_UTF8', { account, reason: read.notUtf8 }, `push body is not UTF-8: ${read.notUtf8}`)
    const res = await engine.handle({ method: 'POST', accountId, query, body: read.body })
    if (!engine.answersAtTurnEnd) await endOfTurn()
    answer(ctx, res)
  }


  // Koa's default error handler would print a stack and answer 500; a client must never see that.
  // Its own budget key: sharing the engine's INTERNAL key, a flood of either held back the other's first
  // line (one bug's 20 lines, and a different bug went unsaid but for a count under the first's example).
  // `reason` as every failure line has it (logger.ts), so a search on it finds this one too.
  app.on('error', (err: Error & { code?: string }, ctx?: Koa.Context) => {
    if (isClientGone(err)) log.debug({ reason: `${err.code}: ${err.message}` }, 'client left mid-request')
    else {
      const reason = err instanceof Error ? err.message : String(err)
      lines.error('INTERNAL http', { code: 'INTERNAL', reason, err, method: ctx?.method.slice(0, 16), path: ctx?.path.slice(0, 80) }, `http error: ${reason}`)
    }
  })
  app.use(async (ctx, next) => {
    const accountId = wechatAccountOf(ctx.path)
    if (accountId === null) {
      await next()
      if (ctx.status === 404 && ctx.body == null && signedLikeWeChat(ctx.querystring)) {
        // A push WeChat signed, at a path no account is at: the console's URL or a proxy's rewrite is wrong
        // (/WeChat, /wx/wechat). Koa's 404 said nothing, and every message of the account went unseen (a
        // review of bad input). A request without WeChat's query (a scanner's) stays a quiet 404.
        const path = shortened(ctx.path, 80)
        refuse(ctx, 'UNKNOWN_ACCOUNT', `a signed WeChat request to ${path}, where no account is: pushes are served at /wechat and /wechat/<account-id> (paths are case-sensitive)`)
      }
      return closeIfBodyUnread(ctx)
    }
    if (accountId === '') {
      refuse(ctx, 'UNKNOWN_ACCOUNT', `no account at ${ctx.path.slice(0, 80)}`)
      return closeIfBodyUnread(ctx)
    }
    if (ctx.method !== 'GET' && ctx.method !== 'POST') {
      // No account is looked up yet: the id is the path's, up to node's 16 KB of headers. Shown short, as the
      // engine's unknown-account line shows it.
      refuse(ctx, 'METHOD_NOT_ALLOWED', `${ctx.method.slice(0, 16)} is not GET or POST`, accountId === undefined ? undefined : shortened(accountId, 64))
      ctx.set('Allow', 'GET, POST')
      return closeIfBodyUnread(ctx)
    }
    await wechat(ctx, accountId)
  })
  for (const endpoint of opts.web ?? []) app.use(endpoint)
  if (opts.extraRoutes) app.use(opts.extraRoutes.routes())
  return app
}
