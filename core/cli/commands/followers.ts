/**
 * `wxengine followers`: how many followers each parameter QR code (scene) brought, and how many of them
 * still follow, from the follows and unfollows the message log has seen (log.followers, kept as the log is
 * written, as `stats`' hits are). Each user counts once, under their latest follow's scene. Users who left
 * are folded into anonymous counts per day at a prune (store.ts foldFollowers): the store sums both, so
 * nothing here changes.
 */
import type { FollowerCount } from '../../store/store.ts'
import { EXIT_OK, EXIT_USAGE, stdio, tableLines, type GlobalFlags, type Output } from '../cli-context.ts'
import { withProjectStore } from '../open-project-store.ts'
import { sinceFlag } from './log.ts'

export interface FollowersFlags extends GlobalFlags {
  account?: string
  since?: string
  json?: boolean
}

/** The SCENE column: a follow without a scene, users seen only unfollowing, an account's sum. */
const NO_SCENE = '-'
const UNKNOWN = '(unknown)'
const TOTAL = '(total)'

export async function runFollowers(flags: FollowersFlags, io: Output = stdio): Promise<number> {
  const since = sinceFlag('followers', flags.since, io)
  if (since === null) return EXIT_USAGE
  return withProjectStore(flags, 'followers', io, {}, async (store) => {
    const counts = await store.log.followers({ account: flags.account, since })
    if (flags.json) {
      io.out(JSON.stringify(counts))
      return EXIT_OK
    }
    if (counts.length === 0) {
      io.err(since === undefined ? 'no follows or unfollows recorded yet' : 'no follows or unfollows recorded since then')
      return EXIT_OK
    }
    for (const line of tableLines([['ACCOUNT', 'SCENE', 'FOLLOWED', 'STILL FOLLOWING', 'UNFOLLOWED'], ...rowsOf(counts)], new Set([2, 3, 4]))) io.out(line)
    if (counts.some((c) => c.scene === null)) {
      io.err(`${UNKNOWN}: unfollows of users the message log never saw follow (they followed before the engine logged, or while log.retentionDays was 0)`)
    }
    return EXIT_OK
  })
}

/**
 * A scene as the table shows it: as it is, or JSON-quoted when it would read as one of the markers above
 * or break the table's columns and lines. A scene is a push's EventKey: any text a code was made with.
 */
function shownScene(scene: string): string {
  return scene === NO_SCENE || scene === UNKNOWN || scene === TOTAL || /[\s"\p{C}]/u.test(scene) ? JSON.stringify(scene) : scene
}

/** Account by account (in name order), each as the store sorts it (most followed first), then its total. */
function rowsOf(counts: FollowerCount[]): string[][] {
  const byAccount = new Map<string, FollowerCount[]>()
  for (const c of counts) {
    const list = byAccount.get(c.account)
    if (list) list.push(c)
    else byAccount.set(c.account, [c])
  }
  const rows: string[][] = []
  for (const account of [...byAccount.keys()].sort()) {
    const list = byAccount.get(account)!
    const total = { followed: 0, stillFollowing: 0, unfollowed: 0 }
    for (const c of list) {
      rows.push([account, c.scene === null ? UNKNOWN : c.scene === '' ? NO_SCENE : shownScene(c.scene), String(c.followed), String(c.stillFollowing), String(c.unfollowed)])
      total.followed += c.followed
      total.stillFollowing += c.stillFollowing
      total.unfollowed += c.unfollowed
    }
    rows.push([account, TOTAL, String(total.followed), String(total.stillFollowing), String(total.unfollowed)])
  }
  return rows
}
