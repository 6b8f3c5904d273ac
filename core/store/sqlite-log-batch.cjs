'use strict'
/**
 * Writes a batch of message-log entries and their rule-hit counts in one transaction. Plain CommonJS so
 * that the log writer thread (sqlite-log-worker.cjs) runs it as is, with no TypeScript loader, and the
 * main thread (sqlite-log-writer.ts, when no thread can be used) runs the very same code.
 */

const INSERT = `INSERT INTO message_log (at, account, open_id, kind, msg_key, handled_by, rule, keyword, plugin, reply_type, summary, latency_ms, outcome, error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
const HIT = `INSERT INTO rule_hits (account, rule, keyword, hits) VALUES (?, ?, ?, ?)
  ON CONFLICT (account, rule, keyword) DO UPDATE SET hits = hits + excluded.hits`

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
  return db.transaction((batch) => {
    // Hits are summed per (account, rule, keyword) first: one UPSERT per distinct rule, not per message.
    const hits = new Map()
    for (const e of batch) {
      insert.run(
        e.at, e.account, e.openId, e.kind, e.msgKey, e.handledBy, e.rule ?? null, e.keyword ?? null,
        e.plugin ?? null, e.replyType ?? null, wellFormed(e.summary) ?? null, e.latencyMs, e.outcome, wellFormed(e.error) ?? null,
      )
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
