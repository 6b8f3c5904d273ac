/**
 * Account settings the engine starts with but that will not do what was meant: `start` logs each as a
 * warning, `rules check` prints them (so `--strict` fails such a deploy), and a reload that reads the
 * configuration again says those of the settings it applies (reload/reread-config.ts). Not errors: a test
 * account, a proxy in front, or an id scheme WeChat adds later must not stop an engine.
 */
import { isIP } from 'node:net'
import type { AccountConfig, EngineConfig } from './config-types.ts'

/**
 * The token of the repository's example engine.config.ts. It is public, so anyone can sign pushes with it.
 */
export const EXAMPLE_TOKEN = 'wxenginedev'

/** An Official Account's AppID as the console shows it (test accounts too): `wx` and 16 hex digits. */
const APP_ID = /^wx[0-9a-f]{16}$/i
/** Its original id (原始ID), the ToUserName of every push: `gh_` and 12 hex digits. */
const ORIGINAL_ID = /^gh_[0-9a-f]{12}$/i

type AccountFields = Pick<AccountConfig, 'id' | 'token' | 'appId' | 'originalId' | 'userGroups'> & Partial<Pick<AccountConfig, 'appSecret' | 'pageDomains'>>

export interface AccountWarning {
  account: string
  /** The account setting that is wrong, so that a reload can tell those it applies from those it does not. */
  setting: 'token' | 'appId' | 'originalId' | 'userGroups' | 'pageDomains'
  message: string
}

/** One warning per setting, each naming the account and, for the default account's, its variable. */
export function accountWarnings(accounts: readonly AccountFields[]): AccountWarning[] {
  const out: AccountWarning[] = []
  /** Original ids seen, lower case, and whose: one gh_ id is one Official Account, so a second is a copy-paste. */
  const originalIds = new Map<string, string>()
  for (const a of accounts) {
    const say = (setting: AccountWarning['setting'], message: string) => out.push({ account: a.id, setting, message: `account "${a.id}" ${message}` })
    if (a.token === EXAMPLE_TOKEN) {
      say('token', `serves with the example token "${EXAMPLE_TOKEN}", which anyone can sign pushes with: set its own (WECHAT_TOKEN for the default account)`)
    }
    // A mistyped AppID shows up only later, and elsewhere: every encrypted push refused as WRONG_APPID, and
    // the access_token fetch failing with errcode 40013.
    if (!APP_ID.test(a.appId)) {
      say('appId', `has appId "${shortened(a.appId)}", which is not an AppID ("wx" and 16 hex digits, from the console's basic settings): encrypted pushes will not decrypt for it and API calls will fail (WECHAT_APPID for the default account)`)
    }
    // Not the AppID: `wxengine send` writes it as the push's ToUserName, and plugins see it as the account's.
    if (a.originalId !== undefined && !ORIGINAL_ID.test(a.originalId)) {
      say('originalId', `has originalId "${shortened(a.originalId)}", which is not an original id ("gh_" and 12 hex digits, from the console's account details) (WECHAT_ORIGINAL_ID for the default account)`)
    }
    const twin = a.originalId === undefined ? undefined : originalIds.get(a.originalId.toLowerCase())
    if (twin !== undefined) {
      say('originalId', `has the originalId of account "${twin}" (${shortened(a.originalId!)}): an original id is one Official Account's, so one of the two is a copy; \`wxengine send\` addresses its pushes to it (WECHAT_ORIGINAL_ID for the default account)`)
    } else if (a.originalId !== undefined) originalIds.set(a.originalId.toLowerCase(), a.id)
    // A group with nobody in it is allowed (staff to be added), but what it guards then answers nobody, and
    // nothing else says so: the user sees the default reply, the operator a rule that "does not match".
    for (const [group, members] of Object.entries(a.userGroups ?? {})) {
      if (members.length > 0) continue
      say('userGroups', `has an empty user group "${group}": rules and handlers with users: ${group} answer nobody, and ctx.user.inGroup('${group}') is false for everyone${group === 'admins' ? ' (WECHAT_ADMINS for the default account)' : ''}`)
    }
    // Its pages would each be answered 503 (no jsapi_ticket, no code exchange): said once here, not per page view.
    if ((a.pageDomains?.length ?? 0) > 0 && !a.appSecret) {
      say('pageDomains', `has pageDomains but no appSecret: /jssdk-config and /oauth answer its pages 503, as the jsapi_ticket and a web login's code exchange need it (WECHAT_APPSECRET for the default account)`)
    }
  }
  return out
}

/**
 * publicUrl with a port or an IP address, while an account has pages (pageDomains): a web login tells WeChat
 * to come back there, and WeChat takes only a callback on the account's 网页授权域名, which the console takes
 * as a full domain name (www.qq.com): no port, no IP address. Every login would end on WeChat's page with
 * errcode 10003 (redirect_uri 域名与后台配置不一致), far from this setting. Not an error: publicUrl may be
 * set for something else, or WeChat may take it one day.
 */
export function publicUrlWarning(config: Pick<EngineConfig, 'publicUrl'> & { accounts: readonly Pick<AccountConfig, 'pageDomains'>[] }): string | undefined {
  if (config.publicUrl === undefined || !config.accounts.some((a) => (a.pageDomains?.length ?? 0) > 0)) return undefined
  const url = new URL(config.publicUrl)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const what = isIP(host) !== 0 ? `is an IP address (${host})` : url.port !== '' ? `has a port (${url.port})` : undefined
  if (what === undefined) return undefined
  return `publicUrl ${what}: web logins tell WeChat to come back there, and WeChat only returns to the account's 网页授权域名, a full domain name without a port (set in mp.weixin.qq.com, 设置与开发 > 接口权限 > 网页授权), so every login would end in errcode 10003; serve the engine at a domain name on port 443 or 80, behind a proxy if need be (PUBLIC_URL)`
}

function shortened(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}...` : value
}
