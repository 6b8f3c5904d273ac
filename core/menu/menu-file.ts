/**
 * The custom menu of one account: menus/<account-id>.yaml (docs/menus.md), WeChat's own JSON shape written
 * in YAML, so a menu from WeChat's documentation or from `wxengine menu pull` can be pasted as it is:
 *
 *   button:
 *     - {type: click, name: 今日歌曲, key: V1001_TODAY_MUSIC}
 *     - name: 菜单
 *       sub_button:
 *         - {type: view, name: 搜索, url: 'http://www.soso.com/'}
 *
 * Checked here against the platform's limits (seeds/002 菜单配置, and the menu/create errcodes 40016-40027),
 * with `file:line:col` for every problem as the rules have it, before anything is sent: what WeChat would
 * refuse with a bare errcode is refused here with the button and the line.
 */
import { readFile } from 'node:fs/promises'
import { LineCounter, parseDocument, type Document } from 'yaml'
import { didYouMean } from '../did-you-mean.ts'
import type { RuleLoadError } from '../route/rule-types.ts'
import { describeValue } from '../route/rules/describe-issue.ts'
import { positionAt } from '../route/rules/yaml-positions.ts'

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
  menu: Menu
  /** The place of each leaf button, in menu order (top-level leaves and sub-buttons). */
  leaves: { button: LeafButton; place: ButtonPlace; top: boolean }[]
  warnings: string[]
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
    text = await readFile(file, 'utf8')
  } catch (e) {
    return { ok: false, errors: [{ file, line: 1, column: 1, message: `cannot read the file: ${(e as Error).message}` }] }
  }
  return parseMenuFile(text, file)
}

/** `file` only names the file in messages. */
export function parseMenuFile(text: string, file: string): LoadMenuResult {
  if (text.length > 256 * 1024) return { ok: false, errors: [{ file, line: 1, column: 1, message: 'the file is over 256 KB: a menu of 3 buttons of 5 sub-buttons is a few hundred bytes; is this the right file?' }] }
  const lineCounter = new LineCounter()
  let doc: Document
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  } catch (e) {
    return { ok: false, errors: [{ file, line: 1, column: 1, message: `YAML error: ${firstLine((e as Error).message)}` }] }
  }
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0])
        return { file, line, column: col, message: `YAML syntax error: ${firstLine(e.message)}` }
      }),
    }
  }
  let data: unknown
  try {
    data = doc.toJS() ?? {}
  } catch (e) {
    return { ok: false, errors: [{ file, line: 1, column: 1, message: `YAML error: ${firstLine((e as Error).message)}` }] }
  }
  const errors: RuleLoadError[] = []
  const warnings: string[] = []
  const place = (path: readonly PropertyKey[], key?: string) => positionAt(doc, lineCounter, path, key)
  const error = (path: readonly PropertyKey[], message: string, key?: string) => errors.push({ file, ...place(path, key), message })
  const warn = (path: readonly PropertyKey[], message: string) => {
    const { line, column } = place(path)
    warnings.push(`${file}:${line}:${column}: ${message}`)
  }

  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    error([], `a menu file is a mapping with button: (a list of up to ${MAX_TOP_BUTTONS} buttons), got ${describeValue(data)}`)
    return { ok: false, errors }
  }
  const root = data as Record<string, unknown>
  for (const k of Object.keys(root)) {
    if (k === 'button') continue
    const hint =
      k === 'menu'
        ? "; menu/get's answer wraps the menu in menu: {button: ...}: write button: at the top"
        : k === 'conditionalmenu' || k === 'matchrule'
          ? ': personalized (conditional) menus are not supported yet; this file is the default menu'
          : didYouMean(k, ['button'])
    error([], `unknown key "${k}"${hint}; a menu file has only button:`, k)
  }
  const buttons = root.button
  if (buttons === undefined) {
    error([], 'button: is missing: the menu is button: with a list of up to 3 buttons (to remove the menu: wxengine menu delete)')
    return { ok: false, errors }
  }
  if (!Array.isArray(buttons)) {
    error(['button'], `button must be a list of buttons, got ${describeValue(buttons)}`)
    return { ok: false, errors }
  }
  if (buttons.length === 0) error(['button'], 'button is an empty list: a menu has 1 to 3 buttons (to remove the menu: wxengine menu delete)')
  if (buttons.length > MAX_TOP_BUTTONS) {
    error(['button', MAX_TOP_BUTTONS], `${buttons.length} buttons: a menu has at most ${MAX_TOP_BUTTONS} (WeChat refuses more with 40016); put the rest under sub_button: of one`)
  }

  const menu: Menu = { button: [] }
  const leaves: LoadedMenu['leaves'] = []
  const keys = new Map<string, string>()

  const checkLeaf = (raw: Record<string, unknown>, path: PropertyKey[], label: string, top: boolean): LeafButton | undefined => {
    const subject = `button ${label}: `
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
          ? `${subject}type ${type} is a button made in WeChat's console, which the API cannot create; write type: click with a key, and a rule that answers the key with the reply (docs/menus.md)`
          : `${subject}unknown button type ${describeValue(type)}${typeof type === 'string' ? didYouMean(type, BUTTON_TYPES) : ''}; types: ${BUTTON_TYPES.join(', ')}`,
      )
      return undefined
    }
    const t = type as ButtonType
    const needs: readonly string[] = BUTTON_FIELDS[t]
    const allowed = ['type', 'name', ...needs]
    let ok = true
    for (const k of Object.keys(raw)) {
      if (allowed.includes(k)) continue
      ok = false
      if (k === 'sub_button') {
        error(path, `${subject}${top ? 'a button with sub_button: has no type (its sub-buttons have them): remove type:' : 'a sub-button cannot have sub_button: (a menu has two levels)'}`, k)
        continue
      }
      const otherType = BUTTON_TYPES.filter((bt) => (BUTTON_FIELDS[bt] as readonly string[]).includes(k))
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
    const subject = `button ${label}: `
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

  buttons.slice(0, MAX_TOP_BUTTONS).forEach((b: unknown, i) => {
    const path: PropertyKey[] = ['button', i]
    if (typeof b !== 'object' || b === null || Array.isArray(b)) {
      error(path, `button ${i + 1} must be a mapping ({type, name, key} or {name, sub_button}), got ${describeValue(b)}`)
      return
    }
    const raw = b as Record<string, unknown>
    const label = typeof raw.name === 'string' ? JSON.stringify(raw.name) : `#${i + 1}`
    const nameOk = checkName(raw, path, label, true)
    if (raw.sub_button !== undefined && raw.type === undefined) {
      for (const k of Object.keys(raw)) {
        if (k !== 'name' && k !== 'sub_button') error(path, `button ${label}: unknown key "${k}" for a button with sub_button: (it has only name and sub_button; ${BUTTON_TYPES.some((t) => (BUTTON_FIELDS[t] as readonly string[]).includes(k)) ? `${k} goes on a sub-button` : 'allowed here: name, sub_button'})`, k)
      }
      const subs = raw.sub_button
      if (!Array.isArray(subs)) {
        error([...path, 'sub_button'], `button ${label}: sub_button must be a list of sub-buttons, got ${describeValue(subs)}`)
        return
      }
      if (subs.length === 0) {
        error([...path, 'sub_button'], `button ${label}: sub_button is an empty list: give it 1 to ${MAX_SUB_BUTTONS} sub-buttons, or make it a button with a type`)
        return
      }
      if (subs.length > MAX_SUB_BUTTONS) {
        error([...path, 'sub_button', MAX_SUB_BUTTONS], `button ${label}: ${subs.length} sub-buttons: a button has at most ${MAX_SUB_BUTTONS} (WeChat refuses more with 40023)`)
      }
      const parent: ParentButton = { name: raw.name as string, sub_button: [] }
      subs.slice(0, MAX_SUB_BUTTONS).forEach((s: unknown, j) => {
        const subPath: PropertyKey[] = [...path, 'sub_button', j]
        if (typeof s !== 'object' || s === null || Array.isArray(s)) {
          error(subPath, `button ${label}: sub-button ${j + 1} must be a mapping ({type, name, key}), got ${describeValue(s)}`)
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
  if (errors.length > 0) return { ok: false, errors }
  return { ok: true, menu, leaves, warnings }
}

function isWebUrl(s: string): boolean {
  if (!/^https?:\/\//i.test(s)) return false
  try {
    return new URL(s).host !== ''
  } catch {
    return false
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]
}

export function isParent(b: MenuButton): b is ParentButton {
  return 'sub_button' in b
}

/** The JSON menu/create receives, fields in WeChat's documented order (type, name, then the type's own). */
export function toCreateBody(menu: Menu): Menu {
  const leaf = (b: LeafButton): LeafButton => {
    const out: Record<string, string> = { type: b.type, name: b.name }
    for (const f of BUTTON_FIELDS[b.type]) out[f] = (b as unknown as Record<string, string>)[f]!
    return out as unknown as LeafButton
  }
  return { button: menu.button.map((b) => (isParent(b) ? { name: b.name, sub_button: b.sub_button.map(leaf) } : leaf(b))) }
}
