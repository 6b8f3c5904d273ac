/**
 * A WeChat request as it comes off HTTP, before anything is trusted: which account its path names, its
 * query, and its body read up to a limit. The server (server/create-app.ts) calls these and hands the
 * engine a WireRequest (wire-types.ts).
 */
import querystring from 'node:querystring'
import type { IncomingMessage } from 'node:http'
import getRawBody from 'raw-body'

/**
 * Which account a path under `prefix` names: `<prefix>` -> the default account (undefined), `<prefix>/<id>`
 * -> id (a trailing slash allowed on both, as an account's URL may be configured with one), another path
 * under `<prefix>/` -> '' (no such account), anything else -> null (not this prefix's). Matched by hand: on
 * the path every message takes, @koa/router cost more than the rest of the HTTP layer. /wechat reads its
 * paths so, and the web endpoints theirs (core/web/).
 */
export function accountPathReader(prefix: string): (path: string) => string | undefined | null {
  const under = `${prefix}/`
  return (path) => {
    if (path === prefix || path === under) return undefined
    if (!path.startsWith(under)) return null
    const id = path.endsWith('/') ? path.slice(under.length, -1) : path.slice(under.length)
    if (id === '' || id.includes('/')) return ''
    try {
      return decodeURIComponent(id)
    } catch {
      return ''
    }
  }
}

/** `/wechat` and `/wechat/<id>`: where WeChat pushes to. */
export const wechatAccountOf = accountPathReader('/wechat')

/** The query as the engine takes it. querystring.parse, not Koa's ctx.query: its getter cost about a quarter of a bare request. */
export function readQuery(raw: string): Record<string, string | undefined> {
  return flattenQuery(querystring.parse(raw) as Record<string, string | string[] | undefined>)
}

/**
 * A parsed query may carry arrays for repeated keys; WeChat never repeats, so take the first. Flattens in
 * place (the caller's freshly parsed object) and returns it: no copy on the per-request path.
 */
function flattenQuery(query: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  for (const k in query) {
    const v = query[k]
    if (Array.isArray(v)) query[k] = v[0]
  }
  return query as Record<string, string | undefined>
}

export type BodyResult = { ok: true; body: string } | { ok: false; status: number; code: 'BODY_TOO_LARGE' | 'BAD_BODY'; reason: string }

export async function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
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
