/**
 * wxengine's HTTP layer (core/server/create-app.ts, exactly as the engine runs it) in front of an engine that
 * answers a fixed reply XML at once: what our side of HTTP costs without verify, parse, dedup, routing, reply
 * or log. Beside bare Koa it shows the HTTP layer is not where the engine's time goes (BENCHMARKS.md).
 */
import http from 'node:http'
import type { Engine } from '../../core/engine.ts'
import { createLogger } from '../../core/log/logger.ts'
import { createApp } from '../../core/server/create-app.ts'
import { FIXED_REPLY_XML } from './fixed-reply.ts'

const answer = { status: 200, contentType: 'application/xml; charset=utf-8', body: FIXED_REPLY_XML }
const engine: Engine = {
  handle: async () => answer,
  // As the real engine with its message log off: the server holds answers to the end of the turn.
  answersAtTurnEnd: false,
  idle: async () => undefined,
  accounts: new Map(),
}
const app = createApp({ engine, log: createLogger({ level: 'warn' }), maxBodyBytes: 1024 * 1024 })
const server = http.createServer(app.callback()).listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
