/**
 * Loads rules/ and plugins/ into the parts of a new generation, with the parts of the configuration a
 * generation carries (the user groups, the page domains, the plugins' settings). Used at start-up and by
 * every hot reload, so both follow one path: a rule file with an error, or a plugin that does not load, is
 * reported with where and why, and the caller decides (start-up refuses to start; a reload keeps the last
 * good set).
 */
import { existsSync } from 'node:fs'
import type { EngineConfig } from '../config/config-types.ts'
import type { EngineError } from '../errors.ts'
import type { LineBudget } from '../log/line-budget.ts'
import type { Logger } from '../log/logger.ts'
import { loadPluginSet } from '../plugin/load-plugin-set.ts'
import type { PluginServices, PluginSet } from '../plugin/plugin-host-types.ts'
import { sharedFolderNote } from '../plugin/shared-code-folders.ts'
import { didYouMean } from '../did-you-mean.ts'
import { shownPath } from '../shown-path.ts'
import { formatRuleErrors, loadRuleSet, ruleSetOptionsOf, type MediaResolver, type RuleFilesReader } from '../route/rules/load-rule-set.ts'
import { namedAt, type RuleSet } from '../route/rule-types.ts'
import { userGroupIndexOf, type UserGroupIndex } from '../route/user-groups.ts'
import { loginLinkSettingsOf, type LoginLinkSettings } from '../web/login-link.ts'

export type LoadedParts =
  | {
      ok: true
      rules: RuleSet
      plugins: PluginSet
      /** True when the serving set's plugins were kept (serving, nothing to restart), not loaded again. */
      pluginsKept?: boolean
      /** A reload that started some plugins only: which it started, which it stopped, how many it kept running. */
      pluginChanges?: { started: string[]; stopped: string[]; kept: number }
      userGroups: UserGroupIndex | undefined
      pageDomains?: ReadonlyMap<string, readonly string[]>
      slowestPluginMs: number
      warnings: string[]
      notes: string[]
      sources: LoadedSources
    }
  /** BAD_CONFIG: the configuration, read again for a reload (reread-config.ts), does not load. */
  | { ok: false; code: 'RULE_INVALID' | 'PLUGIN_LOAD' | 'BAD_CONFIG'; problems: string[] }

/** What a generation was loaded from: a reload may not take it away from the one serving (`running`). */
export interface LoadedSources {
  rulesDir: boolean
  pluginsDir: boolean
  plugins: readonly string[]
}

export interface LoadGenerationOptions {
  /**
   * A reload's: what the serving generation was loaded from. A reload that finds its rules or plugins
   * folder gone, or a plugin its rules still name gone, is refused and the last good set serves on. Taken,
   * a folder moved away for a moment (a checkout, an editor's rename) answered nobody: an empty rule set
   * replies nothing, not even the default, and a rule whose plugin is gone falls through to it.
   */
  running?: LoadedSources
  /** The plugins the test kit's `only` did not load, which a test of one plugin leaves out on purpose. */
  leftOut?: readonly string[]
  /** Where rules files are parsed (default: on this thread); a reload passes the worker's (read-rules-off-thread.ts). */
  readRules?: RuleFilesReader
  /** Makes inline replies naming a file into media_ids (a running engine's: core/platform/media-uploads.ts). */
  resolveMedia?: MediaResolver
  /**
   * What login links are built with (rules' `login:` articles, ctx.web.loginUrl), when not the configuration's:
   * `send --local --wait` gives accounts the stand-in's appSecret, but whether a login can work is the real one's say.
   */
  loginLinks?: LoginLinkSettings
  /** The engine's budget of per-message lines, for the plugins' (a call timed out, ...): plugin-runner.ts. */
  lines?: LineBudget
  /**
   * Load the plugins while the rules load, and when either fails report the problems of both: the start's.
   * An operator who met only the broken rules file fixed it, restarted, and met the broken plugin then. A
   * reload keeps them in turn: a typo in a rules file saved under `wxengine dev` must not start (and stop)
   * every plugin's worker, and the last good set serves meanwhile.
   */
  pluginsBesideRules?: boolean
  /**
   * A reload's: the serving generation's plugins, and which of them to start again (plugins-to-restart.ts).
   * None: the set serves on as it is. Some: the others' workers are taken into the new set as they run.
   * The serving set is never disposed here, nor a worker taken from it.
   */
  serving?: { plugins: PluginSet; restart: 'all' | ReadonlySet<string> }
}

export async function loadGeneration(config: EngineConfig, services: PluginServices, log: Logger, opts: LoadGenerationOptions = {}): Promise<LoadedParts> {
  const leftOut = opts.leftOut ?? []
  const found = { rulesDir: existsSync(config.rulesDir), pluginsDir: existsSync(config.pluginsDir) }
  const gone = [
    ...(opts.running?.rulesDir && !found.rulesDir ? [folderGone('rules', config.rulesDir)] : []),
    ...(opts.running?.pluginsDir && !found.pluginsDir ? [folderGone('plugins', config.pluginsDir)] : []),
  ]
  if (gone.length > 0) return { ok: false, code: found.rulesDir ? 'PLUGIN_LOAD' : 'RULE_INVALID', problems: gone }
  const loginLinks = opts.loginLinks ?? loginLinkSettingsOf(config)
  // A reload that restarts some plugins at most: the serving set whole when none, else the others' workers.
  const partial = opts.serving && opts.serving.restart !== 'all' ? { plugins: opts.serving.plugins, restart: opts.serving.restart } : undefined
  const kept = partial?.restart.size === 0 ? partial.plugins : undefined
  const reuse = partial && !kept ? { from: partial.plugins, names: new Set(partial.plugins.names().filter((n) => !partial.restart.has(n))) } : undefined
  const loadPlugins = async (): Promise<{ set: PluginSet; errors: EngineError[] }> =>
    kept ? { set: kept, errors: [] } : loadPluginSet({
      dir: config.pluginsDir,
      settings: config.plugins,
      defaultTimeoutMs: config.limits.pluginTimeoutMs,
      defaultMemoryMb: config.limits.pluginMemoryMb,
      isolation: config.limits.pluginIsolation,
      // As `ctx.account` has them (engine.ts).
      accounts: config.accounts.map((a) => ({ id: a.id, appId: a.appId, originalId: a.originalId })),
      web: loginLinks,
      services,
      log,
      lines: opts.lines,
      reuse,
    })
  // A set this load started, given up: its workers go (those taken from the serving set stay with it). The
  // serving set, kept, serves on.
  const disposeLoaded = (set: PluginSet): Promise<void> => (set === kept ? Promise.resolve() : set.dispose())
  // Started first: the workers start while this thread parses the rules.
  const pluginsBeside = opts.pluginsBesideRules ? loadPlugins() : undefined
  // Awaited only once the rules are parsed: a rejection meanwhile must not count as unhandled (it is
  // still thrown where awaited below).
  pluginsBeside?.catch(() => undefined)
  let rules: Awaited<ReturnType<typeof loadRuleSet>>
  try {
    rules = await loadRuleSet(config.rulesDir, { ...ruleSetOptionsOf(config), loginLinks }, opts.readRules, opts.resolveMedia)
  } catch (e) {
    // No worker may outlive a load that failed: the process would not exit after a refused start.
    await pluginsBeside?.then(({ set }) => disposeLoaded(set))
    throw e
  }
  if (!rules.ok) {
    const problems = formatRuleErrors(rules.errors).split('\n').filter(Boolean)
    if (pluginsBeside) {
      const { set, errors } = await pluginsBeside
      await disposeLoaded(set)
      problems.push(...pluginProblems(errors))
    }
    return { ok: false, code: 'RULE_INVALID', problems }
  }
  const { set, errors } = await (pluginsBeside ?? loadPlugins())
  if (errors.length > 0) {
    await disposeLoaded(set)
    return { ok: false, code: 'PLUGIN_LOAD', problems: pluginProblems(errors) }
  }
  const warnings = [...rules.warnings]
  const disabled: string[] = []
  const removed: string[] = []
  for (const name of rules.ruleSet.pluginNames()) {
    if (set.has(name)) continue
    // Left out on purpose by a test of one plugin: not news in every test file (a plugin author's review).
    if (leftOut.includes(name)) continue
    if (config.plugins[name]?.enabled === false) disabled.push(name)
    else if (opts.running?.plugins.includes(name)) removed.push(`rules refer to plugin "${name}"${namedAt(rules.ruleSet.pluginUses(name), config.rulesDir)}, which served until now and is gone from ${shownPath(config.pluginsDir)}: put it back, or remove the rules that name it too (the last good set serves meanwhile)`)
    else warnings.push(`rules refer to plugin "${name}"${namedAt(rules.ruleSet.pluginUses(name), config.rulesDir)}, which is not in ${config.pluginsDir}${sharedFolderNote(name)}${didYouMean(name, set.names())}`)
  }
  if (removed.length > 0) {
    await disposeLoaded(set)
    return { ok: false, code: 'PLUGIN_LOAD', problems: removed }
  }
  // One line for them all.
  if (disabled.length > 0) {
    const names = disabled.map((n) => `"${n}"`).join(', ')
    warnings.push(`rules refer to ${disabled.length === 1 ? 'plugin' : 'plugins'} ${names}, disabled (enabled: false in engine.config.ts): their messages fall through (each logged as PLUGIN_LOAD)`)
  }
  // The longest a plugin call may take: a plugin's own timeoutMs may be above the default (the fleet's user
  // lock must outlast the call running at the budget, or another instance could route that user meanwhile).
  const slowestPluginMs = Math.max(config.limits.pluginTimeoutMs, ...Object.values(config.plugins).map((p) => p.timeoutMs ?? 0))
  const pageDomains = new Map(loginLinks.accounts.map((a) => [a.id, a.pageDomains]))
  const sources = { ...found, plugins: set.names() }
  const pluginChanges = reuse && {
    started: set.names().filter((n) => !reuse.names.has(n)),
    stopped: reuse.from.names().filter((n) => !reuse.names.has(n)),
    kept: set.names().filter((n) => reuse.names.has(n)).length,
  }
  return { ok: true, rules: rules.ruleSet, plugins: set, pluginsKept: set === kept, pluginChanges, userGroups: userGroupIndexOf(config.accounts), pageDomains, slowestPluginMs, warnings, notes: rules.notes, sources }
}

function folderGone(what: 'rules' | 'plugins', dir: string): string {
  return `${shownPath(dir)}: the ${what} folder the running set was loaded from is gone (moved or deleted; a checkout in progress?): put it back, and the next change reloads (the last good set serves meanwhile; a restart runs without it)`
}

function pluginProblems(errors: readonly EngineError[]): string[] {
  return errors.map((e) => `${e.code}: ${e.reason}`)
}
