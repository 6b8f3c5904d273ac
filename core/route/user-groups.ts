/**
 * Who may trigger a rule: the named groups of OpenIDs an account defines (`userGroups` in engine.config.ts)
 * and a rule's `users:` (docs/rules.md#users-who-may-trigger-a-rule). The router asks `groupsOf` once per message and `permits` only
 * for candidates that name groups, so an account without groups pays one Map lookup a message, and a rule
 * without `users` nothing.
 */

/** A group name: what `users:` in a rules file names, so it reads as an identifier there. */
export const GROUP_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/

/** The sender is in no group: shared, so the common case allocates nothing. */
export const NO_GROUPS: readonly string[] = Object.freeze([])

/** The groups each account's users are in, looked up by sender. Built once per generation (reload/generations.ts). */
export interface UserGroupIndex {
  /** The groups `openId` is in on `accountId`, in the order the account defines them; NO_GROUPS for none. */
  groupsOf(accountId: string, openId: string): readonly string[]
}

export function buildUserGroupIndex(accounts: readonly { id: string; userGroups?: Readonly<Record<string, readonly string[]>> }[]): UserGroupIndex {
  const byAccount = new Map<string, Map<string, readonly string[]>>()
  for (const account of accounts) {
    const members = new Map<string, string[]>()
    for (const [group, openIds] of Object.entries(account.userGroups ?? {})) {
      for (const openId of openIds) {
        const groups = members.get(openId) ?? []
        // An OpenID listed twice in a group is in it once.
        if (!groups.includes(group)) groups.push(group)
        members.set(openId, groups)
      }
    }
    if (members.size > 0) byAccount.set(account.id, new Map([...members].map(([id, groups]) => [id, Object.freeze(groups)])))
  }
  return {
    groupsOf: (accountId, openId) => byAccount.get(accountId)?.get(openId) ?? NO_GROUPS,
  }
}

/** The index of the accounts' groups; undefined when none defines any (the usual case: the router looks nothing up). */
export function userGroupIndexOf(accounts: readonly { id: string; userGroups?: Readonly<Record<string, readonly string[]>> }[]): UserGroupIndex | undefined {
  return accounts.some((a) => Object.keys(a.userGroups ?? {}).length > 0) ? buildUserGroupIndex(accounts) : undefined
}

/** Whether a sender in `groups` may trigger an entry restricted to `users` (any one group is enough). */
export function permits(users: readonly string[], groups: readonly string[]): boolean {
  for (const group of groups) if (users.includes(group)) return true
  return false
}

/** The group names each account defines, for checking rules' `users:` (plain data: it crosses to the parse worker). */
export function groupNamesByAccount(accounts: readonly { id: string; userGroups?: Readonly<Record<string, unknown>> }[]): Record<string, string[]> {
  return Object.fromEntries(accounts.map((a) => [a.id, Object.keys(a.userGroups ?? {})]))
}
