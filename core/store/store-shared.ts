/**
 * Small rules every Store backend applies the same way, so the contract suite sees one behaviour.
 */
import type { FollowerCount, FollowerQuery, HitCount, MessageLogEntry, OutboxEntry, SessionRecord } from './store.ts'
import { qrSceneOf } from '../normalize/normalize-message.ts'

/** What `log.query` returns when the caller gives no `limit`. */
export const DEFAULT_LOG_LIMIT = 100

/** NUL cannot appear in an account id or an OpenID, so the joined key is unambiguous. */
export function sessionKeyOf(account: string, openId: string): string {
  return `${account}\u0000${openId}`
}

/** sessions.list's order: the soonest to end first, then by account and OpenID (SQLite's ORDER BY says the same). */
export function soonestFirst(sessions: SessionRecord[]): SessionRecord[] {
  return sessions.sort((a, b) => a.expiresAt - b.expiresAt || (a.account < b.account ? -1 : a.account > b.account ? 1 : 0) || (a.openId < b.openId ? -1 : a.openId > b.openId ? 1 : 0))
}

export function hitKeyOf(account: string, rule: string, keyword: string | null): string {
  return `${account}\u0000${rule}\u0000${keyword ?? '\u0001'}`
}

/** Most hits first, then by account, rule, keyword (null first) for a stable listing. */
export function compareHits(a: HitCount, b: HitCount): number {
  if (a.hits !== b.hits) return b.hits - a.hits
  if (a.account !== b.account) return a.account < b.account ? -1 : 1
  if (a.rule !== b.rule) return a.rule < b.rule ? -1 : 1
  if (a.keyword === b.keyword) return 0
  if (a.keyword === null) return -1
  if (b.keyword === null) return 1
  return a.keyword < b.keyword ? -1 : 1
}

/**
 * The smallest string greater than every string starting with `prefix`, in code point order (which is
 * also SQLite's BINARY collation over UTF-8): the prefix with its last code point incremented.
 * `prefix + '\uffff'` would miss keys continuing with an astral character (UTF-8 F0.. > EF BF BF).
 * Returns null when no bound exists (empty prefix, or only U+10FFFF code points): every key matches.
 */
export function prefixUpperBound(prefix: string): string | null {
  const cps = Array.from(prefix, (c) => c.codePointAt(0) ?? 0)
  while (cps.length > 0) {
    let last = (cps.pop() ?? 0) + 1
    if (last > 0x10ffff) continue
    // Lone surrogates cannot be stored in UTF-8; the next valid code point after D7FF is E000.
    if (last >= 0xd800 && last <= 0xdfff) last = 0xe000
    return String.fromCodePoint(...cps, last)
  }
  return null
}

/** An empty keyword counts as no keyword, so every backend keys hits the same way. */
export function hitKeywordOf(keyword: string | undefined): string | null {
  return keyword ? keyword : null
}

/** `{...entry, ...patch}` except that a field patched to undefined is removed, and `id` never changes. */
export function applyOutboxPatch(entry: OutboxEntry, patch: Partial<OutboxEntry>): OutboxEntry {
  const out: Record<string, unknown> = { ...entry }
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'id') continue
    if (v === undefined) delete out[k]
    else out[k] = v
  }
  return out as unknown as OutboxEntry
}

/** Users seen only unfollowing sort after every scene, then most followed first, then by account and scene. */
export function compareFollowers(a: FollowerCount, b: FollowerCount): number {
  if ((a.scene === null) !== (b.scene === null)) return a.scene === null ? 1 : -1
  if (a.followed !== b.followed) return b.followed - a.followed
  if (a.account !== b.account) return a.account < b.account ? -1 : 1
  if (a.scene === b.scene || a.scene === null || b.scene === null) return 0
  return a.scene < b.scene ? -1 : 1
}

/** One user's row of the followers table (sqlite-schema.ts), as a store in this process keeps it. */
export interface FollowerState {
  account: string
  following: boolean
  firstFollowedAt: number | null
  followedAt: number | null
  unfollowedAt: number | null
  scene: string
}

/**
 * The user's row after `entry`, the first entry of its message (the caller skips the others, as
 * sqlite-log-batch.cjs does through follow_events): what that file's FOLLOW and UNFOLLOW statements do, for
 * the memory store. Entries other than a follow or an unfollow leave the row as it is.
 */
export function nextFollowerState(prev: FollowerState | undefined, entry: MessageLogEntry): FollowerState | undefined {
  if (entry.kind === 'subscribe') {
    return {
      account: entry.account,
      following: true,
      firstFollowedAt: prev?.firstFollowedAt ?? entry.at,
      followedAt: entry.at,
      unfollowedAt: null,
      // The entry's summary is the follow's EventKey (message-recorder.ts).
      scene: qrSceneOf(entry.summary) ?? '',
    }
  }
  if (entry.kind !== 'unsubscribe') return prev
  if (!prev) return { account: entry.account, following: false, firstFollowedAt: null, followedAt: null, unfollowedAt: entry.at, scene: '' }
  return { ...prev, following: false, unfollowedAt: entry.at }
}

export const DAY_MS = 86_400_000

/** The first ms of the UTC day holding `t`: what follower_days (sqlite-schema.ts) counts by, as its SQL cuts it. */
export function utcDayOf(t: number): number {
  return Math.trunc(t / DAY_MS) * DAY_MS
}

/**
 * One row of follower_days (sqlite-schema.ts): users who left, folded into counts per account, scene and
 * UTC day. `scene` null for users never seen following (the table's `unknown`), as FollowerCount has them.
 */
export interface FollowerDay {
  account: string
  scene: string | null
  day: number
  followed: number
  unfollowed: number
}

/**
 * log.foldFollowers over rows kept in this process: the SQLite store's fold, in code. The rows of users who
 * unfollowed before `before` are added to `days` (under their latest follow's day, or the unfollow's for a
 * user never seen following) and deleted. Returns how many.
 */
export function foldFollowers(rows: Map<string, FollowerState>, days: Map<string, FollowerDay>, before: number): number {
  let folded = 0
  for (const [k, r] of rows) {
    if (r.following || r.unfollowedAt === null || r.unfollowedAt >= before) continue
    const scene = r.followedAt === null ? null : r.scene
    const day = utcDayOf(r.followedAt ?? r.unfollowedAt)
    const dk = JSON.stringify([r.account, scene, day])
    let d = days.get(dk)
    if (!d) days.set(dk, (d = { account: r.account, scene, day, followed: 0, unfollowed: 0 }))
    if (r.followedAt !== null) d.followed++
    d.unfollowed++
    rows.delete(k)
    folded++
  }
  return folded
}

/**
 * log.followers over rows and folded days kept in this process: the SQLite store's query, in code. A
 * folded day counts under `since` when it is the day holding `since` or later: its users' times are gone.
 */
export function countFollowers(rows: Iterable<FollowerState>, days: Iterable<FollowerDay>, q: FollowerQuery): FollowerCount[] {
  const counts = new Map<string, FollowerCount>()
  function countOf(account: string, scene: string | null): FollowerCount {
    // As SQLite groups: a scene is any text (a push's EventKey may hold \u0001), so null is no string here.
    const k = JSON.stringify([account, scene])
    let c = counts.get(k)
    if (!c) counts.set(k, (c = { account, scene, followed: 0, stillFollowing: 0, unfollowed: 0 }))
    return c
  }
  for (const r of rows) {
    if (q.account !== undefined && r.account !== q.account) continue
    if (q.since !== undefined && (r.followedAt ?? r.unfollowedAt ?? -Infinity) < q.since) continue
    const c = countOf(r.account, r.followedAt === null ? null : r.scene)
    if (r.followedAt !== null) c.followed++
    if (r.following) c.stillFollowing++
    else c.unfollowed++
  }
  const sinceDay = q.since === undefined ? undefined : utcDayOf(q.since)
  for (const d of days) {
    if (q.account !== undefined && d.account !== q.account) continue
    if (sinceDay !== undefined && d.day < sinceDay) continue
    const c = countOf(d.account, d.scene)
    c.followed += d.followed
    c.unfollowed += d.unfollowed
  }
  return [...counts.values()].sort(compareFollowers)
}
