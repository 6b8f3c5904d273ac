/**
 * `wxengine plugin new <name>`: a working plugin to start from, from templates/plugin/ (carried inside the
 * single binary): plugins/<name>/index.ts and plugin.json, rules/<name>.yaml routing "<name> ..." to it,
 * and test/plugins/<name>.test.ts, which passes as generated (`wxengine test` runs it, also from the single
 * binary). Nothing is overwritten.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { readTextAsset } from '../../binary/sea-assets.ts'
import { docsFolderFor } from '../../binary/project-docs.ts'
import { entryFileOf } from '../../plugin/read-plugin-folder.ts'
import { listRuleFiles } from '../../route/rules/list-rule-files.ts'
import { loadRuleSet, formatRuleErrors, parseRuleFile } from '../../route/rules/load-rule-set.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectConfig, shownPath, stdio, type GlobalFlags, type Output } from '../cli-context.ts'
import { howToRun } from '../how-to-run.ts'

/** Folder name = plugin name = rule target; kebab-case keeps it a valid keyword, file name and identifier in logs. */
export const PLUGIN_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/
const PLACEHOLDER = /__PLUGIN_NAME__/g
/** index.ts's header says who sends the plugin its messages: its own rule file, or the rules that named it first. */
const ROUTED_BY = /__PLUGIN_ROUTED_BY__/g
/** The folder of the docs the files name (`.wxengine/docs/plugins.md`): one the project has. */
const DOCS = /__DOCS__/g

export interface PluginNewFlags extends GlobalFlags {
  name: string
}

export async function runPluginNew(flags: PluginNewFlags, io: Output = stdio): Promise<number> {
  const name = flags.name
  if (!PLUGIN_NAME.test(name) || name.length > 40) {
    io.err(`wxengine plugin new: "${name}" is not a valid plugin name: use lowercase letters, digits and single hyphens, starting with a letter (e.g. weather or order-status), at most 40 characters`)
    return EXIT_USAGE
  }
  const config = loadProjectConfig(flags, io)
  if (!config) return EXIT_USAGE
  const root = path.resolve(flags.root)
  const pluginDir = path.join(config.pluginsDir, name)
  if (existsSync(pluginDir)) {
    const isPlugin = entryFileOf(pluginDir) !== undefined
    io.err(
      isPlugin
        ? `wxengine plugin new: a plugin named "${name}" exists already (${shownPath(pluginDir)}); edit it, or choose another name`
        : `wxengine plugin new: ${shownPath(pluginDir)} exists already and holds no index.ts; remove it, or choose another name (nothing is overwritten)`,
    )
    return EXIT_USAGE
  }
  // The rules may name the plugin before it exists (`rules check` says to run this for it): its rule file
  // would then add a second rule for it, or clash with the rule's name and be refused.
  const named = await rulesNaming(config.rulesDir, name)
  if (named.clash) {
    io.err(`wxengine plugin new: a rule named "${name}" exists already (${named.clash.where}), and rules/${name}.yaml would add another of that name: rename that rule, or choose another plugin name; nothing was created`)
    return EXIT_FAILED
  }
  const routed = named.routes.length > 0
  const files = [
    { template: 'index.ts', to: path.join(pluginDir, 'index.ts') },
    { template: 'plugin.json', to: path.join(pluginDir, 'plugin.json') },
    ...(routed ? [] : [{ template: 'rules.yaml', to: path.join(config.rulesDir, `${name}.yaml`) }]),
    { template: 'plugin.test.ts', to: path.join(root, 'test', 'plugins', `${name}.test.ts`) },
  ]
  const taken = files.slice(2).map((f) => f.to).filter((p) => existsSync(p))
  if (taken.length > 0) {
    io.err(`wxengine plugin new: ${taken.map((p) => shownPath(p)).join(' and ')} exist${taken.length === 1 ? 's' : ''} already, and would be written for plugin "${name}"; move ${taken.length === 1 ? 'it' : 'them'} away, or choose another name`)
    return EXIT_USAGE
  }

  const rulesLoadedBefore = (await loadRuleSet(config.rulesDir)).ok
  const routedBy = routed
    ? `${named.routes.join(', ')} sends it messages; the code below was written for "${name} <anything>": change it to fit`
    : `rules/${name}.yaml sends it "${name} <anything>"`
  // What this run made, to take back whole when it cannot finish: a half-made plugin was left (by a file
  // that could not be written, a folder of another user), and trying again said it "exists already".
  const made: string[] = []
  const docsFolder = docsFolderFor(root)
  const undo = () => {
    for (const p of made.reverse()) rmSync(p, { recursive: true, force: true })
  }
  for (const f of files) {
    try {
      const folder = mkdirSync(path.dirname(f.to), { recursive: true })
      if (folder) made.push(folder)
      writeFileSync(f.to, readTextAsset(`templates/plugin/${f.template}`).replace(ROUTED_BY, routedBy).replace(PLACEHOLDER, name).replace(DOCS, docsFolder), { flag: 'wx' })
      made.push(f.to)
    } catch (e) {
      undo()
      io.err(`wxengine plugin new: cannot write ${shownPath(f.to)} (${(e as Error).message}); nothing was created`)
      return EXIT_FAILED
    }
  }
  // The new rule's name could clash with an existing rule's: then undo, rather than leave rules that stop the engine.
  const rules = await loadRuleSet(config.rulesDir)
  if (rulesLoadedBefore && !rules.ok) {
    undo()
    io.err(`wxengine plugin new: with rules/${name}.yaml added the rules do not load, so nothing was created:\n${formatRuleErrors(rules.errors)}`)
    return EXIT_FAILED
  }
  for (const f of files) io.out(`created ${shownPath(f.to)}`)
  if (routed) {
    io.err(`wxengine plugin new: the rules send messages to "${name}" already (${named.routes.join(', ')}), so no rules/${name}.yaml was written; the plugin and its test are written for that file's rule ("${name}" and "${name} <text>", the text as the regex group "rest"): change them to fit yours`)
  }
  // Commands to copy: `-C` when the project is not the working directory, or `send` would not find its config.
  const project = root === process.cwd() ? '' : ` -C ${shownPath(root)}`
  const wx = howToRun(process.cwd())
  io.out(`\nTry it:  ${wx}${project} send "${name} hello" --local\nTest it: ${wx} test ${shownPath(files[files.length - 1].to)}`)
  return EXIT_OK
}

/**
 * Where the rules already send messages to plugin `name` (`rule "x" at rules/a.yaml:3`), and a rule of that
 * name that sends them elsewhere. Files that do not parse are left to the load that follows.
 */
async function rulesNaming(rulesDir: string, name: string): Promise<{ routes: string[]; clash?: { where: string } }> {
  const listed = await listRuleFiles(rulesDir)
  const routes: string[] = []
  if ('error' in listed) return { routes }
  let clash: { where: string } | undefined
  for (const ref of listed.files) {
    const parsed = parseRuleFile(await readFile(ref.path, 'utf8').catch(() => ''), ref)
    if ('errors' in parsed) continue
    const at = (line: number) => `${shownPath(ref.path)}:${line}`
    for (const r of [...parsed.rules, ...parsed.handlers]) {
      if ('plugin' in r.target && r.target.plugin === name) routes.push(`rule "${r.name}" at ${at(r.source.line)}`)
    }
    // Rules for '*' share names with every account's (load-rule-set.ts), as the written rule would be.
    const same = parsed.names.find((n) => n.name === name)
    if (same) clash ??= { where: at(same.at.line) }
    for (const sys of parsed.system) if ('plugin' in sys.target && sys.target.plugin === name) routes.push(`${sys.which} at ${at(sys.at.line)}`)
  }
  // A rule named like the plugin that routes to it is the routed case: no rule file is written, no clash.
  return routes.length > 0 ? { routes } : { routes, clash }
}
