/**
 * log.commitBeforeAnswer: by default a message is answered only once its log entry is durable (so after a
 * kill -9 every answered message is in the log, test/e2e/crash-safety.test.ts); false answers without waiting.
 * Durable means in the message_log table or in a journal file past its committed offset (what the next start
 * recovers), counted in process on the real files, in one read snapshot. (The kill -9 tests,
 * test/e2e/crash-safety.test.ts and test/fleet/fleet.test.ts, show it end to end, but a crash only rarely
 * lands inside the short window between a commit and an answer; this is the deterministic check.)
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { push } from '../../core/testkit/wechat-simulator.ts'
import type { UserConfig } from '../../core/config/config-types.ts'
import { startHarness } from '../support/engine-harness.ts'
import { startRedisServer } from '../support/redis-server.ts'

const RULES = { 'r.yaml': 'rules:\n  - name: hello\n    keywords: [{ exact: hello }]\n    reply: { type: text, content: Hi }\n' }

async function answerAndCount(commitBeforeAnswer: boolean, store?: UserConfig['store']): Promise<{ atAnswer: number; later: number; reply: string }> {
  const h = await startHarness({ rules: RULES, config: { log: { commitBeforeAnswer }, store } })
  try {
    const req = h.sim('plain').request(push.text('u1', 'hello'))
    // engine.handle directly: nothing between the answer and the count below can run the store's batch.
    const res = await h.runtime.engine.handle({ method: 'POST', accountId: 'plain', query: req.query, body: req.body })
    const file = path.join(h.dir, 'data', 'wxengine.db')
    const atAnswer = durableEntries(file)
    await h.runtime.store.log.flush()
    const later = durableEntries(file)
    return { atAnswer, later, reply: String(h.sim('plain').openReply(res.body).fields?.Content) }
  } finally {
    await h.close()
  }
}

/** Entries that survive a crash now: rows in the table plus whole journal lines past their committed offset. */
function durableEntries(file: string): number {
  const raw = new Database(file, { readonly: true })
  try {
    // One snapshot: a line the log thread moves into the table meanwhile is counted once, on one side.
    return raw.transaction(() => {
      let n = raw.prepare('SELECT count(*) FROM message_log').pluck().get() as number
      for (const j of raw.prepare('SELECT name, committed FROM log_journals').all() as Array<{ name: string; committed: number }>) {
        const journal = path.join(`${file}-msglog`, `${j.name}.jsonl`)
        if (!existsSync(journal)) continue
        // Whole lines only (what recovery takes), each a batch of entries.
        const rest = readFileSync(journal).subarray(j.committed).toString('utf8')
        for (const line of rest.slice(0, rest.lastIndexOf('\n') + 1).split('\n').filter(Boolean)) n += (JSON.parse(line) as unknown[]).length
      }
      return n
    })()
  } finally {
    raw.close()
  }
}

/** The reply journal's text as a crash would leave it now (the files of `<database>-replies/`). */
function replyJournalText(file: string): string {
  const dir = `${file}-replies`
  return existsSync(dir) ? readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('') : ''
}

describe('log.commitBeforeAnswer', () => {
  it('true (the default): the entry is durable when the answer is handed back', async () => {
    assert.deepEqual(await answerAndCount(true), { atAnswer: 1, later: 1, reply: 'Hi' })
  })

  it('false: the answer does not wait; the entry is written with the next batch', async () => {
    assert.deepEqual(await answerAndCount(false), { atAnswer: 0, later: 1, reply: 'Hi' })
  })

  it('a retry replayed from the reply cache waits, as the first delivery does, for the answer to be journaled', async () => {
    // Two deliveries of one message in one turn (WeChat's retry of a first one just answered): the retry got
    // the cached answer before the turn's journal write, and a kill -9 just after its answer had left lost it:
    // the retry after the restart ran the message again.
    const h = await startHarness({ rules: RULES })
    try {
      const req = h.sim('plain').request(push.text('u1', 'hello'))
      const file = path.join(h.dir, 'data', 'wxengine.db')
      const first = h.runtime.engine.handle({ method: 'POST', accountId: 'plain', query: req.query, body: req.body })
      const retry = await h.runtime.engine.handle({ method: 'POST', accountId: 'plain', query: req.query, body: req.body })
      assert.ok(replyJournalText(file).includes(retry.body), 'journaled when the retry is answered')
      assert.equal((await first).body, retry.body)
    } finally {
      await h.close()
    }
  })

  it('a message dropped (answered `success`, its only record its `dropped` entry): the entry is durable when the answer is handed back', async () => {
    // Found by a chaos review: the drop's entry was appended and `success` returned at once, with the turn's
    // journal write still to come; a kill -9 right after lost the one trace of a message WeChat will not send again.
    const h = await startHarness({ rules: RULES })
    try {
      h.runtime.store.sessions.getSync = () => {
        throw new Error('disk I/O error')
      }
      const req = h.sim('plain').request(push.text('u1', 'hello'))
      const res = await h.runtime.engine.handle({ method: 'POST', accountId: 'plain', query: req.query, body: req.body })
      assert.equal(res.body, 'success')
      assert.equal(durableEntries(path.join(h.dir, 'data', 'wxengine.db')), 1)
      const [row] = await h.runtime.store.log.query({ openId: 'u1' })
      assert.deepEqual([row?.outcome, row?.error], ['dropped', 'STORE_UNAVAILABLE: disk I/O error'])
    } finally {
      await h.close()
    }
  })

  it('with the Redis store too: the entry in the instance\'s own SQLite log is durable first', async () => {
    const redis = await startRedisServer()
    try {
      assert.deepEqual(await answerAndCount(true, { kind: 'redis', url: redis.url }), { atAnswer: 1, later: 1, reply: 'Hi' })
    } finally {
      await redis.stop()
    }
  })
})
