/**
 * A menu's login buttons (`type: view` with `login: base|userinfo`, docs/menus.md) against the configuration:
 * each sends, as its url, the login link of its page on the engine's publicUrl (core/web/login-link.ts), so
 * a press opens the page knowing who pressed. What the login would refuse (no publicUrl, a page off the
 * account's pageDomains, no appSecret), a link over WeChat's 1024 bytes, and a link's host making a 4th
 * domain of the personalized menus are errors at the button's line, before anything is sent. And the other
 * way, for `menu pull` and `menu show`: a view button whose url is such a link reads back as its page and
 * `login:`.
 */
import type { AccountConfig, EngineConfig } from '../config/config-types.ts'
import type { RuleLoadError } from '../route/rule-types.ts'
import { loginLink, loginLinkSettingsOf, readLoginLink, type LoginLinkSettings } from '../web/login-link.ts'
import { conditionalDomainErrors, loadMenuFile, MAX_URL_BYTES, type LeafButton, type LoadedMenu } from './menu-file.ts'

/**
 * An account's menu file, checked as a file and then its login buttons against the configuration: what
 * `menu check` and `menu push` read (`rules check` reads the file, and warns of the links it cannot make).
 */
export async function loadAccountMenu(
  config: EngineConfig,
  account: AccountConfig,
  file: string,
): Promise<({ ok: true; linkOf: MenuLoginLinks['linkOf'] } & LoadedMenu) | { ok: false; errors: RuleLoadError[]; /** The file is a menu; its login buttons' links cannot be made. */ links?: true }> {
  const loaded = await loadMenuFile(file)
  if (!loaded.ok) return loaded
  const links = menuLoginLinks(loaded, loginLinkSettingsOf(config), account.id, file)
  if (links.errors.length > 0) return { ok: false, errors: links.errors, links: true }
  return { ...loaded, linkOf: links.linkOf }
}

export interface MenuLoginLinks {
  errors: RuleLoadError[]
  /** The url a login button sends: its link (only for a menu without errors). */
  linkOf(button: LeafButton): string
}

export function menuLoginLinks(loaded: LoadedMenu, settings: LoginLinkSettings, accountId: string, file: string): MenuLoginLinks {
  const links = new Map<LeafButton, string>()
  const errors: RuleLoadError[] = []
  const menus = [{ label: '', leaves: loaded.leaves }, ...loaded.conditional.map((c) => ({ label: `${c.label}: `, leaves: c.leaves }))]
  for (const { label, leaves } of menus) {
    for (const { button, place, top } of leaves) {
      if (button.login === undefined || button.url === undefined) continue
      const at = { file, line: place.line, column: place.column }
      const link = loginLink(settings, accountId, button.url, button.login)
      if ('problem' in link) {
        errors.push({ ...at, message: `${label}button ${place.label}: login: ${link.problem}` })
        continue
      }
      const size = Buffer.byteLength(link.url)
      if (size > MAX_URL_BYTES) {
        errors.push({ ...at, message: `${label}button ${place.label}: its login link is ${size} bytes, over the ${MAX_URL_BYTES} a url may be (WeChat refuses it with ${top ? 40020 : 40027}): a shorter page URL, or a shorter publicUrl` })
        continue
      }
      links.set(button, link.url)
    }
  }
  if (errors.length === 0) errors.push(...conditionalDomainErrors(loaded.conditional, file, (b) => (b.login === undefined ? b.url : links.get(b))))
  return {
    errors,
    linkOf(button) {
      const link = links.get(button)
      if (link === undefined) throw new TypeError(`button ${JSON.stringify(button.name)} has no login link: its menu had errors`)
      return link
    },
  }
}

type Obj = { [key: string]: unknown }
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * A fetched menu's buttons (the file's shape, menu-api.ts) with each view button whose url is a login link of
 * this account on publicUrl written back as the file had it: its page and `login:`.
 */
export function withLoginButtons<T extends { button: unknown[] }>(menu: T, settings: LoginLinkSettings, accountId: string): T {
  const button = (b: unknown): unknown => {
    if (!isObj(b)) return b
    if (Array.isArray(b.sub_button)) return { ...b, sub_button: b.sub_button.map(button) }
    if (b.type !== 'view' || typeof b.url !== 'string') return b
    const read = readLoginLink(settings, accountId, b.url)
    return read ? { ...b, url: read.to, login: read.scope } : b
  }
  return { ...menu, button: menu.button.map(button) }
}
