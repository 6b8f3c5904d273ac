/**
 * A loaded menu file against a loaded rule set: what answers each button's press (menu-answers.ts), as a
 * tree to print, and a warning for each button nothing answers. Shared by `wxengine menu check` and
 * `wxengine rules check`, which runs it for every account that has a menu file, so a rule removed or
 * renamed while its menu button stays is caught by the check CI runs on the rules.
 */
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import type { AccountConfig, EngineConfig } from '../config/config-types.ts'
import { didYouMean } from '../did-you-mean.ts'
import { answerContextOf } from '../route/what-answers.ts'
import type { RuleSet } from '../route/rule-types.ts'
import { shownPath } from '../shown-path.ts'
import { answersFor, describeAnswer } from './menu-answers.ts'
import { isParent, matchruleBody, type LoadedMenu, type MatchRule, type Menu } from './menu-file.ts'

export interface MenuCheck {
  /** The buttons, indented under their parents, each with what answers its press. */
  tree: string[]
  /**
   * `file:line:col: button "x" (click, key "k"): nothing answers it: ...`, one per unanswered button, and per
   * button a rule with a media file the engine cannot upload would answer.
   */
  unanswered: string[]
}

export function checkMenuAgainstRules(config: EngineConfig, account: AccountConfig, file: string, loaded: LoadedMenu, rules: RuleSet): MenuCheck {
  const ctx = answerContextOf(config, account, rules)
  const shown = shownPath(file)
  const tree: string[] = []
  const unanswered: string[] = []
  const line = (indent: string, leaf: LoadedMenu['leaves'][number], menuLabel: string) => {
    const { button, place } = leaf
    const what = button.key ?? button.url ?? button.media_id ?? button.article_id ?? ''
    const head = `${indent}${button.name}  ${button.type}${what ? ` ${what}` : ''}${button.login ? ` (login: ${button.login})` : ''}`
    const answer = answersFor(button, ctx)
    if (!answer) {
      tree.push(`${head}${button.type === 'miniprogram' ? ` (${button.appid} ${button.pagepath})` : ''}`)
      return
    }
    const said = describeAnswer(answer)
    tree.push(`${head}: ${said}`)
    // A rule answering with a media file the engine cannot upload fails at each press (an error logged, the
    // error reply), even where a later handler answers instead: said too.
    if (!answer.answered || answer.steps.some((s) => s.fails)) unanswered.push(`${shown}:${place.line}:${place.column}: ${menuLabel}button ${place.label} (${button.type}, key ${JSON.stringify(button.key)}): ${said}`)
  }
  const menuTree = (menu: Menu, leaves: LoadedMenu['leaves'], menuLabel: string) => {
    let k = 0
    for (const b of menu.button) {
      if (isParent(b)) {
        tree.push(`  ${b.name}`)
        for (let j = 0; j < b.sub_button.length; j++) line('    ', leaves[k++]!, menuLabel)
      } else line('  ', leaves[k++]!, menuLabel)
    }
  }
  menuTree(loaded.menu, loaded.leaves, '')
  // A personalized menu is shown to the users its matchrule matches; a press of its buttons is answered by the
  // same rules as any other (no rule is limited to a tag), so its buttons are asked the same way.
  for (const c of loaded.conditional) {
    tree.push(`${c.label} (${describeMatchrule(c.matchrule)}):`)
    menuTree(c.menu, c.leaves, `${c.label}: `)
  }
  return { tree, unanswered }
}

/** The menu file of `account`: `<menusDir>/<id>.yaml`. */
export function menuFileOf(config: EngineConfig, account: AccountConfig): string {
  return path.join(config.menusDir, `${account.id}.yaml`)
}

/** `tag_id 101, client_platform_type 2 (Android)`. */
export function describeMatchrule(rule: MatchRule): string {
  const platforms: Record<string, string> = { '1': 'iOS', '2': 'Android', '3': 'others' }
  return Object.entries(matchruleBody(rule))
    .map(([k, v]) => `${k} ${v}${k === 'client_platform_type' && platforms[v] ? ` (${platforms[v]})` : ''}`)
    .join(', ')
}

/** Files in menusDir that name no configured account (never pushed by --account): warnings, as rules' (menu check and rules check). */
export function strayMenuFiles(config: EngineConfig): string[] {
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
