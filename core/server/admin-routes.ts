/**
 * /healthz and /metrics. They can share the public port (default), move to their own port bound to
 * 127.0.0.1 (`admin.port`), be protected by a bearer token (`admin.token` / ADMIN_TOKEN), or be turned off.
 */
import { timingSafeEqual } from 'node:crypto'
import Router from '@koa/router'
import type { LineBudget } from '../log/line-budget.ts'
import type { Runtime } from '../runtime.ts'
import { clientAddress } from './client-address.ts'

/** `proxies`: how many proxies in front append to X-Forwarded-For (client-address.ts); 0 on the admin's own port. */
export function createAdminRoutes(opts: { runtime: Runtime; token?: string; proxies: number; lines: LineBudget }): Router {
  const router = new Router()
  const expected = opts.token ? Buffer.from(opts.token) : undefined

  router.use(async (ctx, next) => {
    if (expected) {
      // The scheme is case-insensitive (RFC 9110 §11.1: `bearer` is `Bearer`); the token is compared in constant time.
      const header = /^bearer +(.*)$/is.exec(ctx.get('authorization'))
      const got = Buffer.from(header ? header[1]! : '')
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        // Every refusal leaves a line: a monitor with a stale token, or someone trying tokens (budgeted).
        const reason = header ? 'the bearer token is not the admin token' : 'no bearer token (Authorization: Bearer <ADMIN_TOKEN>)'
        // `from` is who sent it (behind a proxy, the address the proxy saw); `via` the connection's, when that differs.
        const from = clientAddress(ctx, opts.proxies)
        const connection = ctx.socket.remoteAddress
        const via = from === connection ? undefined : connection
        opts.lines.warn('UNAUTHORIZED', { code: 'UNAUTHORIZED', reason, path: ctx.path.slice(0, 80), from, via, status: 401 }, `request refused: ${reason}`)
        ctx.status = 401
        ctx.body = 'unauthorized'
        return
      }
    }
    await next()
  })

  // 503 only when the store is down: then no message can be answered exactly once. A message log or state
  // that cannot be written (a full disk) makes the instance 'degraded' but keeps 200: inline replies still
  // go out, the log's backlog is retried and capped, and a load balancer taking every instance on that
  // disk out would stop the replies too. Monitoring reads `status`, `store.writes` and `messageLog`.
  router.get('/healthz', async (ctx) => {
    const { runtime } = opts
    const g = runtime.generations.current()
    const storeOk = await runtime.store.healthy().catch(() => false)
    const writes = runtime.store.writes?.() ?? { writable: true }
    const messageLog = runtime.store.log.health()
    const body = {
      status: storeOk && writes.writable && messageLog.writable ? 'ok' : 'degraded',
      store: { kind: runtime.store.kind, healthy: storeOk, writes },
      messageLog,
      rules: g.rules.size,
      plugins: g.plugins.names(),
      generation: g.id,
      accounts: runtime.config.accounts.map((a) => a.id),
    }
    ctx.status = storeOk ? 200 : 503
    ctx.body = body
  })

  router.get('/metrics', async (ctx) => {
    ctx.type = opts.runtime.metrics.registry.contentType
    ctx.body = await opts.runtime.metrics.render()
  })

  // Another method on these paths, after the token check: 405 naming what they take. The router's
  // allowedMethods() is not used: it answered 501 to PROPFIND and the like on every path of the port (a
  // WebDAV scanner's traffic firing 5xx alerts), and OPTIONS without the token.
  router.all(['/healthz', '/metrics'], (ctx) => {
    ctx.status = 405
    ctx.set('Allow', 'GET, HEAD')
    ctx.body = 'method not allowed'
  })
  return router
}
