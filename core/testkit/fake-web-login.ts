/**
 * The fake platform's web login (网页授权, seeds/002 "授权"), the three steps a page's login takes:
 *
 *   GET /connect/oauth2/authorize?appid=&redirect_uri=&response_type=code&scope=&state=   (open.weixin.qq.com)
 *        -> 302 to redirect_uri with `code` and `state` added, for the user in the "browser"
 *           (`setBrowserUser`); a user who refuses a snsapi_userinfo login comes back with `state` alone, as
 *           WeChat sends them. An unknown appid, a redirect_uri that is not http(s), a response_type other
 *           than code or another scope: HTTP 400 and a page saying which, as WeChat shows an error page.
 *   GET /sns/oauth2/access_token?appid=&secret=&code=&grant_type=authorization_code
 *        -> {access_token, expires_in, refresh_token, openid, scope} (and unionid when the user has one,
 *           is_snapshotuser: 1 for a user in a snapshot page).
 *           A code is good once, for 5 minutes: 40029 unknown or expired, 40163 used. 40002 wrong grant_type;
 *           the appid and secret checked as for /cgi-bin/token.
 *   GET /sns/userinfo?access_token=&openid=&lang=
 *        -> {openid, nickname, sex, province, city, country, headimgurl, privilege, unionid?} for a web
 *           access_token of a snsapi_userinfo login; 48001 (api unauthorized) for a snsapi_base one, 40001 an
 *           unknown token, 40003 an openid that is not the token's.
 */
import { randomBytes } from 'node:crypto'

type Json = string | number | boolean | null | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

export const FAKE_WEB_LOGIN_PATHS = {
  authorize: '/connect/oauth2/authorize',
  exchange: '/sns/oauth2/access_token',
  userinfo: '/sns/userinfo',
} as const

/** Who the fake's "browser" is: the WeChat user a login is for. */
export interface BrowserUser {
  openId: string
  unionId?: string
  nickname?: string
  headimgurl?: string
  /** Refuses a snsapi_userinfo login (the consent page's 拒绝); a snsapi_base one is silent and cannot be refused. */
  refuses?: boolean
  /** In a snapshot page (快照页): the exchange answers `is_snapshotuser: 1` and a virtual openid. */
  snapshot?: boolean
}

export const DEFAULT_BROWSER_USER: BrowserUser = { openId: 'oWebUser00000000000000000001', nickname: '微信用户' }

export interface FakeWebLogin {
  authorize(query: Record<string, string>): { status: 302; location: string } | { status: 400; page: string }
  exchange(query: Record<string, string>): JsonObject
  userinfo(query: Record<string, string>): JsonObject
  setBrowserUser(user: BrowserUser): void
  /** Codes issued so far, oldest first. */
  readonly issuedCodes: string[]
}

const CODE_LIFE_MS = 5 * 60_000

export function createFakeWebLogin(deps: {
  now: () => number
  error: (errcode: number, errmsg?: string) => JsonObject
  checkApp: (appid: unknown, secret: unknown) => JsonObject | null
  knowsApp: (appid: string) => boolean
}): FakeWebLogin {
  const { now, error } = deps
  let user: BrowserUser = DEFAULT_BROWSER_USER
  const codes = new Map<string, { appId: string; scope: string; user: BrowserUser; at: number; used: boolean }>()
  const webTokens = new Map<string, { scope: string; user: BrowserUser }>()
  const issuedCodes: string[] = []

  function authorize(q: Record<string, string>): { status: 302; location: string } | { status: 400; page: string } {
    if (!q.appid || !deps.knowsApp(q.appid)) return { status: 400, page: 'appid 参数错误 (unknown appid)' }
    let back: URL
    try {
      back = new URL(q.redirect_uri ?? '')
    } catch {
      return { status: 400, page: 'redirect_uri 参数错误 (not a URL)' }
    }
    if (back.protocol !== 'http:' && back.protocol !== 'https:') return { status: 400, page: 'redirect_uri 参数错误 (not http(s))' }
    if (q.response_type !== 'code') return { status: 400, page: 'response_type 参数错误' }
    if (q.scope !== 'snsapi_base' && q.scope !== 'snsapi_userinfo') return { status: 400, page: 'scope 参数错误或没有 scope 权限' }
    if (q.scope === 'snsapi_userinfo' && user.refuses) {
      if (q.state !== undefined) back.searchParams.set('state', q.state)
      return { status: 302, location: back.href }
    }
    const code = randomBytes(16).toString('hex')
    codes.set(code, { appId: q.appid, scope: q.scope, user, at: now(), used: false })
    issuedCodes.push(code)
    back.searchParams.set('code', code)
    if (q.state !== undefined) back.searchParams.set('state', q.state)
    return { status: 302, location: back.href }
  }

  function exchange(q: Record<string, string>): JsonObject {
    if (q.grant_type !== 'authorization_code') return error(40002)
    const bad = deps.checkApp(q.appid, q.secret)
    if (bad) return bad
    const c = q.code === undefined ? undefined : codes.get(q.code)
    if (!c || c.appId !== q.appid || now() - c.at > CODE_LIFE_MS) return error(40029, 'invalid code')
    if (c.used) return error(40163, 'code been used')
    c.used = true
    const token = `web_${randomBytes(16).toString('hex')}`
    webTokens.set(token, { scope: c.scope, user: c.user })
    const answer: JsonObject = { access_token: token, expires_in: 7200, refresh_token: `refresh_${randomBytes(16).toString('hex')}`, openid: c.user.openId, scope: c.scope }
    if (c.user.unionId) answer.unionid = c.user.unionId
    if (c.user.snapshot) answer.is_snapshotuser = 1
    return answer
  }

  function userinfo(q: Record<string, string>): JsonObject {
    const t = q.access_token === undefined ? undefined : webTokens.get(q.access_token)
    if (!t) return error(40001)
    if (t.scope !== 'snsapi_userinfo') return error(48001)
    if (q.openid !== t.user.openId) return error(40003, 'invalid openid')
    const info: JsonObject = {
      openid: t.user.openId,
      nickname: t.user.nickname ?? '微信用户',
      sex: 0,
      province: '',
      city: '',
      country: '',
      headimgurl: t.user.headimgurl ?? 'https://thirdwx.qlogo.cn/mmopen/vi_32/fake/132',
      privilege: [],
    }
    if (t.user.unionId) info.unionid = t.user.unionId
    return info
  }

  return { authorize, exchange, userinfo, setBrowserUser: (u) => (user = u), issuedCodes }
}
