/**
 * `wxengine storage`: read and change what plugins keep in the store, as an operator: a user's points, what a
 * survey saved, a counter to reset. `<owner>` is a plugin (its `ctx.storage`) or `shared:<area>` (a shared
 * area's, `ctx.storage.shared(area)`); `--user` picks a user's keys (`ctx.storage.user`), else the plugin-wide
 * ones. The keys are the plugin's own names: the store's layout (storage-keys.ts) stays inside.
 *
 * It works on the project's store beside a running engine (SQLite in WAL mode, or Redis): a plugin reads
 * the store on each call, so a value set here is what its next message sees.
 */
import { parse as parseLossless } from 'lossless-json'
import { MAX_STORAGE_KEY_CHARS, MAX_STORAGE_VALUE_CHARS, MAX_TTL_SECONDS } from '../../plugin/worker-protocol.ts'
import type { JsonValue } from '../../plugin/plugin-api.ts'
import { globalKey, isSharedAreaName, pluginNamespace, sharedNamespace, userKey, userKeyPrefix } from '../../plugin/storage-keys.ts'
import { shortened } from '../../shown-text.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectConfig, stdio, tableLines, type GlobalFlags, type Output } from '../cli-context.ts'
import { withProjectStore } from '../open-project-store.ts'
import { notePluginNotInProject } from '../note-plugin-not-in-project.ts'

export type StorageAction = 'list' | 'get' | 'set' | 'delete'

export interface StorageFlags extends GlobalFlags {
  action: StorageAction
  owner: string
  key?: string
  /** `set`'s value, as JSON text. */
  value?: string
  user?: string
  ttl?: number
  limit?: number
  json?: boolean
}

const SHARED = 'shared:'
/** Characters of a value the table of `list` shows; `get` (or --json) gives it whole. */
const SHOWN_VALUE_CHARS = 60

export async function runStorage(flags: StorageFlags, io: Output = stdio): Promise<number> {
  const config = loadProjectConfig(flags, io)
  if (!config) return EXIT_USAGE
  const namespace = namespaceOf(flags.owner, io)
  if (namespace === undefined) return EXIT_USAGE
  if (!flags.owner.startsWith(SHARED)) notePluginNotInProject(flags.owner, config.pluginsDir, io)
  const problem = checkFlags(flags)
  if (problem) {
    io.err(`wxengine storage ${flags.action}: ${problem}`)
    return EXIT_USAGE
  }
  let value: JsonValue | undefined
  if (flags.action === 'set') {
    value = parseValue(flags.value ?? '', io)
    if (value === undefined) return EXIT_USAGE
  }

  // `set` makes the store when the engine has not yet; reading a store that is not there finds nothing.
  // `get` of a key in a store not made yet found no key: exit 1, as for any key not there.
  const opts = { create: flags.action === 'set', nothingYet: 'nothing stored yet', nothingYetExit: flags.action === 'get' ? EXIT_FAILED : EXIT_OK, config }
  const keyOf = (key: string) => (flags.user === undefined ? globalKey(key) : userKey(flags.user, key))
  const where = `${flags.owner}${flags.user === undefined ? '' : ` (user ${flags.user})`}`
  return withProjectStore(flags, `storage ${flags.action}`, io, opts, async ({ kv }) => {
    switch (flags.action) {
      case 'list': {
        const prefix = flags.user === undefined ? globalKey('') : userKeyPrefix(flags.user)
        const limit = flags.limit ?? 50
        // One more than shown, to say that there are more.
        const keys = (await kv.keys(namespace, prefix, limit + 1)).map((k) => k.slice(prefix.length))
        const shown = keys.slice(0, limit)
        const rows: Array<{ key: string; value: JsonValue | undefined }> = []
        for (const key of shown) rows.push({ key, value: await kv.get(namespace, keyOf(key)) })
        // A key that expired between the two reads is left out.
        const live = rows.filter((r) => r.value !== undefined)
        if (flags.json) io.out(JSON.stringify(live))
        else if (live.length > 0) for (const line of tableLines([['KEY', 'VALUE'], ...live.map((r) => [r.key, shortened(JSON.stringify(r.value), SHOWN_VALUE_CHARS)])], new Set())) io.out(line)
        if (live.length === 0) io.err(`no keys in ${where}`)
        if (keys.length > limit) io.err(`more keys than the ${limit} shown: -n sets how many`)
        return EXIT_OK
      }
      case 'get': {
        const found = await kv.get(namespace, keyOf(flags.key!))
        if (found === undefined) {
          io.err(`no key ${JSON.stringify(flags.key)} in ${where}`)
          return EXIT_FAILED
        }
        io.out(flags.json ? JSON.stringify(found) : JSON.stringify(found, null, 2))
        return EXIT_OK
      }
      case 'set':
        await kv.set(namespace, keyOf(flags.key!), value!, flags.ttl === undefined ? undefined : flags.ttl * 1000)
        io.err(`set ${JSON.stringify(flags.key)} in ${where}${flags.ttl === undefined ? '' : `, expiring in ${flags.ttl} s`}`)
        return EXIT_OK
      case 'delete': {
        const had = (await kv.get(namespace, keyOf(flags.key!))) !== undefined
        await kv.delete(namespace, keyOf(flags.key!))
        io.err(had ? `deleted ${JSON.stringify(flags.key)} in ${where}` : `no key ${JSON.stringify(flags.key)} in ${where}: nothing deleted`)
        return EXIT_OK
      }
    }
  })
}

/** A plugin's namespace, or a shared area's (`shared:points`); undefined (said) for a name that is neither. */
function namespaceOf(owner: string, io: Output): string | undefined {
  if (owner.startsWith(SHARED)) {
    const area = owner.slice(SHARED.length)
    if (isSharedAreaName(area)) return sharedNamespace(area)
    io.err(`wxengine storage: "${area}" is no shared area's name: lowercase letters, digits and hyphens (shared:points)`)
    return undefined
  }
  if (owner === '' || owner.includes(':') || owner.includes('/')) {
    io.err(`wxengine storage: "${owner}" is neither a plugin's name (its folder in plugins/) nor shared:<area>`)
    return undefined
  }
  return pluginNamespace(owner)
}

/** What is wrong with the flags for the action, as plugins' storage bounds them; undefined when nothing. */
function checkFlags(flags: StorageFlags): string | undefined {
  if (flags.action !== 'list' && (flags.key === undefined || flags.key === '')) return 'a key is needed'
  // An empty OpenID is no user (the engine refuses a push without one): its keys are nobody's.
  if (flags.user !== undefined && flags.user.trim() === '') return "--user takes a user's OpenID, not an empty text"
  if (flags.key !== undefined && flags.key.length > MAX_STORAGE_KEY_CHARS) return `a key is at most ${MAX_STORAGE_KEY_CHARS} characters`
  if (flags.ttl !== undefined && flags.action !== 'set') return '--ttl is for set'
  if (flags.ttl !== undefined && !(flags.ttl > 0 && flags.ttl <= MAX_TTL_SECONDS)) return `--ttl is 1 to ${MAX_TTL_SECONDS} seconds`
  if (flags.limit !== undefined && flags.action !== 'list') return '-n is for list'
  return undefined
}

/** `set`'s value: JSON, as a plugin's values are; undefined (said) otherwise. */
function parseValue(text: string, io: Output): JsonValue | undefined {
  let value: JsonValue
  try {
    value = JSON.parse(text) as JsonValue
  } catch {
    io.err(
      `wxengine storage set: the value is JSON: a number (100), true, a text in double quotes ('"Paris"' in the shell), a list or an object ('{"a":1}'); got ${shortened(JSON.stringify(text), 40)}`,
    )
    return undefined
  }
  if (text.length > MAX_STORAGE_VALUE_CHARS) {
    io.err(`wxengine storage set: a value is at most ${MAX_STORAGE_VALUE_CHARS} characters of JSON, as a plugin's is`)
    return undefined
  }
  // Stored as JSON.parse read it, 1e999 became null and 12345678901234567890 ...567000, and set said it had
  // set the value typed. Refused instead, naming the number.
  const inexact = inexactNumber(text)
  if (inexact !== undefined) {
    io.err(`wxengine storage set: the number ${shortened(inexact, 40)} would not be kept as typed (a JSON number is a double: whole numbers exact up to ${Number.MAX_SAFE_INTEGER}, none past 1.8e308); give it as a text in double quotes`)
    return undefined
  }
  return value
}

/** The first number in valid JSON `text` that JSON.parse does not keep: not finite, or a whole number past 2^53. */
function inexactNumber(text: string): string | undefined {
  let found: string | undefined
  try {
    parseLossless(text, null, (digits) => {
      const n = Number(digits)
      if (found === undefined && (!Number.isFinite(n) || (/^-?\d+$/.test(digits) && !Number.isSafeInteger(n)))) found = digits
      return n
    })
  } catch {
    // What it refuses that JSON.parse reads (a repeated key) has its numbers read as JSON.parse reads them.
  }
  return found
}
