/**
 * `wxengine rules check [dir]`: load the rules as the engine would, without starting it. Errors come as
 * `file:line:col: message` (editors and CI jump to them); a clean set gets a summary and any warnings,
 * including rules that send messages to a plugin not in plugins/ (those messages would fall through).
 * The plugins' folders are checked as the engine's start checks them before running any (plugin.json, the
 * config in engine.config.ts against its schema), and their code is compiled as loading compiles it, without
 * running it: a config or a syntax error the engine would refuse fails here too. Each account's menu file
 * (menus/<id>.yaml) is checked against the rules: a button whose press nothing answers is a warning, as are
 * the file's own warnings and a menu file no account reads (menu check's).
 */
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { didYouMean } from '../../did-you-mean.ts'
import { accountWarnings, publicUrlWarning } from '../../config/account-warnings.ts'
import { checkMenuAgainstRules, menuFileOf, strayMenuFiles } from '../../menu/menu-check.ts'
import { loadMenuFile } from '../../menu/menu-file.ts'
import { menuLoginLinks } from '../../menu/menu-login-links.ts'
import { loginLinkSettingsOf } from '../../web/login-link.ts'
import { listPluginFolders, settingsWithoutFolder } from '../../plugin/load-plugin-set.ts'
import { isSharedCodeFolder, sharedFolderNote } from '../../plugin/shared-code-folders.ts'
import { entryFileOf } from '../../plugin/read-plugin-folder.ts'
import { checkMediaAccounts } from '../../platform/media-uploads.ts'
import { formatRuleErrors, loadRuleSet, ruleSetOptionsOf } from '../../route/rules/load-rule-set.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectConfig, shownPath, stdio, type GlobalFlags, type Output } from '../cli-context.ts'
import { namedAt } from '../../route/rule-types.ts'

export interface RulesCheckFlags extends GlobalFlags {
  dir?: string
  /** Warnings fail the check (exit 1): a CI gate for what the engine would start with but not do as meant. */
  strict?: boolean
}

export async function runRulesCheck(flags: RulesCheckFlags, io: Output = stdio): Promise<number> {
  const config = loadProjectConfig(flags, io)
  if (!config) return EXIT_USAGE
  const dir = flags.dir ? path.resolve(flags.dir) : config.rulesDir
  const shown = shownPath
  // A directory named here that is not there was checked as an empty rule set: "ok", exit 0, and a warning
  // about RULES_DIR, which the command line had overridden (a CLI review). The configured one missing stays
  // a warning, as the start says it.
  if (flags.dir) {
    const found = statSync(dir, { throwIfNoEntry: false })
    if (found === undefined || !found.isDirectory()) {
      io.err(`wxengine rules check: ${shown(dir)} ${found === undefined ? 'does not exist' : 'is not a directory'} (the directory given to check)`)
      return EXIT_USAGE
    }
  }
  // Media files are checked, not uploaded: only an account without an appSecret is warned about, as the start warns.
  const loaded = await loadRuleSet(dir, ruleSetOptionsOf(config), undefined, checkMediaAccounts(config.accounts))
  // Loaded here, not with this file: the compile step brings acorn and vm2's compiler (~40 ms), which every
  // command would pay, the start included, since the CLI imports all of them.
  const { checkPluginFolders } = await import('../../plugin/check-plugin-folders.ts')
  const plugins = checkPluginFolders(config.pluginsDir, config.plugins)
  const pluginErrors = plugins.errors
  // Paths as the user would type them, also where a message names another place ("also defined at ...").
  const relative = (text: string) => text.split(dir + path.sep).join(shown(dir) + path.sep)
  for (const e of pluginErrors) io.out(`error: ${e.reason.split(config.pluginsDir + path.sep).join(shown(config.pluginsDir) + path.sep)}`)
  if (!loaded.ok) {
    io.out(formatRuleErrors(loaded.errors.map((e) => ({ ...e, file: shown(e.file), message: relative(e.message) }))))
    const files = new Set(loaded.errors.map((e) => e.file)).size
    io.err(`${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}${pluginErrors.length > 0 ? ` and ${pluginErrors.length} in plugins` : ''}; the engine refuses to start (or reload) until they are fixed`)
    return EXIT_FAILED
  }
  if (pluginErrors.length > 0) {
    // Plugins, not errors: one plugin may have several (two broken files).
    const refused = new Set(pluginErrors.map((e) => e.plugin)).size
    io.err(`${refused} plugin${refused === 1 ? '' : 's'} the engine would refuse to load; it refuses to start (or reload) until they are fixed`)
    return EXIT_FAILED
  }

  const warnings = [...loaded.warnings.map(relative), ...plugins.warnings]
  const folders = listPluginFolders(config.pluginsDir)
  for (const name of loaded.ruleSet.pluginNames()) {
    const folder = path.join(config.pluginsDir, name)
    // Where it is named, as every other rules problem is placed: "rule "book" at rules/a.yaml:4".
    const at = namedAt(loaded.ruleSet.pluginUses(name), shown(dir))
    if (isSharedCodeFolder(name)) {
      warnings.push(`rules send messages to plugin "${name}"${at}, which is not in ${shown(config.pluginsDir)}${sharedFolderNote(name)}`)
    } else if (!entryFileOf(folder)) {
      warnings.push(
        `rules send messages to plugin "${name}"${at}, but ${shown(folder)}/index.ts does not exist` +
          (didYouMean(name, folders) || ` (create it with: wxengine plugin new ${name})`),
      )
    } else if (!folders.includes(name)) {
      // A folder there that the load skips (.drafts) or one deeper (a/b): the engine loads no such plugin.
      warnings.push(
        `rules send messages to plugin "${name}"${at}, which is not in ${shown(config.pluginsDir)} (plugins are the folders directly in it ` +
          `whose names do not start with . or _)${didYouMean(name, folders)}`,
      )
    } else if (config.plugins[name]?.enabled === false) {
      warnings.push(`rules send messages to plugin "${name}"${at}, which engine.config.ts disables`)
    }
  }
  for (const { message } of settingsWithoutFolder(config.plugins, folders, shown(config.pluginsDir))) warnings.push(message)
  for (const { message } of accountWarnings(config.accounts)) warnings.push(message)
  const unreachable = publicUrlWarning(config)
  if (unreachable) warnings.push(unreachable)
  // Each account's menu file against these rules: a rule removed or renamed while its button stays.
  for (const account of config.accounts) {
    const file = menuFileOf(config, account)
    if (!existsSync(file)) continue
    const menu = await loadMenuFile(file)
    if (!menu.ok) {
      warnings.push(`${shown(file)}: ${menu.errors.length} error${menu.errors.length === 1 ? '' : 's'} in the menu file, so its buttons were not checked against the rules (wxengine menu check${account.id === config.defaultAccount ? '' : ` --account ${account.id}`} says where)`)
      continue
    }
    // The file's own warnings (a name the client cuts, a key on two buttons) too, as menu check --strict fails them.
    for (const w of menu.warnings) warnings.push(w.split(file).join(shown(file)))
    for (const w of checkMenuAgainstRules(config, account, file, menu, loaded.ruleSet).unanswered) warnings.push(w)
    // A login button this configuration cannot link (a CI without PUBLIC_URL): said, while its buttons are
    // still checked against the rules above.
    for (const e of menuLoginLinks(menu, loginLinkSettingsOf(config), account.id, file).errors) warnings.push(`${shown(e.file)}:${e.line}:${e.column}: ${e.message} (menu push refuses the menu until it can be linked)`)
  }
  // A menu file no account reads (a misspelt id, .yml): never pushed, and nothing else says so.
  for (const w of strayMenuFiles(config)) warnings.push(w)
  const { textRules, keywords, typeHandlers } = loaded.ruleSet.size
  io.out(`${shown(dir)}: ok, ${textRules} text rule${textRules === 1 ? '' : 's'} (${keywords} keyword${keywords === 1 ? '' : 's'}), ${typeHandlers} type handler${typeHandlers === 1 ? '' : 's'}, plugins used: ${loaded.ruleSet.pluginNames().join(', ') || 'none'}`)
  for (const w of warnings) io.out(`warning: ${w}`)
  for (const n of loaded.notes) io.out(`note: ${relative(n)}`)
  if (flags.strict && warnings.length > 0) {
    io.err(`${warnings.length} warning${warnings.length === 1 ? '' : 's'}, which --strict counts as failures`)
    return EXIT_FAILED
  }
  return EXIT_OK
}
