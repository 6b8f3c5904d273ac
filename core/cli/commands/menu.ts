/**
 * `wxengine menu check|push|show|pull|delete`: the custom menu of an account (docs/menus.md), kept in
 * menus/<account-id>.yaml and sent through the platform's menu API.
 *
 *   check   the file against WeChat's limits (file:line:col errors), and what answers each button's press,
 *           asked of the router itself (core/menu/menu-answers.ts); --strict fails on warnings
 *   push    check, then POST menu/create, then make the account's personalized menus the file's conditional:
 *           (menu/get's menuids delconditional'ed, then addconditional each in file order); --dry-run prints the
 *           JSON instead
 *   show    the menu WeChat has, personalized menus included (menu/get; a menu made in the console through
 *           get_current_selfmenu_info)
 *   pull    that menu written to menus/<account-id>.yaml (--force to replace the file)
 *   match   the menu a user sees (POST menu/trymatch)
 *   delete  GET menu/delete (--yes)
 *
 * The API calls use the account's access_token as the engine does: through the project's store, whose token
 * store a running engine shares (core/cli/open-account-api.ts).
 */
import { loadProjectRules } from '../load-project-rules.ts'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { docsPage } from '../../docs-page.ts'
import type { AccountConfig, EngineConfig } from '../../config/config-types.ts'
import { checkMenuAgainstRules, describeMatchrule, menuFileOf, strayMenuFiles } from '../../menu/menu-check.ts'
import { consoleOnlyButtons, explainMenuError, fromMenuGet, fromSelfMenuInfo, fromTryMatch, MENU_PATHS, menuToYaml, NO_MENU_ERRCODE, privateMatchFields, type FetchedConditional } from '../../menu/menu-api.ts'
import { isParent, toConditionalBody, toCreateBody, type LeafButton, type LoadedMenu } from '../../menu/menu-file.ts'
import { loadAccountMenu, withLoginButtons } from '../../menu/menu-login-links.ts'
import { loginLinkSettingsOf } from '../../web/login-link.ts'
import type { PlatformClient } from '../../platform/platform-api.ts'
import { refusalErrcode } from '../../platform/explain-errcode.ts'
import { formatRuleErrors } from '../../route/rules/load-rule-set.ts'
import { openAccountApi, type AccountApi } from '../open-account-api.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectAccount, shownPath, stdio, type GlobalFlags, type Output } from '../cli-context.ts'

export interface MenuFlags extends GlobalFlags {
  account?: string
  strict?: boolean
  dryRun?: boolean
  force?: boolean
  yes?: boolean
}

interface Project {
  config: EngineConfig
  account: AccountConfig
  file: string
}

function project(flags: MenuFlags, command: string, io: Output): Project | undefined {
  const loaded = loadProjectAccount(flags, `menu ${command}`, io)
  return loaded && { ...loaded, file: menuFileOf(loaded.config, loaded.account) }
}

interface Checked {
  loaded: LoadedMenu
  /** The url a login button sends (menu-login-links.ts). */
  linkOf: (b: LeafButton) => string
  warnings: string[]
  /** The tree of buttons with what answers each, to print. */
  tree: string[]
}

/** The file checked and cross-checked against the rules; errors already printed when undefined. */
async function checkMenuFile(p: Project, io: Output): Promise<Checked | undefined> {
  const { config, account, file } = p
  const shown = shownPath(file)
  if (!existsSync(file)) {
    const yml = file.replace(/\.yaml$/, '.yml')
    if (existsSync(yml)) {
      io.err(`wxengine menu: ${shown} does not exist, but ${shownPath(yml)} does: rename it to ${path.basename(file)} (wxengine menu reads .yaml only)`)
      return undefined
    }
    io.err(`wxengine menu: ${shown} does not exist: write the menu there (${docsPage('menus.md', path.dirname(file))}), or take the account's current one with: wxengine menu pull${account.id === config.defaultAccount ? '' : ` --account ${account.id}`}`)
    return undefined
  }
  const loaded = await loadAccountMenu(config, account, file)
  if (!loaded.ok) {
    io.out(formatRuleErrors(loaded.errors.map((e) => ({ ...e, file: shown }))))
    const n = `${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'}`
    // A login button's link the configuration cannot make is ours to refuse, not WeChat's.
    io.err(loaded.links ? `${n} in ${shown}: its login buttons' links cannot be made with this configuration; nothing is sent until they can` : `${n} in ${shown}; WeChat would refuse this menu`)
    return undefined
  }
  const rules = await loadProjectRules(config, 'what answers the buttons', io)
  if (!rules) return undefined
  const checked = checkMenuAgainstRules(config, account, file, loaded, rules)
  const warnings = [...loaded.warnings.map((w) => w.split(file).join(shown)), ...strayMenuFiles(config), ...checked.unanswered]
  const tree = checked.tree
  return { loaded, linkOf: loaded.linkOf, warnings, tree }
}

function summary(c: Checked, file: string, account: string): string {
  const tops = c.loaded.menu.button.length
  const subs = c.loaded.menu.button.reduce((n, b) => n + (isParent(b) ? b.sub_button.length : 0), 0)
  const conds = c.loaded.conditional.length
  return `${shownPath(file)}: ok, ${tops} button${tops === 1 ? '' : 's'}${subs > 0 ? `, ${subs} sub-button${subs === 1 ? '' : 's'}` : ''}${conds > 0 ? `, ${conds} personalized menu${conds === 1 ? '' : 's'}` : ''} (account ${account})`
}

export async function runMenuCheck(flags: MenuFlags, io: Output = stdio): Promise<number> {
  const p = project(flags, 'check', io)
  if (!p) return EXIT_USAGE
  const c = await checkMenuFile(p, io)
  if (!c) return EXIT_FAILED
  io.out(summary(c, p.file, p.account.id))
  for (const l of c.tree) io.out(l)
  for (const w of c.warnings) io.out(`warning: ${w}`)
  if (flags.strict && c.warnings.length > 0) {
    io.err(`${c.warnings.length} warning${c.warnings.length === 1 ? '' : 's'}, which --strict counts as failures`)
    return EXIT_FAILED
  }
  return EXIT_OK
}

function openApi(p: Project, command: string, io: Output): Promise<AccountApi | number> {
  return openAccountApi(p.config, p.account, `menu ${command}`, 'the menu API', io)
}

export async function runMenuPush(flags: MenuFlags, io: Output = stdio): Promise<number> {
  const p = project(flags, 'push', io)
  if (!p) return EXIT_USAGE
  const c = await checkMenuFile(p, io)
  if (!c) return EXIT_FAILED
  for (const w of c.warnings) io.err(`warning: ${w}`)
  const body = toCreateBody(c.loaded.menu, c.linkOf)
  const conditional = c.loaded.conditional.map((m) => ({ menu: m, body: toConditionalBody(m, c.linkOf) }))
  if (flags.dryRun) {
    if (conditional.length === 0) {
      io.out(JSON.stringify(body, null, 2))
      io.err(`dry run: this is the JSON POST ${MENU_PATHS.create} would send for account ${p.account.id}; nothing was sent (push then also deletes the account's personalized menus, if it has any: the file has none)`)
      return EXIT_OK
    }
    io.out(`POST ${MENU_PATHS.create}`)
    io.out(JSON.stringify(body, null, 2))
    for (const { menu, body: b } of conditional) {
      io.out(`POST ${MENU_PATHS.addconditional}  (${menu.label})`)
      io.out(JSON.stringify(b, null, 2))
    }
    io.err(
      `dry run: the JSON push would send for account ${p.account.id}, in order; between menu/create and the first addconditional it deletes the account's current personalized menus (GET ${MENU_PATHS.get}, then POST ${MENU_PATHS.delconditional} {"menuid": "..."} for each, not looked up in a dry run); nothing was sent`,
    )
    return EXIT_OK
  }
  const opened = await openApi(p, 'push', io)
  if (typeof opened === 'number') return opened
  try {
    const api = opened.api
    const r = await api.postResult(MENU_PATHS.create, body as unknown as JsonBody)
    if (!r.ok) {
      const errcode = refusalErrcode(r)
      if (errcode === undefined) {
        // A timeout or a lost answer: WeChat may have made the menu (clients then show it) and the
        // personalized menus were not synced; the same push again is what ends it, whichever it was.
        if (noAnswer(r)) io.err(`wxengine menu push: no answer from WeChat (${r.error.reason}): the menu may have been made or not, and the personalized menus were not touched; run wxengine menu push again`)
        else io.err(`wxengine menu push: the menu was not sent: ${r.error.reason}`)
        return EXIT_FAILED
      }
      io.err(`wxengine menu push: ${explainMenuError(errcode, c.loaded.leaves, c.loaded.menu)} (${r.error.reason})`)
      return EXIT_FAILED
    }
    io.out(`${summary(c, p.file, p.account.id).replace(': ok,', ': pushed,').replace(/, \d+ personalized menus? \(/, ' (')}`)
    const synced = await pushConditional(api, c.loaded, c.linkOf, io)
    if (synced !== EXIT_OK) return synced
    io.err('WeChat clients fetch the menu again when theirs is over 5 minutes old; to see it at once, unfollow and follow the account again')
    return EXIT_OK
  } finally {
    await opened.close()
  }
}

type JsonBody = Parameters<PlatformClient['postResult']>[1]

/**
 * A call that reached for WeChat and got no answer it could read (a timeout, a dropped connection, a gateway's
 * page): it may have been done. Not a refusal (an errcode), nor a failure of the access_token under it
 * (nothing was sent).
 */
const noAnswer = (failed: { error: { errcode?: number }; ofAccessToken?: true }) => failed.error.errcode === undefined && !failed.ofAccessToken

/** A failed call in words: the menu API's errcode explained; a network failure, or the access_token's, as it is. */
const said = (failed: { error: { errcode?: number; reason: string }; ofAccessToken?: true }) => {
  const errcode = refusalErrcode(failed)
  return errcode !== undefined ? `${explainMenuError(errcode, [], { button: [] })} (${failed.error.reason})` : failed.error.reason
}

/**
 * After menu/create: the account's personalized menus made exactly the file's. WeChat cannot edit one, so
 * every one it has is deleted (its menuids from menu/get), then the file's are created in file order (WeChat
 * tries the newest first: of two whose matchrules both match a user, the later in the file wins). Each step
 * that fails says what the account has now; running push again starts over from menu/get, so it completes it.
 */
async function pushConditional(api: PlatformClient, loaded: LoadedMenu, linkOf: Checked['linkOf'], io: Output): Promise<number> {
  const stop = (what: string, state: string) => {
    io.err(`wxengine menu push: ${what}`)
    io.err(`the account has now: ${state}`)
    io.err('to finish, fix the cause and run wxengine menu push again: it deletes the personalized menus the account has and creates the file\'s (each addconditional and delconditional counts against its daily quota of 2000)')
    return EXIT_FAILED
  }
  const got = await api.getResult(MENU_PATHS.get)
  const listed = got.ok ? fromMenuGet(got.value) : undefined
  if (!listed) {
    return stop(
      `the personalized menus the account has could not be listed (GET ${MENU_PATHS.get}: ${got.ok ? 'an answer without menu.button' : said(got)})`,
      `the file's default menu, and its personalized menus as they were (none of the file's ${loaded.conditional.length} created)`,
    )
  }
  const existing = listed.conditional
  const deleted: string[] = []
  for (const old of existing) {
    const r = await api.postResult(MENU_PATHS.delconditional, { menuid: old.menuid })
    if (!r.ok) {
      const left = existing.filter((e) => !deleted.includes(e.menuid))
      return stop(
        `the personalized menu ${old.menuid} could not be deleted (POST ${MENU_PATHS.delconditional}: ${said(r)})`,
        `the file's default menu; ${deleted.length > 0 ? `of its old personalized menus, ${deleted.join(', ')} deleted and ` : 'its old personalized menus '}${left.map((e) => e.menuid).join(', ')} still there; none of the file's ${loaded.conditional.length} created`,
      )
    }
    deleted.push(old.menuid)
  }
  if (deleted.length > 0) io.out(`deleted ${deleted.length} personalized menu${deleted.length === 1 ? '' : 's'} the account had (menuid ${deleted.join(', ')})`)
  const created: string[] = []
  for (const [i, m] of loaded.conditional.entries()) {
    const r = await api.postResult(MENU_PATHS.addconditional, toConditionalBody(m, linkOf) as unknown as JsonBody)
    const menuid = r.ok ? r.value.menuid : undefined
    if (!r.ok || (typeof menuid !== 'string' && typeof menuid !== 'number')) {
      const errcode = r.ok ? undefined : refusalErrcode(r)
      const why = !r.ok ? (errcode !== undefined ? `${explainMenuError(errcode, m.leaves, m.menu)} (${r.error.reason})` : r.error.reason) : 'WeChat answered without a menuid'
      // Without an answer WeChat may have made it: said so, or the account was said to lack a menu it has.
      const perhaps = !r.ok && noAnswer(r)
      const rest = loaded.conditional.slice(perhaps ? i + 1 : i).map((c) => c.label)
      const made = `the file's default menu${created.length > 0 ? ` and its first ${created.length} personalized menu${created.length === 1 ? '' : 's'} (${loaded.conditional.slice(0, i).map((c, j) => `${c.label}: menuid ${created[j]}`).join(', ')})` : ''}`
      return stop(
        perhaps ? `${m.label} (line ${m.line}): no answer from WeChat (${why}): it may have been created or not` : `${m.label} (line ${m.line}) was not created (POST ${MENU_PATHS.addconditional}): ${why}`,
        `${made}; ${[...(perhaps ? [`${m.label} perhaps created (no answer)`] : []), ...(rest.length > 0 ? [`${rest.join(', ')} not created`] : [])].join('; ')}${existing.length > 0 ? '; the old personalized menus are deleted' : ''}`,
      )
    }
    created.push(String(menuid))
    io.out(`${m.label} (${describeMatchrule(m.matchrule)}): created, menuid ${menuid}`)
  }
  return EXIT_OK
}

type Fetched = { kind: 'api'; menu: { button: Parameters<typeof menuToYaml>[0]['button'] }; conditional: FetchedConditional[] } | { kind: 'console'; menu: { button: Parameters<typeof menuToYaml>[0]['button'] } } | { kind: 'none' }

/** menu/get, and when it says there is none, get_current_selfmenu_info (a menu made in the console). */
/** The account's menu as a menu file has it: a view button's login link read back as its page and `login:`. */
async function fetchMenu(api: PlatformClient, p: Project, command: string, io: Output): Promise<Fetched | undefined> {
  const settings = loginLinkSettingsOf(p.config)
  const asFile = <T extends { button: unknown[] }>(m: T): T => withLoginButtons(m, settings, p.account.id)
  const got = await api.getResult(MENU_PATHS.get)
  if (got.ok) {
    const menu = fromMenuGet(got.value)
    if (menu) return { kind: 'api', menu: asFile(menu.menu), conditional: menu.conditional.map(asFile) }
    io.err(`wxengine menu ${command}: ${MENU_PATHS.get} answered without menu.button`)
    return undefined
  }
  if (got.error.errcode !== NO_MENU_ERRCODE) {
    const errcode = refusalErrcode(got)
    io.err(`wxengine menu ${command}: ${errcode !== undefined ? explainMenuError(errcode, [], { button: [] }).replace('refused it', 'answered') + ` (${got.error.reason})` : got.error.reason}`)
    return undefined
  }
  const self = await api.getResult(MENU_PATHS.selfmenu)
  if (!self.ok) {
    io.err(`wxengine menu ${command}: no menu made with the API (46003), and ${self.error.reason}`)
    return undefined
  }
  const menu = fromSelfMenuInfo(self.value)
  return menu ? { kind: 'console', menu: asFile(menu) } : { kind: 'none' }
}

export async function runMenuShow(flags: MenuFlags, io: Output = stdio): Promise<number> {
  const p = project(flags, 'show', io)
  if (!p) return EXIT_USAGE
  const opened = await openApi(p, 'show', io)
  if (typeof opened === 'number') return opened
  try {
    const fetched = await fetchMenu(opened.api, p, 'show', io)
    if (!fetched) return EXIT_FAILED
    if (fetched.kind === 'none') {
      io.out(`no menu: account ${p.account.id} has none`)
      return EXIT_OK
    }
    io.out(menuToYaml(fetched.kind === 'api' ? { ...fetched.menu, conditional: fetched.conditional } : fetched.menu, [], docsPage('menus.md', path.dirname(p.file))).trimEnd())
    if (fetched.kind === 'console') io.err('this menu was made in the console (menu/get has none): wxengine menu pull writes it to the menu file')
    else warnPrivate(fetched.conditional, io)
    return EXIT_OK
  } finally {
    await opened.close()
  }
}

export async function runMenuPull(flags: MenuFlags, io: Output = stdio): Promise<number> {
  const p = project(flags, 'pull', io)
  if (!p) return EXIT_USAGE
  const shown = shownPath(p.file)
  if (existsSync(p.file) && !flags.force) {
    io.err(`wxengine menu pull: ${shown} exists; to replace it with the account's current menu, add --force (wxengine menu show prints that menu without writing)`)
    return EXIT_USAGE
  }
  const opened = await openApi(p, 'pull', io)
  if (typeof opened === 'number') return opened
  try {
    const fetched = await fetchMenu(opened.api, p, 'pull', io)
    if (!fetched) return EXIT_FAILED
    if (fetched.kind === 'none') {
      io.err(`wxengine menu pull: account ${p.account.id} has no menu; nothing written`)
      return EXIT_FAILED
    }
    const from = fetched.kind === 'console' ? "the menu made in WeChat's console" : `the menu WeChat has (${MENU_PATHS.get})`
    // Written into the file: the docs from the file's folder, wherever the command was run from.
    const docs = docsPage('menus.md', path.dirname(p.file), path.dirname(p.file))
    const text = menuToYaml(fetched.kind === 'api' ? { ...fetched.menu, conditional: fetched.conditional } : fetched.menu, [
      `The custom menu of account ${p.account.id}: ${from}, pulled with wxengine menu pull.`,
      `Edit it, check it with wxengine menu check, and send it with wxengine menu push (${docs}).`,
      ...(fetched.kind === 'api' && fetched.conditional.length > 0
        ? ["conditional: the personalized menus, in menu/get's order. push creates them in file order, and WeChat", 'tries the newest (the last here) first: of two that match a user, the later one is shown.']
        : []),
    ], docs)
    const { mkdir } = await import('node:fs/promises')
    await mkdir(path.dirname(p.file), { recursive: true })
    await writeFile(p.file, text)
    const conds = fetched.kind === 'api' ? fetched.conditional : []
    io.out(`${shown}: written, ${fetched.menu.button.length} button${fetched.menu.button.length === 1 ? '' : 's'}${conds.length > 0 ? `, ${conds.length} personalized menu${conds.length === 1 ? '' : 's'}` : ''}`)
    const consoleOnly = [fetched.menu, ...conds].flatMap((m, i) => consoleOnlyButtons(m).map((l) => (i === 0 ? l : `${l} of conditional menu ${i}`)))
    if (consoleOnly.length > 0) {
      io.err(`warning: button${consoleOnly.length === 1 ? '' : 's'} ${consoleOnly.join(', ')} ${consoleOnly.length === 1 ? 'is of a type' : 'are of types'} only the console makes: make each a click with a key and a rule answering it before wxengine menu push (the file says where)`)
    }
    warnPrivate(conds, io)
    return EXIT_OK
  } finally {
    await opened.close()
  }
}

/** A warning for each fetched personalized menu whose matchrule WeChat no longer matches on. */
function warnPrivate(conditional: readonly FetchedConditional[], io: Output): void {
  conditional.forEach((c, i) => {
    const priv = privateMatchFields(c)
    if (priv.length > 0) io.err(`warning: conditional menu ${i + 1} (menuid ${c.menuid}) matches on ${priv.join(', ')}, which WeChat no longer matches on (2021): no one sees it, and push would be refused (65320); match a tag_id instead, or remove it`)
  })
}

export async function runMenuMatch(user: string, flags: MenuFlags, io: Output = stdio): Promise<number> {
  const p = project(flags, 'match', io)
  if (!p) return EXIT_USAGE
  const opened = await openApi(p, 'match', io)
  if (typeof opened === 'number') return opened
  try {
    const r = await opened.api.postResult(MENU_PATHS.trymatch, { user_id: user })
    if (!r.ok) {
      io.err(`wxengine menu match: ${said(r)}`)
      return EXIT_FAILED
    }
    const menu = fromTryMatch(r.value)
    if (!menu) {
      io.err(`wxengine menu match: ${MENU_PATHS.trymatch} answered without button`)
      return EXIT_FAILED
    }
    io.out(menuToYaml(withLoginButtons(menu, loginLinkSettingsOf(p.config), p.account.id), [], docsPage('menus.md', path.dirname(p.file))).trimEnd())
    // Which of the account's menus it is: trymatch answers only the buttons.
    const got = await opened.api.getResult(MENU_PATHS.get)
    const listed = got.ok ? fromMenuGet(got.value) : undefined
    if (listed) {
      const same = (b: unknown) => JSON.stringify(b) === JSON.stringify(menu.button)
      const which = [
        ...listed.conditional.filter((m) => same(m.button)).map((m) => `personalized menu ${m.menuid} (${Object.entries(m.matchrule).map(([k, v]) => `${k} ${String(v)}`).join(', ')})`),
        ...(same(listed.menu.button) ? ['the default menu'] : []),
      ]
      // Two menus with the same buttons cannot be told apart by their buttons.
      if (which.length > 0) io.err(`user ${user} sees ${which.length === 1 ? which[0] : `one of ${which.join(', ')} (they have the same buttons)`}`)
    }
    return EXIT_OK
  } finally {
    await opened.close()
  }
}

export async function runMenuDelete(flags: MenuFlags, io: Output = stdio): Promise<number> {
  const p = project(flags, 'delete', io)
  if (!p) return EXIT_USAGE
  if (!flags.yes) {
    io.err(`wxengine menu delete: this removes account ${p.account.id}'s menu from every user's WeChat (and its personalized menus); add --yes to do it (the file ${shownPath(p.file)} is kept)`)
    return EXIT_USAGE
  }
  const opened = await openApi(p, 'delete', io)
  if (typeof opened === 'number') return opened
  try {
    const r = await opened.api.getResult(MENU_PATHS.delete)
    if (!r.ok) {
      io.err(`wxengine menu delete: ${said(r)}`)
      return EXIT_FAILED
    }
    io.out(`deleted: account ${p.account.id} has no menu now (clients drop it within 5 minutes)`)
    return EXIT_OK
  } finally {
    await opened.close()
  }
}
