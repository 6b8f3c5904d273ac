/**
 * `wxengine web link <page>`: the login link of one of the account's pages (docs/web.md), for where no plugin
 * builds it: a menu made in the console, an article, a poster's QR code, a template message sent by hand.
 * The same link `ctx.web.loginUrl` and a menu button's `login:` send, checked the same way: what the login
 * would refuse (no publicUrl, a page off the account's pageDomains, no appSecret) is said instead, exit 2.
 */
import { loginLink, loginLinkSettingsOf } from '../../web/login-link.ts'
import { EXIT_OK, EXIT_USAGE, loadProjectAccount, stdio, type GlobalFlags, type Output } from '../cli-context.ts'

export interface WebLinkFlags extends GlobalFlags {
  account?: string
  scope?: string
}

export function runWebLink(page: string, flags: WebLinkFlags, io: Output = stdio): number {
  const loaded = loadProjectAccount(flags, 'web link', io)
  if (!loaded) return EXIT_USAGE
  const { config, account } = loaded
  const link = loginLink(loginLinkSettingsOf(config), account.id, page, flags.scope ?? 'base')
  if ('problem' in link) {
    io.err(`wxengine web link: ${link.problem}`)
    return EXIT_USAGE
  }
  io.out(link.url)
  const host = new URL(link.url).host
  io.err(
    `opened in WeChat, it logs the user in (${flags.scope === 'userinfo' ? 'userinfo: WeChat asks them for their profile' : 'base: silently, their openid'}) and opens ${new URL(page).href} with wxe_ticket= added, which the page redeems at /oauth-identity; ${host} must be account ${account.id}'s 网页授权域名 (设置与开发 > 接口权限 > 网页授权)`,
  )
  return EXIT_OK
}
