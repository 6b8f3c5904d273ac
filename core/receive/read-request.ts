/**
 * A WeChat request as it comes off HTTP, before anything is trusted: which account its path names, its
 * query, and its body read up to a limit. The server (server/create-app.ts) calls these and hands the
 * engine a WireRequest (wire-types.ts).
 */
import querystring from 'node:querystring'
import type { IncomingMessage } from 'node:http'
import { isUtf8 } from 'node:buffer'
import getRawBody from 'raw-body'
import { shortened } from '../shown-text.ts'
import { firstNotUtf8, looksLikeUtf16 } from '../utf8-text.ts'

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

export type BodyResult =
  | {
      ok: true
      body: string
      /** Why the body's text has U+FFFD where its bytes were not UTF-8: served all the same, and said (create-app.ts). */
      notUtf8?: string
    }
  | { ok: false; status: number; code: 'BODY_TOO_LARGE' | 'BAD_BODY'; reason: string }

export async function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  // WeChat sends its bodies unencoded. A compressed one (a proxy's doing) was read as it came and refused as
  // BAD_XML, "text before the root element", which says nothing of the gzip (a review of bad input): 415,
  // as RFC 9110 §15.5.16 has it for a content coding not understood. Refused before reading the body.
  const coding = req.headers['content-encoding'] ?? ''
  const named = coding.trim().toLowerCase()
  if (named !== '' && named !== 'identity') {
    return { ok: false, status: 415, code: 'BAD_BODY', reason: `Content-Encoding: ${shortened(coding, 40)} is not read here: WeChat sends a push unencoded (a proxy compressing it?)` }
  }
  // The same for a transfer coding: node's parser takes `gzip, chunked` (chunked last) and hands the body on
  // still compressed, refused as "body cut short?" (a review of bad input). RFC 9112 §6.1: 501 for a transfer
  // coding not understood.
  const transfer = req.headers['transfer-encoding']
  if (transfer !== undefined && transfer.split(',').some((c) => c.trim().toLowerCase() !== 'chunked')) {
    return { ok: false, status: 501, code: 'BAD_BODY', reason: `Transfer-Encoding: ${shortened(transfer, 40)} is not read here: WeChat sends a push unencoded, chunked at most (a proxy compressing it?)` }
  }
  let bytes: Buffer
  try {
    // raw-body refuses at once when Content-Length is over the limit, and stops reading a chunked body as
    // soon as it passes it: an oversized body is never held in memory.
    bytes = await getRawBody(req, { limit, length: req.headers['content-length'] })
  } catch (e) {
    const err = e as { type?: string; status?: number; message: string }
    if (err.type === 'entity.too.large') return { ok: false, status: 413, code: 'BODY_TOO_LARGE', reason: `body over ${limit} bytes` }
    return { ok: false, status: err.status && err.status < 500 ? err.status : 400, code: 'BAD_BODY', reason: err.message }
  }
  return bodyText(bytes, req.headers['content-type'])
}

/**
 * The body's bytes as text. UTF-8 is what WeChat sends; a UTF-16 body cannot be read as XML at all, and was
 * refused with a reason about the XML ("expected an element name at offset 1"): now 415, saying what it is.
 * Other bytes that are not UTF-8 (GBK from a proxy that transcodes) were turned into U+FFFD in silence, and
 * the message, its Chinese gone, matched no rule. It is served still (the rest of it is read, and refusing
 * would lose it whole), but the caller says where the text was garbled and what charset the request named.
 */
function bodyText(bytes: Buffer, contentType: string | undefined): BodyResult {
  // A BOM is dropped, as raw-body's decoder dropped it (the XML reader skips one anyway).
  const from = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  // UTF-16 is asked first, only of a body with a NUL in its first two bytes (its `<` or its layout): ASCII in
  // UTF-16 without a BOM is valid UTF-8, a NUL beside every letter.
  const utf8 = isUtf8(bytes)
  if ((!utf8 || bytes[0] === 0 || bytes[1] === 0) && looksLikeUtf16(bytes)) {
    return { ok: false, status: 415, code: 'BAD_BODY', reason: 'the body is UTF-16, not UTF-8: WeChat sends UTF-8 (a proxy re-encoding it?)' }
  }
  const body = bytes.toString('utf8', from)
  if (utf8) return { ok: true, body }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]
  const named = charset ? ` (the request says charset=${shortened(charset, 20)})` : ''
  return { ok: true, body, notUtf8: `${firstNotUtf8(bytes)} is not UTF-8${named}: its text is read with U+FFFD in place of what is not` }
}
