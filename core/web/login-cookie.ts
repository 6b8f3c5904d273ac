/**
 * A login in progress, kept in the browser that started it (a cookie on the engine's host), not in the
 * store: so only that browser can finish it (a callback URL sent to someone else is refused there: login
 * CSRF, RFC 6749 §10.12), and starting logins writes nothing anyone could fill the store with.
 *
 * The cookie is `wxe_login_<first 12 of the state>` (several tabs may log in at once), its value the login
 * (`to`, scope, state, expiry) as base64url JSON and an HMAC-SHA256 of it with a key derived from the
 * account's AppSecret (HKDF): it cannot be forged, and every instance of a fleet reads it. One use: the
 * callback clears it and spends its state in the store (a client may keep a cookie), and WeChat takes a code once.
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

export function sealLogin(key: Buffer, login: PendingLogin): string {
  const payload = Buffer.from(JSON.stringify({ s: login.state, t: login.to, c: login.scope, e: login.expiresAt })).toString('base64url')
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
