/**
 * The custom menu of one account: menus/<account-id>.yaml (docs/menus.md), WeChat's own JSON shape written
 * in YAML, so a menu from WeChat's documentation or from `wxengine menu pull` can be pasted as it is:
 *
 *   button:
 *     - {type: click, name: 今日歌曲, key: V1001_TODAY_MUSIC}
 *     - name: 菜单
 *       sub_button:
 *         - {type: view, name: 搜索, url: 'http://www.soso.com/'}
 *   conditional:                     # optional: personalized menus (menu/addconditional), in push order
 *     - name: vip                    # for messages only
 *       matchrule: {tag_id: '101'}   # tag_id, client_platform_type; text
 *       button: [...]                # checked as the default's
 *
 * Checked here against the platform's limits (seeds/002 菜单配置, and the menu/create errcodes 40016-40027),
 * with `file:line:col` for every problem as the rules have it, before anything is sent: what WeChat would
 * refuse with a bare errcode is refused here with the button and the line.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { docsPage } from '../docs-page.ts'
import { didYouMean } from '../did-you-mean.ts'
import type { RuleLoadError } from '../route/rule-types.ts'
import { describeValue } from '../route/rules/describe-issue.ts'
import { parseYamlWithPositions, positionAt } from '../route/rules/yaml-positions.ts'
import { utf8Text } from '../utf8-text.ts'

/** Every button type menu/create takes, with the fields each needs besides `name`. */
export const BUTTON_FIELDS = {
  click: ['key'],
  view: ['url'],
  scancode_push: ['key'],
  scancode_waitmsg: ['key'],
  pic_sysphoto: ['key'],
  pic_photo_or_album: ['key'],
  pic_weixin: ['key'],
  location_select: ['key'],
  media_id: ['media_id'],
  view_limited: ['media_id'],
  miniprogram: ['url', 'appid', 'pagepath'],
  article_id: ['article_id'],
  article_view_limited: ['article_id'],
} as const satisfies Record<string, readonly string[]>

export type ButtonType = keyof typeof BUTTON_FIELDS

/**
 * Fields of the file that WeChat's JSON does not have. `login` on a view button opens its page through a web
 * login (docs/web.md): push sends the login link built on publicUrl (core/menu/menu-login-links.ts), and the
 * page opens knowing who pressed.
 */
export const OPTIONAL_BUTTON_FIELDS: Partial<Record<ButtonType, readonly string[]>> = { view: ['login'] }
export const LOGIN_SCOPES = ['base', 'userinfo'] as const
export type MenuLoginScope = (typeof LOGIN_SCOPES)[number]
export const BUTTON_TYPES = Object.keys(BUTTON_FIELDS) as ButtonType[]

/** Button types whose press is pushed to the engine with the button's key as EventKey (a rule or handler can answer it). */
export const KEYED_TYPES: readonly ButtonType[] = ['click', 'scancode_push', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select']

/**
 * Types a menu made in the console has (get_current_selfmenu_info shows them) and the API cannot create: the
 * console answers the press itself with `value`. Here such a button becomes a click with a key and a rule.
 */
export const CONSOLE_ONLY_TYPES: ReadonlySet<string> = new Set(['text', 'img', 'photo', 'voice', 'video', 'news'])

export interface LeafButton {
  type: ButtonType
  name: string
  key?: string
  url?: string
  media_id?: string
  article_id?: string
  appid?: string
  pagepath?: string
  /** A view button's page opened through a web login, with this scope; not sent as such (toCreateBody). */
  login?: MenuLoginScope
}

export interface ParentButton {
  name: string
  sub_button: LeafButton[]
}

export type MenuButton = LeafButton | ParentButton

/** The body of menu/create. */
export interface Menu {
  button: MenuButton[]
}

/** Where a button is written, for the cross-check's and push's messages. */
export interface ButtonPlace {
  /** `"今日歌曲"`, or `"菜单" > "搜索"` for a sub-button. */
  label: string
  line: number
  column: number
}

export interface LoadedMenu {
  /** The default menu (menu/create). */
  menu: Menu
  /** The place of each leaf button, in menu order (top-level leaves and sub-buttons). */
  leaves: { button: LeafButton; place: ButtonPlace; top: boolean }[]
  /** The personalized menus (conditional:), in file order: push creates them in this order. */
  conditional: ConditionalMenu[]
  warnings: string[]
}

/**
 * matchrule fields WeChat still matches on. sex, country, province, city and language were the others; since
 * the privacy change of 2021 addconditional refuses them (65320), and menus made with them match no one.
 */
export const MATCH_FIELDS = ['tag_id', 'client_platform_type'] as const
export type MatchField = (typeof MATCH_FIELDS)[number]
export const PRIVATE_MATCH_FIELDS = ['sex', 'country', 'province', 'city', 'language'] as const
/** Every field in the order WeChat's documentation writes them, for the bodies sent and the files pulled. */
export const MATCHRULE_ORDER = ['tag_id', 'sex', 'country', 'province', 'city', 'client_platform_type', 'language'] as const
export type MatchRule = Partial<Record<MatchField, string>>
/** The links of all of an account's personalized menus go to at most this many domains (65316). */
export const MAX_CONDITIONAL_DOMAINS = 3

/** A personalized menu of the file (conditional:), sent with menu/addconditional. */
export interface ConditionalMenu {
  /** Its `name:`, for messages only: WeChat keeps none. */
  name?: string
  /** `conditional menu "vip"`, or `conditional menu 2` without a name. */
  label: string
  matchrule: MatchRule
  menu: Menu
  /** As LoadedMenu.leaves, labels relative to this menu (`"A" > "B"`). */
  leaves: LoadedMenu['leaves']
  /** Where its entry starts. */
  line: number
  column: number
}

export type LoadMenuResult = ({ ok: true } & LoadedMenu) | { ok: false; errors: RuleLoadError[] }

export const MAX_TOP_BUTTONS = 3
export const MAX_SUB_BUTTONS = 5
/** UTF-8 bytes, as WeChat counts them (40018, 40025). */
export const MAX_TOP_NAME_BYTES = 16
export const MAX_SUB_NAME_BYTES = 60
export const MAX_KEY_BYTES = 128
export const MAX_URL_BYTES = 1024
/**
 * What the client shows of a name, in the width of Chinese characters (seeds/002: 4 for a top-level button,
 * 8 for a sub-button; the rest is cut to "..."). A Latin letter or digit is half as wide.
 */
export const SHOWN_TOP_WIDTH = 4
export const SHOWN_SUB_WIDTH = 8

const bytes = (s: string) => Buffer.byteLength(s, 'utf8')

/** Width in Chinese characters: ASCII and half-width forms count half. */
export function shownWidth(s: string): number {
  let halves = 0
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    halves += c < 0x1100 || (c >= 0xff61 && c <= 0xffdc) ? 1 : 2
  }
  return halves / 2
}

export async function loadMenuFile(file: string): Promise<LoadMenuResult> {
  let text: string
  try {
    const read = utf8Text(await readFile(file))
    if (!read.ok) return { ok: false, errors: [{ file, line: read.line, column: read.column, message: read.message }] }
    text = read.text
  } catch (e) {
    return { ok: false, errors: [{ file, line: 1, column: 1, message: `cannot read the file: ${(e as Error).message}` }] }
  }
  return parseMenuFile(text, file)
}

/** `file` only names the file in messages. */
export function parseMenuFile(text: string, file: string): LoadMenuResult {
  if (text.length > 256 * 1024) return { ok: false, errors: [{ file, line: 1, column: 1, message: 'the file is over 256 KB: a menu of 3 buttons of 5 sub-buttons is a few hundred bytes; is this the right file?' }] }
  const parsed = parseYamlWithPositions(text, file)
  if (!parsed.ok) return { ok: false, errors: parsed.errors }
  const { doc, lineCounter, data } = parsed
  const errors: RuleLoadError[] = []
  const warnings: string[] = []
  const place = (path: readonly PropertyKey[], key?: string) => positionAt(doc, lineCounter, path, key)
  const error = (path: readonly PropertyKey[], message: string, key?: string) => errors.push({ file, ...place(path, key), message })
  const warn = (path: readonly PropertyKey[], message: string) => {
    const { line, column } = place(path)
    warnings.push(`${file}:${line}:${column}: ${message}`)
  }
  // Named in a few errors only: looked for when one is said.
  const menusDocs = () => docsPage('menus.md', dirname(resolve(file)))
  const findings: Findings = { place, error, warn, menusDocs }

  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    error([], `a menu file is a mapping with button: (a list of up to ${MAX_TOP_BUTTONS} buttons), got ${describeValue(data)}`)
    return { ok: false, errors }
  }
  const root = data as Record<string, unknown>
  for (const k of Object.keys(root)) {
    if (k === 'button' || k === 'conditional') continue
    const hint =
      k === 'menu'
        ? "; menu/get's answer wraps the menu in menu: {button: ...}: write button: at the top"
        : k === 'conditionalmenu'
          ? `; menu/get's answer calls the personalized menus conditionalmenu: write them under conditional: (${menusDocs()})`
          : k === 'matchrule'
            ? '; a matchrule belongs to a personalized menu: write it under conditional:, each menu with its matchrule and button'
            : didYouMean(k, ['button', 'conditional'])
    error([], `unknown key "${k}"${hint}; a menu file has button: and, optionally, conditional:`, k)
  }
  const buttons = root.button
  if (buttons === undefined) {
    error(
      [],
      root.conditional !== undefined
        ? 'button: is missing: personalized menus (conditional:) need the default menu, button:, which every user no personalized menu matches sees (WeChat refuses addconditional without one, 65303)'
        : 'button: is missing: the menu is button: with a list of up to 3 buttons (to remove the menu: wxengine menu delete)',
    )
    return { ok: false, errors }
  }

  /** A personalized menu's matchrule: the fields WeChat still matches on, as text. */
  const checkMatchrule = (mr: unknown, base: PropertyKey[], label: string): MatchRule | undefined => {
    const at = [...base, 'matchrule']
    if (mr === undefined || mr === null) {
      error(base, `${label}: matchrule is missing: it says who sees this menu (tag_id: a user tag's id; client_platform_type: '1' iOS, '2' Android, '3' others)`)
      return undefined
    }
    if (typeof mr !== 'object' || Array.isArray(mr)) {
      error(at, `${label}: matchrule must be a mapping (tag_id, client_platform_type), got ${describeValue(mr)}`)
      return undefined
    }
    const out: MatchRule = {}
    let ok = true
    for (const [k, v] of Object.entries(mr as Record<string, unknown>)) {
      const subject = `${label}: matchrule ${k}`
      if (k === 'group_id') {
        error(at, `${subject} is the old name of tag_id: write tag_id`, k)
        ok = false
        continue
      }
      if ((PRIVATE_MATCH_FIELDS as readonly string[]).includes(k)) {
        error(at, `${subject}: WeChat no longer matches personalized menus on sex, region or language (a privacy change of 2021): addconditional refuses a matchrule with ${k} (65320), and a menu made with one earlier is matched by no one; tag those users and match tag_id instead`, k)
        ok = false
        continue
      }
      if (!(MATCH_FIELDS as readonly string[]).includes(k)) {
        error(at, `${label}: unknown matchrule field "${k}"${didYouMean(k, MATCH_FIELDS)}; a matchrule has tag_id and client_platform_type`, k)
        ok = false
        continue
      }
      if (typeof v !== 'string') {
        error([...at, k], `${subject} must be text (WeChat takes every matchrule value as a string), got ${describeValue(v)}${typeof v === 'number' ? `; quote it: ${k}: '${String(v)}'` : ''}`)
        ok = false
        continue
      }
      if (v.trim() === '') {
        error([...at, k], `${subject} is empty: remove it (an empty field matches everyone)`)
        ok = false
        continue
      }
      if (k === 'tag_id' && !/^\d+$/.test(v)) {
        error([...at, k], `${subject} must be a tag's id, digits (the ids are in tags/get, or in the console's 用户管理), got ${describeValue(v)}`)
        ok = false
        continue
      }
      if (k === 'client_platform_type' && !['1', '2', '3'].includes(v)) {
        error([...at, k], `${subject} must be '1' (iOS), '2' (Android) or '3' (others), got ${describeValue(v)}`)
        ok = false
        continue
      }
      out[k as MatchField] = v
    }
    if (ok && Object.keys(out).length === 0) {
      error(at, `${label}: matchrule has no field: give it tag_id or client_platform_type (WeChat refuses an empty one, 65304); the menu for everyone is the default, button:`)
      return undefined
    }
    return ok ? out : undefined
  }

  // The default menu, then each personalized one, each with its own checker (menuChecker).
  const main = menuChecker(findings, '')
  main.check(buttons, [])
  const conditional: ConditionalMenu[] = []
  const list = root.conditional
  if (list !== undefined && list !== null && !Array.isArray(list)) {
    error(['conditional'], `conditional must be a list of personalized menus ({name, matchrule, button}), got ${describeValue(list)}`)
  } else if (Array.isArray(list)) {
    list.forEach((c: unknown, ci) => {
      const base: PropertyKey[] = ['conditional', ci]
      if (typeof c !== 'object' || c === null || Array.isArray(c)) {
        error(base, `conditional menu ${ci + 1} must be a mapping ({name, matchrule, button}), got ${describeValue(c)}`)
        return
      }
      const raw = c as Record<string, unknown>
      let label = `conditional menu ${ci + 1}`
      let nameOk = true
      if (raw.name !== undefined) {
        if (typeof raw.name !== 'string' || raw.name.trim() === '') {
          error([...base, 'name'], `${label}: name must be text (it names the menu in messages only; WeChat keeps no name), got ${describeValue(raw.name)}`)
          nameOk = false
        } else label = `conditional menu ${JSON.stringify(raw.name)}`
      }
      for (const k of Object.keys(raw)) {
        if (k === 'name' || k === 'matchrule' || k === 'button') continue
        const hint = k === 'menuid' ? ': a menuid is what WeChat gives a menu it creates (push prints it), not part of the file; remove it' : didYouMean(k, ['name', 'matchrule', 'button'])
        error(base, `${label}: unknown key "${k}"${hint}; a personalized menu has name (optional), matchrule and button`, k)
      }
      const matchrule = checkMatchrule(raw.matchrule, base, label)
      const checker = menuChecker(findings, `${label}: `)
      if (raw.button === undefined || raw.button === null) error(base, `${label}: button: is missing: a personalized menu has its own buttons, as the default has (1 to 3)`)
      else checker.check(raw.button, base)
      if (matchrule && nameOk) conditional.push({ ...(typeof raw.name === 'string' ? { name: raw.name } : {}), label, matchrule, menu: checker.menu, leaves: checker.leaves, ...place(base) })
    })
  }

  // A login button's link is on the engine's host, which only the configuration knows: counted with it (menu-login-links.ts).
  errors.push(...conditionalDomainErrors(conditional, file, (b) => (b.login === undefined ? b.url : undefined)))
  // WeChat tries the newest personalized menu first, and push creates them in file order: of two with the
  // same matchrule, the earlier is never shown.
  conditional.forEach((c, i) => {
    const later = conditional.slice(i + 1).find((d) => JSON.stringify(matchruleBody(d.matchrule)) === JSON.stringify(matchruleBody(c.matchrule)))
    if (later) warnings.push(`${file}:${c.line}:${c.column}: ${c.label}: ${later.label} (line ${later.line}) has the same matchrule and comes later, so WeChat tries it first: this menu is never shown`)
  })
  if (errors.length > 0) return { ok: false, errors }
  return { ok: true, menu: main.menu, leaves: main.leaves, conditional, warnings }
}

/**
 * seeds/002 个性化菜单: the links of all of an account's personalized menus go to at most 3 domains. `urlOf`
 * is the address a button's press opens (undefined: not counted).
 */
export function conditionalDomainErrors(conditional: readonly ConditionalMenu[], file: string, urlOf: (b: LeafButton) => string | undefined): RuleLoadError[] {
  const errors: RuleLoadError[] = []
  const domains: string[] = []
  for (const c of conditional) {
    for (const l of c.leaves) {
      const url = urlOf(l.button)
      if (url === undefined) continue
      const host = new URL(url).hostname.toLowerCase()
      if (domains.includes(host)) continue
      domains.push(host)
      if (domains.length === MAX_CONDITIONAL_DOMAINS + 1) {
        const login = l.button.login === undefined ? '' : ' (a login button: its link is on publicUrl\'s host)'
        errors.push({
          file,
          line: l.place.line,
          column: l.place.column,
          message: `${c.label}: button ${l.place.label}: its url is on a ${MAX_CONDITIONAL_DOMAINS + 1}th domain, ${host}${login}: the links of all personalized menus together may go to at most ${MAX_CONDITIONAL_DOMAINS} domains (${domains.slice(0, MAX_CONDITIONAL_DOMAINS).join(', ')}; each host name counts; WeChat refuses more with 65316)`,
        })
      }
    }
  }
  return errors
}

/** Where the checks of a file put what they find: its errors and warnings, at the places in its YAML. */
interface Findings {
  place: (path: readonly PropertyKey[], key?: string) => { line: number; column: number }
  error: (path: readonly PropertyKey[], message: string, key?: string) => void
  warn: (path: readonly PropertyKey[], message: string) => void
  /** The docs' menus.md, as the project of the file has it. */
  menusDocs: () => string
}

/**
 * The checks of one menu, the default or a personalized one, with what they build: `check(buttons, base)`
 * fills `menu` and `leaves` with the buttons that pass. Each menu has its own checker, so its keys are its own
 * (a key may repeat across menus: the same button in two menus), and `pre` heads its messages
 * (`conditional menu "vip": `, or '' for the default).
 */
function menuChecker(findings: Findings, pre: string): { menu: Menu; leaves: LoadedMenu['leaves']; check: (buttons: unknown, base: PropertyKey[]) => void } {
  const { place, error, warn } = findings
  const menu: Menu = { button: [] }
  const leaves: LoadedMenu['leaves'] = []
  /** Each key's first button, by label. */
  const keys = new Map<string, string>()

  const checkLeaf = (raw: Record<string, unknown>, path: PropertyKey[], label: string, top: boolean): LeafButton | undefined => {
    const subject = `${pre}button ${label}: `
    const type = raw.type
    if (type === undefined) {
      error(path, `${subject}type is missing: a button has a type (${BUTTON_TYPES.slice(0, 3).join(', ')}, ...)${top ? ' or sub_button: with its sub-buttons' : ''}`)
      return undefined
    }
    if (typeof type !== 'string' || !(type in BUTTON_FIELDS)) {
      const consoleOnly = typeof type === 'string' && CONSOLE_ONLY_TYPES.has(type)
      error(
        [...path, 'type'],
        consoleOnly
          ? `${subject}type ${type} is a button made in WeChat's console, which the API cannot create; write type: click with a key, and a rule that answers the key with the reply (${findings.menusDocs()})`
          : `${subject}unknown button type ${describeValue(type)}${typeof type === 'string' ? didYouMean(type, BUTTON_TYPES) : ''}; types: ${BUTTON_TYPES.join(', ')}`,
      )
      return undefined
    }
    const t = type as ButtonType
    const needs: readonly string[] = BUTTON_FIELDS[t]
    const optional = OPTIONAL_BUTTON_FIELDS[t] ?? []
    const allowed = ['type', 'name', ...needs, ...optional]
    let ok = true
    for (const k of Object.keys(raw)) {
      if (allowed.includes(k)) continue
      // menu/get answers every button with a type with `sub_button: []` (its documented example too): a menu
      // pasted from it is no third level, and the empty list is dropped (menu/create has no use for it).
      if (k === 'sub_button' && Array.isArray(raw.sub_button) && raw.sub_button.length === 0) continue
      ok = false
      if (k === 'sub_button') {
        error(path, `${subject}${top ? 'a button with sub_button: has no type (its sub-buttons have them): remove type:' : 'a sub-button cannot have sub_button: (a menu has two levels)'}`, k)
        continue
      }
      const otherType = BUTTON_TYPES.filter((bt) => (BUTTON_FIELDS[bt] as readonly string[]).includes(k) || (OPTIONAL_BUTTON_FIELDS[bt] ?? []).includes(k))
      const hint = otherType.length > 0 ? `; ${k} belongs to type ${otherType.join(' / ')}` : didYouMean(k, [...needs, 'name', 'type'])
      error(path, `${subject}unknown key "${k}" for type ${t}${hint}; allowed here: ${allowed.join(', ')}`, k)
    }
    const out: LeafButton = { type: t, name: raw.name as string }
    for (const field of needs) {
      const v = raw[field]
      const fieldPath = [...path, field]
      if (v === undefined || v === null) {
        error(path, `${subject}${field} is missing: type ${t} needs ${needs.join(', ')}`)
        ok = false
        continue
      }
      if (typeof v !== 'string') {
        error(fieldPath, `${subject}${field} must be text, got ${describeValue(v)}${typeof v === 'number' ? `; quote it: ${field}: '${String(v)}'` : ''}`)
        ok = false
        continue
      }
      if (v.trim() === '') {
        error(fieldPath, `${subject}${field} is empty`)
        ok = false
        continue
      }
      const control = controlCharacterIn(v)
      if (control) {
        error(fieldPath, `${subject}${field} ${control}`)
        ok = false
        continue
      }
      if (field === 'url' && /\s/.test(v)) {
        error(fieldPath, `${subject}url has a space or another blank at ${v.search(/\s/) + 1}: a link sends it as is, and browsers end or break the address there; write it percent-encoded (%20)`)
        ok = false
        continue
      }
      if (field === 'key' && bytes(v) > MAX_KEY_BYTES) {
        error(fieldPath, `${subject}key is ${bytes(v)} bytes, over the ${MAX_KEY_BYTES} a key may be (WeChat refuses it with ${top ? 40019 : 40026})`)
        ok = false
      }
      if (field === 'url') {
        if (bytes(v) > MAX_URL_BYTES) {
          error(fieldPath, `${subject}url is ${bytes(v)} bytes, over the ${MAX_URL_BYTES} a url may be (WeChat refuses it with ${top ? 40020 : 40027})`)
          ok = false
        } else if (!isWebUrl(v)) {
          error(fieldPath, `${subject}url must be an http:// or https:// address, got ${describeValue(v)}`)
          ok = false
        }
      }
      ;(out as unknown as Record<string, string>)[field] = v
    }
    if (raw.login !== undefined && optional.includes('login')) {
      if (typeof raw.login === 'string' && (LOGIN_SCOPES as readonly string[]).includes(raw.login)) out.login = raw.login as MenuLoginScope
      else {
        error([...path, 'login'], `${subject}login must be base (the user's openid, silently) or userinfo (their profile too, after WeChat asks them), got ${describeValue(raw.login)}${typeof raw.login === 'string' ? didYouMean(raw.login, LOGIN_SCOPES) : ''}`)
        ok = false
      }
    }
    if (!ok) return undefined
    if (out.key !== undefined) {
      const earlier = keys.get(out.key)
      if (earlier) warn([...path, 'key'], `${subject}key ${JSON.stringify(out.key)} is also the key of button ${earlier}: a press of either reaches the same rule, and nothing can tell them apart`)
      else keys.set(out.key, label)
    }
    return out
  }

  /** `name` of any button: present, text, within its byte limit; warned when the client will cut it. */
  const checkName = (raw: Record<string, unknown>, path: PropertyKey[], label: string, top: boolean): boolean => {
    const name = raw.name
    const subject = `${pre}button ${label}: `
    if (name === undefined || name === null) {
      error(path, `${subject}name is missing: every button has one (what the menu shows)`)
      return false
    }
    if (typeof name !== 'string') {
      error([...path, 'name'], `${subject}name must be text, got ${describeValue(name)}${typeof name === 'number' ? `; quote it: name: '${String(name)}'` : ''}`)
      return false
    }
    if (name.trim() === '') {
      error([...path, 'name'], `${subject}name is empty`)
      return false
    }
    const control = controlCharacterIn(name)
    if (control) {
      error([...path, 'name'], `${subject}name ${control}`)
      return false
    }
    const max = top ? MAX_TOP_NAME_BYTES : MAX_SUB_NAME_BYTES
    if (bytes(name) > max) {
      error([...path, 'name'], `${subject}name is ${bytes(name)} bytes in UTF-8, over the ${max} a ${top ? 'top-level button' : 'sub-button'}'s name may be (a Chinese character is 3); WeChat refuses it with ${top ? 40018 : 40025}`)
      return false
    }
    const shown = top ? SHOWN_TOP_WIDTH : SHOWN_SUB_WIDTH
    if (shownWidth(name) > shown) {
      warn([...path, 'name'], `${subject}name is wider than the ${shown} Chinese characters (${shown * 2} Latin letters) the client shows ${top ? 'on a top-level button' : 'on a sub-button'}: the rest is cut to "..."`)
    }
    return true
  }

  const checkButtons = (buttons: unknown[], base: PropertyKey[]) => buttons.slice(0, MAX_TOP_BUTTONS).forEach((b: unknown, i) => {
    const path: PropertyKey[] = [...base, 'button', i]
    if (typeof b !== 'object' || b === null || Array.isArray(b)) {
      error(path, `${pre}button ${i + 1} must be a mapping ({type, name, key} or {name, sub_button}), got ${describeValue(b)}`)
      return
    }
    const raw = b as Record<string, unknown>
    const label = typeof raw.name === 'string' ? JSON.stringify(raw.name) : `#${i + 1}`
    const nameOk = checkName(raw, path, label, true)
    if (raw.sub_button !== undefined && raw.type === undefined) {
      for (const k of Object.keys(raw)) {
        if (k !== 'name' && k !== 'sub_button') error(path, `${pre}button ${label}: unknown key "${k}" for a button with sub_button: (it has only name and sub_button; ${BUTTON_TYPES.some((t) => (BUTTON_FIELDS[t] as readonly string[]).includes(k)) ? `${k} goes on a sub-button` : 'allowed here: name, sub_button'})`, k)
      }
      const subs = raw.sub_button
      if (!Array.isArray(subs)) {
        error([...path, 'sub_button'], `${pre}button ${label}: sub_button must be a list of sub-buttons, got ${describeValue(subs)}`)
        return
      }
      if (subs.length === 0) {
        error([...path, 'sub_button'], `${pre}button ${label}: sub_button is an empty list: give it 1 to ${MAX_SUB_BUTTONS} sub-buttons, or make it a button with a type`)
        return
      }
      if (subs.length > MAX_SUB_BUTTONS) {
        error([...path, 'sub_button', MAX_SUB_BUTTONS], `${pre}button ${label}: ${subs.length} sub-buttons: a button has at most ${MAX_SUB_BUTTONS} (WeChat refuses more with 40023)`)
      }
      const parent: ParentButton = { name: raw.name as string, sub_button: [] }
      subs.slice(0, MAX_SUB_BUTTONS).forEach((s: unknown, j) => {
        const subPath: PropertyKey[] = [...path, 'sub_button', j]
        if (typeof s !== 'object' || s === null || Array.isArray(s)) {
          error(subPath, `${pre}button ${label}: sub-button ${j + 1} must be a mapping ({type, name, key}), got ${describeValue(s)}`)
          return
        }
        const sraw = s as Record<string, unknown>
        const subLabel = `${label} > ${typeof sraw.name === 'string' ? JSON.stringify(sraw.name) : `#${j + 1}`}`
        const subNameOk = checkName(sraw, subPath, subLabel, false)
        const leaf = checkLeaf(sraw, subPath, subLabel, false)
        if (leaf && subNameOk) {
          parent.sub_button.push(leaf)
          leaves.push({ button: leaf, place: { label: subLabel, ...place(subPath) }, top: false })
        }
      })
      if (nameOk) menu.button.push(parent)
      return
    }
    const leaf = checkLeaf(raw, path, label, true)
    if (leaf && nameOk) {
      menu.button.push(leaf)
      leaves.push({ button: leaf, place: { label, ...place(path) }, top: true })
    }
  })

  /** A `button:` list of the default or of a personalized menu, checked into `menu` and `leaves`. */
  const check = (buttons: unknown, base: PropertyKey[]): void => {
    const at = [...base, 'button']
    if (!Array.isArray(buttons)) {
      error(at, `${pre}button must be a list of buttons, got ${describeValue(buttons)}`)
      return
    }
    if (buttons.length === 0) error(at, `${pre}button is an empty list: a menu has 1 to 3 buttons${pre ? '' : ' (to remove the menu: wxengine menu delete)'}`)
    if (buttons.length > MAX_TOP_BUTTONS) {
      error([...at, MAX_TOP_BUTTONS], `${pre}${buttons.length} buttons: a menu has at most ${MAX_TOP_BUTTONS} (WeChat refuses more with 40016); put the rest under sub_button: of one`)
    }
    checkButtons(buttons, base)
  }

  return { menu, leaves, check }
}

/**
 * Said of a control character in a button's text (NUL, BEL, a newline, U+0080-U+009F), or undefined. A key
 * comes back as the EventKey of a CLICK push, whose XML cannot carry most of them: the press would reach no
 * rule, or no engine. A name shows them as boxes, if the platform takes it at all.
 */
function controlCharacterIn(s: string): string | undefined {
  const at = s.search(/[\u0000-\u001f\u007f-\u009f]/)
  if (at < 0) return undefined
  return `has the control character U+${s.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')} at ${at + 1}: remove it (a YAML escape such as "\\a" or "\\0" writes one)`
}

function isWebUrl(s: string): boolean {
  if (!/^https?:\/\//i.test(s)) return false
  try {
    return new URL(s).host !== ''
  } catch {
    return false
  }
}

export function isParent(b: MenuButton): b is ParentButton {
  return 'sub_button' in b
}

/**
 * The JSON menu/create receives, fields in WeChat's documented order (type, name, then the type's own).
 * `linkOf` gives a login button's url (its login link); without it such a button is refused (a TypeError):
 * sending the bare page would open it without the login it was written with.
 */
export function toCreateBody(menu: Menu, linkOf?: (b: LeafButton) => string): Menu {
  const leaf = (b: LeafButton): LeafButton => {
    const out: Record<string, string> = { type: b.type, name: b.name }
    for (const f of BUTTON_FIELDS[b.type]) out[f] = (b as unknown as Record<string, string>)[f]!
    if (b.login !== undefined) {
      if (!linkOf) throw new TypeError(`button ${JSON.stringify(b.name)} opens its page through a login, and no link was given for it`)
      out.url = linkOf(b)
    }
    return out as unknown as LeafButton
  }
  return { button: menu.button.map((b) => (isParent(b) ? { name: b.name, sub_button: b.sub_button.map(leaf) } : leaf(b))) }
}

/** The matchrule as sent: fields in WeChat's documented order. */
export function matchruleBody(rule: MatchRule): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of MATCHRULE_ORDER) {
    const v = (rule as Record<string, string | undefined>)[f]
    if (v !== undefined) out[f] = v
  }
  return out
}

/** The JSON menu/addconditional receives: the buttons as menu/create's, then the matchrule. */
export function toConditionalBody(c: Pick<ConditionalMenu, 'menu' | 'matchrule'>, linkOf?: (b: LeafButton) => string): { button: MenuButton[]; matchrule: Record<string, string> } {
  return { button: toCreateBody(c.menu, linkOf).button, matchrule: matchruleBody(c.matchrule) }
}
