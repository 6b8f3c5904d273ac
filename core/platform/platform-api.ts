/**
 * The PlatformApi plugins see (core/plugin/plugin-api.ts), for one account: the access_token is added as
 * the `access_token` query parameter and a rejected token is refreshed and the call retried once
 * (protocol.md §6).
 *
 * PlatformApi is promise-shaped for plugins, so its methods reject with a PlatformApiError carrying the
 * EngineError fields (code, reason, errcode). Engine code uses the Result forms (`*Result`) instead.
 */
import type { EngineError, ErrorCode, Result } from '../errors.ts'
import { fail, ok } from '../errors.ts'
import type { DownloadedMedia, JsonValue, PlatformApi } from '../plugin/plugin-api.ts'
import type { Reply } from '../reply/reply-types.ts'
import type { CustomMessage, SendOptions } from '../reply/custom-message-types.ts'
import { toCustomMessage } from '../reply/custom-message.ts'
import { parseTemplateMessage, TEMPLATE_SEND_PATH, toTemplateBody, type TemplateMessage } from '../reply/template-message.ts'
import { parseSubscribeMessage, SUBSCRIBE_SEND_PATH, toSubscribeBody, type SubscribeMessage } from '../reply/subscribe-message.ts'
import { apiError, type ApiClient, type ApiJson, type RawBody } from './api-client.ts'
import { withTokenTold, type AccessTokenFailure, type AccessTokenManager } from './access-token-manager.ts'
import { createTemplateCheck, TEMPLATE_LIST_PATH, TEMPLATE_MESSAGES } from './account-templates.ts'
import { SUBSCRIBE_TEMPLATE_LIST_PATH, SUBSCRIPTION_NOTICES } from './subscribe-templates.ts'
import type { Logger } from '../log/logger.ts'
import { checkUpload, MAX_DOWNLOAD_BYTES, MEDIA_GET_PATH, MEDIA_UPLOAD_PATH, MEDIA_TRANSFER_TIMEOUT_MS, mediaIdOf, mediaIdProblem, notBytesMessage, type UploadType } from './temporary-media.ts'

export const CUSTOM_SEND_PATH = '/cgi-bin/message/custom/send'

export interface PlatformClient extends PlatformApi {
  readonly appId: string
  /**
   * The API's answer, or why there is none. A failure marked `ofAccessToken` is no answer of this API's: no
   * access_token could be had (its errcode is /cgi-bin/token's, its reason says what to change), so a command
   * explaining the API's own errcodes (`menu push`) leaves it as it is.
   */
  postResult(path: string, body: JsonValue, query?: Record<string, string>): Promise<Result<ApiJson> | AccessTokenFailure>
  getResult(path: string, query?: Record<string, string>): Promise<Result<ApiJson> | AccessTokenFailure>
  /** POST a multipart/form-data body (an upload), token added and refreshed as for postResult. */
  postFormResult(path: string, form: FormData, query?: Record<string, string>, timeoutMs?: number, signal?: AbortSignal): Promise<Result<ApiJson> | AccessTokenFailure>
  /** Reply or CustomMessage -> customer-service message -> POST custom/send. */
  sendResult(openId: string, message: Reply | CustomMessage, opts?: SendOptions): Promise<Result<void>>
  /**
   * TemplateMessage -> POST message/template/send; the msgid its job event (template_send_job_finish) will
   * carry. Checked first against the account's templates (account-templates.ts).
   */
  sendTemplateResult(openId: string, message: TemplateMessage): Promise<Result<string>>
  /**
   * SubscribeMessage -> POST message/subscribe/bizsend. Checked first against the account's subscription
   * templates (subscribe-templates.ts).
   */
  sendSubscribeMessageResult(openId: string, message: SubscribeMessage): Promise<Result<void>>
  /** Bytes -> POST media/upload (temporary media, 3 days): the media_id. Checked first (temporary-media.ts). */
  uploadMediaResult(type: UploadType, data: Uint8Array, filename?: string): Promise<Result<string>>
  /** GET media/get: the file's bytes, or a video's URL. */
  downloadMediaResult(mediaId: string): Promise<Result<DownloadedMedia>>
  /**
   * Drop the account's template lists kept for sendTemplate's and sendSubscribeMessage's checks: the next
   * send reads them again.
   */
  forgetTemplates(): void
}

export interface PlatformApiOptions {
  client: ApiClient
  tokens: AccessTokenManager
  /** For the template checks' lines (a field left out, a template list that cannot be read); none if absent. */
  log?: Logger
  /** The clock the account's template lists age by; default Date.now. */
  now?: () => number
  /** How long a send waits for a template list read; default TEMPLATE_LIST_WAIT_MS (account-templates.ts). */
  templateWaitMs?: number
}

/** What PlatformApi rejects with: an Error (stack, instanceof) that also reads as an EngineError. */
export class PlatformApiError extends Error implements EngineError {
  readonly code: ErrorCode
  readonly reason: string
  readonly errcode?: number
  readonly setting?: string
  constructor(error: EngineError) {
    super(error.reason)
    this.name = 'PlatformApiError'
    this.code = error.code
    this.reason = error.reason
    if (error.errcode !== undefined) this.errcode = error.errcode
    if (error.setting !== undefined) this.setting = error.setting
  }
}

export function createPlatformApi(opts: PlatformApiOptions): PlatformClient {
  const { client, tokens } = opts

  function postResult(path: string, body: JsonValue, query: Record<string, string> = {}): Promise<Result<ApiJson> | AccessTokenFailure> {
    const bad = checkPath(path)
    if (bad) return Promise.resolve(bad)
    return withTokenTold(tokens, (token) => client.postJson(path, { ...query, access_token: token }, body))
  }

  function getResult(path: string, query: Record<string, string> = {}): Promise<Result<ApiJson> | AccessTokenFailure> {
    const bad = checkPath(path)
    if (bad) return Promise.resolve(bad)
    return withTokenTold(tokens, (token) => client.getJson(path, { ...query, access_token: token }))
  }

  async function postFormResult(path: string, form: FormData, query: Record<string, string> = {}, timeoutMs?: number, signal?: AbortSignal): Promise<Result<ApiJson> | AccessTokenFailure> {
    const bad = checkPath(path)
    if (bad) return bad
    // Node's own multipart encoder: the body is built once, and sent again as is if the token is refreshed.
    const request = new Request('http://multipart.invalid/', { method: 'POST', body: form })
    const body: RawBody = { bytes: new Uint8Array(await request.arrayBuffer()), contentType: request.headers.get('content-type') ?? 'multipart/form-data' }
    return withTokenTold(tokens, (token) => client.postBody(path, { ...query, access_token: token }, body, timeoutMs, signal))
  }

  // A list's answer told from a failure of the token under it (getResult's ofAccessToken): the check holds only the former.
  const listOf = (path: string) => () => getResult(path)
  const templates = createTemplateCheck({ appId: tokens.appId, kind: TEMPLATE_MESSAGES, fetchList: listOf(TEMPLATE_LIST_PATH), log: opts.log, now: opts.now, waitMs: opts.templateWaitMs })
  const subscribeTemplates = createTemplateCheck({ appId: tokens.appId, kind: SUBSCRIPTION_NOTICES, fetchList: listOf(SUBSCRIBE_TEMPLATE_LIST_PATH), log: opts.log, now: opts.now, waitMs: opts.templateWaitMs })

  async function sendResult(openId: string, message: Reply | CustomMessage, opts?: SendOptions): Promise<Result<void>> {
    const body = toCustomMessage(openId, message, opts)
    if (!body.ok) return body
    // toCustomMessage builds the body from strings only, so it is JSON.
    const r = await postResult(CUSTOM_SEND_PATH, body.value as unknown as JsonValue)
    return r.ok ? ok(undefined) : r
  }

  async function sendTemplateResult(openId: string, message: TemplateMessage): Promise<Result<string>> {
    // Checked here too: an in-process caller (setup's platform()) has not been through the RPC's check.
    const checked = parseTemplateMessage(message)
    if (!checked.ok) return checked
    const known = await templates.check(checked.value)
    if (!known.ok) return known
    const r = await postResult(TEMPLATE_SEND_PATH, toTemplateBody(openId, checked.value) as JsonValue)
    if (!r.ok) return r
    // A 64-bit id: the api client keeps one past 2^53 as its digits (a string); a smaller one is a number.
    const msgid = r.value.msgid
    if (typeof msgid === 'string' || typeof msgid === 'number') return ok(String(msgid))
    return apiError(`POST ${TEMPLATE_SEND_PATH}: the answer has no msgid`)
  }

  async function sendSubscribeMessageResult(openId: string, message: SubscribeMessage): Promise<Result<void>> {
    // Checked here too: an in-process caller (setup's platform()) has not been through the RPC's check.
    const checked = parseSubscribeMessage(message)
    if (!checked.ok) return checked
    const known = await subscribeTemplates.check(checked.value)
    if (!known.ok) return known
    const r = await postResult(SUBSCRIBE_SEND_PATH, toSubscribeBody(openId, checked.value) as JsonValue)
    return r.ok ? ok(undefined) : r
  }

  async function uploadMediaResult(type: UploadType, data: Uint8Array, filename?: string): Promise<Result<string>> {
    // Checked here too: an in-process caller (setup's platform()) has not been through the RPC's check.
    const checked = checkUpload(type, data, filename)
    if (!checked.ok) return checked
    const form = new FormData()
    // A copy of the bytes: a Blob of a view into a larger buffer (a pooled Buffer) would send all of it.
    form.append('media', new Blob([new Uint8Array(data)], { type: checked.value.contentType }), checked.value.filename)
    const r = await postFormResult(MEDIA_UPLOAD_PATH, form, { type: checked.value.type }, MEDIA_TRANSFER_TIMEOUT_MS)
    if (!r.ok) return r
    const mediaId = mediaIdOf(r.value)
    return mediaId === undefined ? apiError(`POST ${MEDIA_UPLOAD_PATH}: the answer has no media_id`) : ok(mediaId)
  }

  async function downloadMediaResult(mediaId: string): Promise<Result<DownloadedMedia>> {
    const bad = mediaIdProblem(mediaId)
    if (bad) return fail('PLUGIN_BAD_REPLY', bad)
    const r = await tokens.withToken((token) => client.getFile(MEDIA_GET_PATH, { media_id: mediaId, access_token: token }, MAX_DOWNLOAD_BYTES, MEDIA_TRANSFER_TIMEOUT_MS))
    if (!r.ok) return r
    if (r.value.kind === 'file') return ok({ contentType: r.value.contentType, data: r.value.bytes })
    const videoUrl = r.value.json.video_url
    return typeof videoUrl === 'string' && videoUrl !== '' ? ok({ videoUrl }) : apiError(`GET ${MEDIA_GET_PATH}: the answer is neither a file nor a video_url`)
  }

  return {
    appId: tokens.appId,
    postResult,
    getResult,
    postFormResult,
    sendResult,
    sendTemplateResult,
    sendSubscribeMessageResult,
    uploadMediaResult,
    downloadMediaResult,
    forgetTemplates: () => {
      templates.forget()
      subscribeTemplates.forget()
    },
    post: async (path, body) => unwrap(await postResult(path, body)),
    get: async (path, query) => unwrap(await getResult(path, query)),
    sendToUser: async (openId, message, opts) => unwrap(await sendResult(openId, message, opts)),
    sendTemplate: async (openId, message) => unwrap(await sendTemplateResult(openId, message)),
    sendSubscribeMessage: async (openId, message) => unwrap(await sendSubscribeMessageResult(openId, message)),
    uploadMedia: async (type, data, opts) => unwrap(await uploadMediaResult(type, bytesOf(data), opts?.filename)),
    downloadMedia: async (mediaId) => unwrap(await downloadMediaResult(mediaId)),
  }
}

/** The bytes of what a plugin passed (a Buffer, a Uint8Array, an ArrayBuffer); anything else is none, for the check to refuse. */
/** The bytes of what a caller in this thread passes (a worker's plugin is checked in its worker, as a TypeError too). */
function bytesOf(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  throw new TypeError(notBytesMessage(data))
}

function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw new PlatformApiError(r.error)
  return r.value
}

/**
 * Only a path on the configured API host: a plugin passing a full URL or a query string must not be
 * able to send the access_token elsewhere or override it.
 */
function checkPath(path: string): Result<never> | null {
  if (!/^\/[A-Za-z0-9_\-./]*$/.test(path) || path.includes('..') || path.startsWith('//')) {
    return apiError(`bad API path ${JSON.stringify(path.slice(0, 100))}: expected a path such as /cgi-bin/...`)
  }
  return null
}

/** The EngineError inside anything PlatformApi rejected with (plain objects too: they may cross a thread). */
export function engineErrorOf(e: unknown): EngineError {
  if (typeof e === 'object' && e !== null && 'code' in e && 'reason' in e) {
    const { code, reason, errcode, setting } = e as { code: unknown; reason: unknown; errcode?: unknown; setting?: unknown }
    if (typeof code === 'string' && typeof reason === 'string') {
      const error: EngineError = { code: code as ErrorCode, reason }
      if (typeof errcode === 'number') error.errcode = errcode
      if (typeof setting === 'string') error.setting = setting
      return error
    }
  }
  return { code: 'INTERNAL', reason: e instanceof Error ? e.message : String(e) }
}
