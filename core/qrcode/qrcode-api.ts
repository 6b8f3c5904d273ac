/**
 * The two calls that make a parameter QR code:
 *   POST <apiBase>/cgi-bin/qrcode/create   {ticket, expire_seconds, url} (no expire_seconds for a permanent code)
 *   GET  <mpBase>/cgi-bin/showqrcode?ticket=<URL-encoded ticket>   the image (image/jpg); a ticket WeChat does
 *        not know, or one expired, HTTP 404 or a page that is no image
 * The first goes through the account's PlatformClient (token added and refreshed); the second needs no token
 * and is on the other host, platform.mpBase, so it is fetched here.
 */
import { readBodyCapped, type ApiJson } from '../platform/api-client.ts'
import { sniffFormat } from '../platform/temporary-media.ts'
import { QRCODE_SHOW_PATH } from './qrcode-request.ts'
import { explainErrcode } from '../platform/explain-errcode.ts'

export interface CreatedCode {
  ticket: string
  /** What the code's image encodes: a generator of one's own can draw it from this. */
  url: string
  /** Absent for a permanent code. */
  expireSeconds?: number
}

export function readCreateAnswer(json: ApiJson): CreatedCode | undefined {
  const { ticket, url, expire_seconds: expire } = json
  if (typeof ticket !== 'string' || ticket === '' || typeof url !== 'string' || url === '') return undefined
  // A lifetime is a positive whole number of seconds; anything else (0, negative, a fraction) is as if not said,
  // and the expires: line then says the lifetime asked for, not a time in the past.
  const said = typeof expire === 'number' && Number.isSafeInteger(expire) && expire > 0
  return { ticket, url, ...(said ? { expireSeconds: expire } : {}) }
}

/** qrcode/create's refusals, in plain words (WeChat's global errcode list). */
const EXPLANATIONS: Record<number, string> = {
  40097: 'invalid args: the action_name, the scene or expire_seconds is not one WeChat takes',
  47001: 'the platform could not read the JSON (data format error)',
  48001: 'this account may not use the QR code API (api unauthorized): parameter QR codes are for verified service accounts (认证服务号)',
  45009: "the API's daily quota is used up; it renews the next day, or clear it in the console (接口权限) or with clear_quota",
  [-1]: 'system busy: try again in a moment',
}

export function explainQrcodeError(errcode: number): string {
  return explainErrcode(errcode, EXPLANATIONS)
}

export function showQrcodeUrl(mpBase: string, ticket: string): string {
  return `${mpBase.replace(/\/+$/, '')}${QRCODE_SHOW_PATH}?ticket=${encodeURIComponent(ticket)}`
}

export const DEFAULT_IMAGE_TIMEOUT_MS = 10_000
/** A code's image is some tens of KB; anything far bigger is not one. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024

export type ImageResult = { ok: true; bytes: Buffer; contentType: string } | { ok: false; reason: string }

/** JPEG, PNG or GIF by their first bytes: what showqrcode answers, whatever its content-type says. */
function looksLikeImage(b: Buffer): boolean {
  const format = sniffFormat(b)
  return format === 'jpg' || format === 'png' || format === 'gif'
}

export async function fetchQrcodeImage(mpBase: string, ticket: string, opts: { timeoutMs?: number; fetch?: typeof fetch } = {}): Promise<ImageResult> {
  const where = `GET ${QRCODE_SHOW_PATH}`
  const timeoutMs = opts.timeoutMs ?? DEFAULT_IMAGE_TIMEOUT_MS
  let res: Response
  let bytes: Buffer
  try {
    // No secret in this request (the ticket is what the image shows anyway), so a redirect to a CDN is followed.
    res = await (opts.fetch ?? fetch)(showQrcodeUrl(mpBase, ticket), { signal: AbortSignal.timeout(timeoutMs) })
    const declared = Number(res.headers.get('content-length'))
    if (declared > MAX_IMAGE_BYTES) {
      await res.body?.cancel().catch(() => undefined)
      return { ok: false, reason: `${where}: HTTP ${res.status}, an answer of ${declared} bytes, over the ${MAX_IMAGE_BYTES} an image may be` }
    }
    // Read up to the limit, not the whole answer: without a content-length (chunked) nothing else bounds it.
    const read = await readBodyCapped(res, MAX_IMAGE_BYTES)
    if (read === null) return { ok: false, reason: `${where}: HTTP ${res.status}, over ${MAX_IMAGE_BYTES} bytes, not an image` }
    bytes = read
  } catch (e) {
    const name = e instanceof Error ? e.name : ''
    if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, reason: `${where}: timed out after ${timeoutMs} ms` }
    const cause = e instanceof Error ? (e as Error & { cause?: Error & { code?: string } }).cause : undefined
    return { ok: false, reason: `${where}: network error: ${cause ? `${cause.code ?? ''} ${cause.message}`.trim() : String(e)}` }
  }
  const contentType = res.headers.get('content-type') ?? ''
  if (res.status === 404) return { ok: false, reason: `${where}: HTTP 404 (a ticket WeChat does not know, or one expired)` }
  if (res.status !== 200) return { ok: false, reason: `${where}: HTTP ${res.status}` }
  if (!looksLikeImage(bytes)) return { ok: false, reason: `${where}: HTTP 200, ${contentType.split(';')[0] || 'no content-type'}, not an image (${bytes.length} bytes)` }
  return { ok: true, bytes, contentType }
}
