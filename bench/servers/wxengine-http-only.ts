/**
 * wxengine's HTTP layer (core/server/create-app.ts, exactly as the engine runs it) in front of an engine that
 * answers a fixed reply XML at once: what our side of HTTP costs without verify, parse, dedup, routing, reply
 * or log. Beside bare Koa it shows the HTTP layer is not where the engine's time goes (BENCHMARKS.md).
 */
import { serveOnHttpLayer } from './serve-on-http-layer.ts'
import { FIXED_REPLY_XML } from './fixed-reply.ts'

const answer = { status: 200, contentType: 'application/xml; charset=utf-8', body: FIXED_REPLY_XML }
serveOnHttpLayer(() => answer)
