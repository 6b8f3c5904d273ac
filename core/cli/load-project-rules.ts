/**
 * The project's rules as the engine loads them, for a command that asks them what answers something
 * (`menu check`: each button; `qrcode create`: a scan). Rules that do not load are printed with their places,
 * and the command is told that nothing can be said.
 */
import type { EngineConfig } from '../config/config-types.ts'
import type { RuleSet } from '../route/rule-types.ts'
import { formatRuleErrors, loadRuleSet, ruleSetOptionsOf } from '../route/rules/load-rule-set.ts'
import { shownPath } from '../shown-path.ts'
import type { Output } from './cli-context.ts'

/** `asked`: what the command would have said, e.g. "what answers the buttons". Undefined when they do not load. */
export async function loadProjectRules(config: EngineConfig, asked: string, io: Output): Promise<RuleSet | undefined> {
  const rules = await loadRuleSet(config.rulesDir, ruleSetOptionsOf(config))
  if (rules.ok) return rules.ruleSet
  io.out(formatRuleErrors(rules.errors.map((e) => ({ ...e, file: shownPath(e.file) }))))
  io.err(`the rules do not load (wxengine rules check), so ${asked} cannot be said; the engine would not start with them either`)
  return undefined
}
