/**
 * A per-client allowance for the web endpoints (/jssdk-config, /oauth, /oauth-identity): anyone on the
 * internet can call them, and each call costs something (a signature, a cookie, a store read, and for a
 * login's callback a request to WeChat). One client past its allowance is answered 429 with Retry-After; the
 * others are served as before. WeChat's pushes (/wechat) are never counted: they come from WeChat's few
 * servers, and refusing one loses a user's message.
 *
 * - A token bucket per client: `perMinute` requests in a burst, refilled at `perMinute` a minute.
 * - The client is the connection's address, or behind proxies (`trustProxy`) the address the outermost one
 *   saw (server/client-address.ts): never an X-Forwarded-For entry the client could have written itself.
 * - An IPv6 client is counted by its /64: one host holds a whole /64, and counting single addresses would
 *   give it 2^64 allowances.
 * - At most MAX_CLIENTS buckets are kept (least recently used first out): memory stays bounded whatever the
 *   number of addresses; a client pushed out starts again with a full bucket.
 */
import { isIPv6 } from 'node:net'
import type Koa from 'koa'
import { LRUCache } from 'lru-cache'
import type { LineBudget } from '../log/line-budget.ts'
import { accountPathReader } from '../receive/read-request.ts'
import { clientAddress } from '../server/client-address.ts'
import type { CountWebRequest, WebEndpointName } from './web-outcome.ts'
import { answerCors } from './page-cors.ts'
import { createRefuse } from './web-refusal.ts'

export const MAX_CLIENTS = 50_000

export interface WebRateLimitOptions {
  /** Requests a client may make in a minute, and at once; 0 turns the limit off. */
  perMinute: number
  /** How many proxies in front append to X-Forwarded-For (server/client-address.ts); 0: the connection is the client. */
  proxies: number
  /** The web endpoints' paths: every path an endpoint reads as its own (accountPathReader) is counted. */
  paths: ReadonlyArray<{ path: string; endpoint: WebEndpointName }>
  lines: LineBudget
  count?: CountWebRequest
  now?: () => number
  /**
   * The page domains of the account a path names (undefined: the default account's): a 429 to a page's script
   * carries its CORS header as the endpoint's answers do, or the browser hid it, status, reason, Retry-After
   * and all, behind a CORS error.
   */
  pageDomainsOf?: (accountId: string | undefined) => readonly string[]
}

interface Bucket {
  tokens: number
  at: number
}

export function createWebRateLimit(opts: WebRateLimitOptions): Koa.Middleware {
  const now = opts.now ?? Date.now
  const perMs = opts.perMinute / 60_000
  const buckets = new LRUCache<string, Bucket>({ max: MAX_CLIENTS })
  // The endpoints' own readers: a path one of them answers (an unknown account's included) is one counted.
  const readers = opts.paths.map(({ path, endpoint }) => ({ endpoint, accountOf: accountPathReader(path) }))
  // As each endpoint refuses: text to a login's browser steps, JSON to a page's script or a server.
  const refuse = createRefuse({ what: 'web request', lines: opts.lines, count: opts.count, as: (endpoint) => (endpoint === 'oauth' ? 'text' : 'json') })
  return async (ctx, next) => {
    if (opts.perMinute <= 0) return next()
    const reader = readers.find((r) => r.accountOf(ctx.path) !== null)
    if (reader === undefined) return next()
    const { endpoint } = reader
    // A preflight is the browser's, not a call of the page's script: it costs nothing, and counted it took an
    // allowance of its own before each call it came with.
    if (ctx.method === 'OPTIONS') return next()
    const client = addressKey(clientAddress(ctx, opts.proxies))
    const t = now()
    const bucket = buckets.get(client) ?? { tokens: opts.perMinute, at: t }
    bucket.tokens = Math.min(opts.perMinute, bucket.tokens + (t - bucket.at) * perMs)
    bucket.at = t
    buckets.set(client, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return next()
    }
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000))
    refuse(ctx, endpoint, {
      status: 429,
      code: 'RATE_LIMITED',
      reason: `more than ${opts.perMinute} requests a minute from ${client}`,
      shown: `too many requests from this address; try again in ${retryAfter} s`,
      fields: { client },
    })
    ctx.set('Retry-After', String(retryAfter))
    // The login's steps are a browser's navigations; the others are read by a page's script.
    if (endpoint !== 'oauth' && opts.pageDomainsOf) {
      answerCors(ctx, opts.pageDomainsOf(reader.accountOf(ctx.path) ?? undefined), 'GET, OPTIONS')
      ctx.set('Access-Control-Expose-Headers', 'Retry-After')
    }
  }
}

/** Who is counted: an IPv4 address, or an IPv6 address's /64 (`2001:db8:1:2::/64`). */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]!
  if (!isIPv6(address)) return address.slice(0, 64)
  const [head = '', tail] = address.toLowerCase().split('::')
  const front = head === '' ? [] : head.split(':')
  const back = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back]
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`
}
