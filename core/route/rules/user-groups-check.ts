/**
 * A rule's `users:` against the groups engine.config.ts defines (docs/rules.md#users-who-may-trigger-a-rule). A group the rule's
 * account does not define is an error: the rule would exist for nobody, silently, and a misspelt `admin` for
 * `admins` is the likeliest cause. A rule for every account (`*`) is an error only when no account defines
 * the group, and a warning naming the accounts that do not (there it answers nobody), since one rules file
 * often serves accounts whose staff differ.
 */
import { didYouMean } from '../../did-you-mean.ts'
import type { RuleLoadError } from '../rule-types.ts'
import { ALL_ACCOUNTS } from './compile-rule-set.ts'

/** One group named by one `users:`. */
export interface GroupUse {
  group: string
  /** The account of the file ('*' for every account). */
  account: string
  /** `rule "broadcast"`, `handler "image@a.yaml:3"`: how messages name the entry. */
  owner: string
  at: RuleLoadError
}

export function checkGroupUses(uses: readonly GroupUse[], groupsByAccount: Readonly<Record<string, readonly string[]>>): { errors: RuleLoadError[]; warnings: string[] } {
  const errors: RuleLoadError[] = []
  const warnings: string[] = []
  const accounts = Object.keys(groupsByAccount)
  const everyGroup = [...new Set(Object.values(groupsByAccount).flat())].sort()
  for (const use of uses) {
    const { group, owner, at } = use
    if (use.account !== ALL_ACCOUNTS) {
      const defined = groupsByAccount[use.account]
      // Rules for an account that is not configured never run: warned about already (load-rule-set.ts).
      if (defined === undefined || defined.includes(group)) continue
      errors.push({ ...at, message: `${owner}: users: no group "${group}" in account "${use.account}"'s userGroups${didYouMean(group, defined)} (engine.config.ts; groups: ${defined.join(', ') || 'none'})` })
      continue
    }
    const lacking = accounts.filter((a) => !groupsByAccount[a].includes(group))
    if (lacking.length === accounts.length) {
      errors.push({ ...at, message: `${owner}: users: no account defines a group "${group}" in its userGroups${didYouMean(group, everyGroup)} (engine.config.ts; groups: ${everyGroup.join(', ') || 'none'})` })
    } else if (lacking.length > 0) {
      const who = lacking.length === 1 ? `account "${lacking[0]}" has` : `accounts ${lacking.map((a) => `"${a}"`).join(', ')} have`
      warnings.push(`${at.file}:${at.line}${at.column === undefined ? '' : `:${at.column}`}: ${owner}: users: ${who} no group "${group}", so there it answers nobody`)
    }
  }
  return { errors, warnings }
}
