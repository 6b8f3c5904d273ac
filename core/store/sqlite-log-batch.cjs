'use strict'
/**
 * Writes a batch of message-log entries, their rule-hit counts and the follows and unfollows among them
 * (the followers table, sqlite-schema.ts) in one transaction. Plain CommonJS so that the log writer thread
 * (sqlite-log-worker.cjs) runs it as is, with no TypeScript loader, and the main thread
 * (sqlite-log-writer.ts, when no thread can be used) runs the very same code.
 */

const INSERT = `INSERT INTO message_log (at, account, open_id, kind, msg_key, handled_by, rule, keyword, plugin, reply_type, summary, latency_ms, outcome, error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
const HIT = `INSERT INTO rule_hits (account, rule, keyword, hits) VALUES (?, ?, ?, ?)
  ON CONFLICT (account, rule, keyword) DO UPDATE SET hits = hits + excluded.hits`
// A message's follow or unfollow is applied at its first entry only: its key is new here (sqlite-schema.ts,
// follow_events). Then the user's row is upserted, in the entries' order.
const FIRST = 'INSERT INTO follow_events (msg_key, at) VALUES (?, ?) ON CONFLICT (msg_key) DO NOTHING'
// A follow: the user follows, through this scene, since this entry. first_followed_at keeps the first one.
const FOLLOW = `INSERT INTO followers (account, open_id, following, first_followed_at, followed_at, unfollowed_at, scene)
  VALUES (?, ?, 1, ?, ?, NULL, ?)
  ON CONFLICT (account, open_id) DO UPDATE SET following = 1, first_followed_at = coalesce(first_followed_at, excluded.first_followed_at),
    followed_at = excluded.followed_at, unfollowed_at = NULL, scene = excluded.scene`
// An unfollow; of a user never seen following too (they followed before the engine logged): a row without
// follow times, which a later follow completes.
const UNFOLLOW = `INSERT INTO followers (account, open_id, following, first_followed_at, followed_at, unfollowed_at, scene)
  VALUES (?, ?, 0, NULL, NULL, ?, '')
  ON CONFLICT (account, open_id) DO UPDATE SET following = 0, unfollowed_at = excluded.unfollowed_at`
/** A follow's EventKey after a parameter QR code: `qrscene_<scene>`; normalize-message.ts's QR_SCENE_PREFIX and qrSceneOf, copied: this file is plain CommonJS run by the log thread. */
const QR_SCENE_PREFIX = 'qrscene_'

/**
 * Text from users and plugins, as valid UTF-8: a lone surrogate (a plugin's error cut mid-emoji) would be
 * stored as bytes that are not UTF-8, which readers of the file other than SQLite itself refuse.
 * @param {string | undefined} s
 */
function wellFormed(s) {
  return s === undefined || s.isWellFormed() ? s : s.toWellFormed()
}

/** @param {import('better-sqlite3').Database} db */
function prepareLogBatch(db) {
  const insert = db.prepare(INSERT)
  const hitAdd = db.prepare(HIT)
  const first = db.prepare(FIRST)
  const follow = db.prepare(FOLLOW)
  const unfollow = db.prepare(UNFOLLOW)
  return db.transaction((batch) => {
    // Hits are summed per (account, rule, keyword) first: one UPSERT per distinct rule, not per message.
    const hits = new Map()
    for (const e of batch) {
      insert.run(
        e.at, e.account, e.openId, e.kind, e.msgKey, e.handledBy, e.rule ?? null, e.keyword ?? null,
        e.plugin ?? null, e.replyType ?? null, wellFormed(e.summary) ?? null, e.latencyMs, e.outcome, wellFormed(e.error) ?? null,
      )
      // Each in its turn, not summed as hits are: a user's follow and unfollow in one batch apply in order.
      // Written again (the same entries), they change nothing: their keys are known.
      if ((e.kind === 'subscribe' || e.kind === 'unsubscribe') && first.run(e.msgKey, e.at).changes === 1) {
        if (e.kind === 'unsubscribe') unfollow.run(e.account, e.openId, e.at)
        else {
          const summary = wellFormed(e.summary)
          const scene = typeof summary === 'string' && summary.startsWith(QR_SCENE_PREFIX) ? summary.slice(QR_SCENE_PREFIX.length) : ''
          follow.run(e.account, e.openId, e.at, e.at, scene)
        }
      }
      if (e.rule === undefined) continue
      // rule_hits.keyword is '' for "no keyword" (sqlite-schema.ts).
      const keyword = e.keyword ? e.keyword : ''
      const k = `${e.account}\u0000${e.rule}\u0000${keyword}`
      const h = hits.get(k)
      if (h) h.n++
      else hits.set(k, { account: e.account, rule: e.rule, keyword, n: 1 })
    }
    for (const h of hits.values()) hitAdd.run(h.account, h.rule, h.keyword, h.n)
  })
}

module.exports = { prepareLogBatch }
