/**
 * What the pipeline takes and gives. The engine never sees Koa: the server reads the query and the raw body,
 * calls `engine.handle`, and writes back status, content type and body. Unit tests call `handle` directly.
 */
export interface WireRequest {
  method: 'GET' | 'POST'
  /** The account id from the path; undefined for /wechat (the default account). */
  accountId?: string
  query: Record<string, string | undefined>
  /** The raw body, UTF-8 (POST). */
  body: string
}

export interface WireResponse {
  status: number
  contentType: string
  body: string
}

export const SUCCESS: WireResponse = { status: 200, contentType: 'text/plain; charset=utf-8', body: 'success' }

/**
 * A parsed query may carry arrays for repeated keys; WeChat never repeats, so take the first. Flattens in
 * place (the caller's freshly parsed object) and returns it: no copy on the per-request path.
 */
export function flattenQuery(query: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  for (const k in query) {
    const v = query[k]
    if (Array.isArray(v)) query[k] = v[0]
  }
  return query as Record<string, string | undefined>
}
