/**
 * Serves `handle` behind our HTTP layer (core/server/create-app.ts, exactly as the engine runs it) on PORT:
 * the bench servers that stand in for parts of the engine share it, so they differ only in what they do.
 */
import http from 'node:http'
import type { Engine } from '../../core/engine.ts'
import { createLogger } from '../../core/log/logger.ts'
import type { WireRequest, WireResponse } from '../../core/receive/wire-types.ts'
import { createApp } from '../../core/server/create-app.ts'

export function serveOnHttpLayer(handle: (req: WireRequest) => WireResponse): void {
  const engine: Engine = {
    handle: async (req) => handle(req),
    // Whatever checking a stand-in does, it does in `handle`.
    refuseBeforeBody: () => undefined,
    // As the real engine with its message log off: the server holds answers to the end of the turn.
    answersAtTurnEnd: false,
    idle: async () => undefined,
  }
  // 'a': the account id the benchmarks' projects use; this layer only names it in its lines.
  const app = createApp({ engine, log: createLogger({ level: 'warn' }), defaultAccount: 'a', maxBodyBytes: 1024 * 1024 })
  const server = http.createServer(app.callback()).listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'))
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
}
