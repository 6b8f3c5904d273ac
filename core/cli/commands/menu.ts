/**
 * `wxengine menu check|push|show|pull|delete`: the custom menu of an account (docs/menus.md), kept in
 * menus/<account-id>.yaml and sent through the platform's menu API.
 *
 *   check   the file against WeChat's limits (file:line:col errors), and what answers each button's press,
 *           asked of the router itself (core/menu/menu-answers.ts); --strict fails on warnings
 *   push    check, then POST menu/create; --dry-run prints the JSON instead
 *   show    the menu WeChat has (menu/get; a menu made in the console through get_current_selfmenu_info)
 *   pull    that menu written to menus/<account-id>.yaml (--force to replace the file)
 *   delete  GET menu/delete (--yes)
 *
 * The API calls use the account's access_token as the engine does: through the project's store, whose token
 * store a running engine shares (one refresher at a time, access-token-manager.ts). A token fetched here
 * instead of read from there would end the engine's 5 minutes later.
 */
import { existsSync, readdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { AccountConfig, EngineConfig } from '../../config/config-types.ts'
import { didYouMean } from '../../did-you-mean.ts'
import { createLogger } from '../../log/logger.ts'
import { checkMenuAgainstRules, menuFileOf } from '../../menu/menu-check.ts'
import { consoleOnlyButtons, explainMenuError, fromMenuGet, fromSelfMenuInfo, MENU_PATHS, menuToYaml, NO_MENU_ERRCODE } from '../../menu/menu-api.ts'
import { isParent, loadMenuFile, toCreateBody, type LoadedMenu } from '../../menu/menu-file.ts'
import { createAccessTokenManager } from '../../platform/access-token-manager.ts'
import { createApiClient } from '../../platform/api-client.ts'
import { createPlatformApi, type PlatformClient } from '../../platform/platform-api.ts'
import { formatRuleErrors, loadRuleSet } from '../../route/rules/load-rule-set.ts'
import { groupNamesByAccount } from '../../route/user-groups.ts'
import { createMemoryStore } from '../../store/memory-store.ts'
import { openStore } from '../../store/open-store.ts'
import type { Store } from '../../store/store.ts'
import { accountNamed, EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectConfig, shownPath, stdio, type GlobalFlags, type Output } from '../cli-context.ts'

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
  const config = loadProjectConfig(flags, io)
  if (!config) return undefined
  const id = flags.account ?? config.defaultAccount
  const account = accountNamed(config.accounts, id, `menu ${command}`, io)
  if (!account) return undefined
  return { config, account, file: menuFileOf(config, account) }
}

/** Files in menusDir that name no configured account (never pushed by --account): warnings, as rules'. */
function strayMenuFiles(config: EngineConfig): string[] {
  if (!existsSync(config.menusDir)) return []
  const ids = config.accounts.map((a) => a.id)
  const out: string[] = []
  for (const name of readdirSync(config.menusDir)) {
    const m = /^(.+)\.ya?ml$/.exec(name)
    if (!m) continue
    if (name.endsWith('.yml')) out.push(`${shownPath(path.join(config.menusDir, name))}: menu files end in .yaml: wxengine menu reads ${m[1]}.yaml`)
    else if (!ids.includes(m[1]!)) out.push(`${shownPath(path.join(config.menusDir, name))}: a menu for account "${m[1]}", which is not configured${didYouMean(m[1]!, ids)} (accounts: ${ids.join(', ')}): it is never pushed`)
  }
  return out
}

interface Checked {
  loaded: LoadedMenu
  warnings: string[]
  /** The tree of buttons with what answers each, to print. */
  tree: string[]
}

/** The file checked and cross-checked against the rules; errors already printed when undefined. */
async function checkMenuFile(p: Project, io: Output): Promise<Checked | undefined> {
  const { config, account, file } = p
  const shown = shownPath(file)
  if (!existsSync(file)) {
    io.err(`wxengine menu: ${shown} does not exist: write the menu there (docs/menus.md), or take the account's current one with: wxengine menu pull${account.id === config.defaultAccount ? '' : ` --account ${account.id}`}`)
    return undefined
  }
  const loaded = await loadMenuFile(file)
  if (!loaded.ok) {
    io.out(formatRuleErrors(loaded.errors.map((e) => ({ ...e, file: shown }))))
    io.err(`${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'} in ${shown}; WeChat would refuse this menu`)
    return undefined
  }
  const rules = await loadRuleSet(config.rulesDir, { accounts: config.accounts.map((a) => a.id), userGroups: groupNamesByAccount(config.accounts), newsLimits: config.limits })
  if (!rules.ok) {
    io.out(formatRuleErrors(rules.errors.map((e) => ({ ...e, file: shownPath(e.file) }))))
    io.err(`the rules do not load (wxengine rules check), so what answers the buttons cannot be said; the engine would not start with them either`)
    return undefined
  }
  const checked = checkMenuAgainstRules(config, account, file, loaded, rules.ruleSet)
  const warnings = [...loaded.warnings.map((w) => w.split(file).join(shown)), ...strayMenuFiles(config), ...checked.unanswered]
  const tree = checked.tree
  return { loaded, warnings, tree }
}

function summary(c: Checked, file: string, account: string): string {
  const tops = c.loaded.menu.button.length
  const subs = c.loaded.menu.button.reduce((n, b) => n + (isParent(b) ? b.sub_button.length : 0), 0)
  return `${shownPath(file)}: ok, ${tops} button${tops === 1 ? '' : 's'}${subs > 0 ? `, ${subs} sub-button${subs === 1 ? '' : 's'}` : ''} (account ${account})`
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

/** The account's API with the token shared through the project's store; `close` when done. */
async function openApi(p: Project, command: string, io: Output): Promise<{ api: PlatformClient; close: () => Promise<void> } | undefined> {
  const { config, account } = p
  if (!account.appSecret) {
    const setting = account.id === config.defaultAccount ? 'set WECHAT_APPSECRET, or the appSecret' : 'set the appSecret'
    io.err(`wxengine menu ${command}: account "${account.id}" has no appSecret, and the menu API needs an access_token: ${setting} of account "${account.id}" in engine.config.ts (mp.weixin.qq.com, 设置与开发 > 基本配置 > AppSecret)`)
    return undefined
  }
  const log = createLogger({ level: 'silent' })
  let store: Store
  if (config.store.kind === 'memory') {
    // Nothing to share with: a running engine with the memory store holds its token in its own process.
    io.err(`note: the memory store shares no access_token with a running engine: the token fetched now replaces the engine's, which stops working in 5 minutes (the engine then fetches another)`)
    store = createMemoryStore()
  } else {
    try {
      store = await openStore(config.store, config.dataDir, log)
    } catch (e) {
      io.err(`wxengine menu ${command}: cannot open the ${config.store.kind} store, where the access_token is shared with the engine: ${(e as Error).message}`)
      return undefined
    }
  }
  const client = createApiClient({ baseUrl: config.platform.apiBase })
  const tokens = createAccessTokenManager({ appId: account.appId, appSecret: account.appSecret, client, tokens: store.tokens, log })
  return { api: createPlatformApi({ client, tokens }), close: () => store.close() }
}

export async function runMenuPush(flags: MenuFlags, io: Output = stdio): Promise<number> {
  const p = project(flags, 'push', io)
  if (!p) return EXIT_USAGE
  const c = await checkMenuFile(p, io)
  if (!c) return EXIT_FAILED
  for (const w of c.warnings) io.err(`warning: ${w}`)
  const body = toCreateBody(c.loaded.menu)
  if (flags.dryRun) {
    io.out(JSON.stringify(body, null, 2))
    io.err(`dry run: this is the JSON POST ${MENU_PATHS.create} would send for account ${p.account.id}; nothing was sent`)
    return EXIT_OK
  }
  const opened = await openApi(p, 'push', io)
  if (!opened) return EXIT_USAGE
  try {
    const r = await opened.api.postResult(MENU_PATHS.create, body as unknown as Parameters<PlatformClient['postResult']>[1])
    if (!r.ok) {
      if (r.error.errcode === undefined) {
        io.err(`wxengine menu push: the menu was not sent: ${r.error.reason}`)
        return EXIT_FAILED
      }
      io.err(`wxengine menu push: ${explainMenuError(r.error.errcode, c.loaded.leaves, c.loaded.menu)} (${r.error.reason})`)
      return EXIT_FAILED
    }
    io.out(`${summary(c, p.file, p.account.id).replace(': ok,', ': pushed,')}`)
    io.err('WeChat clients fetch the menu again when theirs is over 5 minutes old; to see it at once, unfollow and follow the account again')
    return EXIT_OK
  } finally {
    await opened.close()
  }
}

type Fetched = { kind: 'api'; menu: { button: Parameters<typeof menuToYaml>[0]['button'] }; conditional: number } | { kind: 'console'; menu: { button: Parameters<typeof menuToYaml>[0]['button'] } } | { kind: 'none' }

/** menu/get, and when it says there is none, get_current_selfmenu_info (a menu made in the console). */
async function fetchMenu(api: PlatformClient, command: string, io: Output): Promise<Fetched | undefined> {
  const got = await api.getResult(MENU_PATHS.get)
  if (got.ok) {
    const menu = fromMenuGet(got.value)
    if (menu) return { kind: 'api', ...menu }
    io.err(`wxengine menu ${command}: ${MENU_PATHS.get} answered without menu.button`)
    return undefined
  }
  if (got.error.errcode !== NO_MENU_ERRCODE) {
    io.err(`wxengine menu ${command}: ${got.error.errcode !== undefined ? explainMenuError(got.error.errcode, [], { button: [] }).replace('refused it', 'answered') + ` (${got.error.reason})` : got.error.reason}`)
    return undefined
  }
  const self = await api.getResult(MENU_PATHS.selfmenu)
  if (!self.ok) {
    io.err(`wxengine menu ${command}: no menu made with the API (46003), and ${self.error.reason}`)
    return undefined
  }
  const menu = fromSelfMenuInfo(self.value)
  return menu ? { kind: 'console', menu } : { kind: 'none' }
}

export async function runMenuShow(flags: MenuFlags, io: Output = stdio): Promise<number> {
  const p = project(flags, 'show', io)
  if (!p) return EXIT_USAGE
  const opened = await openApi(p, 'show', io)
  if (!opened) return EXIT_USAGE
  try {
    const fetched = await fetchMenu(opened.api, 'show', io)
    if (!fetched) return EXIT_FAILED
    if (fetched.kind === 'none') {
      io.out(`no menu: account ${p.account.id} has none`)
      return EXIT_OK
    }
    io.out(menuToYaml(fetched.menu).trimEnd())
    if (fetched.kind === 'console') io.err('this menu was made in the console (menu/get has none): wxengine menu pull writes it to the menu file')
    else if (fetched.conditional > 0) io.err(`the account also has ${fetched.conditional} personalized (conditional) menu${fetched.conditional === 1 ? '' : 's'}, not shown: wxengine does not manage those yet`)
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
  if (!opened) return EXIT_USAGE
  try {
    const fetched = await fetchMenu(opened.api, 'pull', io)
    if (!fetched) return EXIT_FAILED
    if (fetched.kind === 'none') {
      io.err(`wxengine menu pull: account ${p.account.id} has no menu; nothing written`)
      return EXIT_FAILED
    }
    const from = fetched.kind === 'console' ? "the menu made in WeChat's console" : `the menu WeChat has (${MENU_PATHS.get})`
    const text = menuToYaml(fetched.menu, [
      `The custom menu of account ${p.account.id}: ${from}, pulled with wxengine menu pull.`,
      'Edit it, check it with wxengine menu check, and send it with wxengine menu push (docs/menus.md).',
    ])
    const { mkdir } = await import('node:fs/promises')
    await mkdir(path.dirname(p.file), { recursive: true })
    await writeFile(p.file, text)
    io.out(`${shown}: written, ${fetched.menu.button.length} button${fetched.menu.button.length === 1 ? '' : 's'}`)
    const consoleOnly = consoleOnlyButtons(fetched.menu)
    if (consoleOnly.length > 0) {
      io.err(`warning: button${consoleOnly.length === 1 ? '' : 's'} ${consoleOnly.join(', ')} ${consoleOnly.length === 1 ? 'is of a type' : 'are of types'} only the console makes: make each a click with a key and a rule answering it before wxengine menu push (the file says where)`)
    }
    if (fetched.kind === 'api' && fetched.conditional > 0) io.err(`the account also has ${fetched.conditional} personalized (conditional) menu(s), not pulled: wxengine does not manage those yet`)
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
  if (!opened) return EXIT_USAGE
  try {
    const r = await opened.api.getResult(MENU_PATHS.delete)
    if (!r.ok) {
      io.err(`wxengine menu delete: ${r.error.errcode !== undefined ? explainMenuError(r.error.errcode, [], { button: [] }) + ` (${r.error.reason})` : r.error.reason}`)
      return EXIT_FAILED
    }
    io.out(`deleted: account ${p.account.id} has no menu now (clients drop it within 5 minutes)`)
    return EXIT_OK
  } finally {
    await opened.close()
  }
}
