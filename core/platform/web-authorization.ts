/**
 * The platform's side of a web login (网页授权, seeds/002 "授权" > 网页授权流程):
 *   1. the user is sent to open.weixin.qq.com/connect/oauth2/authorize, which comes back to our redirect_uri
 *      with a `code` (snsapi_base: silently; snsapi_userinfo: once the user agrees);
 *   2. the code is exchanged at /sns/oauth2/access_token (with the AppSecret) for the user's openid and a
 *      web access_token, which is not the account's access_token;
 *   3. for snsapi_userinfo, /sns/userinfo with that token gives the nickname, avatar and unionid.
 * The web access_token and refresh_token are used at once and not kept: the login needs nothing after it.
 */
import type { Result } from '../errors.ts'
import { ok } from '../errors.ts'
import type { JsonValue } from '../plugin/plugin-api.ts'
import { apiError, type ApiClient } from './api-client.ts'

export const WEB_CODE_PATH = '/sns/oauth2/access_token'
export const WEB_USERINFO_PATH = '/sns/userinfo'
export const AUTHORIZE_PATH = '/connect/oauth2/authorize'

export type WebScope = 'snsapi_base' | 'snsapi_userinfo'

/** Who logged in: what the platform said, in its own field names. */
export interface WebIdentity {
  openid: string
  scope: WebScope
  /** When the account is bound to an Open Platform account (WeChat documents it for snsapi_userinfo). */
  unionid?: string
  /**
   * The user is in a snapshot page (快照页, a page opened from 朋友圈 without logging in): the openid is a
   * virtual account's, not a real user's, and the page should ask them to open it fully before anything that
   * needs who they are. From the exchange's `is_snapshotuser: 1`.
   */
  snapshot?: true
  /** snsapi_userinfo only: /sns/userinfo's answer (nickname, sex, province, city, country, headimgurl, privilege, unionid). */
  userinfo?: { [key: string]: JsonValue }
}

/** Where the user's browser goes to log in; WeChat wants the `#wechat_redirect` at its end. */
export function authorizeUrl(openBase: string, appId: string, redirectUri: string, scope: WebScope, state: string): string {
  const q = new URLSearchParams({ appid: appId, redirect_uri: redirectUri, response_type: 'code', scope, state })
  return `${openBase.replace(/\/+$/, '')}${AUTHORIZE_PATH}?${q.toString()}#wechat_redirect`
}

/** Steps 2 and 3: the code the user came back with, to who they are. */
export async function identityFromCode(client: ApiClient, appId: string, appSecret: string, code: string, scope: WebScope): Promise<Result<WebIdentity>> {
  const exchanged = await client.getJson(WEB_CODE_PATH, { appid: appId, secret: appSecret, code, grant_type: 'authorization_code' })
  if (!exchanged.ok) return exchanged
  const { openid, access_token: webToken, unionid, scope: granted, is_snapshotuser: snapshot } = exchanged.value
  if (typeof openid !== 'string' || openid === '' || typeof webToken !== 'string' || webToken === '') {
    return apiError(`GET ${WEB_CODE_PATH}: the answer has no openid/access_token`, undefined, 200)
  }
  // The scope WeChat granted, which it says: what the page gets is that, not what was asked.
  const identity: WebIdentity = { openid, scope: granted === 'snsapi_base' || granted === 'snsapi_userinfo' ? granted : scope }
  if (typeof unionid === 'string' && unionid !== '') identity.unionid = unionid
  if (snapshot === 1 || snapshot === '1') identity.snapshot = true
  // A snapshot page's virtual user has no profile to read.
  if (identity.scope === 'snsapi_base' || identity.snapshot) return ok(identity)
  const info = await client.getJson(WEB_USERINFO_PATH, { access_token: webToken, openid, lang: 'zh_CN' })
  if (!info.ok) return info
  if (info.value.openid !== openid) return apiError(`GET ${WEB_USERINFO_PATH}: the answer is not for the user who logged in`, undefined, 200)
  const { errcode: _c, errmsg: _m, ...userinfo } = info.value
  identity.userinfo = userinfo
  if (identity.unionid === undefined && typeof userinfo.unionid === 'string' && userinfo.unionid !== '') identity.unionid = userinfo.unionid
  return ok(identity)
}
