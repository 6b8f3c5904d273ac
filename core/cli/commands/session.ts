/**
 * `wxengine session`: the users whose conversation is locked to a plugin (a dialogue half answered, a
 * survey), and ending them, as an operator: one user who wrote to support instead, or every user of a plugin
 * whose questions were changed under them. Ended, a user's next message is routed afresh (rules, handlers,
 * the default).
 *
 * It works on the project's store beside a running engine: the SQLite store reads a live session from its
 * table at each message (it caches only "no session"), Redis is shared. With Redis the session is deleted
 * under the user's lock, so an instance answering one of their messages at that moment cannot write it back
 * after; with SQLite the engine's own process holds that lock, and a message being answered as the session
 * is ended may still save it (`session list` shows it again then).
 */
import type { SessionRecord, Store } from '../../store/store.ts'
import { UNSUBSCRIBING } from '../../store/store.ts'
import { shortened } from '../../shown-text.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectConfig, stdio, tableLines, utcDateTime, type GlobalFlags, type Output } from '../cli-context.ts'
import { withProjectStore } from '../open-project-store.ts'
import { notePluginNotInProject } from '../note-plugin-not-in-project.ts'

export type SessionAction = 'list' | 'end'

export interface SessionFlags extends GlobalFlags {
  action: SessionAction
  /** `end`'s user; without one, `end` ends every session of `plugin`. */
  openId?: string
  account?: string
  /** Only the sessions of this plugin (`end`: all of them, in `account` or in every account). */
  plugin?: string
  limit?: number
  json?: boolean
  /** How long `end` waits for a Redis user lock held by an instance answering the user (tests shorten it). */
  lockWaitMs?: number
}

/** Characters of a state the table of `list` shows; --json gives it whole. */
const SHOWN_STATE_CHARS = 40
const DEFAULT_LIMIT = 50
/** An instance answers within the reply budget (5 s) or hands the reply over to be sent late: then it lets go. */
const DEFAULT_LOCK_WAIT_MS = 10_000
const LOCK_RETRY_MS = 50
/** The lock `end` takes on Redis lapses by itself after this, should the command die holding it. */
const LOCK_TTL_MS = 10_000

export async function runSession(flags: SessionFlags, io: Output = stdio): Promise<number> {
  const command = `session ${flags.action}`
  if (flags.action === 'end') {
    const problem =
      flags.openId !== undefined && flags.plugin !== undefined
        ? "a user's OpenID or --plugin, not both"
        : flags.openId === undefined && flags.plugin === undefined
          ? "the user's OpenID is needed, or --plugin <name> for every session of a plugin (wxengine session list shows them)"
          : flags.openId !== undefined && flags.openId.trim() === ''
            ? "the user's OpenID is needed, not an empty text (wxengine session list shows them)"
            : undefined
    if (problem) {
      io.err(`wxengine ${command}: ${problem}`)
      return EXIT_USAGE
    }
  }
  const config = loadProjectConfig(flags, io)
  if (!config) return EXIT_USAGE
  if (flags.plugin !== undefined) notePluginNotInProject(flags.plugin, config.pluginsDir, io)
  return withProjectStore(flags, command, io, { nothingYet: 'no sessions yet', config }, async (store) => {
    if (flags.action === 'list') return list(store, flags, io)
    const lockWaitMs = flags.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS
    if (flags.openId === undefined) return endPlugin(store, flags.plugin!, flags.account, lockWaitMs, io)
    return endUser(store, flags.account ?? config.defaultAccount, flags.openId, lockWaitMs, io)
  })
}

async function list(store: Store, flags: SessionFlags, io: Output): Promise<number> {
  const limit = flags.limit ?? DEFAULT_LIMIT
  // One more than shown, to say that there are more.
  const found = await store.sessions.list({ account: flags.account, plugin: flags.plugin, limit: limit + 1 })
  const shown = found.slice(0, limit)
  if (flags.json) io.out(JSON.stringify(shown))
  else if (shown.length > 0) {
    const now = Date.now()
    const rows = shown.map((s) => [s.account, s.openId, s.plugin, `${utcDateTime(s.expiresAt)} (in ${timeLeft(s.expiresAt - now)})`, shortened(JSON.stringify(s.state), SHOWN_STATE_CHARS)])
    for (const line of tableLines([['ACCOUNT', 'OPENID', 'PLUGIN', 'ENDS (UTC)', 'STATE'], ...rows], new Set())) io.out(line)
  }
  const where = `${flags.plugin === undefined ? '' : ` with plugin ${flags.plugin}`}${flags.account === undefined ? '' : ` in account ${flags.account}`}`
  if (shown.length === 0) io.err(`no sessions${where}`)
  if (found.length > limit) io.err(`more sessions than the ${limit} shown (the soonest to end): -n sets how many`)
  return EXIT_OK
}

type EndOutcome = { ended: SessionRecord | null } | { unsubscribing: true } | { held: true }

/** `session end <openid>`: one user's session. */
async function endUser(store: Store, account: string, openId: string, lockWaitMs: number, io: Output): Promise<number> {
  const who = `${openId} (account ${account})`
  const outcome = await endSession(store, account, openId, lockWaitMs)
  if ('unsubscribing' in outcome) {
    io.err(`${who} is unsubscribing: the engine is deleting their session and data`)
    return EXIT_OK
  }
  if ('held' in outcome) {
    io.err(`wxengine session end: ${heldReason(who, lockWaitMs)}`)
    return EXIT_FAILED
  }
  io.err(outcome.ended ? `ended the session of ${who} with plugin ${outcome.ended.plugin}: their next message is routed afresh` : `${who} has no session: nothing ended`)
  return EXIT_OK
}

/**
 * `session end --plugin <name>`: every session the plugin holds (in --account, or every account), each as
 * `endUser` ends one, and each only while it is still that plugin's: a user who moved on to another
 * plugin's dialogue since the listing keeps it.
 */
async function endPlugin(store: Store, plugin: string, account: string | undefined, lockWaitMs: number, io: Output): Promise<number> {
  const found = await store.sessions.list({ account, plugin, limit: Number.MAX_SAFE_INTEGER })
  const where = `plugin ${plugin}${account === undefined ? '' : ` in account ${account}`}`
  if (found.length === 0) {
    io.err(`no sessions with ${where}: nothing ended`)
    return EXIT_OK
  }
  let ended = 0
  let held = 0
  for (const s of found) {
    const outcome = await endSession(store, s.account, s.openId, lockWaitMs, plugin)
    if ('held' in outcome) {
      held++
      io.err(`wxengine session end: ${heldReason(`${s.openId} (account ${s.account})`, lockWaitMs)}`)
    } else if ('ended' in outcome && outcome.ended) ended++
  }
  io.err(`ended ${ended} session${ended === 1 ? '' : 's'} with ${where}: their users' next messages are routed afresh${held > 0 ? `; ${held} not ended (above)` : ''}`)
  return held > 0 ? EXIT_FAILED : EXIT_OK
}

/**
 * Deletes the user's session (only when `plugin` holds it, if given). With a store shared by a fleet, under
 * the user's lock, waiting up to `lockWaitMs` for an instance answering them; else as a plain delete.
 */
async function endSession(store: Store, account: string, openId: string, lockWaitMs: number, plugin?: string): Promise<EndOutcome> {
  const { sessions } = store
  const ours = (s: SessionRecord | null) => s !== null && (plugin === undefined || s.plugin === plugin)
  if (!sessions.lockUser) {
    const had = await sessions.get(account, openId)
    if (!ours(had)) return { ended: null }
    await sessions.delete(account, openId)
    return { ended: had }
  }
  const deadline = Date.now() + lockWaitMs
  for (;;) {
    const lock = await sessions.lockUser(account, openId, LOCK_TTL_MS)
    // Their unsubscribe's clean-up deletes the session (and their plugin data) itself.
    if (lock === UNSUBSCRIBING) return { unsubscribing: true }
    if (lock !== null) {
      try {
        if (!ours(lock.session)) return { ended: null }
        await lock.writes.delete(account, openId)
      } finally {
        await lock.release()
      }
      return { ended: lock.session }
    }
    if (Date.now() >= deadline) return { held: true }
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS))
  }
}

function heldReason(who: string, lockWaitMs: number): string {
  return `${who} is being answered by an instance that has held the user for ${+(lockWaitMs / 1000).toFixed(1)} s: nothing ended, try again`
}

/** `4m 10s`, `2h 5m`, `12s`: how long until a session ends, to the two largest units. */
function timeLeft(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`
}
