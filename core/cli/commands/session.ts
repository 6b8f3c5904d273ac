/**
 * `wxengine session`: the users whose conversation is locked to a plugin (a dialogue half answered, a
 * survey), and ending one, as an operator: a user stuck in a dialogue whose plugin was changed, or who wrote
 * to support instead. Ended, the user's next message is routed afresh (rules, handlers, the default).
 *
 * It works on the project's store beside a running engine: the SQLite store reads a live session from its
 * table at each message (it caches only "no session"), Redis is shared. With Redis the session is deleted
 * under the user's lock, so an instance answering one of their messages at that moment cannot write it back
 * after; with SQLite the engine's own process holds that lock, and a message being answered as the session
 * is ended may still save it (`session list` shows it again then).
 */
import type { SessionRecord, Store } from '../../store/store.ts'
import { UNSUBSCRIBING } from '../../store/store.ts'
import { listPluginFolders } from '../../plugin/load-plugin-set.ts'
import { didYouMean } from '../../did-you-mean.ts'
import { shortened } from '../../shown-text.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectConfig, shownPath, stdio, tableLines, utcDateTime, type GlobalFlags, type Output } from '../cli-context.ts'
import { openProjectStore } from '../open-project-store.ts'

export type SessionAction = 'list' | 'end'

export interface SessionFlags extends GlobalFlags {
  action: SessionAction
  /** `end`'s user. */
  openId?: string
  account?: string
  /** `list`: only the sessions of this plugin. */
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
  if (flags.action === 'end' && (flags.openId === undefined || flags.openId.trim() === '')) {
    io.err(`wxengine ${command}: the user's OpenID is needed (wxengine session list shows them)`)
    return EXIT_USAGE
  }
  const config = loadProjectConfig(flags, io)
  if (!config) return EXIT_USAGE
  if (flags.plugin !== undefined) {
    // A plugin since removed may still hold sessions until they lapse: said, not refused.
    const folders = listPluginFolders(config.pluginsDir)
    if (!folders.includes(flags.plugin)) io.err(`note: plugin "${flags.plugin}" is not in ${shownPath(config.pluginsDir)}${didYouMean(flags.plugin, folders)}`)
  }
  const opened = await openProjectStore(flags, command, io, { nothingYet: 'no sessions yet', config })
  if ('exitCode' in opened) return opened.exitCode
  const { store } = opened
  try {
    if (flags.action === 'list') return await list(store, flags, io)
    return await end(store, flags.account ?? config.defaultAccount, flags.openId!, flags.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS, io)
  } catch (e) {
    io.err(`wxengine ${command}: the store failed: ${(e as Error).message}`)
    return EXIT_FAILED
  } finally {
    await store.close()
  }
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

async function end(store: Store, account: string, openId: string, lockWaitMs: number, io: Output): Promise<number> {
  const who = `${openId} (account ${account})`
  const { sessions } = store
  if (!sessions.lockUser) {
    const had = await sessions.get(account, openId)
    await sessions.delete(account, openId)
    say(had, who, io)
    return EXIT_OK
  }
  const deadline = Date.now() + lockWaitMs
  for (;;) {
    const lock = await sessions.lockUser(account, openId, LOCK_TTL_MS)
    if (lock === UNSUBSCRIBING) {
      // Their unsubscribe's clean-up deletes the session (and their plugin data) itself.
      io.err(`${who} is unsubscribing: the engine is deleting their session and data`)
      return EXIT_OK
    }
    if (lock !== null) {
      try {
        await lock.writes.delete(account, openId)
      } finally {
        await lock.release()
      }
      say(lock.session, who, io)
      return EXIT_OK
    }
    if (Date.now() >= deadline) {
      io.err(`wxengine session end: ${who} is being answered by an instance that has held the user for ${+(lockWaitMs / 1000).toFixed(1)} s: nothing ended, try again`)
      return EXIT_FAILED
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS))
  }
}

function say(had: SessionRecord | null, who: string, io: Output): void {
  io.err(had ? `ended the session of ${who} with plugin ${had.plugin}: their next message is routed afresh` : `${who} has no session: nothing ended`)
}

/** `4m 10s`, `2h 5m`, `12s`: how long until a session ends, to the two largest units. */
function timeLeft(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`
}
