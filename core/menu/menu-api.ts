/**
 * The menu endpoints of the platform API, and their answers turned into the menu file's shape:
 *   POST /cgi-bin/menu/create   the menu (Menu, toCreateBody)
 *   GET  /cgi-bin/menu/get      {menu: {button: [...]}, conditionalmenu: [...]}: leaf buttons carry
 *                               `sub_button: []`, dropped here; 46003 when there is no menu
 *   GET  /cgi-bin/get_current_selfmenu_info  {is_menu_open, selfmenu_info: {button: [...]}}: also a menu made
 *                               in the console, whose sub-buttons come as `sub_button: {list: [...]}` and whose
 *                               buttons may be of types only the console makes (text, img, news, ...: `value`)
 *   GET  /cgi-bin/menu/delete   removes the menu (and every conditional one)
 *   POST /cgi-bin/menu/addconditional  {button, matchrule} -> {menuid: "208379533"}: a personalized menu
 *   POST /cgi-bin/menu/delconditional  {menuid} -> {errcode: 0}
 *   POST /cgi-bin/menu/trymatch        {user_id: OpenID or WeChat ID} -> {button: [...]}, the menu that user sees
 */
import { Document, isMap, isSeq, type YAMLMap } from 'yaml'
import type { JsonValue } from '../plugin/plugin-api.ts'
import { BUTTON_FIELDS, CONSOLE_ONLY_TYPES, isParent, MATCHRULE_ORDER, PRIVATE_MATCH_FIELDS, type LeafButton, type Menu, type MenuButton } from './menu-file.ts'
import { explainErrcode } from '../platform/explain-errcode.ts'

export const MENU_PATHS = {
  create: '/cgi-bin/menu/create',
  get: '/cgi-bin/menu/get',
  selfmenu: '/cgi-bin/get_current_selfmenu_info',
  delete: '/cgi-bin/menu/delete',
  addconditional: '/cgi-bin/menu/addconditional',
  delconditional: '/cgi-bin/menu/delconditional',
  trymatch: '/cgi-bin/menu/trymatch',
} as const

/** errcode 46003: "menu no exist". */
export const NO_MENU_ERRCODE = 46003

type ButtonTest = (b: LeafButton | { name: string; sub_button: unknown }, top: boolean) => boolean

interface Explanation {
  meaning: string
  /** Which buttons the refusal is likely about, and how to pick them: the one with the most of what is counted. */
  suspects?: { test: ButtonTest; measure?: (b: LeafButton | MenuButton) => number }
}

const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'))
const leaf = (b: LeafButton | { name: string; sub_button: unknown }): b is LeafButton => !('sub_button' in b)

/** menu/create's refusals, in plain words (WeChat's global errcode list). */
const EXPLANATIONS: Record<number, Explanation> = {
  40016: { meaning: 'invalid button count: a menu has 1 to 3 buttons' },
  40017: { meaning: 'invalid button type: a type this account may not use (media_id and view_limited are for unverified subscription accounts; miniprogram needs a linked mini program; article_id needs a published article)', suspects: { test: (b) => leaf(b) && !['click', 'view'].includes(b.type) } },
  40018: { meaning: 'a top-level button name is too long (16 bytes; a Chinese character is 3)', suspects: { test: (b, top) => top, measure: (b) => bytes(b.name) } },
  40019: { meaning: 'a top-level button key is too long (128 bytes)', suspects: { test: (b, top) => top && leaf(b) && b.key !== undefined, measure: (b) => bytes((b as LeafButton).key) } },
  40020: { meaning: 'a top-level button url is too long (1024 bytes)', suspects: { test: (b, top) => top && leaf(b) && b.url !== undefined, measure: (b) => bytes((b as LeafButton).url) } },
  40021: { meaning: 'invalid menu version' },
  40022: { meaning: 'invalid sub-menu level: a menu has two levels' },
  40023: { meaning: 'invalid sub-button count: a button has 1 to 5 sub-buttons', suspects: { test: (b) => !leaf(b) } },
  40024: { meaning: 'invalid sub-button type', suspects: { test: (b, top) => !top && leaf(b) && !['click', 'view'].includes(b.type) } },
  40025: { meaning: 'a sub-button name is too long (60 bytes)', suspects: { test: (b, top) => !top, measure: (b) => bytes(b.name) } },
  40026: { meaning: 'a sub-button key is too long (128 bytes)', suspects: { test: (b, top) => !top && leaf(b) && b.key !== undefined, measure: (b) => bytes((b as LeafButton).key) } },
  40027: { meaning: 'a sub-button url is too long (1024 bytes)', suspects: { test: (b, top) => !top && leaf(b) && b.url !== undefined, measure: (b) => bytes((b as LeafButton).url) } },
  40054: { meaning: "a top-level button's url has a domain WeChat refuses (a bad or blocked domain; a miniprogram's url must be a web page too)", suspects: { test: (b, top) => top && leaf(b) && b.url !== undefined } },
  40055: { meaning: "a sub-button's url has a domain WeChat refuses (a bad or blocked domain; a miniprogram's url must be a web page too)", suspects: { test: (b, top) => !top && leaf(b) && b.url !== undefined } },
  40007: { meaning: 'invalid media_id: a media_id / view_limited button needs the id of a permanent material (素材管理/新增永久素材)', suspects: { test: (b) => leaf(b) && b.media_id !== undefined } },
  40166: { meaning: "invalid appid: a miniprogram button's appid is not a mini program", suspects: { test: (b) => leaf(b) && b.type === 'miniprogram' } },
  45064: { meaning: 'the account may not open this mini program: link it to the account first (mp.weixin.qq.com, 小程序管理)', suspects: { test: (b) => leaf(b) && b.type === 'miniprogram' } },
  65318: { meaning: 'the text is not UTF-8' },
  48001: { meaning: 'this account may not use the menu API (api unauthorized): an account type or verification without the permission' },
  46003: { meaning: 'there is no menu' },
  47001: { meaning: 'the platform could not read the JSON (data format error)' },
  // Personalized menus (addconditional, delconditional, trymatch): WeChat's global errcode list.
  45009: { meaning: "the API's daily quota is used up (addconditional and delconditional: 2000 a day each); it renews the next day, or clear it in the console (接口权限) or with clear_quota" },
  40003: { meaning: 'invalid openid: trymatch takes the OpenID or the WeChat ID of a user who follows the account' },
  65301: { meaning: 'no personalized menu has that menuid' },
  65302: { meaning: 'no such user: trymatch takes the OpenID or the WeChat ID of a user who follows the account' },
  65303: { meaning: 'there is no default menu, and a personalized menu needs one' },
  65304: { meaning: 'the matchrule is empty' },
  65305: { meaning: 'too many personalized menus' },
  65306: { meaning: 'this account may not use personalized menus (they are for verified accounts)' },
  65307: { meaning: 'the personalized menu has no buttons' },
  65308: { meaning: 'a button has no response type', suspects: { test: (b) => leaf(b) } },
  65309: { meaning: 'personalized menus are switched off for this account' },
  65310: { meaning: 'a province or city is given without a country' },
  65311: { meaning: 'a city is given without a province' },
  65312: { meaning: 'invalid country' },
  65313: { meaning: 'invalid province' },
  65314: { meaning: 'invalid city' },
  65316: { meaning: "the personalized menus' links go to more than 3 domains", suspects: { test: (b) => leaf(b) && b.url !== undefined } },
  65317: { meaning: 'invalid url', suspects: { test: (b) => leaf(b) && b.url !== undefined } },
  65320: { meaning: 'the matchrule matches on private data (sex, region or language), which WeChat no longer allows' },
}

/** "errcode 40018 (...): probably button "...", line N" for a refused menu/create. */
export function explainMenuError(errcode: number, leaves: readonly { button: LeafButton; place: { label: string; line: number }; top: boolean }[], menu: Menu): string {
  const e = EXPLANATIONS[errcode]
  let text = explainErrcode(errcode, { [errcode]: e?.meaning })
  if (!e?.suspects) return text
  const { test, measure } = e.suspects
  // Parents are not in `leaves`: a parent counts for its name (40018) and its sub-buttons (40023).
  const lineOf = (label: string) => leaves.find((l) => l.place.label === label || l.place.label.startsWith(`${label} > `))?.place.line
  const candidates: { label: string; line?: number; value: number }[] = []
  for (const b of menu.button) {
    if (isParent(b)) {
      const label = JSON.stringify(b.name)
      if (test(b, true)) candidates.push({ label, line: lineOf(label), value: measure ? measure(b) : 0 })
    }
  }
  for (const l of leaves) if (test(l.button, l.top)) candidates.push({ label: l.place.label, line: l.place.line, value: measure ? measure(l.button) : 0 })
  if (candidates.length === 0) return text
  const chosen = measure ? [candidates.reduce((a, b) => (b.value > a.value ? b : a))] : candidates
  const which = chosen.map((c) => `${c.label}${c.line !== undefined ? ` (line ${c.line})` : ''}${measure ? `, ${c.value} bytes` : ''}`).join(', ')
  text += `; ${chosen.length === 1 ? 'probably button' : 'probably one of the buttons'} ${which}`
  return text
}

type Obj = { [key: string]: JsonValue }
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A button of an answer (either endpoint) in the file's shape; console-only ones keep `type` and `value`. */
function fileButton(b: Obj, top: boolean): Obj {
  const subs = isObj(b.sub_button) ? b.sub_button.list : b.sub_button
  if (top && Array.isArray(subs) && subs.length > 0) {
    return { name: b.name ?? '', sub_button: subs.filter(isObj).map((s) => fileButton(s, false)) }
  }
  const type = typeof b.type === 'string' ? b.type : ''
  const out: Obj = { type, name: b.name ?? '' }
  const fields: readonly string[] = type in BUTTON_FIELDS ? BUTTON_FIELDS[type as keyof typeof BUTTON_FIELDS] : ['value', 'url', 'key']
  for (const f of fields) {
    // get_current_selfmenu_info gives a view button's address as `url`; a console media button as `value`.
    if (b[f] !== undefined) out[f] = b[f]!
  }
  if (type in BUTTON_FIELDS) {
    if (out.media_id === undefined && (type === 'media_id' || type === 'view_limited') && typeof b.value === 'string') out.media_id = b.value
  }
  return out
}

/** A personalized menu as menu/get has it, in the file's shape (menuid kept apart: it is not in the file). */
export interface FetchedConditional {
  menuid: string
  matchrule: Obj
  button: Obj[]
}

/**
 * A matchrule as menu/get gives it -> the file's: values as text (older answers have numbers), empty fields
 * dropped (an answer may list unset fields as ""), group_id (the old name) as tag_id, WeChat's order.
 */
function fileMatchrule(rule: Obj): Obj {
  const text: Record<string, string> = {}
  for (const [k, v] of Object.entries(rule)) {
    if (v === null || v === undefined || typeof v === 'object') continue
    const s = String(v)
    if (s.trim() !== '') text[k === 'group_id' && rule.tag_id === undefined ? 'tag_id' : k] = s
  }
  const out: Obj = {}
  for (const f of MATCHRULE_ORDER) if (text[f] !== undefined) out[f] = text[f]
  for (const [k, v] of Object.entries(text)) if (out[k] === undefined) out[k] = v
  return out
}

/** menu/get's answer -> {button} in the file's shape, and its personalized menus, in menu/get's order. */
export function fromMenuGet(json: Obj): { menu: { button: Obj[] }; conditional: FetchedConditional[] } | undefined {
  const menu = json.menu
  if (!isObj(menu) || !Array.isArray(menu.button)) return undefined
  const conditional = (Array.isArray(json.conditionalmenu) ? json.conditionalmenu.filter(isObj) : []).map((c) => ({
    menuid: String(c.menuid ?? ''),
    matchrule: isObj(c.matchrule) ? fileMatchrule(c.matchrule) : {},
    button: Array.isArray(c.button) ? c.button.filter(isObj).map((b) => fileButton(b, true)) : [],
  }))
  return { menu: { button: menu.button.filter(isObj).map((b) => fileButton(b, true)) }, conditional }
}

/** trymatch's answer -> {button} in the file's shape. */
export function fromTryMatch(json: Obj): { button: Obj[] } | undefined {
  return Array.isArray(json.button) ? { button: json.button.filter(isObj).map((b) => fileButton(b, true)) } : undefined
}

/** get_current_selfmenu_info's answer -> {button}, or undefined when the menu is off or empty. */
export function fromSelfMenuInfo(json: Obj): { button: Obj[] } | undefined {
  const info = json.selfmenu_info
  if (json.is_menu_open === 0 || !isObj(info) || !Array.isArray(info.button) || info.button.length === 0) return undefined
  return { button: info.button.filter(isObj).map((b) => fileButton(b, true)) }
}

/** Labels of the buttons of a type only the console makes (they need editing before a push). */
export function consoleOnlyButtons(menu: { button: Obj[] }): string[] {
  const out: string[] = []
  for (const b of menu.button) {
    const subs = Array.isArray(b.sub_button) ? b.sub_button.filter(isObj) : []
    if (typeof b.type === 'string' && CONSOLE_ONLY_TYPES.has(b.type)) out.push(JSON.stringify(b.name))
    for (const s of subs) if (typeof s.type === 'string' && CONSOLE_ONLY_TYPES.has(s.type)) out.push(`${JSON.stringify(b.name)} > ${JSON.stringify(s.name)}`)
  }
  return out
}

/** The matchrule fields WeChat no longer matches on that a fetched personalized menu has. */
export function privateMatchFields(c: { matchrule: Obj }): string[] {
  return Object.keys(c.matchrule).filter((k) => (PRIVATE_MATCH_FIELDS as readonly string[]).includes(k))
}

/**
 * The menu as a menu file's text; `header` lines become comments at the top. Personalized menus go under
 * conditional:, each with its menuid as a comment (the file has none: push makes new ones). `menusDocs`:
 * the docs' menus.md as the project has it (docs-page.ts), named at a button the API cannot create.
 */
export function menuToYaml(menu: { button: Obj[]; conditional?: readonly FetchedConditional[] }, header: readonly string[] = [], menusDocs = 'menus.md of the docs'): string {
  const data: Obj = { button: menu.button }
  if (menu.conditional && menu.conditional.length > 0) data.conditional = menu.conditional.map((c) => ({ matchrule: c.matchrule, button: c.button }))
  const doc = new Document(data)
  if (header.length > 0) doc.commentBefore = header.map((l) => ` ${l}`).join('\n')
  const mark = (node: unknown) => {
    if (!isMap(node)) return
    const type = node.get('type')
    if (typeof type === 'string' && CONSOLE_ONLY_TYPES.has(type)) {
      ;(node as YAMLMap).commentBefore = ` made in the console (type ${type}): the API cannot create this type. Make it type: click with a key,\n and a rule answering the key with the reply (${menusDocs}), before wxengine menu push.`
    }
    const subs = node.get('sub_button')
    if (isSeq(subs)) subs.items.forEach(mark)
  }
  const markButtons = (buttons: unknown) => {
    if (isSeq(buttons)) buttons.items.forEach(mark)
  }
  markButtons(doc.get('button'))
  const conditional = doc.get('conditional')
  if (isSeq(conditional)) {
    conditional.items.forEach((item, i) => {
      const c = menu.conditional![i]!
      const notes = [` menuid ${c.menuid}`]
      const priv = privateMatchFields(c)
      if (priv.length > 0) notes.push(` matchrule ${priv.join(', ')}: WeChat no longer matches on sex, region or language (2021), so no one sees`, ' this menu, and push would be refused (65320): match a tag_id instead, or remove the menu.')
      ;(item as YAMLMap).commentBefore = notes.join('\n')
      if (isMap(item)) markButtons(item.get('button'))
    })
  }
  return doc.toString({ lineWidth: 0 })
}
