/**
 * The node HTTP server under the Koa app: its timeouts, and the answer to a client that breaks HTTP itself
 * (a malformed request, headers or a body that never finish) before Koa has a request to hand on.
 */
import http from 'node:http'
import type { Duplex } from 'node:stream'
import type { EngineEvent } from '../engine.ts'
import { httpStatusOf, type ErrorCode } from '../errors.ts'
import type { Logger } from '../log/logger.ts'
import { createLineBudget, type LineBudget } from '../log/line-budget.ts'

export interface HttpServerOptions {
  /** Headers and body must have arrived within this (limits.requestTimeoutMs). */
  requestTimeoutMs: number
  log: Logger
  observe?: (event: EngineEvent) => void
  /** The budget of per-request lines, shared with the engine's (log/line-budget.ts). */
  lines?: LineBudget
}

/** Servers shutting down (`drainServer`): what they answer from now on closes its connection. */
const draining = new WeakSet<http.Server>()

export function createHttpServer(handler: http.RequestListener, opts: HttpServerOptions): http.Server {
  const server = http.createServer(
    {
      requestTimeout: opts.requestTimeoutMs,
      headersTimeout: opts.requestTimeoutMs,
      // How often node checks the two timeouts above: its default, 30 s, let a stalled request live 40 s.
      connectionsCheckingInterval: 1_000,
      // Checked below instead, to say so: node answered an HTTP/1.1 request without Host 400 in silence.
      requireHostHeader: false,
    },
    (req, res) => {
      // Still served (the client sent it before it could know), but told not to send another here.
      if (draining.has(server)) res.shouldKeepAlive = false
      if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) {
        return refuseRequest(res, 400, 'an HTTP/1.1 request without a Host header', opts, lines)
      }
      answering.set(req.socket, res)
      handler(req, res)
    },
  )
  const lines = opts.lines ?? createLineBudget(opts.log)
  // What node would answer by itself, in silence (a robustness review): an Expect other than 100-continue
  // (417), and CONNECT (it closed the connection without a word). Each now gets its line and metric too.
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) =>
    refuseRequest(res, 417, `Expect: ${String(req.headers.expect).slice(0, 40)} is not one this server meets`, opts, lines),
  )
  server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
    const reason = 'CONNECT is not GET or POST'
    lines.warn('METHOD_NOT_ALLOWED', { code: 'METHOD_NOT_ALLOWED', reason, status: 405 }, `request refused: ${reason}`)
    opts.observe?.({ type: 'rejected', code: 'METHOD_NOT_ALLOWED', status: 405 })
    socket.on('error', () => socket.destroy())
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, POST\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  })
  // Longer than typical proxies' idle timeouts, so nginx never reuses a socket we just closed. An idle
  // keep-alive connection has no request in progress: the request timeout does not apply to it.
  server.keepAliveTimeout = 65_000
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, opts, lines))
  // Once listening, an 'error' on the server is a connection the OS would not hand over (accept failed:
  // out of file descriptors when libuv's own fallback could not take it, out of memory). Without a
  // listener node would throw it and end the process; the connection is lost either way, the rest serve on.
  // Before listening, errors (a port in use) stay with whoever called listen().
  server.once('listening', () =>
    server.on('error', (err: NodeJS.ErrnoException) => {
      const code: ErrorCode = err.code === 'EMFILE' || err.code === 'ENFILE' ? 'FD_EXHAUSTED' : 'INTERNAL'
      lines.error(code, { code, reason: `${err.code ?? 'error'}: ${err.message}` }, `connection not accepted: ${err.code ?? err.message}`)
    }),
  )
  return server
}

/**
 * Shutting down: no new connections, and none kept for another request. server.close() alone stops only
 * the accepting: a keep-alive connection (nginx's upstream pool, say) went on bringing new messages until
 * the connections were cut at the end of the grace, resetting requests already run and logged as replied
 * (an operator's review: 5,000 messages taken in the 5.5 s after SIGTERM, 13 of them answered into a reset
 * socket). Now every answer from here on says `Connection: close` and ends its connection, and a
 * connection whose request finished is closed as soon as it is idle. Past `graceMs` whatever is left is a
 * client that stopped sending mid-request, and is cut, so a stalled client cannot hold a shutdown.
 * Resolves when every connection is gone.
 */
export function drainServer(server: http.Server, graceMs: number): Promise<void> {
  draining.add(server)
  return new Promise((resolve) => {
    // Answers under way when the drain began were written keep-alive: close each connection once idle.
    const idle = setInterval(() => server.closeIdleConnections(), 50).unref()
    const cut = setTimeout(() => server.closeAllConnections(), graceMs).unref()
    server.close(() => {
      clearInterval(idle)
      clearTimeout(cut)
      resolve()
    })
    server.closeIdleConnections()
  })
}

/**
 * Sockets this layer answered itself (a 408 for a request that did not arrive in time). Koa may be reading
 * that request's body, and sees it cut short: that is not a second refusal to log or count.
 */
const answeredHere = new WeakSet<Duplex>()

export function answeredByServer(socket: Duplex): boolean {
  return answeredHere.has(socket)
}

/**
 * Each connection's latest request's response. What follows a request on its connection may be garbage
 * (pipelined by a broken client, or a Content-Length too short leaving the rest of a body): node's parser
 * fails on it while that request is still being answered, and a 400 written then went out ahead of the
 * answer, which was lost though the message had run (a robustness review).
 */
const answering = new WeakMap<Duplex, http.ServerResponse>()

/** A request refused here, before Koa: its status, a line and a metric, and the connection closed. */
function refuseRequest(res: http.ServerResponse, status: number, reason: string, opts: HttpServerOptions, lines: LineBudget): void {
  const code: ErrorCode = 'BAD_HTTP'
  lines.warn(code, { code, reason, status }, `request refused: ${reason}`)
  opts.observe?.({ type: 'rejected', code, status })
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' })
  res.end(code)
}

/** Node's own answers to the same errors, plus a log line and a metric. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, opts: HttpServerOptions, lines: LineBudget): void {
  const reason = `${err.code ?? 'error'}: ${err.message}`
  // The client reset or closed the connection midway: nobody is left to answer. A request that had reached
  // Koa says so in its own line (BAD_BODY); a half-sent one is not a message.
  if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
    opts.log.debug({ reason }, 'client left mid-request')
    socket.destroy()
    return
  }
  const code: ErrorCode = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'BAD_HTTP'
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : (httpStatusOf[code] ?? 400)
  lines.warn(code, { code, reason, status }, `request refused: ${reason}`)
  opts.observe?.({ type: 'rejected', code, status })
  // A request before the garbage, read whole and being answered: its answer goes out first, then the
  // connection ends. (Not for a timeout: that request is the one still arriving, and the 408 is its answer.)
  const pending = answering.get(socket)
  if (code !== 'REQUEST_TIMEOUT' && pending && !pending.writableFinished && pending.req.complete) {
    pending.shouldKeepAlive = false
    pending.once('close', () => socket.destroy())
    return
  }
  answeredHere.add(socket)
  // Only when nothing of an answer went out yet (node's rule too); destroyed without the error, which would
  // otherwise reach Koa's handler as a failure of ours.
  if ((socket as Duplex & { bytesWritten?: number }).bytesWritten === 0) {
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    socket.once('finish', () => socket.destroy())
  } else socket.destroy()
}
