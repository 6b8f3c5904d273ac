/**
 * What loading the plugins would refuse, found without running any of them: for `wxengine rules check`. A
 * folder without its entry file, a plugin.json that does not read, a config its schema refuses (as the start
 * checks them before it starts a worker), an `allow` naming what the sandbox does not give, and code that does
 * not compile (compile-plugin-sources.ts). A
 * setup that throws shows only when the plugin runs: `wxengine send --local`, `wxengine test`, the start.
 */
import { join, resolve } from 'node:path'
import type { PluginSettings } from '../config/config-types.ts'
import { compilePluginSources, declaredPluginName, entryExportProblem, parseEntry } from './compile-plugin-sources.ts'
import { sourcePlace } from '../shown-path.ts'
import { listPluginFolders } from './load-plugin-set.ts'
import { entryFileOf, readPluginFolder } from './read-plugin-folder.ts'
import { sharedFolderNote } from './shared-code-folders.ts'
import { allowProblem } from './sandbox/allow-problem.ts'

export interface PluginFolderProblems {
  /** Each with its plugin: a plugin may have more than one (two broken files), and the engine refuses it once. */
  errors: Array<{ plugin: string; reason: string }>
  /** Code that fails only when a function that requires it runs (compile-plugin-sources.ts says why). */
  warnings: string[]
}

/** The enabled plugins' problems, plugin by plugin in the order the engine loads them. */
export function checkPluginFolders(dir: string, settings: Record<string, PluginSettings>): PluginFolderProblems {
  const problems: PluginFolderProblems = { errors: [], warnings: [] }
  for (const name of listPluginFolders(resolve(dir))) {
    const own = settings[name] ?? {}
    if (own.enabled === false) continue
    const folder = readPluginFolder(join(dir, name), name, own.config)
    if (!folder.ok) {
      problems.errors.push({ plugin: name, reason: folder.error.reason })
      continue
    }
    // As the worker refuses it before it loads the plugin (sandbox/load-plugin-module.ts).
    const notGiven = allowProblem(own.allow ?? [])
    if (notGiven !== undefined) problems.errors.push({ plugin: name, reason: `plugin ${name}: ${notGiven}` })
    const code = compilePluginSources(folder.value.entry, folder.value.dir, own.allow)
    for (const reason of code.errors) problems.errors.push({ plugin: name, reason })
    problems.warnings.push(...code.warnings)
    // As the worker refuses it once it has run the file (sandbox/worker-main.ts), said at the name.
    const entry = code.errors.length === 0 ? parseEntry(folder.value.entry) : undefined
    // As the worker refuses a module that exports no plugin (sandbox/load-plugin-module.ts), when the file says it.
    const notAPlugin = entry && entryExportProblem(entry)
    if (notAPlugin !== undefined) problems.errors.push({ plugin: name, reason: `plugin ${name}: ${notAPlugin}` })
    const declared = entry && notAPlugin === undefined ? declaredPluginName(entry) : undefined
    if (declared && declared.name !== name) {
      problems.errors.push({ plugin: name, reason: `${sourcePlace(folder.value.entry, declared.line, declared.column)}: the plugin is named ${JSON.stringify(declared.name)} but its folder is ${JSON.stringify(name)}; they must be equal` })
    }
  }
  return problems
}

/**
 * Why a plugin a rule names would not run, or undefined when it would: as the engine finds a plugin
 * (load-plugin-set.ts, read-plugin-folder.ts), a folder it lists with index.ts or index.js, not disabled. For
 * the checks that say what answers a push without running anything (menu check, qrcode create).
 */
export function whyPluginWouldNotRun(dir: string, settings: Record<string, PluginSettings>, shownDir: string): (name: string) => string | undefined {
  const folders = new Set(listPluginFolders(resolve(dir)))
  return (name) => {
    if (!folders.has(name) || !entryFileOf(join(dir, name))) return `plugin "${name}" is not in ${shownDir}${sharedFolderNote(name)}`
    if (settings[name]?.enabled === false) return `plugin "${name}" is disabled in engine.config.ts`
    return undefined
  }
}
