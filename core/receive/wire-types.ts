/**
 * What the pipeline takes and gives. The engine never sees Koa: the server reads the query and the raw body
 * (read-request.ts), calls `engine.handle`, and writes back status, content type and body. Unit tests call `handle` directly.
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
