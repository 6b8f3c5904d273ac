/**
 * What a rules file with schema errors still lets be checked: the `users:` groups, the inline replies'
 * media files and the rule and handler names of the entries whose own value is valid. Without this, a
 * misspelt group, a missing picture or a name used twice was reported only once every schema error in the
 * file was fixed, so `rules check` took a run per kind of problem. A value the schema refused, or that sits in a mapping with an error at it or below it (a reply
 * with both plugin and reply, a bad extension), is left out: its schema error is the one to fix, and a second
 * message about the same text would be noise.
 */
import type { RuleLoadError } from '../rule-types.ts'
import { ALL_ACCOUNTS } from './compile-rule-set.ts'
import type { Problem } from './describe-issue.ts'
import { mediaFileOf, type InlineMediaReply } from './media-file-ref.ts'
import type { ParsedRuleFile } from './load-rule-set.ts'
import { FILE_REPLY_TYPES, inlineReplySchema, usersSchema } from './rule-file-schema.ts'
import type { RuleFileRef } from './list-rule-files.ts'

export type StillCheckable = Pick<ParsedRuleFile, 'groups' | 'media' | 'names'>

type At = (path: readonly PropertyKey[]) => RuleLoadError

export function stillCheckable(data: Record<string, unknown>, problems: readonly Problem[], ref: RuleFileRef, at: At): StillCheckable {
  const out: StillCheckable = { groups: [], media: [], names: [] }
  /** A problem at the path, or inside what it holds: the value there is not to be checked further. */
  const refused = (path: readonly PropertyKey[]) =>
    problems.some((p) => path.length <= p.path.length && path.every((step, k) => String(step) === String(p.path[k])))
  const account = accountOf(data, ref, refused)
  const entries: { path: PropertyKey[]; entry: Record<string, unknown>; owner: string }[] = []
  for (const list of ['rules', 'handlers'] as const) {
    const items = data[list]
    if (!Array.isArray(items)) continue
    items.forEach((entry: unknown, i) => {
      if (!isMapping(entry)) return
      entries.push({ path: [list, i], entry, owner: ownerOf(list, entry, i) })
    })
  }
  for (const which of ['welcome', 'default', 'error'] as const) {
    const entry = data[which]
    if (isMapping(entry)) entries.push({ path: [which], entry, owner: which })
  }
  for (const { path, entry, owner } of entries) {
    // A rule's name, or a handler's explicit one, for the duplicate-name check across files. A file whose
    // account: is in error still has its own names compared with each other: a token no other file has.
    if (path.length === 2 && typeof entry.name === 'string' && entry.name !== '' && !refused([...path, 'name'])) {
      out.names.push({ name: entry.name, account: account ?? `${UNKNOWN_ACCOUNT}${ref.path}`, at: at(path) })
    }
    // Only rules and handlers take users (the schema refuses it on welcome, default and error).
    if (account !== undefined && path.length === 2 && entry.users !== undefined && !refused([...path, 'users']) && usersSchema.safeParse(entry.users).success) {
      const users = entry.users as string | string[]
      const list = typeof users === 'string' ? [users] : users
      list.forEach((group, k) => out.groups.push({ group, account, owner, at: at(typeof users === 'string' ? [...path, 'users'] : [...path, 'users', k]) }))
    }
    const reply = entry.reply
    if (entry.plugin !== undefined || !isMapping(reply) || typeof reply.file !== 'string') continue
    if (!(FILE_REPLY_TYPES as readonly unknown[]).includes(reply.type) || refused([...path, 'reply'])) continue
    if (!inlineReplySchema.safeParse(reply).success) continue
    const where = at([...path, 'reply', 'file'])
    out.media.push({ media: mediaFileOf(reply as unknown as InlineMediaReply, ref.path, where), at: where })
  }
  return out
}

/** The file's account as the valid parse takes it; undefined when `account:` itself is in error (no group check then). */
/**
 * Starts the account of a file whose `account:` is in error: its names then meet only each other's (and those
 * of the `*` files, which share names with every account, whatever this one turns out to be).
 */
const UNKNOWN_ACCOUNT = '\u0000account in error: '

function accountOf(data: Record<string, unknown>, ref: RuleFileRef, refused: (path: readonly PropertyKey[]) => boolean): string | undefined {
  if (ref.folderAccount !== undefined) return ref.folderAccount.trim() || undefined
  if (data.account === undefined) return ALL_ACCOUNTS
  if (typeof data.account !== 'string' || refused(['account'])) return undefined
  return data.account.trim() || undefined
}

/** As describe-issue.ts names an entry: `rule "echo"`, `rule #2`, `handler #3 (image)`. */
function ownerOf(list: 'rules' | 'handlers', entry: Record<string, unknown>, i: number): string {
  const named = typeof entry.name === 'string' && entry.name !== '' ? `"${entry.name}"` : undefined
  if (list === 'rules') return `rule ${named ?? `#${i + 1}`}`
  return named ? `handler ${named}` : `handler #${i + 1}${typeof entry.type === 'string' ? ` (${entry.type})` : ''}`
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
