/**
 * A login in progress, kept in the browser that started it (a cookie on the engine's host), not in the
 * store: so only that browser can finish it (a callback URL sent to someone else is refused there: login
 * CSRF, RFC 6749 §10.12), and starting logins writes nothing anyone could fill the store with.
 *
 * The cookie is `wxe_login_<first 12 of the state>` (several tabs may log in at once), its value the login
 * (`to`, scope, state, expiry) as base64url JSON and an HMAC-SHA256 of it with a key derived from the
 * account's AppSecret (HKDF): it cannot be forged, and every instance of a fleet reads it. One use: the
 * callback clears it and spends its state in the store (a client may keep a cookie), and WeChat takes a code once.
 * The payload says the path the cookie was set at too, so a later login can clear it where it lives.
 *
 * A browser keeps at most MAX_PENDING_LOGINS of them: each is up to ~2.2 KB (a long `to`), and every request
 * to the login's path carries them all, so a few abandoned logins put its Cookie header past node's 16 KB
 * limit and each request there got 431, with no line, until they expired.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import type { WebScope } from '../platform/web-authorization.ts'

export interface PendingLogin {
  state: string
  to: string
  scope: WebScope
  /** ms since the epoch. */
  expiresAt: number
}

/** A `to` longer than this is refused: it travels in the login cookie, and browsers keep cookies under 4 KB. */
export const MAX_LOGIN_TO = 1500

export function loginCookieName(state: string): string {
  return `wxe_login_${state.slice(0, 12)}`
}

/** The account's key for its login cookies; another account's (or a rotated AppSecret's) does not open them. */
export function loginKey(appId: string, appSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', appSecret, appId, 'wxengine web login', 32))
}

/**
 * Unfinished logins a browser keeps, the one being started included; older ones are cleared as it starts. A
 * request to `/oauth/<account>` also carries `/oauth`'s cookies: two paths' worth (6 x ~2.2 KB) stays well
 * under node's 16 KB of headers, with room for the host's other cookies.
 */
export const MAX_PENDING_LOGINS = 3

/** `path`: the cookie's Path, kept in it so a later login can clear it there (a cookie is cleared at its path). */
export function sealLogin(key: Buffer, login: PendingLogin, path: string): string {
  const payload = Buffer.from(JSON.stringify({ s: login.state, t: login.to, c: login.scope, e: login.expiresAt, p: path })).toString('base64url')
  return `${payload}.${mac(key, payload)}`
}

/** The login in the cookie, when it is this key's, this state's and not expired; else why not. */
export function openLogin(key: Buffer, cookie: string | undefined, state: string, now: number): PendingLogin | { problem: string } {
  if (!cookie) return { problem: 'this login was not started in this browser, or is older than 10 minutes: open the page again' }
  const dot = cookie.indexOf('.')
  const payload = cookie.slice(0, dot)
  const given = Buffer.from(cookie.slice(dot + 1))
  const expected = Buffer.from(mac(key, payload))
  if (dot === -1 || given.length !== expected.length || !timingSafeEqual(given, expected)) return { problem: 'the login cookie is not this account\'s: open the page again' }
  let fields: { s?: unknown; t?: unknown; c?: unknown; e?: unknown }
  try {
    fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof fields
  } catch {
    return { problem: 'the login cookie is not this account\'s: open the page again' }
  }
  if (fields.s !== state) return { problem: 'the login cookie is of another login: open the page again' }
  if (typeof fields.e !== 'number' || now >= fields.e) return { problem: 'this login is older than 10 minutes: open the page again' }
  return { state, to: String(fields.t), scope: fields.c === 'snsapi_userinfo' ? 'snsapi_userinfo' : 'snsapi_base', expiresAt: fields.e }
}

function mac(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url')
}

const LOGIN_COOKIE_NAME = /^wxe_login_[0-9a-f]{12}$/
/** A Path Set-Cookie can carry: no `;`, space or control character (koa's cookies would throw on one). */
const COOKIE_PATH = /^\/[\x21-\x3a\x3c-\x7e]*$/

export interface LoginCookieSeen {
  name: string
  /** Where it was set (its payload says; `here` for a cookie that does not). */
  path: string
  /** Its expiry, 0 when unreadable: such a cookie is cleared first. */
  expiresAt: number
}

/**
 * The login cookies in a request's Cookie header, oldest first. Read without the key, to clear them only: a
 * cookie this browser holds is cleared at the path it says, which can at worst clear another cookie of this
 * browser's on this host.
 */
export function loginCookiesIn(cookieHeader: string, here: string): LoginCookieSeen[] {
  const seen: LoginCookieSeen[] = []
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=')
    const name = pair.slice(0, eq).trim()
    if (eq === -1 || !LOGIN_COOKIE_NAME.test(name)) continue
    const value = pair.slice(eq + 1).trim()
    let fields: { e?: unknown; p?: unknown } = {}
    try {
      fields = JSON.parse(Buffer.from(value.slice(0, value.indexOf('.')), 'base64url').toString('utf8')) as typeof fields
    } catch {
      // Unreadable: cleared first, at this path.
    }
    const path = typeof fields?.p === 'string' && COOKIE_PATH.test(fields.p) ? fields.p : here
    seen.push({ name, path, expiresAt: typeof fields?.e === 'number' ? fields.e : 0 })
  }
  return seen.sort((a, b) => a.expiresAt - b.expiresAt)
}
