/**
 * A link that logs a user in to one of the account's pages (docs/web.md): `<publicUrl>/oauth/<account>?to=
 * <page>[&scope=userinfo]`, for a reply's article, a template message's url, a link in a text, or a menu's
 * view button (`login:`, core/menu/menu-login-links.ts). Built
 * by a plugin (`ctx.web.loginUrl`), so what the login itself would refuse (no publicUrl to build it on, a
 * page not on the account's pageDomains, no appSecret) throws at the line that built the link, not in a
 * user's browser later.
 *
 * Pure data in, a string out: it runs in a plugin's worker, with the settings the worker was started with.
 */
import type { EngineConfig } from '../config/config-types.ts'
import { MAX_LOGIN_TO } from './login-cookie.ts'
import { pageProblem } from './page-domains.ts'

/** What a worker is told of each account to build its login links. */
export interface LoginLinkAccount {
  id: string
  pageDomains: readonly string[]
  /** A login needs the AppSecret to exchange WeChat's code; without one, `/oauth` answers 503. */
  hasAppSecret: boolean
}

export interface LoginLinkSettings {
  /** `publicUrl` of engine.config.ts, as validated (no trailing slash): where browsers reach the engine. */
  publicUrl: string | undefined
  accounts: readonly LoginLinkAccount[]
}

/** The settings of a configuration: no secret crosses to the plugin's worker, only whether there is one. */
export function loginLinkSettingsOf(config: Pick<EngineConfig, 'publicUrl' | 'accounts'>): LoginLinkSettings {
  return {
    publicUrl: config.publicUrl,
    accounts: config.accounts.map((a) => ({ id: a.id, pageDomains: a.pageDomains ?? [], hasAppSecret: Boolean(a.appSecret) })),
  }
}

/** The login link, or why there can be none (a sentence for a TypeError at the plugin's call). */
export function loginLink(settings: LoginLinkSettings, accountId: string, to: unknown, scope: unknown = 'base'): { url: string } | { problem: string } {
  const account = settings.accounts.find((a) => a.id === accountId)
  if (!account) return { problem: `no account ${JSON.stringify(accountId)}` }
  if (scope !== 'base' && scope !== 'userinfo') return { problem: `scope must be 'base' or 'userinfo', not ${JSON.stringify(scope)?.slice(0, 40)}` }
  if (settings.publicUrl === undefined) {
    return { problem: "the engine's public address is not set: set publicUrl in engine.config.ts (or PUBLIC_URL) to where browsers reach it, e.g. https://wx.example.com" }
  }
  if (account.pageDomains.length === 0) {
    return { problem: `account "${account.id}" has no page domains, so no page can be logged in to: set accounts[].pageDomains to the hosts of its pages` }
  }
  if (!account.hasAppSecret) return { problem: `account "${account.id}" has no appSecret, which a web login needs to exchange WeChat's code` }
  if (typeof to !== 'string') return { problem: `to must be the page's full URL, a string, not ${to === null ? 'null' : typeof to}` }
  const problem = pageProblem(to, account.pageDomains, 'to')
  if (problem) return { problem }
  const page = new URL(to).href
  const downgrade = downgradeProblem(page, settings.publicUrl.startsWith('https:'))
  if (downgrade) return { problem: downgrade }
  if (page.length > MAX_LOGIN_TO) return { problem: `the to is ${page.length} characters, over ${MAX_LOGIN_TO} (the login keeps it in a cookie until WeChat sends the user back)` }
  const query = `to=${encodeURIComponent(page)}${scope === 'userinfo' ? '&scope=userinfo' : ''}`
  return { url: `${settings.publicUrl}/oauth/${account.id}?${query}` }
}

/**
 * Why a login run on https may not hand the user back to this page, or undefined: an http page. The login
 * ends by sending the user to the page with their ticket in its query (web-login-endpoint.ts); on http that
 * ticket, which stands for the user until it expires, crosses the network readable by anyone on the way
 * (a café's Wi-Fi), though the login itself was encrypted. A page domain serves both schemes, so the https
 * page is there to use. An engine on plain http (a test, a LAN) leaves the choice to whoever runs it.
 */
export function downgradeProblem(page: string, loginOnHttps: boolean): string | undefined {
  if (!loginOnHttps || !page.startsWith('http:')) return undefined
  return `the to ${JSON.stringify(page.slice(0, 200))} is http while the login runs on https: the user's login ticket would reach the page unencrypted; pass the page's https address`
}

/**
 * The page and scope of a login link this account's loginLink would build, or undefined for any other URL
 * (another account's, another address, extra parameters): what `menu pull` writes back as `login:`.
 */
export function readLoginLink(settings: LoginLinkSettings, accountId: string, url: string): { to: string; scope: 'base' | 'userinfo' } | undefined {
  if (settings.publicUrl === undefined) return undefined
  const prefix = `${settings.publicUrl}/oauth/${accountId}?`
  if (!url.startsWith(prefix)) return undefined
  const query = new URLSearchParams(url.slice(prefix.length))
  const to = query.get('to')
  const scope = query.get('scope') ?? 'base'
  if (to === null || (scope !== 'base' && scope !== 'userinfo') || [...query.keys()].some((k) => k !== 'to' && k !== 'scope')) return undefined
  // Only what loginLink would give back for it: a link written otherwise is left as the url it is.
  const again = loginLink(settings, accountId, to, scope)
  return 'url' in again && again.url === url ? { to, scope } : undefined
}
