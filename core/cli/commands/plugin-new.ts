/**
 * `wxengine plugin new <name>`: a working plugin to start from, from templates/plugin/ (carried inside the
 * single binary): plugins/<name>/index.ts and plugin.json, rules/<name>.yaml routing "<name> ..." to it,
 * and test/plugins/<name>.test.ts, which passes as generated (`wxengine test` runs it, also from the single
 * binary). Nothing is overwritten.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { readTextAsset } from '../../binary/sea-assets.ts'
import { loadRuleSet, formatRuleErrors } from '../../route/rules/load-rule-set.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectConfig, shownPath, stdio, type GlobalFlags, type Output } from '../cli-context.ts'

/** Folder name = plugin name = rule target; kebab-case keeps it a valid keyword, file name and identifier in logs. */
export const PLUGIN_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/
const PLACEHOLDER = /__PLUGIN_NAME__/g

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
  const files = [
    { template: 'index.ts', to: path.join(config.pluginsDir, name, 'index.ts') },
    { template: 'plugin.json', to: path.join(config.pluginsDir, name, 'plugin.json') },
    { template: 'rules.yaml', to: path.join(config.rulesDir, `${name}.yaml`) },
    { template: 'plugin.test.ts', to: path.join(root, 'test', 'plugins', `${name}.test.ts`) },
  ]
  const taken = [path.join(config.pluginsDir, name), ...files.slice(2).map((f) => f.to)].filter((p) => existsSync(p))
  if (taken.length > 0) {
    io.err(`wxengine plugin new: a plugin named "${name}" exists already (${taken.map((p) => path.relative(root, p)).join(', ')}); choose another name`)
    return EXIT_USAGE
  }

  const rulesLoadedBefore = (await loadRuleSet(config.rulesDir)).ok
  for (const f of files) {
    mkdirSync(path.dirname(f.to), { recursive: true })
    writeFileSync(f.to, readTextAsset(`templates/plugin/${f.template}`).replace(PLACEHOLDER, name), { flag: 'wx' })
  }
  // The new rule's name could clash with an existing rule's: then undo, rather than leave rules that stop the engine.
  const rules = await loadRuleSet(config.rulesDir)
  if (rulesLoadedBefore && !rules.ok) {
    for (const f of files) rmSync(f.to, { force: true })
    rmSync(path.join(config.pluginsDir, name), { recursive: true, force: true })
    io.err(`wxengine plugin new: with rules/${name}.yaml added the rules do not load, so nothing was created:\n${formatRuleErrors(rules.errors)}`)
    return EXIT_FAILED
  }
  for (const f of files) io.out(`created ${shownPath(f.to)}`)
  // Commands to copy: `-C` when the project is not the working directory, or `send` would not find its config.
  const project = root === process.cwd() ? '' : ` -C ${shownPath(root)}`
  io.out(`\nTry it:  wxengine${project} send "${name} hello" --local\nTest it: wxengine test ${shownPath(files[3].to)}`)
  return EXIT_OK
}
