/**
 * JSON over HTTP to the platform API (protocol.md §6). The base URL is configurable so tests point it at
 * core/testkit/fake-wechat-api.ts. No token handling here: see access-token-manager.ts.
 *
 * Every failure is a Result with code API_ERROR:
 *   - the platform answered `{errcode != 0, errmsg}` (errcode a number, or a string of one): `errcode` is set, errmsg is in `reason`,
 *     and the whole answer is the error's `answer`;
 *   - timeout, network failure, non-JSON or non-2xx answer: no `errcode` (callers treat these as transient);
 *     `httpStatus` is set when there was an answer, so a caller can tell a 502 from a redirect.
 * Reasons name the method and path only, never the query: it carries the access_token or the AppSecret.
 */
import { parse as parseLossless } from 'lossless-json'
import type { EngineError, Result } from '../errors.ts'
import { ok } from '../errors.ts'
import type { JsonValue } from '../plugin/plugin-api.ts'

/** A decoded API answer: the platform always answers a JSON object. */
export type ApiJson = { [key: string]: JsonValue }

export interface ApiClientOptions {
  /** e.g. https://api.weixin.qq.com; a path prefix (a proxy) is kept. */
  baseUrl: string
  /** Whole-call deadline (connect, headers and body); default 5000 ms. */
  timeoutMs?: number
  /** Injected for tests; default the global fetch of Node 20+. */
  fetch?: typeof fetch
  /** Answers longer than this are refused unread; default MAX_API_BODY_BYTES. */
  maxBodyBytes?: number
}

export interface ApiClient {
  readonly baseUrl: string
  /** The deadline of a call made without its own (getJson, postJson): what a caller bounding its waits counts on. */
  readonly timeoutMs: number
  getJson(path: string, query?: Record<string, string>): Promise<Result<ApiJson>>
  postJson(path: string, query: Record<string, string> | undefined, body: JsonValue): Promise<Result<ApiJson>>
  /**
   * A body that is not JSON (a multipart upload: material/add_material), sent as is; the answer is JSON as ever.
   * `signal` ends the request early (the engine stopping), as the timeout does.
   */
  postBody(path: string, query: Record<string, string> | undefined, body: RawBody, timeoutMs?: number, signal?: AbortSignal): Promise<Result<ApiJson>>
  /**
   * A GET whose answer may be a file (media/get): its bytes and content type, at most `maxBytes`; or the JSON
   * the platform answered instead (a video's `{video_url}`), read as getJson reads it (an errcode refuses).
   */
  getFile(path: string, query: Record<string, string> | undefined, maxBytes: number, timeoutMs?: number): Promise<Result<ApiFile>>
}

export type ApiFile = { kind: 'file'; contentType: string; bytes: Buffer } | { kind: 'json'; json: ApiJson }

/** Bytes and their content type (e.g. `multipart/form-data; boundary=...`). */
export interface RawBody {
  bytes: Uint8Array<ArrayBuffer>
  contentType: string
}

export const DEFAULT_API_TIMEOUT_MS = 5000
/**
 * The platform's JSON answers are small (a user list page of 10 000 OpenIDs is ~0.4 MB). A gateway that
 * streams something else (a file, a loop) must not be read whole and parsed on the main thread.
 */
export const MAX_API_BODY_BYTES = 16 * 1024 * 1024

export function createApiClient(opts: ApiClientOptions): ApiClient {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '')
  const defaultTimeoutMs = opts.timeoutMs ?? DEFAULT_API_TIMEOUT_MS
  const doFetch = opts.fetch ?? fetch
  const maxBodyBytes = opts.maxBodyBytes ?? MAX_API_BODY_BYTES

  /** The answer's status, content type and bytes (null past `max`), or why there was none. */
  async function fetchAnswer(method: 'GET' | 'POST', path: string, query: Record<string, string> | undefined, jsonBody: JsonValue | undefined, raw: RawBody | undefined, timeoutMs: number, stop: AbortSignal | undefined, max: number): Promise<Result<{ status: number; contentType: string; bytes: Buffer | null }>> {
    const body = raw ? raw.bytes : jsonBody === undefined ? undefined : JSON.stringify(jsonBody)
    const contentType = raw ? raw.contentType : 'application/json; charset=utf-8'
    const url = new URL(baseUrl + path)
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v)
    try {
      const res = await doFetch(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': contentType },
        body,
        signal: stop ? AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]) : AbortSignal.timeout(timeoutMs),
        // The platform never redirects; following one would re-send the request (for 307/308 the body:
        // stable_token's holds the AppSecret) wherever a proxy or a hijacked name points. Answered as is.
        redirect: 'manual',
      })
      // Read inside the try: the timeout also covers a body that trickles in.
      return ok({ status: res.status, contentType: res.headers.get('content-type') ?? '', bytes: await readBodyCapped(res, max) })
    } catch (e) {
      return apiError(`${method} ${path}: ${withoutUrl(describeFetchError(e, timeoutMs), url)}`)
    }
  }

  async function call(method: 'GET' | 'POST', path: string, query: Record<string, string> | undefined, jsonBody?: JsonValue, raw?: RawBody, timeoutMs = defaultTimeoutMs, stop?: AbortSignal): Promise<Result<ApiJson>> {
    const answer = await fetchAnswer(method, path, query, jsonBody, raw, timeoutMs, stop, maxBodyBytes)
    if (!answer.ok) return answer
    const { status, bytes } = answer.value
    if (bytes === null) return apiError(`${method} ${path}: HTTP ${status}, answer over ${maxBodyBytes} bytes`, undefined, status)
    return readAnswer(`${method} ${path}`, status, bytes.toString('utf8'))
  }

  async function getFile(path: string, query: Record<string, string> | undefined, maxBytes: number, timeoutMs = defaultTimeoutMs): Promise<Result<ApiFile>> {
    const answer = await fetchAnswer('GET', path, query, undefined, undefined, timeoutMs, undefined, maxBytes)
    if (!answer.ok) return answer
    const { status, contentType, bytes } = answer.value
    if (bytes === null) return apiError(`GET ${path}: HTTP ${status}, answer over ${maxBytes} bytes`, undefined, status)
    // JSON when it opens as an object does: an errcode, or a video's {video_url}. No file the platform keeps
    // (JPEG, PNG, GIF, AMR, MP3, MP4) starts with `{`; the content type cannot tell (refusals come as text/plain).
    // After a UTF-8 byte order mark too (a gateway re-encoding the JSON): `ï»¿{` read as a file, a refusal
    // was handed to the caller as the file's bytes.
    const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
    const opening = bytes.subarray(bom, bom + 64).toString('latin1').trimStart()
    if (opening.startsWith('{')) {
      const json = readAnswer(`GET ${path}`, status, bytes.subarray(bom).toString('utf8'))
      return json.ok ? ok({ kind: 'json', json: json.value }) : json
    }
    if (status < 200 || status > 299) return apiError(`GET ${path}: HTTP ${status}`, undefined, status)
    // Nor is an empty answer a file, or a page (a captive portal's, a proxy's): no file the platform keeps
    // starts with `<`.
    if (bytes.length === 0) return apiError(`GET ${path}: HTTP ${status}, an empty answer, not a file`, undefined, status)
    const type = contentType.split(';')[0]!.trim().toLowerCase()
    if (type === 'text/html' || opening.startsWith('<')) return apiError(`GET ${path}: HTTP ${status}, the answer is a page (${type || 'no content type'}), not a file`, undefined, status)
    return ok({ kind: 'file', contentType: contentType.split(';')[0]!.trim() || 'application/octet-stream', bytes })
  }

  return {
    baseUrl,
    timeoutMs: defaultTimeoutMs,
    getJson: (path, query) => call('GET', path, query),
    postJson: (path, query, body) => call('POST', path, query, body),
    postBody: (path, query, body, timeoutMs, signal) => call('POST', path, query, undefined, body, timeoutMs, signal),
    getFile,
  }
}

/** A JSON answer as the platform means it: the object, or its refusal (errcode), or why it is none. */
function readAnswer(where: string, status: number, text: string): Result<ApiJson> {
  let json: unknown
  try {
    json = parseApiJson(text)
  } catch {
    return apiError(`${where}: HTTP ${status}, answer is not JSON (${text.length} bytes)`, undefined, status)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return apiError(`${where}: HTTP ${status}, answer is not a JSON object`, undefined, status)
  }
  const obj = json as ApiJson
  // An errcode the platform spells as a string ("45015": a gateway re-encoding its JSON) is still a refusal:
  // read as success, a late reply the platform refused would be marked sent. One that is no number at all
  // is an answer nobody can act on, refused without an errcode.
  const errcode = typeof obj.errcode === 'string' && /^-?\d+$/.test(obj.errcode.trim()) ? Number(obj.errcode) : obj.errcode
  if (errcode !== undefined && errcode !== null && errcode !== 0) {
    const errmsg = typeof obj.errmsg === 'string' ? obj.errmsg : ''
    if (typeof errcode !== 'number') return apiError(`${where}: HTTP ${status}, errcode is not a number (${JSON.stringify(errcode).slice(0, 40)}) ${errmsg}`.trimEnd(), undefined, status)
    // The answer goes with the refusal: some carry more than errcode and errmsg (a mass send's 45065, the
    // msg_id of the send it repeats).
    const refused = apiError(`${where}: errcode ${errcode} ${errmsg}`.trimEnd(), errcode)
    refused.error.answer = obj
    return refused
  }
  if (status < 200 || status > 299) return apiError(`${where}: HTTP ${status}`, undefined, status)
  return ok(obj)
}

/**
 * JSON.parse, except that an integer past 2^53 keeps its digits, as a string. The platform's ids are 64-bit
 * (a template message's msgid, a mass send's msg_data_id): read as numbers, their last digits changed, and
 * the id no longer matched the one its job event carries (MsgID, a string in the typed message). Answers
 * without a run of 16 digits (nearly all) take JSON.parse itself; the others the lossless parser, which is
 * slower but only ever sees a small answer.
 */
export function parseApiJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text)
  try {
    return parseLossless(text, null, (digits) => (INTEGER.test(digits) && !Number.isSafeInteger(Number(digits)) ? digits : Number(digits)))
  } catch {
    // What it refuses that JSON.parse reads (a repeated key: the last wins there) is read as JSON.parse
    // reads it; what is no JSON at all, JSON.parse refuses too.
    return JSON.parse(text)
  }
}

const LONG_DIGITS = /\d{16}/
const INTEGER = /^-?\d+$/

export function apiError(reason: string, errcode?: number, httpStatus?: number): { ok: false; error: EngineError } {
  const error: EngineError = { code: 'API_ERROR', reason }
  if (errcode !== undefined) error.errcode = errcode
  if (httpStatus !== undefined) error.httpStatus = httpStatus
  return { ok: false, error }
}

/**
 * The body's bytes, or null once it passes `max` (the rest is not read: the connection is cancelled). Also
 * what reads showqrcode's image (core/qrcode/qrcode-api.ts), the other answer from the platform.
 * Not raw-body (which the server uses on Node streams): fetch decodes gzip but keeps the compressed
 * content-length, so raw-body's `length` check refuses every compressed answer; over its limit it only
 * pauses the stream and drops its error listener, so the connection stays open until the timeout aborts
 * it, and that abort's 'error' then has no listener and kills the process. Doing it right needs this
 * pre-check, a listener and a destroy around it: no shorter than the loop. Both cases are tested in
 * test/platform/api-client-misbehaving.test.ts.
 */
export async function readBodyCapped(res: Response, max: number): Promise<Buffer | null> {
  const declared = Number(res.headers.get('content-length'))
  if (res.body === null) return Buffer.alloc(0)
  if (declared > max) {
    await res.body.cancel().catch(() => undefined)
    return null
  }
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => undefined)
      return null
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks, size)
}

/**
 * fetch quotes the request URL in some of its errors (a base URL with a user and password: "Request cannot
 * be constructed from a URL that includes credentials: <URL>"); its query carries the AppSecret or the
 * access_token, and its user info a proxy password. Shown as origin and path only.
 */
function withoutUrl(message: string, url: URL): string {
  return message
    .split(url.href)
    .join(`${url.protocol}//${url.host}${url.pathname}`)
    .replace(/\b(secret|access_token)=[^&\s"'<>]*/gi, '$1=(hidden)')
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return `timed out after ${timeoutMs} ms`
    // undici puts the socket error (ECONNREFUSED, ECONNRESET, "other side closed") in `cause`.
    const cause = (e as Error & { cause?: unknown }).cause
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: unknown }).code
      return `network error: ${typeof code === 'string' ? `${code} ` : ''}${cause.message}`.trimEnd()
    }
    return `network error: ${e.message}`
  }
  return `network error: ${String(e)}`
}
