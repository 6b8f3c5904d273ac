/**
 * A local stand-in for https://api.weixin.qq.com, for tests (protocol.md §6).
 *
 *   const fake = await startFakeWeChatApi({ appId: 'wx1', appSecret: 's1' })
 *   // point the engine at fake.baseUrl (config.platform.apiBase)
 *   ...
 *   assert.equal(fake.tokenRequests, 1)
 *   assert.deepEqual(fake.sent[0].body, { touser: 'u1', msgtype: 'text', text: { content: 'hi' } })
 *   await fake.close()
 *
 * It is a real node:http server on 127.0.0.1 (random port) and answers like the platform does: always
 * HTTP 200 with a JSON body, errors as `{"errcode":N,"errmsg":"... rid: ..."}` (so callers must match on
 * errcode, never on errmsg).
 *
 * Endpoints:
 *   GET  /cgi-bin/token?grant_type=client_credential&appid=&secret=
 *        -> {access_token, expires_in}. Each call issues a new token; the app's earlier tokens stay
 *           valid for `graceMs` more (the platform keeps old and new valid 5 minutes, seeds/002).
 *   POST /cgi-bin/stable_token {grant_type, appid, secret, force_refresh}
 *        -> the current stable token while it is valid; a new one when expired or force_refresh.
 *           Stable and ordinary tokens do not invalidate each other (as on the platform).
 *   POST /cgi-bin/message/custom/send?access_token=  (customer-service message)
 *        validates the token (41001 missing, 40014 malformed, 40001 unknown/replaced, 42001 expired),
 *        then the JSON per msgtype; accepted messages are appended to `.sent`.
 *   POST /cgi-bin/message/template/send?access_token=  (template message)
 *        {touser, template_id, url?, miniprogram?: {appid, pagepath?}, client_msg_id?, data: {name: {value}}}:
 *        47001 for a body that is not that shape, 40037 for an empty template_id, 40003 for an empty touser;
 *        accepted ones are appended to `.sent` (via 'template') and answered {errcode: 0, errmsg, msgid},
 *        a 64-bit msgid past 2^53 as the platform's are. Once a test has set the app's templates
 *        (`setTemplates`), a template_id not among them answers 40037, as on the platform.
 *   GET  /cgi-bin/template/get_all_private_template?access_token=  (the account's templates)
 *        -> {template_list: [{template_id, title, primary_industry, deputy_industry, content, example}]}
 *        once a test has set the app's templates with `setTemplates`; until then 48001 (api unauthorized,
 *        what an account that may not read its list gets), so the engine sends template messages
 *        unchecked and a test need not know the templates its plugin uses.
 *   POST /cgi-bin/message/subscribe/bizsend?access_token=  (subscription notice)
 *        {touser, template_id, page?, miniprogram?: {appid, pagepath?}, data: {name: {value}}}: 47001 for a
 *        body that is not that shape, 40003 for an empty touser, 40037 for an empty template_id (or, once a
 *        test has set the app's subscription templates, one not among them), 41030 for a page that is not
 *        an http(s) URL, 47003 for a value over its keyword type's length (thing 20, phrase 5, ...: the
 *        errmsg names data.<name>.value); 43101 (the user refused, or has no subscription left) for a user
 *        a test has given subscriptions (`subscribe`) and none is left for the template: a one-time
 *        subscription allows one notice. Users a test has not given any take every notice. Accepted ones
 *        are appended to `.sent` (via 'subscribe') and answered {errcode: 0, errmsg: "ok"}.
 *   GET  /wxaapi/newtmpl/gettemplate?access_token=  (the account's subscription templates)
 *        -> {errcode: 0, errmsg: "ok", data: [{priTmplId, title, content, example, type}]} (type 2 one-time,
 *        3 long-term) once a test has set them with `setSubscribeTemplates`; until then 48001, as for
 *        templates, so subscription notices go out unchecked.
 *   POST /cgi-bin/material/add_material?access_token=&type=image|voice|video|thumb  (permanent material)
 *        multipart/form-data, parsed for real: the file in field `media` (with its filename), and for a
 *        video a field `description` = JSON {title, introduction}. Checks the type (40004), the file's
 *        extension (40005), its size (40006 empty, 45001 over the type's limit: image 10 MB, voice 2 MB,
 *        video 10 MB, thumb 64 KB) and a video's description (40005); accepted ones are appended to
 *        `.uploads` and answered {media_id, url} (url for images).
 *   POST /cgi-bin/media/upload?access_token=&type=image|voice|video|thumb  (temporary media, 3 days)
 *        the same, with the temporary media's formats (image png/jpeg/jpg/gif, voice amr/mp3, video mp4,
 *        thumb jpg) and limits, no description; appended to `.uploads` with `temporary: true` and answered
 *        {type, media_id, created_at} (a thumb's id as thumb_media_id).
 *   GET  /cgi-bin/media/get?access_token=&media_id=  (temporary media)
 *        the file of a media_id uploaded there, or one a test added with `addMedia` (a user's image or
 *        voice): its bytes, with its content type and a Content-disposition naming it; a video as
 *        {video_url}; any other media_id 40007.
 *   POST /cgi-bin/qrcode/create?access_token=  (a parameter QR code)
 *        {expire_seconds?, action_name, action_info: {scene: {scene_id | scene_str}}}: QR_SCENE (scene_id
 *        1..4294967295), QR_STR_SCENE, QR_LIMIT_SCENE (scene_id 1..100000), QR_LIMIT_STR_SCENE (scene_str
 *        1..64 characters); expire_seconds at most 2592000, 60 when left out, none for a permanent code.
 *        Anything else 40097 (invalid args). Accepted codes are appended to `.qrcodes` and answered
 *        {ticket, expire_seconds, url}; a ticket is base64 with + / = in it, as real ones have.
 *   GET  /cgi-bin/showqrcode?ticket=  (mp.weixin.qq.com's, no token): a live code's image, image/jpg; an
 *        unknown or expired ticket HTTP 404 with an HTML page.
 *   GET  /cgi-bin/ticket/getticket?access_token=&type=jsapi  (the JS-SDK's ticket)
 *        -> {errcode: 0, errmsg: "ok", ticket, expires_in}: a new ticket each call (appended to
 *        `.issuedTickets`), living as long as a token; a type other than jsapi 40097 (invalid args).
 *   GET  /connect/oauth2/authorize, /sns/oauth2/access_token, /sns/userinfo: a page's web login
 *        (fake-web-login.ts), for the user `setBrowserUser` names.
 *   Any path added with `.route()`: token-checked, then answered by the handler.
 *   Anything else: HTTP 404 with errcode 40066 (invalid url).
 *
 * Token errors: 40002 bad grant_type, 41002 appid missing, 41004 secret missing, 40013 unknown appid,
 * 40125 wrong secret.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { createHash, randomBytes } from 'node:crypto'
import { createFakeWebLogin, FAKE_WEB_LOGIN_PATHS, type BrowserUser } from './fake-web-login.ts'

export const FAKE_PATHS = {
  token: '/cgi-bin/token',
  stableToken: '/cgi-bin/stable_token',
  customSend: '/cgi-bin/message/custom/send',
  templateSend: '/cgi-bin/message/template/send',
  templateList: '/cgi-bin/template/get_all_private_template',
  subscribeSend: '/cgi-bin/message/subscribe/bizsend',
  subscribeTemplateList: '/wxaapi/newtmpl/gettemplate',
  addMaterial: '/cgi-bin/material/add_material',
  mediaUpload: '/cgi-bin/media/upload',
  mediaGet: '/cgi-bin/media/get',
  qrcodeCreate: '/cgi-bin/qrcode/create',
  /** On mp.weixin.qq.com in production (platform.mpBase); the fake serves both hosts' paths on one port. */
  showQrcode: '/cgi-bin/showqrcode',
  jsapiTicket: '/cgi-bin/ticket/getticket',
} as const

/** A permanent material the fake accepted (material/add_material). */
export interface UploadedMaterial {
  appId: string
  type: string
  mediaId: string
  /** As the multipart part named it. */
  filename: string
  contentType: string
  bytes: number
  /** sha256 of the file, hex. */
  sha256: string
  /** A video's `description` field, parsed. */
  description?: JsonObject
  /** Temporary media (media/upload), not permanent material. */
  temporary?: true
  at: number
}

/** A parameter QR code the fake made (qrcode/create). */
export interface CreatedQrCode {
  appId: string
  actionName: string
  /** scene_id or scene_str, as sent. */
  scene: number | string
  /** Absent for a permanent code. */
  expireSeconds?: number
  ticket: string
  url: string
  /** What showqrcode answers for the ticket: JPEG bytes naming the url. */
  image: Buffer
  at: number
}

/**
 * A template of the account's (模板消息 > 我的模板), for `setTemplates`: its fields as the console's content
 * writes them (`{{thing1.DATA}}`, one a line), or by name (`fields`, made into such a content).
 */
export interface FakeTemplate {
  templateId: string
  /** Default: the templateId. */
  title?: string
  content?: string
  fields?: string[]
}

/**
 * A subscription template of the account's (订阅通知 > 我的模板), for `setSubscribeTemplates`: its keywords
 * by content (`会议时间:{{date2.DATA}}`, one a line) or by name (`fields`). `type`: one-time (the default,
 * type 2) or long-term (type 3, for public-service categories).
 */
export interface FakeSubscribeTemplate {
  templateId: string
  /** Default: the templateId. */
  title?: string
  content?: string
  fields?: string[]
  type?: 'one-time' | 'long-term'
}

/** Plain JSON as parsed from a request body. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

export interface FakeWeChatApiOptions {
  /** The app the fake knows; default `wxfake0000000001` / `fake-secret`. */
  appId?: string
  appSecret?: string
  /** More apps, for multi-account tests. */
  apps?: Array<{ appId: string; appSecret: string }>
  /** expires_in (seconds) of issued tokens; default 7200 like the platform. */
  expiresInSeconds?: number
  /** How long a replaced token keeps working; default 5 minutes (seeds/002). */
  graceMs?: number
  /** Clock deciding token expiry; default Date.now. Share it with the code under test to fake time. */
  now?: () => number
  /**
   * Articles allowed in one customer-service news message; default 1: the platform limits customer-service
   * news to one article (more answers 45008), unlike passive replies (protocol.md §4).
   */
  newsMaxArticles?: number
}

/** A customer-service message the fake accepted. */
export interface SentMessage {
  appId: string
  accessToken: string
  /** The JSON body, parsed. */
  body: JsonObject
  /** The body's text exactly as posted: byte-for-byte checks of the wire format. */
  raw: string
  at: number
  /** Which API took it: the customer-service one (message/custom/send), the template one, or bizsend. */
  via: SentVia
}

/** The API a message went out through: message/custom/send, message/template/send, message/subscribe/bizsend. */
export type SentVia = 'custom' | 'template' | 'subscribe'

/** Every request, in arrival order, with what it was answered (for debugging and fine-grained asserts). */
export interface FakeRequest {
  method: string
  path: string
  query: Record<string, string>
  body: Json | undefined
  /** The errcode answered (0 on success); null when the connection was dropped. */
  errcode: number | null
}

/** A token-checked endpoint added by a test. Return the JSON to answer (errcode 0 is not added). */
export type FakeRouteHandler = (req: { appId: string; query: Record<string, string>; body: Json | undefined }) => JsonObject

export interface FakeWeChatApi {
  /** e.g. `http://127.0.0.1:53121`; use as config.platform.apiBase. */
  readonly baseUrl: string
  /** Accepted customer-service messages, in order. */
  readonly sent: SentMessage[]
  /** Accepted permanent materials (material/add_material), in order. */
  readonly uploads: UploadedMaterial[]
  /** Parameter QR codes made (qrcode/create), in order. */
  readonly qrcodes: CreatedQrCode[]
  /** Requests to /cgi-bin/token and /cgi-bin/stable_token, failed ones included. */
  readonly tokenRequests: number
  /** Every request received. */
  readonly requests: FakeRequest[]
  /** Tokens issued so far, oldest first. */
  readonly issuedTokens: string[]
  /** jsapi_tickets issued so far (ticket/getticket), oldest first. */
  readonly issuedTickets: string[]
  /** Web login codes issued by /connect/oauth2/authorize, oldest first. */
  readonly issuedCodes: string[]
  /** The WeChat user the next web logins are for (fake-web-login.ts); default DEFAULT_BROWSER_USER. */
  setBrowserUser(user: BrowserUser): void

  /** Make a token (default: every token issued so far) answer 42001 from now on. */
  expireToken(token?: string): void
  /** Forget a token (default: all) so it answers 40001, as when another server fetched a new one. */
  revokeToken(token?: string): void
  /** The next `times` requests to `path` answer `errcode` instead of being processed. Queued in order. */
  failNext(path: string, times: number, errcode: number, errmsg?: string): void
  /** failNext for /cgi-bin/message/custom/send, e.g. (2, -1) system busy, (1, 45015) outside 48 h. */
  failNextSends(times: number, errcode: number, errmsg?: string): void
  /** The next `times` requests to `path` get their socket destroyed without an answer (network error). */
  dropNext(path: string, times: number): void
  /** The next `times` requests to `path` are never answered nor processed: for client timeouts. */
  hangNext(path: string, times: number): void
  /**
   * The next request to `path` is answered `answer` instead of being processed: what a proxy or a broken
   * gateway in front of the platform sends (an HTML 502 page, an empty body, a body of `repeat` copies).
   * Resolves once that answer is over: written whole, or cut short because the client hung up.
   */
  answerRawNext(path: string, answer: RawAnswer): Promise<RawAnswerDone>
  /**
   * Park every request to `path` (before it is processed) until the returned function is called: lets a
   * test observe the state while a call is in flight, without sleeping.
   */
  hold(path: string): () => void
  /** Resolves when the next request to `path` arrives (before it is processed): await it instead of polling. */
  nextRequest(path: string): Promise<FakeRequest>
  /** Every send to this user answers `errcode` (e.g. 45015, 43004 unsubscribed); null clears it. */
  setUserError(openId: string, errcode: number | null): void
  /** Answer requests to `path` (default: every path) after `ms`. 0 clears. */
  setDelay(ms: number, path?: string): void
  /** expires_in for tokens issued from now on. */
  setExpiresIn(seconds: number): void
  /**
   * The app's templates, answered by get_all_private_template; template/send then refuses any other
   * template_id (40037). null (the start) answers the list 48001 again and lets any template_id through.
   */
  setTemplates(appId: string, templates: FakeTemplate[] | null): void
  /**
   * Called after each setTemplates: the test kit has its engine drop the lists it keeps (10 minutes), so
   * that templates set in a test are the ones checked, whatever earlier tests sent.
   */
  onTemplatesSet(listener: (appId: string) => void): void
  /**
   * The app's subscription templates, answered by gettemplate; bizsend then refuses any other template_id
   * (40037). null (the start) answers the list 48001 again and lets any template_id through. Calls the
   * onTemplatesSet listeners too.
   */
  setSubscribeTemplates(appId: string, templates: FakeSubscribeTemplate[] | null): void
  /**
   * The user subscribed to the template: `notices` more notices of it may be sent to them (default 1, a
   * one-time subscription; Infinity for a long-term one; 0 for one refused). From the first call for a
   * user, a notice of a template with none left answers 43101; a user never given one takes every notice.
   */
  subscribe(appId: string, openId: string, templateId: string, notices?: number): void
  /** Add a token-checked endpoint (for PlatformApi.get/post tests). */
  /**
   * A temporary media file media/get gives for `mediaId` (as a user's image or voice message names it), or
   * for a video the URL it answers with; uploads through media/upload are given back without this.
   */
  addMedia(appId: string, mediaId: string, media: { contentType: string; bytes: Uint8Array } | { videoUrl: string }): void
  route(method: 'GET' | 'POST', path: string, handler: FakeRouteHandler): void
  /** Stop the server, drop open connections and pending delayed answers. */
  close(): Promise<void>
}

/** errmsg text the platform uses for the errcodes the fake emits. */
const ERRMSG: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40004: 'invalid media type',
  40005: 'invalid file type',
  40006: 'invalid media size',
  41005: 'media data missing',
  45001: 'media size out of limit',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40007: 'invalid media_id',
  40008: 'invalid message type',
  40037: 'invalid template_id',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40066: 'invalid url',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  42001: 'access_token expired',
  43004: 'require subscribe',
  43101: 'user refuse to accept the msg',
  41030: 'invalid page',
  47003: 'argument invalid!',
  44003: 'empty news data',
  44004: 'empty content',
  45008: 'article size out of limit',
  45009: 'reach max api daily quota limit',
  45011: 'api minute-quota reach limit',
  45015: 'response out of time limit or subscription is canceled',
  45047: 'out of response count limit',
  47001: 'data format error',
  48001: 'api unauthorized',
}

interface TokenState {
  appId: string
  family: 'basic' | 'stable'
  expiresAt: number
  /** Set when a newer token of the same family replaced it. */
  replacedUntil?: number
  expired?: boolean
}

/** An answer written as is; `body` is written `repeat` times (default 1), streamed. */
export interface RawAnswer {
  status: number
  contentType?: string
  /** Bytes as given (e.g. gzip), or a string written as UTF-8. */
  body: string | Buffer
  repeat?: number
  /** Send no content-length (chunked), as a streaming proxy does. */
  chunked?: boolean
  /** More headers, e.g. a redirect's location. */
  headers?: Record<string, string>
}

/** How a raw answer ended. */
export interface RawAnswerDone {
  /** Body bytes handed to the socket. */
  written: number
  /** False when the client hung up before the whole body was written. */
  complete: boolean
}

interface Injected {
  kind: 'fail' | 'drop' | 'hang' | 'raw'
  errcode?: number
  errmsg?: string
  raw?: RawAnswer
  done?: (outcome: RawAnswerDone) => void
}

const TOKEN_PREFIX = 'FAKE_AT_'
/** Where the fake's template msgids start: past 2^53, as the platform's (64-bit ids). */
const TEMPLATE_MSGID_BASE = 2963446620935323648n

/** The AppSecret given to an account without one (standInFor): known to the stand-in, nowhere else. */
export const STAND_IN_APP_SECRET = 'wxengine-stand-in-secret'

/**
 * A stand-in for these accounts' platform: the test kit's, and `send --local --wait`'s. An account without
 * an AppSecret gets STAND_IN_APP_SECRET, so that its late replies and ctx.api work too; the accounts come
 * back as the engine must be given them (each with its secret), beside the stand-in knowing every one.
 */
export async function standInFor<A extends { appId?: unknown; appSecret?: string }>(accounts: readonly A[]): Promise<{ api: FakeWeChatApi; accounts: A[] }> {
  const withSecrets = accounts.map((a) => (a.appSecret ? a : { ...a, appSecret: STAND_IN_APP_SECRET }))
  const api = await startFakeWeChatApi({
    apps: withSecrets.flatMap((a) => (typeof a.appId === 'string' && typeof a.appSecret === 'string' ? [{ appId: a.appId, appSecret: a.appSecret }] : [])),
  })
  return { api, accounts: withSecrets }
}

export async function startFakeWeChatApi(opts: FakeWeChatApiOptions = {}): Promise<FakeWeChatApi> {
  const now = opts.now ?? Date.now
  const graceMs = opts.graceMs ?? 5 * 60_000
  const newsMax = opts.newsMaxArticles ?? 1
  let expiresIn = opts.expiresInSeconds ?? 7200
  const apps = new Map<string, string>()
  apps.set(opts.appId ?? 'wxfake0000000001', opts.appSecret ?? 'fake-secret')
  for (const a of opts.apps ?? []) apps.set(a.appId, a.appSecret)

  const tokens = new Map<string, TokenState>()
  const issuedTokens: string[] = []
  const issuedTickets: string[] = []
  const sent: SentMessage[] = []
  const uploads: UploadedMaterial[] = []
  /** Temporary media media/get gives, by `<appId> <mediaId>`. */
  const mediaFiles = new Map<string, { contentType: string; bytes: Buffer } | { videoUrl: string }>()
  const qrcodes: CreatedQrCode[] = []
  const requests: FakeRequest[] = []
  const injected = new Map<string, Injected[]>()
  const userErrors = new Map<string, number>()
  const delays = new Map<string, number>()
  const routes = new Map<string, FakeRouteHandler>()
  const templates = new Map<string, JsonObject[]>()
  const templateListeners: Array<(appId: string) => void> = []
  const subscribeTemplates = new Map<string, JsonObject[]>()
  /** By app and user, then template: the notices left. */
  const subscriptions = new Map<string, Map<string, number>>()
  const timers = new Set<NodeJS.Timeout>()
  const holds = new Map<string, { gate: Promise<void>; release: () => void }>()
  const waiters = new Map<string, Array<(r: FakeRequest) => void>>()
  const sockets = new Set<Socket>()
  let tokenRequests = 0
  let seq = 0

  const rid = () => `${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`
  const error = (errcode: number, errmsg?: string): JsonObject => ({
    errcode,
    errmsg: `${errmsg ?? ERRMSG[errcode] ?? 'error'} rid: ${rid()}`,
  })

  const webLogin = createFakeWebLogin({ now, error, checkApp: (appid, secret) => checkApp(appid, secret), knowsApp: (appid) => apps.has(appid) })

  function handleJsapiTicket(query: Record<string, string>): JsonObject {
    if (query.type !== 'jsapi') return error(40097)
    // Base64url-ish and long, as real tickets are; a sequence number keeps each distinct.
    const ticket = `${++seq}-${randomBytes(32).toString('base64url')}`
    issuedTickets.push(ticket)
    return { errcode: 0, errmsg: 'ok', ticket, expires_in: expiresIn }
  }

  function issue(appId: string, family: TokenState['family']): JsonObject {
    const t = now()
    for (const s of tokens.values()) {
      if (s.appId === appId && s.family === family && s.replacedUntil === undefined) s.replacedUntil = t + graceMs
    }
    const token = `${TOKEN_PREFIX}${++seq}_${randomBytes(12).toString('hex')}`
    tokens.set(token, { appId, family, expiresAt: t + expiresIn * 1000 })
    issuedTokens.push(token)
    return { access_token: token, expires_in: expiresIn }
  }

  function checkApp(appid: unknown, secret: unknown): JsonObject | null {
    if (typeof appid !== 'string' || appid === '') return error(41002)
    if (typeof secret !== 'string' || secret === '') return error(41004)
    const expected = apps.get(appid)
    if (expected === undefined) return error(40013)
    if (expected !== secret) return error(40125)
    return null
  }

  /** The app the token belongs to, or the error to answer. */
  function checkToken(token: string | undefined): { appId: string } | { error: JsonObject } {
    if (!token) return { error: error(41001) }
    if (!token.startsWith(TOKEN_PREFIX)) return { error: error(40014) }
    const s = tokens.get(token)
    if (!s) return { error: error(40001) }
    const t = now()
    if (s.expired || t >= s.expiresAt) return { error: error(42001) }
    if (s.replacedUntil !== undefined && t >= s.replacedUntil) return { error: error(40001) }
    return { appId: s.appId }
  }

  function handleToken(query: Record<string, string>): JsonObject {
    if (query.grant_type !== 'client_credential') return error(40002)
    const bad = checkApp(query.appid, query.secret)
    if (bad) return bad
    return issue(query.appid, 'basic')
  }

  function handleStableToken(body: Json | undefined): JsonObject {
    if (!isObject(body)) return error(47001)
    if (body.grant_type !== 'client_credential') return error(40002)
    const bad = checkApp(body.appid, body.secret)
    if (bad) return bad
    const appId = body.appid as string
    if (body.force_refresh !== true) {
      const t = now()
      for (const [token, s] of tokens) {
        if (s.appId === appId && s.family === 'stable' && s.replacedUntil === undefined && !s.expired && t < s.expiresAt) {
          return { access_token: token, expires_in: Math.floor((s.expiresAt - t) / 1000) }
        }
      }
    }
    return issue(appId, 'stable')
  }

  function handleCustomSend(appId: string, accessToken: string, body: Json | undefined, raw: string): JsonObject {
    if (body === undefined) return error(47001, 'data format error hint: [empty post data]')
    if (!isObject(body)) return error(47001)
    const invalid = validateCustomMessage(body, newsMax)
    if (invalid !== null) return error(invalid)
    const userError = userErrors.get(body.touser as string)
    if (userError !== undefined) return error(userError)
    sent.push({ appId, accessToken, body, raw, at: now(), via: 'custom' })
    return { errcode: 0, errmsg: 'ok' }
  }

  function handleTemplateSend(appId: string, accessToken: string, body: Json | undefined, raw: string): { answer: JsonObject; text?: string } {
    if (body === undefined) return { answer: error(47001, 'data format error hint: [empty post data]') }
    if (!isObject(body) || typeof body.touser !== 'string' || typeof body.template_id !== 'string' || !isObject(body.data)) return { answer: error(47001) }
    if (body.touser === '') return { answer: error(40003) }
    if (body.template_id === '') return { answer: error(40037) }
    const own = templates.get(appId)
    if (own !== undefined && !own.some((t) => t.template_id === body.template_id)) return { answer: error(40037) }
    for (const v of Object.values(body.data)) if (!isObject(v) || typeof v.value !== 'string') return { answer: error(47001) }
    if (body.miniprogram !== undefined && !(isObject(body.miniprogram) && typeof body.miniprogram.appid === 'string')) return { answer: error(47001) }
    if (optionalStrings(body, ['url', 'client_msg_id']) !== null) return { answer: error(47001) }
    const userError = userErrors.get(body.touser)
    if (userError !== undefined) return { answer: error(userError) }
    sent.push({ appId, accessToken, body, raw, at: now(), via: 'template' })
    // The platform's msgids are 64-bit: written as JSON digits, past what a double holds exactly.
    const msgid = (TEMPLATE_MSGID_BASE + BigInt(sent.length)).toString()
    return { answer: { errcode: 0, errmsg: 'ok' }, text: `{"errcode":0,"errmsg":"ok","msgid":${msgid}}` }
  }

  function handleTemplateList(appId: string): JsonObject {
    const own = templates.get(appId)
    return own === undefined ? error(48001) : { template_list: own }
  }

  function handleSubscribeSend(appId: string, accessToken: string, body: Json | undefined, raw: string): JsonObject {
    if (body === undefined) return error(47001, 'data format error hint: [empty post data]')
    if (!isObject(body) || typeof body.touser !== 'string' || typeof body.template_id !== 'string' || !isObject(body.data)) return error(47001)
    if (body.touser === '') return error(40003)
    if (body.template_id === '') return error(40037)
    const own = subscribeTemplates.get(appId)
    if (own !== undefined && !own.some((t) => t.priTmplId === body.template_id)) return error(40037)
    for (const v of Object.values(body.data)) if (!isObject(v) || typeof v.value !== 'string') return error(47001)
    for (const [name, v] of Object.entries(body.data)) {
      const type = name.replace(/\d+$/, '')
      const max = Object.hasOwn(KEYWORD_MAX_CHARS, type) ? KEYWORD_MAX_CHARS[type] : undefined
      if (max !== undefined && [...String((v as JsonObject).value)].length > max) return error(47003, `argument invalid! data.${name}.value exceeds limit`)
    }
    if (body.miniprogram !== undefined && !(isObject(body.miniprogram) && typeof body.miniprogram.appid === 'string')) return error(47001)
    if (body.page !== undefined && typeof body.page !== 'string') return error(47001)
    if (typeof body.page === 'string' && !/^https?:\/\//.test(body.page)) return error(41030)
    const userError = userErrors.get(body.touser)
    if (userError !== undefined) return error(userError)
    const subscribed = subscriptions.get(`${appId} ${body.touser}`)
    if (subscribed !== undefined) {
      const left = subscribed.get(body.template_id) ?? 0
      if (left <= 0) return error(43101)
      subscribed.set(body.template_id, left - 1)
    }
    sent.push({ appId, accessToken, body, raw, at: now(), via: 'subscribe' })
    return { errcode: 0, errmsg: 'ok' }
  }

  function handleSubscribeTemplateList(appId: string): JsonObject {
    const own = subscribeTemplates.get(appId)
    return own === undefined ? error(48001) : { errcode: 0, errmsg: 'ok', data: own }
  }

  async function handleAddMaterial(appId: string, query: Record<string, string>, bytes: Buffer, contentType: string, temporary = false): Promise<JsonObject> {
    const type = query.type
    const limits = (temporary ? TEMPORARY_LIMITS : MATERIAL_LIMITS)[type ?? '']
    if (limits === undefined) return error(40004)
    if (!/^multipart\/form-data/i.test(contentType)) return error(41005)
    let form: FormData
    try {
      form = await new Response(new Uint8Array(bytes), { headers: { 'content-type': contentType } }).formData()
    } catch {
      return error(41005)
    }
    const media = form.get('media')
    if (media === null || typeof media === 'string') return error(41005)
    const filename = (media as File).name ?? ''
    const ext = filename.includes('.') ? filename.split('.').pop()!.toLowerCase() : ''
    if (!limits.extensions.includes(ext)) return error(40005)
    const data = Buffer.from(await media.arrayBuffer())
    if (data.length === 0) return error(40006)
    if (data.length > limits.maxBytes) return error(45001)
    let description: JsonObject | undefined
    if (type === 'video' && !temporary) {
      const field = form.get('description')
      try {
        const parsed = typeof field === 'string' ? (JSON.parse(field) as Json) : undefined
        if (!isObject(parsed) || !nonEmpty(parsed.title)) return error(40005, 'invalid file type hint: [video description needs a title]')
        description = parsed
      } catch {
        return error(40005, 'invalid file type hint: [video description is not JSON]')
      }
    }
    const mediaId = `FAKE_MEDIA_${++seq}_${randomBytes(8).toString('hex')}`
    uploads.push({ appId, type, mediaId, filename, contentType: media.type, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex'), ...(description ? { description } : {}), ...(temporary ? { temporary } : {}), at: now() })
    if (temporary) {
      mediaFiles.set(`${appId} ${mediaId}`, type === 'video' ? { videoUrl: `http://vweixinf.tc.qq.com/fake/${mediaId}.mp4` } : { contentType: media.type || 'application/octet-stream', bytes: data })
      return { type, [type === 'thumb' ? 'thumb_media_id' : 'media_id']: mediaId, created_at: Math.floor(now() / 1000) }
    }
    return type === 'image' ? { media_id: mediaId, url: `http://mmbiz.qpic.cn/fake/${mediaId}/0` } : { media_id: mediaId }
  }

  function handleQrcodeCreate(appId: string, body: Json | undefined): JsonObject {
    if (!isObject(body)) return error(47001)
    const invalid = (hint: string) => error(40097, `invalid args hint: [${hint}]`)
    const action = body.action_name
    if (typeof action !== 'string' || !QR_ACTIONS.has(action)) return invalid('action_name')
    const info = body.action_info
    const scene = isObject(info) && isObject(info.scene) ? info.scene : undefined
    if (!scene) return invalid('action_info.scene')
    let value: number | string
    if (action === 'QR_SCENE' || action === 'QR_LIMIT_SCENE') {
      const id = scene.scene_id
      const max = action === 'QR_SCENE' ? 4_294_967_295 : 100_000
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > max) return invalid('scene_id')
      value = id
    } else {
      const str = scene.scene_str
      if (typeof str !== 'string' || str.length === 0 || [...str].length > 64) return invalid('scene_str')
      value = str
    }
    let expireSeconds: number | undefined
    if (action === 'QR_SCENE' || action === 'QR_STR_SCENE') {
      const e = body.expire_seconds
      if (e === undefined) expireSeconds = 60
      else if (typeof e !== 'number' || !Number.isInteger(e) || e < 1 || e > 2_592_000) return invalid('expire_seconds')
      else expireSeconds = e
    }
    const id = `${++seq}${randomBytes(8).toString('hex')}`
    const url = `http://weixin.qq.com/q/${id}`
    // Like a real ticket: base64 of bytes with the url inside; 0xfb 0xff 0xbf at a multiple of 3 are `+/+/`, and the length leaves an = at the end.
    let raw = Buffer.concat([Buffer.from([0x81, 0x01, 0xf8, 0xee, 0x3a, 0x00, 0xfb, 0xff, 0xbf]), Buffer.from(url)])
    if (raw.length % 3 === 0) raw = Buffer.concat([raw, Buffer.from([0])])
    const ticket = `gQ${raw.toString('base64')}`
    const image = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xfe]), Buffer.from([0, url.length + 2]), Buffer.from(url), Buffer.from([0xff, 0xd9])])
    qrcodes.push({ appId, actionName: action, scene: value, ...(expireSeconds !== undefined ? { expireSeconds } : {}), ticket, url, image, at: now() })
    return expireSeconds !== undefined ? { ticket, expire_seconds: expireSeconds, url } : { ticket, url }
  }

  /** The code's image, or undefined for a ticket unknown or expired. */
  function qrcodeImage(ticket: string | undefined): Buffer | undefined {
    const code = qrcodes.find((c) => c.ticket === ticket)
    if (!code) return undefined
    if (code.expireSeconds !== undefined && now() >= code.at + code.expireSeconds * 1000) return undefined
    return code.image
  }

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const path = url.pathname
    const query: Record<string, string> = Object.fromEntries(url.searchParams)
    const bytes = await readBody(req)
    const contentType = req.headers['content-type'] ?? ''
    const multipart = /^multipart\//i.test(contentType)
    const raw = multipart ? '' : bytes.toString('utf8')
    let body: Json | undefined
    let badJson = false
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as Json
      } catch {
        badJson = true
      }
    }
    const record: FakeRequest = { method: req.method ?? 'GET', path, query, body, errcode: null }
    requests.push(record)
    if (path === FAKE_PATHS.token || path === FAKE_PATHS.stableToken) tokenRequests++
    const notify = waiters.get(path)
    waiters.delete(path)
    for (const w of notify ?? []) w(record)

    const delay = delays.get(path) ?? delays.get('*') ?? 0
    if (delay > 0) await wait(delay)
    const held = holds.get(path)
    if (held) await held.gate

    const queue = injected.get(path)
    const next = queue?.shift()
    if (next?.kind === 'drop') {
      req.socket.destroy()
      return
    }
    // Left open until the client gives up or close() destroys the socket.
    if (next?.kind === 'hang') return
    if (next?.kind === 'raw' && next.raw) {
      next.done?.(await writeRaw(res, next.raw))
      return
    }

    if (path === FAKE_WEB_LOGIN_PATHS.authorize && req.method === 'GET' && next === undefined) {
      // open.weixin.qq.com's page: a redirect back to the site, or an error page.
      const r = webLogin.authorize(query)
      record.errcode = r.status === 302 ? 0 : 400
      if (r.status === 302) res.writeHead(302, { location: r.location, 'content-length': 0 }).end()
      else res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(r.page) }).end(r.page)
      return
    }

    if (path === FAKE_PATHS.mediaGet && req.method === 'GET' && next === undefined) {
      const who = checkToken(query.access_token)
      const file = 'error' in who ? undefined : mediaFiles.get(`${who.appId} ${query.media_id ?? ''}`)
      if (file !== undefined && 'bytes' in file) {
        // A file, not JSON, as the platform gives one.
        record.errcode = 0
        const ext = file.contentType.split('/')[1] ?? 'bin'
        res.writeHead(200, { 'content-type': file.contentType, 'content-disposition': `attachment; filename="${query.media_id}.${ext}"`, 'content-length': file.bytes.length })
        res.end(file.bytes)
        return
      }
      // Refusals are JSON, as text/plain (as the platform sends them); so is a video's URL.
      const answer = 'error' in who ? who.error : file === undefined ? error(40007) : { video_url: file.videoUrl }
      record.errcode = typeof answer.errcode === 'number' ? answer.errcode : 0
      const text = JSON.stringify(answer)
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) })
      res.end(text)
      return
    }

    if (path === FAKE_PATHS.showQrcode && req.method === 'GET' && next === undefined) {
      // An image, not JSON: mp.weixin.qq.com's page, no access_token.
      const image = qrcodeImage(query.ticket)
      record.errcode = image ? 0 : 404
      const page = image ?? Buffer.from('<html><body>404 Not Found</body></html>')
      res.writeHead(image ? 200 : 404, { 'content-type': image ? 'image/jpg' : 'text/html', 'content-length': page.length })
      res.end(page)
      return
    }

    let answer: JsonObject
    // The answer's exact text, when JSON.stringify(answer) cannot write it (a 64-bit number).
    let answerText: string | undefined
    let status = 200
    if (next?.kind === 'fail') {
      answer = error(next.errcode ?? -1, next.errmsg)
    } else if (badJson) {
      answer = error(47001, 'data format error hint: [invalid json]')
    } else if (path === FAKE_PATHS.token && req.method === 'GET') {
      answer = handleToken(query)
    } else if (path === FAKE_PATHS.stableToken && req.method === 'POST') {
      answer = handleStableToken(body)
    } else if (path === FAKE_PATHS.customSend && req.method === 'POST') {
      const who = checkToken(query.access_token)
      answer = 'error' in who ? who.error : handleCustomSend(who.appId, query.access_token, body, raw)
    } else if (path === FAKE_PATHS.templateSend && req.method === 'POST') {
      const who = checkToken(query.access_token)
      if ('error' in who) answer = who.error
      else ({ answer, text: answerText } = handleTemplateSend(who.appId, query.access_token, body, raw))
    } else if (path === FAKE_PATHS.templateList && req.method === 'GET') {
      const who = checkToken(query.access_token)
      answer = 'error' in who ? who.error : handleTemplateList(who.appId)
    } else if (path === FAKE_PATHS.subscribeSend && req.method === 'POST') {
      const who = checkToken(query.access_token)
      answer = 'error' in who ? who.error : handleSubscribeSend(who.appId, query.access_token, body, raw)
    } else if (path === FAKE_PATHS.subscribeTemplateList && req.method === 'GET') {
      const who = checkToken(query.access_token)
      answer = 'error' in who ? who.error : handleSubscribeTemplateList(who.appId)
    } else if (path === FAKE_PATHS.qrcodeCreate && req.method === 'POST') {
      const who = checkToken(query.access_token)
      answer = 'error' in who ? who.error : handleQrcodeCreate(who.appId, body)
    } else if (path === FAKE_WEB_LOGIN_PATHS.exchange && req.method === 'GET') {
      answer = webLogin.exchange(query)
    } else if (path === FAKE_WEB_LOGIN_PATHS.userinfo && req.method === 'GET') {
      answer = webLogin.userinfo(query)
    } else if (path === FAKE_PATHS.jsapiTicket && req.method === 'GET') {
      const who = checkToken(query.access_token)
      answer = 'error' in who ? who.error : handleJsapiTicket(query)
    } else if (path === FAKE_PATHS.addMaterial && req.method === 'POST') {
      const who = checkToken(query.access_token)
      answer = 'error' in who ? who.error : await handleAddMaterial(who.appId, query, bytes, contentType)
    } else if (path === FAKE_PATHS.mediaUpload && req.method === 'POST') {
      const who = checkToken(query.access_token)
      answer = 'error' in who ? who.error : await handleAddMaterial(who.appId, query, bytes, contentType, true)
    } else {
      const handler = routes.get(`${req.method} ${path}`)
      if (handler === undefined) {
        status = 404
        answer = error(40066)
      } else {
        const who = checkToken(query.access_token)
        answer = 'error' in who ? who.error : handler({ appId: who.appId, query, body })
      }
    }
    record.errcode = typeof answer.errcode === 'number' ? answer.errcode : 0
    const text = answerText ?? JSON.stringify(answer)
    res.writeHead(status, { 'content-type': 'application/json; encoding=utf-8', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t)
        resolve()
      }, ms)
      timers.add(t)
    })
  }

  const server = createServer((req, res) => {
    respond(req, res).catch((e: unknown) => {
      // A bug in the fake, not a platform behaviour: make it loud.
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(`fake-wechat-api bug: ${String(e)}`)
    })
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  const selectTokens = (token?: string): TokenState[] =>
    token === undefined ? [...tokens.values()] : tokens.has(token) ? [tokens.get(token) as TokenState] : []

  const enqueue = (path: string, items: Injected[]) => {
    const queue = injected.get(path) ?? []
    queue.push(...items)
    injected.set(path, queue)
  }
  const failNext = (path: string, times: number, errcode: number, errmsg?: string) =>
    enqueue(path, Array.from({ length: times }, () => ({ kind: 'fail' as const, errcode, errmsg })))

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    sent,
    uploads,
    qrcodes,
    requests,
    issuedTokens,
    issuedTickets,
    issuedCodes: webLogin.issuedCodes,
    setBrowserUser: (user) => webLogin.setBrowserUser(user),
    get tokenRequests() {
      return tokenRequests
    },
    expireToken(token) {
      for (const s of selectTokens(token)) s.expired = true
    },
    revokeToken(token) {
      if (token === undefined) tokens.clear()
      else tokens.delete(token)
    },
    failNext,
    failNextSends: (times, errcode, errmsg) => failNext(FAKE_PATHS.customSend, times, errcode, errmsg),
    dropNext(path, times) {
      enqueue(path, Array.from({ length: times }, () => ({ kind: 'drop' as const })))
    },
    hangNext(path, times) {
      enqueue(path, Array.from({ length: times }, () => ({ kind: 'hang' as const })))
    },
    answerRawNext(path, raw) {
      return new Promise<RawAnswerDone>((done) => enqueue(path, [{ kind: 'raw', raw, done }]))
    },
    hold(path) {
      const existing = holds.get(path)
      if (existing) return existing.release
      let release!: () => void
      const gate = new Promise<void>((resolve) => {
        release = () => {
          holds.delete(path)
          resolve()
        }
      })
      holds.set(path, { gate, release })
      return release
    },
    setUserError(openId, errcode) {
      if (errcode === null) userErrors.delete(openId)
      else userErrors.set(openId, errcode)
    },
    setDelay(ms, path) {
      if (ms > 0) delays.set(path ?? '*', ms)
      else delays.delete(path ?? '*')
    },
    setExpiresIn(seconds) {
      expiresIn = seconds
    },
    nextRequest(path) {
      return new Promise<FakeRequest>((resolve) => {
        const list = waiters.get(path) ?? []
        list.push(resolve)
        waiters.set(path, list)
      })
    },
    setTemplates(appId, list) {
      if (list === null) templates.delete(appId)
      else templates.set(appId, list.map(templateJson))
      for (const listener of templateListeners) listener(appId)
    },
    onTemplatesSet(listener) {
      templateListeners.push(listener)
    },
    setSubscribeTemplates(appId, list) {
      if (list === null) subscribeTemplates.delete(appId)
      else subscribeTemplates.set(appId, list.map(subscribeTemplateJson))
      for (const listener of templateListeners) listener(appId)
    },
    subscribe(appId, openId, templateId, notices = 1) {
      const key = `${appId} ${openId}`
      const subscribed = subscriptions.get(key) ?? new Map<string, number>()
      subscribed.set(templateId, (subscribed.get(templateId) ?? 0) + notices)
      if (notices === 0) subscribed.set(templateId, 0)
      subscriptions.set(key, subscribed)
    },
    addMedia(appId, mediaId, added) {
      mediaFiles.set(`${appId} ${mediaId}`, 'bytes' in added ? { contentType: added.contentType, bytes: Buffer.from(added.bytes) } : added)
    },
    route(method, path, handler) {
      routes.set(`${method} ${path}`, handler)
    },
    async close() {
      for (const t of timers) clearTimeout(t)
      timers.clear()
      for (const h of [...holds.values()]) h.release()
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A FakeTemplate as get_all_private_template lists it. */
function templateJson(t: FakeTemplate): JsonObject {
  return {
    template_id: t.templateId,
    title: t.title ?? t.templateId,
    primary_industry: 'IT科技',
    deputy_industry: '互联网|电子商务',
    content: t.content ?? (t.fields ?? []).map((name) => `{{${name}.DATA}}`).join('\n'),
    example: '',
  }
}

/** A FakeSubscribeTemplate as gettemplate lists it. */
function subscribeTemplateJson(t: FakeSubscribeTemplate): JsonObject {
  return {
    priTmplId: t.templateId,
    title: t.title ?? t.templateId,
    content: t.content ?? (t.fields ?? []).map((name) => `${name}:{{${name}.DATA}}\n`).join(''),
    example: '',
    type: t.type === 'long-term' ? 3 : 2,
  }
}

/**
 * The lengths bizsend takes by keyword type (the name without its number), as WeChat's documentation
 * states them; a longer value answers 47003. (name: 20 letters, 10 Chinese characters: 20 here.)
 */
const KEYWORD_MAX_CHARS: Record<string, number> = {
  thing: 20,
  number: 32,
  letter: 32,
  symbol: 5,
  character_string: 32,
  phrase: 5,
  name: 20,
  phone_number: 17,
  car_number: 8,
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function nonEmpty(v: Json | undefined): boolean {
  return typeof v === 'string' && v !== ''
}

/**
 * The shape check the platform applies to a customer-service message, as an errcode (null when valid).
 * Field names per protocol.md §6; optional `customservice: {kf_account}` is allowed on every type.
 */
export function validateCustomMessage(body: JsonObject, newsMax = 1): number | null {
  if (!nonEmpty(body.touser)) return 40003
  const type = body.msgtype
  if (typeof type !== 'string') return 40008
  const payload = body[type]
  if (!KNOWN_TYPES.has(type)) return 40008
  if (!isObject(payload)) return 47001
  if (body.customservice !== undefined && !(isObject(body.customservice) && nonEmpty(body.customservice.kf_account))) return 47001
  switch (type) {
    case 'text':
      return nonEmpty(payload.content) ? null : 44004
    case 'image':
    case 'voice':
    case 'mpnews':
      return nonEmpty(payload.media_id) ? null : 40007
    case 'video':
      if (!nonEmpty(payload.media_id) || !nonEmpty(payload.thumb_media_id)) return 40007
      return optionalStrings(payload, ['title', 'description'])
    case 'music':
      if (!nonEmpty(payload.thumb_media_id)) return 40007
      return optionalStrings(payload, ['title', 'description', 'musicurl', 'hqmusicurl'])
    case 'news': {
      const articles = payload.articles
      if (!Array.isArray(articles) || articles.length === 0) return 44003
      if (articles.length > newsMax) return 45008
      for (const a of articles) {
        if (!isObject(a) || !nonEmpty(a.title)) return 47001
        const bad = optionalStrings(a, ['description', 'url', 'picurl'])
        if (bad !== null) return bad
      }
      return null
    }
    case 'mpnewsarticle':
      return nonEmpty(payload.article_id) ? null : 47001
    case 'wxcard':
      return nonEmpty(payload.card_id) ? null : 47001
    case 'miniprogrampage':
      if (!nonEmpty(payload.appid) || !nonEmpty(payload.pagepath) || !nonEmpty(payload.thumb_media_id)) return 47001
      return optionalStrings(payload, ['title'])
    case 'msgmenu': {
      const list = payload.list
      if (!Array.isArray(list) || list.length === 0) return 47001
      for (const option of list) if (!isObject(option) || !nonEmpty(option.id) || !nonEmpty(option.content)) return 47001
      return optionalStrings(payload, ['head_content', 'tail_content'])
    }
    default:
      return 40008
  }
}

const QR_ACTIONS = new Set(['QR_SCENE', 'QR_STR_SCENE', 'QR_LIMIT_SCENE', 'QR_LIMIT_STR_SCENE'])

const KNOWN_TYPES = new Set(['text', 'image', 'voice', 'video', 'music', 'news', 'mpnews', 'mpnewsarticle', 'wxcard', 'miniprogrampage', 'msgmenu'])

function optionalStrings(obj: JsonObject, keys: string[]): number | null {
  for (const k of keys) if (obj[k] !== undefined && typeof obj[k] !== 'string') return 47001
  return null
}

/** Streams the copies, waiting for the socket to drain; stops quietly when the client hangs up. */
async function writeRaw(res: ServerResponse, raw: RawAnswer): Promise<RawAnswerDone> {
  const repeat = raw.repeat ?? 1
  const headers: Record<string, string | number> = { 'content-type': raw.contentType ?? 'text/html', ...raw.headers }
  if (!raw.chunked) headers['content-length'] = Buffer.byteLength(raw.body) * repeat
  res.writeHead(raw.status, headers)
  const chunk = Buffer.from(raw.body)
  let written = 0
  for (let i = 0; i < repeat; i++) {
    if (res.destroyed) return { written, complete: false }
    written += chunk.length
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const go = () => {
          res.off('drain', go)
          res.off('close', go)
          resolve()
        }
        res.on('drain', go)
        res.on('close', go)
      })
    }
  }
  if (res.destroyed) return { written, complete: false }
  res.end()
  return { written, complete: true }
}

/** Permanent material's limits per type, as the platform states them. */
const MATERIAL_LIMITS: Record<string, { extensions: string[]; maxBytes: number }> = {
  image: { extensions: ['bmp', 'png', 'jpeg', 'jpg', 'gif'], maxBytes: 10 * 1_048_576 },
  voice: { extensions: ['mp3', 'wma', 'wav', 'amr'], maxBytes: 2 * 1_048_576 },
  video: { extensions: ['mp4'], maxBytes: 10 * 1_048_576 },
  thumb: { extensions: ['jpg', 'jpeg'], maxBytes: 64 * 1024 },
}

/** Temporary media (media/upload), as the platform states them (素材, 临时素材). */
const TEMPORARY_LIMITS: Record<string, { extensions: string[]; maxBytes: number }> = {
  image: { extensions: ['png', 'jpeg', 'jpg', 'gif'], maxBytes: 10 * 1_048_576 },
  voice: { extensions: ['amr', 'mp3'], maxBytes: 2 * 1_048_576 },
  video: { extensions: ['mp4'], maxBytes: 10 * 1_048_576 },
  thumb: { extensions: ['jpg'], maxBytes: 64 * 1024 },
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
