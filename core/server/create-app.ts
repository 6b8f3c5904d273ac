/**
 * The HTTP face of the engine: Koa reads the query and the raw body (bounded), calls engine.handle, and
 * writes back what it returns. Nothing about WeChat lives here.
 *
 *   GET|POST /wechat              the default account
 *   GET|POST /wechat/:account     any configured account
 */
import querystring from 'node:querystring'
import type Router from '@koa/router'
import Koa from 'koa'
import getRawBody from 'raw-body'
import type { Engine, EngineEvent } from '../engine.ts'
import { httpStatusOf, type ErrorCode } from '../errors.ts'
import type { Logger } from '../log/logger.ts'
import { createLineBudget, type LineBudget } from '../log/line-budget.ts'
import { flattenQuery, type WireResponse } from '../receive/wire-types.ts'

export interface AppOptions {
  engine: Engine
  log: Logger
  maxBodyBytes: number
  /** Extra routes (health, metrics) mounted on the same app when they share the public port. */
  extraRoutes?: Router
  /** Told about requests refused here, before the engine sees them (oversized bodies), so metrics count them. */
  observe?: (event: EngineEvent) => void
  /** The budget of per-request lines, shared with the engine's (log/line-budget.ts). */
  lines?: LineBudget
}

type BodyResult = { ok: true; body: string } | { ok: false; status: number; code: 'BODY_TOO_LARGE' | 'BAD_BODY'; reason: string }

async function readBody(req: Koa.Request['req'], limit: number): Promise<BodyResult> {
  try {
    // raw-body refuses at once when Content-Length is over the limit, and stops reading a chunked body as
    // soon as it passes it: an oversized body is never held in memory.
    const body = await getRawBody(req, { limit, length: req.headers['content-length'], encoding: 'utf8' })
    return { ok: true, body }
  } catch (e) {
    const err = e as { type?: string; status?: number; message: string }
    if (err.type === 'entity.too.large') return { ok: false, status: 413, code: 'BODY_TOO_LARGE', reason: `body over ${limit} bytes` }
    return { ok: false, status: err.status && err.status < 500 ? err.status : 400, code: 'BAD_BODY', reason: err.message }
  }
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

/**
 * `/wechat` -> default account (undefined), `/wechat/<id>` -> id (a trailing slash allowed on both, as an
 * account's URL may be configured with one), another path under /wechat/ -> '' (no such account), anything
 * else -> null. Matched by hand: on the path every message takes, @koa/router cost more than the rest of
 * the HTTP layer.
 */
function wechatAccountOf(path: string): string | undefined | null {
  if (path === '/wechat' || path === '/wechat/') return undefined
  if (!path.startsWith('/wechat/')) return null
  const id = path.endsWith('/') ? path.slice(8, -1) : path.slice(8)
  if (id === '' || id.includes('/')) return ''
  try {
    return decodeURIComponent(id)
  } catch {
    return ''
  }
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

  const wechat = async (ctx: Koa.Context, accountId: string | undefined) => {
    // querystring.parse, not ctx.query: Koa's query getter cost about a quarter of a bare request.
    const query = flattenQuery(querystring.parse(ctx.querystring) as Record<string, string | string[] | undefined>)
    if (ctx.method === 'GET') {
      answer(ctx, await engine.handle({ method: 'GET', accountId, query, body: '' }))
      return
    }
    const read = await readBody(ctx.req, opts.maxBodyBytes)
    if (!read.ok) {
      refuse(ctx, read.code, read.reason, accountId, read.status)
      // Close the connection: the rest of an oversized body is not worth reading.
      if (read.status === 413) ctx.set('Connection', 'close')
      return
    }
    const res = await engine.handle({ method: 'POST', accountId, query, body: read.body })
    if (!engine.answersAtTurnEnd) await endOfTurn()
    answer(ctx, res)
  }


  // Koa's default error handler would print a stack and answer 500; a client must never see that.
  app.on('error', (err: Error & { code?: string }) => {
    if (isClientGone(err)) log.debug({ reason: `${err.code}: ${err.message}` }, 'client left mid-request')
    else lines.error('INTERNAL', { code: 'INTERNAL', err }, 'http error')
  })
  app.use(async (ctx, next) => {
    const accountId = wechatAccountOf(ctx.path)
    if (accountId === null) return next()
    if (accountId === '') return refuse(ctx, 'UNKNOWN_ACCOUNT', `no account at ${ctx.path.slice(0, 80)}`)
    if (ctx.method !== 'GET' && ctx.method !== 'POST') {
      refuse(ctx, 'METHOD_NOT_ALLOWED', `${ctx.method.slice(0, 16)} is not GET or POST`, accountId)
      ctx.set('Allow', 'GET, POST')
      return
    }
    await wechat(ctx, accountId)
  })
  if (opts.extraRoutes) app.use(opts.extraRoutes.routes()).use(opts.extraRoutes.allowedMethods())
  return app
}
