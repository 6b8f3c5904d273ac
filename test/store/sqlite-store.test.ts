import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { lockDataDir } from '../../core/store/data-dir-lock.ts'
import { SCHEMA_MIGRATIONS, SCHEMA_VERSION } from '../../core/store/sqlite-schema.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import { StoreOpenError } from '../../core/store/store-open-error.ts'
import type { MessageLogEntry, Store } from '../../core/store/store.ts'
import { childExited } from '../support/child-end.ts'
import { runStoreContract } from './store-contract.ts'
import { until } from '../support/until.ts'

const dir = mkdtempSync(join(tmpdir(), 'wxengine-sqlite-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const freshFile = (label: string) => join(dir, `${label}-${n++}.db`)

runStoreContract('sqlite', async ({ now }) => openSqliteStore({ file: freshFile('contract'), now }))
runStoreContract('sqlite (no session cache)', async ({ now }) =>
  openSqliteStore({ file: freshFile('nocache'), now, sessionCacheSize: 0 }),
)

const T0 = 1_700_000_000_000
const entry = (msgKey: string, over: Partial<MessageLogEntry> = {}): MessageLogEntry => ({
  at: T0,
  account: 'acct',
  openId: 'o',
  kind: 'text',
  msgKey,
  handledBy: 'rule',
  latencyMs: 1.5,
  outcome: 'replied',
  ...over,
})

/** The msgKeys in a store's journal files (what a kill -9 now would leave to recover), in order. */
function journaledKeys(file: string): string[] {
  const dir = `${file}-msglog`
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .flatMap((l) => (JSON.parse(l) as MessageLogEntry[]).map((e) => e.msgKey))
}

/** A pid that belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await once(child, 'exit')
  return child.pid!
}

/** Runs a child script of this folder (a store that kills itself with -9) and checks it died that way. */
async function runUntilKilled(script: string, ...args: string[]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, script), ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null]
  assert.equal(signal, 'SIGKILL', `${script} should die by SIGKILL (code ${code}): ${stderr}`)
}

/**
 * The next engine on `file`: it holds the data directory's lock (so it takes over what the last one left),
 * opens the store at `at`, runs `check`, and closes it.
 */
async function asNextEngine(file: string, at: number, check: (s: Store) => Promise<void>, opts: { journalAnswers?: boolean } = {}): Promise<void> {
  const lock = lockDataDir(join(file, '..'))
  try {
    const s = openSqliteStore({ file, now: () => at, ...opts })
    await check(s)
    await s.close()
  } finally {
    lock.release()
  }
}

function openRaw(file: string): Database.Database {
  return new Database(file, { readonly: true, fileMustExist: true })
}

describe('sqlite store', () => {
  it('stores text as valid UTF-8: a lone surrogate (half an emoji) becomes U+FFFD, not bytes other readers refuse', async () => {
    const file = freshFile('utf8')
    const store = openSqliteStore({ file })
    store.log.append(entry('half', { summary: `ok \ud83d`, error: `p: PLUGIN_ERROR: \ude00 cut` }))
    store.log.append(entry('whole', { summary: 'ok 😀' }))
    await store.log.flush()
    await store.close()
    const raw = openRaw(file)
    try {
      const rows = raw.prepare('SELECT msg_key, hex(summary) AS summary, iif(error IS NULL, NULL, hex(error)) AS error FROM message_log ORDER BY msg_key').all() as Array<{ msg_key: string; summary: string; error: string | null }>
      const text = (hex: string | null) => (hex === null ? null : new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(hex, 'hex')))
      assert.deepEqual(rows.map((r) => [r.msg_key, text(r.summary), text(r.error)]), [
        ['half', 'ok \ufffd', 'p: PLUGIN_ERROR: \ufffd cut'],
        ['whole', 'ok 😀', null],
      ])
    } finally {
      raw.close()
    }
  })

  it('a session whose state is not JSON (edited by hand) is no session, logged and removed: not a throw on every message of that user', async () => {
    const file = freshFile('bad-session')
    const first = openSqliteStore({ file, now: () => T0 })
    await first.sessions.put({ account: 'a', openId: 'u', plugin: 'survey', state: { step: 1 }, expiresAt: T0 + 60_000 })
    await first.close()
    const rw = new Database(file)
    rw.prepare("UPDATE sessions SET state = '{\"step\": 1' WHERE open_id = 'u'").run()
    rw.close()
    const { logger, lines } = createMemoryLogger('debug')
    const s = openSqliteStore({ file, now: () => T0, log: logger })
    try {
      assert.equal(s.sessions.getSync!('a', 'u'), null)
      const line = lines.find((l) => l.msg === 'unreadable session dropped')
      assert.deepEqual([line?.code, line?.openId, line?.plugin], ['STORE_UNAVAILABLE', 'u', 'survey'])
      assert.match(String(line?.reason), /session state is not JSON/)
      assert.equal(await s.sessions.get('a', 'u'), null)
      assert.equal(lines.filter((l) => l.msg === 'unreadable session dropped').length, 1, 'said once: the row is gone')
    } finally {
      await s.close()
    }
    const check = new Database(file, { readonly: true })
    assert.equal((check.prepare("SELECT count(*) AS n FROM sessions WHERE open_id = 'u'").get() as { n: number }).n, 0)
    check.close()
  })

  it('an outbox entry whose reply is not JSON is set aside as failed, saying why; the other pending entries are listed (it threw, and the start-up took up none)', async () => {
    const file = freshFile('bad-outbox')
    const first = openSqliteStore({ file, now: () => T0 })
    const bad = await first.outbox.record({ account: 'a', openId: 'u1', reply: { type: 'text', content: 'one' }, attempts: 0, status: 'pending', at: T0 })
    const good = await first.outbox.record({ account: 'a', openId: 'u2', reply: { type: 'text', content: 'two' }, attempts: 0, status: 'pending', at: T0 })
    await first.close()
    const rw = new Database(file)
    rw.prepare('UPDATE outbox SET reply = ? WHERE id = ?').run('{"type": "text", "cont', bad)
    rw.close()
    const { logger, lines } = createMemoryLogger('debug')
    const s = openSqliteStore({ file, now: () => T0, log: logger })
    try {
      assert.deepEqual((await s.outbox.list('pending')).map((e) => [e.id, e.openId]), [[good, 'u2']])
      const line = lines.find((l) => l.msg === 'unreadable outbox entry set aside')
      assert.deepEqual([line?.code, line?.openId, line?.outboxId], ['STORE_UNAVAILABLE', 'u1', bad])
      assert.match(String(line?.reason), new RegExp(`^outbox entry ${bad}: reply is not JSON`))
      const failed = (await s.outbox.list()).find((e) => e.id === bad)
      assert.equal(failed, undefined, 'still unreadable, so still not listed')
      assert.equal(lines.filter((l) => l.msg === 'unreadable outbox entry set aside').length, 2, 'said at each listing, as the row stays')
    } finally {
      await s.close()
    }
    const check = new Database(file, { readonly: true })
    const row = check.prepare('SELECT status, last_error FROM outbox WHERE id = ?').get(bad) as { status: string; last_error: string }
    check.close()
    assert.equal(row.status, 'failed')
    assert.match(row.last_error, /^UNREADABLE: outbox entry \d+: reply is not JSON/)
  })

  it('a session ended by another process (wxengine session end) is not served again from memory', async () => {
    const file = freshFile('ended-elsewhere')
    const now = () => T0
    const engine = openSqliteStore({ file, now })
    const cli = openSqliteStore({ file, now })
    try {
      const rec = { account: 'acct', openId: 'o', plugin: 'quiz', state: { step: 2 }, expiresAt: T0 + 60_000 }
      await engine.sessions.put(rec)
      assert.deepEqual(engine.sessions.getSync!('acct', 'o'), rec)
      assert.deepEqual(await cli.sessions.list({ limit: 10 }), [rec])
      await cli.sessions.delete('acct', 'o')
      // The engine had just read it: a cached session would have gone on serving the dialogue until it expired.
      assert.equal(engine.sessions.getSync!('acct', 'o'), null)
      assert.equal(await engine.sessions.get('acct', 'o'), null)
      // Its "no session" is remembered, and forgotten when the engine starts one again.
      await engine.sessions.put({ ...rec, state: { step: 1 } })
      assert.deepEqual(engine.sessions.getSync!('acct', 'o')?.state, { step: 1 })
    } finally {
      await cli.close()
      await engine.close()
    }
  })

  it("update writes a dialogue's state and end only while its session is there, of its plugin: one ended by another process stays ended", async () => {
    const file = freshFile('update-while-there')
    const now = () => T0
    const engine = openSqliteStore({ file, now })
    const cli = openSqliteStore({ file, now })
    try {
      const rec = { account: 'acct', openId: 'o', plugin: 'quiz', state: { step: 1 }, expiresAt: T0 + 60_000 }
      await engine.sessions.put(rec)
      assert.equal(await engine.sessions.update!({ ...rec, state: { step: 2 }, expiresAt: T0 + 90_000 }), true)
      assert.deepEqual(await cli.sessions.get('acct', 'o'), { ...rec, state: { step: 2 }, expiresAt: T0 + 90_000 })
      // Another plugin's session is not this dialogue's: left as it is.
      assert.equal(await engine.sessions.update!({ ...rec, plugin: 'survey', state: { q: 9 } }), false)
      assert.deepEqual((await cli.sessions.get('acct', 'o'))?.state, { step: 2 })
      // Ended from the other process while the plugin answered: its update makes nothing (put would make it again).
      await cli.sessions.delete('acct', 'o')
      assert.equal(await engine.sessions.update!({ ...rec, state: { step: 3 } }), false)
      assert.equal(await cli.sessions.get('acct', 'o'), null)
      assert.equal(engine.sessions.getSync!('acct', 'o'), null)
    } finally {
      await cli.close()
      await engine.close()
    }
  })

  it('keeps everything across close and reopen', async () => {
    const file = freshFile('reopen')
    const now = () => T0
    const a = openSqliteStore({ file, now })
    await a.sessions.put({ account: 'acct', openId: 'o', plugin: 'quiz', state: { step: 2 }, expiresAt: T0 + 60_000 })
    await a.dedup.claim('k', 5000)
    await a.dedup.complete('k', { status: 200, contentType: 'text/plain', body: 'success' }, 60_000)
    await a.dedup.claim('pending-k', 5000)
    await a.kv.set('ns', 'key', { deep: [1, '二'] })
    await a.kv.set('ns', 'ttl', 1, 60_000)
    await a.tokens.set('wxapp', { token: 'TOKEN', expiresAt: T0 + 7_200_000 })
    assert.ok(await a.tokens.lock('wxapp', 60_000))
    a.log.append(entry('m1', { rule: 'r', keyword: 'kw' }))
    a.log.append(entry('m2', { at: T0 + 1 }))
    const id = await a.outbox.record({ account: 'acct', openId: 'o', reply: { type: 'text' }, attempts: 0, status: 'pending', at: T0 })
    await a.close()

    const b = openSqliteStore({ file, now })
    assert.deepEqual(await b.sessions.get('acct', 'o'), { account: 'acct', openId: 'o', plugin: 'quiz', state: { step: 2 }, expiresAt: T0 + 60_000 })
    assert.deepEqual(await b.dedup.peek('k'), { state: 'done', reply: { status: 200, contentType: 'text/plain', body: 'success' } })
    // Claims in flight live in the process that made them: after a restart the message may run again
    // (as after a lapsed claim), but a completed reply is still replayed.
    assert.deepEqual(await b.dedup.claim('pending-k', 5000), { state: 'claimed' })
    assert.deepEqual(await b.kv.get('ns', 'key'), { deep: [1, '二'] })
    assert.equal(await b.kv.get('ns', 'ttl'), 1)
    assert.deepEqual(await b.tokens.get('wxapp'), { token: 'TOKEN', expiresAt: T0 + 7_200_000 })
    assert.equal(await b.tokens.lock('wxapp', 60_000), null, 'the lock is in the file too')
    assert.deepEqual(
      (await b.log.query({})).map((e) => e.msgKey),
      ['m2', 'm1'],
    )
    assert.deepEqual(await b.log.hits(), [{ account: 'acct', rule: 'r', keyword: 'kw', hits: 1 }])
    assert.deepEqual(await b.outbox.list(), [{ id, account: 'acct', openId: 'o', reply: { type: 'text' }, attempts: 0, status: 'pending', at: T0 }])
    await b.close()
  })

  it('writes the log buffer without an explicit flush; log.committed() (which the answer waits for) waits until it is journaled', async () => {
    const file = freshFile('tick')
    const s = openSqliteStore({ file, now: () => T0 })
    s.log.append(entry('a', { rule: 'r' }))
    s.log.append(entry('b', { rule: 'r' }))
    assert.deepEqual(journaledKeys(file), [], 'append itself does not write')
    // The engine appends a message's entry, then waits for committed(), then answers: by then the entries
    // are in the journal file (they survive a kill -9), whether or not the thread has them in the table yet.
    await s.log.committed()
    assert.deepEqual(journaledKeys(file), ['a', 'b'])
    await s.log.flush()
    const raw = openRaw(file)
    assert.equal(raw.prepare('SELECT count(*) FROM message_log').pluck().get(), 2)
    assert.equal(raw.prepare("SELECT hits FROM rule_hits WHERE rule = 'r'").pluck().get(), 2, 'hits are written in the same batch')
    raw.close()
    await s.close()
    assert.deepEqual(readdirSync(`${file}-msglog`), [], 'a closed store retires its journal')
  })

  it('hands a burst that reaches the batch size to the writer thread at once', async () => {
    const file = freshFile('burst')
    const s = openSqliteStore({ file, now: () => T0 })
    const raw = openRaw(file)
    for (let i = 0; i < 500; i++) s.log.append(entry(`m${i}`))
    // No await: the main thread never yields here, so rows that appear were written by the other thread,
    // from a batch handed over before the event-loop turn ended.
    const deadline = Date.now() + 10_000
    let n = 0
    while (Date.now() < deadline && (n = (raw.prepare('SELECT count(*) AS c FROM message_log').get() as { c: number }).c) < 500) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
    }
    assert.equal(n, 500)
    raw.close()
    await s.close()
  })

  it('a few entries a turn reach the table on their own, the thread told at most every few ms', async () => {
    const file = freshFile('trickle')
    const s = openSqliteStore({ file, now: () => T0 })
    const raw = openRaw(file)
    for (let turn = 0; turn < 5; turn++) {
      s.log.append(entry(`t${turn}a`))
      s.log.append(entry(`t${turn}b`))
      await s.log.committed()
    }
    // No flush(): the thread hears of the journal's growth from a timer, not from a request for the table.
    const deadline = Date.now() + 5_000
    let n = 0
    while (Date.now() < deadline && (n = raw.prepare('SELECT count(*) FROM message_log').pluck().get() as number) < 10) {
      await new Promise((r) => setTimeout(r, 5))
    }
    assert.equal(n, 10)
    raw.close()
    await s.close()
  })

  it('entries the table cannot take yet stay in the journal, are logged, and go in with the next batch', async () => {
    const file = freshFile('failing')
    const { logger, lines } = createMemoryLogger('debug')
    const s = openSqliteStore({ file, now: () => T0, log: logger })
    const rw = new Database(file)
    // Every insert into the log fails until the trigger is dropped (a full disk, say).
    rw.exec("CREATE TRIGGER refuse BEFORE INSERT ON message_log BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    s.log.append(entry('first'))
    await s.log.committed() // journaled: the answer does not wait on the table
    await assert.rejects(s.log.flush(), /not yet in the table: disk says no/)
    const failed = lines.find((l) => l.msg === 'message log not written to the table yet; its entries stay in the journal and are retried')
    assert.ok(failed, JSON.stringify(lines))
    assert.equal(failed.code, 'STORE_UNAVAILABLE')
    assert.match(String(failed.reason), /disk says no/)
    assert.deepEqual(journaledKeys(file), ['first'])
    rw.exec('DROP TRIGGER refuse')
    s.log.append(entry('second'))
    await s.log.flush()
    assert.deepEqual(rw.prepare('SELECT msg_key FROM message_log ORDER BY id').pluck().all(), ['first', 'second'])
    rw.close()
    await s.close()
  })

  it('an entry SQLite refuses as malformed is skipped with the reason; the others are written', async () => {
    const file = freshFile('malformed')
    const { logger, lines } = createMemoryLogger('debug')
    const s = openSqliteStore({ file, now: () => T0, log: logger })
    // outcome is NOT NULL: a bug that produced this entry must not block the journal behind it forever.
    s.log.append(entry('ok-1'))
    s.log.append({ ...entry('bad'), outcome: null as never })
    s.log.append(entry('ok-2'))
    await s.log.flush()
    assert.deepEqual((await s.log.query({ account: 'acct' })).map((e) => e.msgKey), ['ok-2', 'ok-1'])
    const skipped = lines.find((l) => l.msg === 'message log entry cannot be written; skipped')
    assert.ok(skipped, JSON.stringify(lines))
    assert.match(String(skipped.reason), /^bad: NOT NULL constraint failed: message_log\.outcome/)
    await s.close()
  })

  it('recovers a journal left by a process that died: its entries past the committed offset, whole lines only', async () => {
    const file = freshFile('recover')
    const first = openSqliteStore({ file, now: () => T0 })
    await first.close() // creates the file and its schema
    // What a crashed writer leaves: its row (committed up to the first line) and its file, the last line cut.
    const dead = await deadPid()
    const rw = new Database(file)
    rw.prepare('INSERT INTO log_journals (name, pid, committed) VALUES (?, ?, ?)').run(`${dead}-x`, dead, 0)
    const line = (...ks: string[]) => `${JSON.stringify(ks.map((k) => entry(k, { rule: 'r' })))}\n`
    const body = line('in-table-already') + line('lost-1', 'lost-2') + line('half').slice(0, 20)
    mkdirSync(`${file}-msglog`, { recursive: true })
    writeFileSync(join(`${file}-msglog`, `${dead}-x.jsonl`), body)
    rw.prepare('UPDATE log_journals SET committed = ? WHERE name = ?').run(Buffer.byteLength(line('in-table-already')), `${dead}-x`)
    // A file no row names (its retirement was interrupted between the row and the file) is removed.
    writeFileSync(join(`${file}-msglog`, 'orphan.jsonl'), line('orphan'))
    // A journal whose writer is alive (this test process, as another pid would be) is left alone.
    rw.prepare('INSERT INTO log_journals (name, pid, committed) VALUES (?, ?, 0)').run('live-y', process.ppid)
    writeFileSync(join(`${file}-msglog`, 'live-y.jsonl'), line('live'))
    rw.close()

    const { logger, lines } = createMemoryLogger('debug')
    const s = openSqliteStore({ file, now: () => T0, log: logger })
    assert.deepEqual((await s.log.query({ account: 'acct' })).map((e) => e.msgKey).sort(), ['lost-1', 'lost-2'])
    assert.deepEqual(await s.log.hits('acct'), [{ account: 'acct', rule: 'r', keyword: null, hits: 2 }])
    const recovered = lines.find((l) => l.msg === 'message log recovered from journals left by a stopped process')
    assert.deepEqual([recovered?.journals, recovered?.entries], [1, 2], JSON.stringify(lines))
    assert.deepEqual(readdirSync(`${file}-msglog`).sort(), ['live-y.jsonl'])
    const raw = openRaw(file)
    assert.deepEqual(raw.prepare('SELECT name FROM log_journals').pluck().all(), ['live-y'])
    raw.close()
    await s.close()
  })

  it('without the lock, a journal whose pid a later, unrelated process was given is recovered; one whose live writer started before it is not', { skip: !existsSync('/proc/self/stat') && 'the start of a process is read from /proc' }, async () => {
    const file = freshFile('recover-reused-pid')
    const first = openSqliteStore({ file, now: () => T0 })
    await first.close()
    // An engine that crashed 10 minutes after making its journal; its pid now names this process, started since.
    const stranger = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' })
    const strangerExited = childExited(stranger)
    try {
      await once(stranger, 'spawn')
      const crashed = `${stranger.pid}-${(Date.now() - 10 * 60_000).toString(36)}-a1b2c3`
      // A writer alive now that made its journal after it started (the test runner stands in for it).
      const writing = `${process.ppid}-${Date.now().toString(36)}-d4e5f6`
      const rw = new Database(file)
      rw.prepare('INSERT INTO log_journals (name, pid, committed) VALUES (?, ?, 0)').run(crashed, stranger.pid)
      rw.prepare('INSERT INTO log_journals (name, pid, committed) VALUES (?, ?, 0)').run(writing, process.ppid)
      rw.close()
      mkdirSync(`${file}-msglog`, { recursive: true })
      writeFileSync(join(`${file}-msglog`, `${crashed}.jsonl`), `${JSON.stringify([entry('answered-before-the-crash')])}\n`)
      writeFileSync(join(`${file}-msglog`, `${writing}.jsonl`), `${JSON.stringify([entry('being-written')])}\n`)
      // As `wxengine log` opens it: without the lock, which nothing holds.
      const reader = openSqliteStore({ file, now: () => T0 })
      assert.deepEqual((await reader.log.query({ account: 'acct' })).map((e) => e.msgKey), ['answered-before-the-crash'])
      await reader.close()
      assert.deepEqual(readdirSync(`${file}-msglog`), [`${writing}.jsonl`])
    } finally {
      stranger.kill()
      await strangerExited
    }
  })

  it("holding the data directory's lock, a journal whose pid still exists (a crashed engine not yet reaped, a reused pid) is recovered at once", async () => {
    const file = freshFile('recover-lock')
    const first = openSqliteStore({ file, now: () => T0 })
    await first.close()
    // An engine killed with -9 whose parent has not reaped it: its pid exists. Another process stands in for it.
    const rw = new Database(file)
    rw.prepare('INSERT INTO log_journals (name, pid, committed) VALUES (?, ?, 0)').run('zombie-z', process.ppid)
    rw.close()
    mkdirSync(`${file}-msglog`, { recursive: true })
    writeFileSync(join(`${file}-msglog`, 'zombie-z.jsonl'), `${JSON.stringify([entry('answered-before-the-crash')])}\n`)
    // Without the lock (`wxengine log` beside an engine) it is left for its writer; the engine holds the lock.
    const reader = openSqliteStore({ file, now: () => T0 })
    assert.deepEqual(await reader.log.query({ account: 'acct' }), [])
    await reader.close()
    const lock = lockDataDir(join(file, '..'))
    try {
      const engine = openSqliteStore({ file, now: () => T0 })
      assert.deepEqual((await engine.log.query({ account: 'acct' })).map((e) => e.msgKey), ['answered-before-the-crash'])
      assert.deepEqual(readdirSync(`${file}-msglog`), [])
      await engine.close()
    } finally {
      lock.release()
    }
  })

  it("without the lock, a journal is left alone while another process holds the directory, even when its pid means nothing here (an engine in another PID namespace)", async () => {
    const file = freshFile('recover-other-ns')
    const first = openSqliteStore({ file, now: () => T0 })
    await first.close()
    // The engine serves from a container: the pid in its journal's row is its pid there, which no process
    // has here (`wxengine log` run from the host or another container on the same volume).
    const elsewhere = await deadPid()
    const rw = new Database(file)
    rw.prepare('INSERT INTO log_journals (name, pid, committed) VALUES (?, ?, 0)').run(`${elsewhere}-ns`, elsewhere)
    rw.close()
    mkdirSync(`${file}-msglog`, { recursive: true })
    writeFileSync(join(`${file}-msglog`, `${elsewhere}-ns.jsonl`), `${JSON.stringify([entry('being-written')])}\n`)
    const holder = fork(join(import.meta.dirname, 'data-dir-holder-child.ts'), [join(file, '..')], { execArgv: ['--import', 'tsx'], stdio: 'ignore' })
    const holderExited = childExited(holder)
    try {
      assert.equal((await once(holder, 'message'))[0], 'held')
      const reader = openSqliteStore({ file, now: () => T0 })
      assert.deepEqual(await reader.log.query({ account: 'acct' }), [])
      await reader.close()
      assert.deepEqual(readdirSync(`${file}-msglog`), [`${elsewhere}-ns.jsonl`], 'the live engine keeps writing its journal')
    } finally {
      holder.disconnect()
      await holderExited
    }
    // Once nothing holds the directory, the journal is a dead engine's: the next reader recovers it.
    const next = openSqliteStore({ file, now: () => T0 })
    assert.deepEqual((await next.log.query({ account: 'acct' })).map((e) => e.msgKey), ['being-written'])
    await next.close()
    assert.deepEqual(readdirSync(`${file}-msglog`), [])
  })

  it('a journal with corrupted entries (null, a value SQLite cannot bind) is recovered without them, once', async () => {
    const file = freshFile('recover-corrupt')
    const first = openSqliteStore({ file, now: () => T0 })
    await first.close()
    const dead = await deadPid()
    const rw = new Database(file)
    rw.prepare('INSERT INTO log_journals (name, pid, committed) VALUES (?, ?, 0)').run(`${dead}-c`, dead)
    rw.close()
    const good = (k: string) => entry(k)
    const body = [[good('before'), null], [{ ...good('object-latency'), latencyMs: { ms: 3 } }, good('after')], [7]].map((b) => `${JSON.stringify(b)}\n`).join('')
    mkdirSync(`${file}-msglog`, { recursive: true })
    writeFileSync(join(`${file}-msglog`, `${dead}-c.jsonl`), body)

    const { logger, lines } = createMemoryLogger('debug')
    const s = openSqliteStore({ file, now: () => T0, log: logger })
    assert.deepEqual((await s.log.query({ account: 'acct' })).map((e) => e.msgKey).sort(), ['after', 'before'], JSON.stringify(lines))
    assert.deepEqual(readdirSync(`${file}-msglog`), [], 'the journal is retired, not tried again at every start')
    assert.ok(lines.some((l) => /skipped/i.test(JSON.stringify(l))), JSON.stringify(lines))
    await s.close()
    const again = openSqliteStore({ file, now: () => T0 })
    assert.deepEqual((await again.log.query({ account: 'acct' })).map((e) => e.msgKey).sort(), ['after', 'before'], 'nothing twice')
    await again.close()
  })

  it('journals rotate past their size limit; every entry is kept and the old files are retired', async () => {
    const file = freshFile('rotate')
    const s = openSqliteStore({ file, now: () => T0, journalRotateBytes: 600 })
    for (let turn = 0; turn < 20; turn++) {
      s.log.append(entry(`t${turn}-a`))
      s.log.append(entry(`t${turn}-b`))
      await s.log.committed()
      if (turn % 5 === 4) {
        await s.log.flush()
        // Only the journal being written is left: each complete one was retired once in the table.
        assert.equal(readdirSync(`${file}-msglog`).length, 1, readdirSync(`${file}-msglog`).join(', '))
      }
    }
    await s.log.flush()
    assert.equal((await s.log.query({ account: 'acct', limit: 100 })).length, 40)
    await s.close()
    assert.deepEqual(readdirSync(`${file}-msglog`), [])
  })

  it('a journal that cannot be written: answers do not wait, the backlog is tried again once a second (not every turn), one line per 10 s; all written when it can be', async () => {
    const file = freshFile('unjournaled')
    // A file where the journal directory goes: every journal write fails (as on a full or read-only disk).
    writeFileSync(`${file}-msglog`, '')
    let t = T0
    const { logger, lines } = createMemoryLogger('debug')
    const s = openSqliteStore({ file, now: () => t, log: logger })
    const failures = () => lines.filter((l) => l.msg === 'message log write failed')
    for (let turn = 0; turn < 50; turn++) {
      s.log.append(entry(`k${turn}`))
      await s.log.committed() // released though not durable: a reply must not wait on the disk
      t += 10
    }
    assert.equal(failures().length, 1, 'one line, not one per turn')
    assert.equal(failures()[0].code, 'STORE_UNAVAILABLE')
    assert.match(String(failures()[0].reason), /EEXIST|ENOTDIR/)
    // The disk is back; the backlog waits for its next try (a second after the last), not for every turn.
    rmSync(`${file}-msglog`)
    s.log.append(entry('k50'))
    await s.log.committed()
    assert.deepEqual(journaledKeys(file), [], 'retried before a second had passed')
    t += 1_000
    s.log.append(entry('k51'))
    await s.log.committed()
    assert.deepEqual(journaledKeys(file), Array.from({ length: 52 }, (_, i) => `k${i}`))
    assert.equal(lines.filter((l) => l.msg === 'message log written again; its backlog is journaled').length, 1)
    await s.close()
  })

  it('a backlog left by a failed journal write is tried again on its own: with no more traffic it stayed in memory, and /healthz degraded, until the next message', async () => {
    const file = freshFile('unjournaled-quiet')
    writeFileSync(`${file}-msglog`, '')
    const { logger, lines } = createMemoryLogger('debug')
    const s = openSqliteStore({ file, log: logger })
    try {
      s.log.append(entry('q1'))
      await s.log.committed()
      assert.equal(s.log.health().writable, false)
      // Space is back, and nobody writes to the engine any more.
      rmSync(`${file}-msglog`)
      const until = Date.now() + 5_000
      while (journaledKeys(file).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
      assert.deepEqual(journaledKeys(file), ['q1'])
      assert.deepEqual(s.log.health(), { writable: true, backlog: 0, dropped: 0 })
      assert.equal(lines.filter((l) => l.msg === 'message log written again; its backlog is journaled').length, 1)
    } finally {
      await s.close()
    }
  })

  it('a failing journal is tried at once by flush() and close(); the first failure is said at once, the rest of its window in one line with their count', async () => {
    const file = freshFile('unjournaled-flush')
    writeFileSync(`${file}-msglog`, '')
    const { logger, lines } = createMemoryLogger('debug')
    const s = openSqliteStore({ file, now: () => T0, log: logger, failureLineWindowMs: 150 })
    const said = () => lines.filter((l) => String(l.msg).endsWith('message log write failed')).map((l) => [l.level, l.code, String(l.reason ?? l.lastReason).replace(/.*(EEXIST|ENOTDIR).*/, '$1'), l.held ?? null])
    s.log.append(entry('a'))
    await assert.rejects(s.log.flush(), /1 entries not written/)
    await assert.rejects(s.log.flush(), /1 entries not written/)
    await assert.rejects(s.log.flush(), /1 entries not written/)
    assert.equal(said().length, 1, 'the first at once, the rest held')
    await new Promise((r) => setTimeout(r, 300))
    assert.deepEqual(said().map((l) => l[3]), [null, 2], 'the count said at the window\'s end')
    s.log.append(entry('b'))
    await assert.rejects(s.log.flush(), /2 entries not written/)
    assert.equal(said().length, 3, 'a new window: said in full again')
    assert.equal(said()[2]![3], null)
    assert.ok(said().every(([level, code, reason]) => level === 50 && code === 'STORE_UNAVAILABLE' && /^(EEXIST|ENOTDIR)$/.test(reason as string)), JSON.stringify(said()))
    assert.ok(lines.every((l) => !('suppressed' in l)))
    rmSync(`${file}-msglog`)
    s.log.append(entry('c'))
    await s.close()
    const again = lines.filter((l) => l.msg === 'message log written again; its backlog is journaled')
    assert.equal(again.length, 1)
    assert.ok(Number(again[0]!.failedTries) >= 4, JSON.stringify(again)) // 4, and any try of the retry timer (1 s)
    const db = openRaw(file)
    assert.deepEqual(db.prepare('SELECT msg_key FROM message_log ORDER BY id').pluck().all(), ['a', 'b', 'c'])
    db.close()
  })

  it('entries dropped from a full backlog are said with the next failure line written (a window later), and counted in health() until then', async () => {
    const file = freshFile('unjournaled-full')
    writeFileSync(`${file}-msglog`, '')
    const { logger, lines } = createMemoryLogger('debug')
    const s = openSqliteStore({ file, now: () => T0, log: logger, failureLineWindowMs: 100 })
    // Past the backlog's cap (50,000 entries) by a batch or more: the oldest are dropped.
    for (let i = 0; i < 51_000; i++) s.log.append(entry(`k${i}`))
    await assert.rejects(s.log.flush(), /entries not written/)
    const droppedSoFar = s.log.health().dropped
    assert.ok(droppedSoFar >= 500, String(droppedSoFar))
    await assert.rejects(s.log.flush())
    assert.equal(lines.filter((l) => l.msg === 'message log entries dropped').length, 0, 'held with its failure line')
    await new Promise((r) => setTimeout(r, 200))
    await assert.rejects(s.log.flush())
    const dropped = lines.filter((l) => l.msg === 'message log entries dropped')
    assert.deepEqual(dropped.map((l) => [l.level, l.code, l.dropped]), [[50, 'STORE_UNAVAILABLE', droppedSoFar]], JSON.stringify(lines.slice(-5)))
    assert.equal(s.log.health().dropped, 0)
    await s.close()
  })

  it('close writes the buffer; close twice is safe; append after close is ignored', async () => {
    const file = freshFile('closeflush')
    const s = openSqliteStore({ file, now: () => T0 })
    s.log.append(entry('late-1'))
    await s.close()
    await s.close()
    s.log.append(entry('after-close'))
    const raw = openRaw(file)
    assert.deepEqual(raw.prepare('SELECT msg_key FROM message_log').pluck().all(), ['late-1'])
    raw.close()
  })

  it('kill -9 loses only the log entries not yet durable (journaled ones are recovered, once)', async () => {
    const file = freshFile('kill9')
    await runUntilKilled('sqlite-crash-child.ts', file, String(T0))
    assert.ok(existsSync(`${file}-wal`), 'the WAL was left behind, as after a real crash')

    // The next engine holds the data directory's lock: only then are the dead process's answers its own.
    const lock = lockDataDir(join(file, '..'))
    const s = openSqliteStore({ file, now: () => T0 })
    assert.equal((await s.sessions.get('acct', 'o'))?.plugin, 'quiz')
    assert.equal(await s.kv.get('plugin:quiz', 'score:o'), 42)
    // The reply cache's answers are journaled: a WeChat retry after the crash gets the same bytes.
    assert.deepEqual(await s.dedup.peek('msg-1'), { state: 'done', reply: { status: 200, contentType: 'application/xml', body: '<xml/>' } })
    assert.deepEqual(
      (await s.log.query({ account: 'acct' })).map((e) => e.msgKey).sort(),
      ['durable-1', 'durable-2', 'flushed-1', 'flushed-2'],
    )
    assert.deepEqual(await s.log.hits('acct'), [{ account: 'acct', rule: 'r', keyword: null, hits: 4 }])
    await s.close()
    lock.release()
  })

  it('kill -9: answers still in their window come back from every journal, rotated ones included; expired ones do not', async () => {
    const file = freshFile('kill9-answers')
    await runUntilKilled('sqlite-answers-crash-child.ts', file, String(T0))
    const left = readdirSync(`${file}-replies`)
    assert.ok(left.length > 2, `several reply journal files were left: ${left.join(', ')}`)

    // The next engine (it holds the data directory's lock), 10 s later.
    const lock = lockDataDir(join(file, '..'))
    try {
      const s = openSqliteStore({ file, now: () => T0 + 10_000 })
      for (let i = 0; i < 30; i++) {
        const key = `acct:o:${i}`
        const seen = await s.dedup.peek(key)
        if (i % 3 === 0) assert.deepEqual(seen, { state: 'absent' }, key)
        else assert.deepEqual(seen, { state: 'done', reply: { status: 200, contentType: 'application/xml; charset=utf-8', body: `<xml><Content><![CDATA[${key}]]></Content></xml>` } }, key)
      }
      // Read once: the files it found are gone, and what they held is journaled again by this store.
      await s.log.committed()
      const now = readdirSync(`${file}-replies`)
      assert.deepEqual(now.filter((f) => left.includes(f)), [], now.join(', '))
      assert.equal(now.length, 1, 'the recovered answers journaled again')
      await s.close()
      assert.deepEqual(readdirSync(`${file}-replies`), [], 'a clean close saves the cache and leaves no reply journal')
      const again = openSqliteStore({ file, now: () => T0 + 10_000 })
      assert.equal((await again.dedup.peek('acct:o:1')).state, 'done', 'saved at the clean close')
      await again.close()
    } finally {
      lock.release()
    }
  })

  it('a reply journal file is closed past its size and removed once the last of its answers has expired', async () => {
    const file = freshFile('kept')
    const s = openSqliteStore({ file, replyJournalRotateBytes: 200 })
    const reply = { status: 200, contentType: 'application/xml; charset=utf-8', body: '<xml>kept</xml>' }
    for (let i = 0; i < 12; i++) {
      await s.dedup.claim(`k${i}`, 5000)
      await s.dedup.complete(`k${i}`, reply, 400)
      await s.log.committed()
    }
    await s.log.flush()
    const files = () => readdirSync(`${file}-replies`)
    assert.ok(files().length > 2, `closed files kept for their answers: ${files().join(', ')}`)
    // The one being written stays until the next write (which starts a new one: its first answer expired).
    await until('closed files removed once their answers expired', () => files().length === 1, 3000)
    await s.close()
    assert.deepEqual(files(), [])
  })

  it('journalAnswers false (the message log off): no reply reaches the journal', async () => {
    const file = freshFile('no-answers')
    const s = openSqliteStore({ file, journalAnswers: false })
    await s.dedup.claim('k', 5000)
    await s.dedup.complete('k', { status: 200, contentType: 'application/xml', body: '<xml>secret</xml>' }, 60_000)
    s.log.append(entry('logged'))
    await s.log.committed()
    const text = readdirSync(`${file}-msglog`).map((f) => readFileSync(join(`${file}-msglog`, f), 'utf8')).join('')
    assert.match(text, /logged/)
    assert.doesNotMatch(text, /secret/)
    assert.equal(existsSync(`${file}-replies`), false)
    await s.close()
  })

  it('journalAnswers false after a crash with it on: the answers left are still served, and their files removed (nothing else would)', async () => {
    const file = freshFile('off-after-crash')
    await runUntilKilled('sqlite-answers-crash-child.ts', file, String(T0))
    assert.ok(readdirSync(`${file}-replies`).length > 0)
    await asNextEngine(
      file,
      T0 + 10_000,
      async (s) => {
        assert.equal((await s.dedup.peek('acct:o:1')).state, 'done')
        assert.deepEqual(readdirSync(`${file}-replies`), [], 'the files left are removed, and none is started')
      },
      { journalAnswers: false },
    )
  })

  it('a second kill -9 soon after the first: answers recovered from the first are still there', async () => {
    const file = freshFile('kill9-twice')
    await runUntilKilled('sqlite-answers-crash-child.ts', file, String(T0))
    // The engine that recovers them dies too, before saving anything at a close.
    await runUntilKilled('sqlite-answers-crash-child.ts', file, String(T0 + 5_000), 'reopen')
    await asNextEngine(file, T0 + 10_000, async (s) => {
      assert.equal((await s.dedup.peek('acct:o:29')).state, 'done')
      assert.equal((await s.dedup.peek('acct:o:1')).state, 'done')
    })
  })

  it('a kill -9 right after the open, before a turn: the answers recovered from an earlier crash are still there', async () => {
    const file = freshFile('kill9-at-open')
    await runUntilKilled('sqlite-answers-crash-child.ts', file, String(T0))
    await runUntilKilled('sqlite-answers-crash-child.ts', file, String(T0 + 5_000), 'open-and-die')
    await asNextEngine(file, T0 + 10_000, async (s) => {
      assert.equal((await s.dedup.peek('acct:o:1')).state, 'done')
      assert.equal((await s.dedup.peek('acct:o:29')).state, 'done')
    })
  })

  it('a kill -9 soon after a clean restart: the replies saved at the clean close are still there', async () => {
    const file = freshFile('kill9-after-restart')
    const reply = { status: 200, contentType: 'application/xml', body: '<xml>saved</xml>' }
    await asNextEngine(file, T0, async (s) => {
      await s.dedup.claim('saved', 5000)
      await s.dedup.complete('saved', reply, 60_000)
    })
    // The engine started by the deploy takes them over, and dies.
    await runUntilKilled('sqlite-answers-crash-child.ts', file, String(T0 + 5_000), 'reopen')
    await asNextEngine(file, T0 + 10_000, async (s) => assert.deepEqual(await s.dedup.peek('saved'), { state: 'done', reply }))
  })

  it('a store opened beside the engine (`wxengine log`: no lock) leaves the replies saved at a clean close to the engine that starts', async () => {
    const file = freshFile('reader-beside')
    const reply = { status: 200, contentType: 'application/xml', body: '<xml>saved</xml>' }
    await asNextEngine(file, T0, async (s) => {
      await s.dedup.claim('saved', 5000)
      await s.dedup.complete('saved', reply, 60_000)
    })
    // A deploy: `wxengine stats` run between the stop and the start, still open when the new engine opens.
    const reader = openSqliteStore({ file, now: () => T0 + 1_000 })
    const replies = `${file}-replies`
    assert.deepEqual(existsSync(replies) ? readdirSync(replies) : [], [], 'the reader journals no replies')
    await asNextEngine(file, T0 + 2_000, async (s) => {
      await reader.close()
      assert.deepEqual(await s.dedup.peek('saved'), { state: 'done', reply })
    })
  })

  it('dropping expired replies from the front of the reply cache keeps every live one (hundreds of claims)', async () => {
    let t = T0
    const s = openSqliteStore({ file: freshFile('prune'), now: () => t })
    const reply = (k: string) => ({ status: 200, contentType: 'application/xml', body: `<xml>${k}</xml>` })
    for (let i = 0; i < 100; i++) {
      assert.equal((await s.dedup.claim(`old-${i}`, 5000)).state, 'claimed')
      await s.dedup.complete(`old-${i}`, reply(`old-${i}`), 1000)
    }
    t = T0 + 500
    for (let i = 0; i < 300; i++) {
      await s.dedup.claim(`new-${i}`, 5000)
      await s.dedup.complete(`new-${i}`, reply(`new-${i}`), 1000)
    }
    // Past the old ones' window, inside the new ones': enough claims to prune several times over.
    t = T0 + 1200
    for (let i = 0; i < 600; i++) assert.equal((await s.dedup.claim(`later-${i}`, 5000)).state, 'claimed')
    for (let i = 0; i < 300; i++) assert.deepEqual(await s.dedup.peek(`new-${i}`), { state: 'done', reply: reply(`new-${i}`) })
    for (let i = 0; i < 600; i++) assert.deepEqual(await s.dedup.peek(`later-${i}`), { state: 'pending' })
    assert.deepEqual(await s.dedup.peek('old-7'), { state: 'absent' })
    assert.equal((await s.dedup.claim('old-7', 5000)).state, 'claimed', 'an expired reply no longer holds its message')
    await s.close()
  })

  it('a key released and claimed again keeps its reply for its own window while the front is pruned', async () => {
    let t = T0
    const s = openSqliteStore({ file: freshFile('reclaim'), now: () => t })
    const reply = { status: 200, contentType: 'application/xml', body: '<xml>again</xml>' }
    assert.equal((await s.dedup.claim('k', 5000)).state, 'claimed')
    await s.dedup.release('k')
    t = T0 + 100
    assert.equal((await s.dedup.claim('k', 5000)).state, 'claimed')
    await s.dedup.complete('k', reply, 1000)
    t = T0 + 1000 // inside k's window (it ends at T0 + 1100): claims enough to prune several times
    for (let i = 0; i < 600; i++) await s.dedup.claim(`other-${i}`, 50)
    assert.deepEqual(await s.dedup.peek('k'), { state: 'done', reply })
    t = T0 + 1200
    for (let i = 0; i < 600; i++) await s.dedup.claim(`more-${i}`, 5000)
    assert.deepEqual(await s.dedup.peek('k'), { state: 'absent' })
    assert.deepEqual(await s.dedup.peek('other-3'), { state: 'absent' }, 'the short pending claims behind it lapsed too')
    await s.close()
  })

  it('two stores on one file share locks (dedup is per process: one engine owns the file)', async () => {
    const file = freshFile('shared')
    const a = openSqliteStore({ file, now: () => T0 })
    const b = openSqliteStore({ file, now: () => T0 })
    assert.ok(await b.tokens.lock('app', 5000))
    assert.equal(await a.tokens.lock('app', 5000), null)
    await a.close()
    await b.close()
  })

  it('deletes expired rows in the background sweep', async () => {
    const file = freshFile('sweep')
    let t = T0
    const s = openSqliteStore({ file, now: () => t, sweepIntervalMs: 2 })
    await s.sessions.put({ account: 'a', openId: 'o', plugin: 'p', state: null, expiresAt: T0 + 10 })
    await s.sessions.put({ account: 'a', openId: 'live', plugin: 'p', state: null, expiresAt: T0 + 1_000_000 })
    await s.kv.set('ns', 'temp', 1, 10)
    await s.kv.set('ns', 'kept', 1)
    await s.tokens.set('app', { token: 'T', expiresAt: T0 + 10 })
    const raw = openRaw(file)
    const rows = () =>
      (['sessions', 'kv', 'tokens'] as const).map((tbl) => (raw.prepare(`SELECT count(*) AS c FROM ${tbl}`).get() as { c: number }).c)
    assert.deepEqual(rows(), [2, 2, 1])
    t = T0 + 10
    const deadline = Date.now() + 3000
    while (rows().join() !== '1,1,0') {
      assert.ok(Date.now() < deadline, `sweep did not run: ${rows().join()}`)
      await new Promise((r) => setTimeout(r, 2))
    }
    raw.close()
    await s.close()
  })

  it('creates the data directory', async () => {
    const file = join(dir, 'nested', 'deeper', 'wxengine.db')
    const s = openSqliteStore({ file })
    assert.equal(await s.healthy(), true)
    await s.close()
    assert.ok(existsSync(file))
  })

  it('sets WAL, synchronous NORMAL and the schema version', async () => {
    const file = freshFile('pragmas')
    const s = openSqliteStore({ file })
    await s.close()
    const raw = new Database(file)
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal')
    assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION)
    raw.close()
  })

  it('upgrades a version 2 file: the per-user message-log index is dropped, queries by user still answer', async () => {
    const file = freshFile('v2')
    // The file as version 2 wrote it: its first two migrations (a current file set back to 2 would hold the
    // later ones' tables, and their migration would fail on them).
    const raw = new Database(file)
    for (const m of SCHEMA_MIGRATIONS.slice(0, 2)) raw.exec(m)
    raw.pragma('user_version = 2')
    raw.close()
    const upgraded = openSqliteStore({ file })
    upgraded.log.append({ at: 1000, account: 'a', openId: 'o-1', kind: 'text', msgKey: 'k1', handledBy: 'rule', latencyMs: 1, outcome: 'replied' })
    upgraded.log.append({ at: 2000, account: 'a', openId: 'o-2', kind: 'text', msgKey: 'k2', handledBy: 'rule', latencyMs: 1, outcome: 'replied' })
    const rows = await upgraded.log.query({ account: 'a', openId: 'o-1', limit: 10 })
    assert.deepEqual(rows.map((r) => r.msgKey), ['k1'])
    await upgraded.close()
    const after = new Database(file)
    assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION)
    const indexes = (after.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'message_log'").all() as Array<{ name: string }>).map((r) => r.name)
    assert.deepEqual(indexes, ['message_log_at'])
    after.close()
  })

  describe('a file that is not a usable database gives an error naming the file', () => {
    const expectOpenError = (file: string, reason: RegExp) =>
      assert.throws(
        () => openSqliteStore({ file }),
        (e: unknown) => {
          assert.ok(e instanceof StoreOpenError)
          assert.equal(e.code, 'STORE_UNAVAILABLE')
          assert.ok(e.message.includes(file), e.message)
          assert.match(e.reason, reason)
          return true
        },
      )

    it('not a database', () => {
      const file = freshFile('garbage')
      writeFileSync(file, 'this is a text file someone put here\n'.repeat(200))
      expectOpenError(file, /not a database/)
      assert.match(readFileSync(file, 'utf8'), /^this is a text file/, 'the file is left untouched')
    })

    it('truncated database', async () => {
      const good = freshFile('good')
      const s = openSqliteStore({ file: good })
      for (let i = 0; i < 200; i++) await s.kv.set('ns', `k${i}`, 'x'.repeat(100))
      await s.close()
      const file = freshFile('truncated')
      writeFileSync(file, readFileSync(good).subarray(0, 100))
      expectOpenError(file, /malformed/)
    })

    it('a directory in its place', () => {
      expectOpenError(mkdtempSync(join(dir, 'is-a-dir-')), /unable to open/)
    })

    it('a schema from a newer wxengine: says the way back (a downgrade after an upgrade)', () => {
      const file = freshFile('newer')
      const raw = new Database(file)
      raw.pragma('user_version = 99')
      raw.close()
      expectOpenError(file, /newer than this wxengine understands .*run that version, or restore the backup taken before the upgrade/)
    })
  })
})

const FILE_GONE = 'database file gone: what is written now is lost at the next start; restart the engine'

/** Waits (up to 5 s) for a line saying `msg`, then 200 ms more, and asserts it was said exactly once. */
async function saidOnce(lines: Array<Record<string, unknown>>, msg: string): Promise<Record<string, unknown>> {
  const said = await until(msg, () => lines.find((l) => l.msg === msg), 5_000)
  await new Promise((r) => setTimeout(r, 200))
  assert.equal(lines.filter((l) => l.msg === msg).length, 1, JSON.stringify(lines))
  return said
}

describe('the database file removed under a running engine', () => {
  it('is said on a timer, once, without anyone asking /healthz (40 s of traffic went in unsaid before)', async () => {
    const file = freshFile('removed')
    const { logger, lines } = createMemoryLogger()
    const store = await openSqliteStore({ file, log: logger, fileCheckIntervalMs: 50 })
    try {
      rmSync(file)
      const said = await saidOnce(lines, FILE_GONE)
      assert.equal(said.code, 'STORE_UNAVAILABLE')
      assert.equal(await store.healthy(), false)
    } finally {
      await store.close()
    }
  })
})

describe('the WAL or its index removed under a running engine', () => {
  it('is said like a removed database file, once, and the store is unhealthy: a kill -9 then lost every answered message since the last checkpoint, unsaid', async () => {
    for (const companion of ['-wal', '-shm']) {
      const file = freshFile(`companion${companion}`)
      const { logger, lines } = createMemoryLogger()
      const store = openSqliteStore({ file, log: logger, fileCheckIntervalMs: 50 })
      try {
        store.log.append(entry('before'))
        await store.log.flush()
        assert.equal(await store.healthy(), true)
        rmSync(`${file}${companion}`)
        const said = await saidOnce(lines, FILE_GONE)
        assert.equal(said.code, 'STORE_UNAVAILABLE')
        assert.match(String(said.reason), new RegExp(`wxengine-sqlite-.*companion${companion}-\\d+\\.db${companion} was removed or replaced`))
        assert.equal(await store.healthy(), false)
      } finally {
        await store.close()
      }
    }
  })
})

describe('the message log journal removed under a running engine', () => {
  it('is said once, later entries go to a new journal and reach the table; the lost one is not retried for ever', async () => {
    const file = freshFile('journal-removed')
    const { logger, lines } = createMemoryLogger()
    const store = openSqliteStore({ file, log: logger, fileCheckIntervalMs: 50 })
    try {
      store.log.append(entry('before'))
      await store.log.flush()
      // An operator's clean-up: the entries appended from now on went to the removed file, never to the
      // table, until the journal rotated at 8 MiB, and /healthz said nothing.
      rmSync(`${file}-msglog`, { recursive: true })
      store.log.append(entry('lost'))
      await store.log.committed()
      const removed = (l: Record<string, unknown>) => l.msg === 'message log journal removed while the engine runs; a new one is started'
      const until = Date.now() + 5_000
      while (!lines.some(removed) && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
      for (let i = 0; i < 20; i++) {
        store.log.append(entry(`after-${i}`))
        await store.log.committed()
      }
      await store.log.flush()
      await new Promise((r) => setTimeout(r, 200))
      assert.equal(lines.filter(removed).length, 1, JSON.stringify(lines))
      assert.equal(lines.find(removed)!.code, 'STORE_UNAVAILABLE')
      // The entries it held are said lost, as the store's failure: not as an entry of ours refused (INTERNAL, a bug).
      const lost = lines.find((l) => l.msg === 'message log entries lost: their journal was removed while the engine runs')
      assert.equal(lost?.code, 'STORE_UNAVAILABLE', JSON.stringify(lines))
      assert.match(String(lost!.reason), /^journal removed while in use: .*: its entries from byte \d+ on are lost$/)
      assert.equal(lines.filter((l) => l.code === 'INTERNAL').length, 0, JSON.stringify(lines))
      const keys = (await store.log.query({ account: 'acct', limit: 100 })).map((e) => e.msgKey)
      for (let i = 0; i < 20; i++) assert.ok(keys.includes(`after-${i}`), `after-${i} is in the table: ${keys.join(', ')}`)
      assert.ok(lines.filter((l) => l.level === 'error' || l.level === 50).length <= 3, JSON.stringify(lines))
    } finally {
      await store.close()
    }
  })
})

/**
 * A database written whole, closed, then one table's first page overwritten (a failing disk, a `cp` of a
 * running database): SQLite opens it, and says `database disk image is malformed` when that table is read.
 */
async function damagedIn(table: string): Promise<string> {
  const file = freshFile(`damaged-${table}`)
  const s = openSqliteStore({ file })
  await s.sessions.put({ account: 'acct', openId: 'o', plugin: 'quiz', state: { q: 1 }, expiresAt: Date.now() + 60_000 })
  await s.dedup.claim('msg-1', 5000)
  await s.dedup.complete('msg-1', { status: 200, contentType: 'application/xml', body: '<xml/>' }, 60_000)
  await s.close()
  const raw = new Database(file)
  const pageSize = raw.pragma('page_size', { simple: true }) as number
  const { rootpage } = raw.prepare<[string], { rootpage: number }>('SELECT rootpage FROM sqlite_master WHERE name = ?').get(table)!
  raw.close()
  const bytes = readFileSync(file)
  bytes.fill(0xff, (rootpage - 1) * pageSize, rootpage * pageSize)
  writeFileSync(file, bytes)
  return file
}

describe('a damaged database file', () => {
  it('damaged where the open reads (the replies saved at close): the start names the file and says to restore a backup, not a bare "malformed"', async () => {
    const file = await damagedIn('dedup')
    assert.throws(
      () => openSqliteStore({ file }),
      (e: unknown) => {
        assert.ok(e instanceof StoreOpenError, String(e))
        assert.ok(e.message.includes(file), e.message)
        assert.match(e.reason, /malformed.*damaged.*restore/)
        return true
      },
    )
  })

  it('damaged where a message reads (its sessions): the store is unhealthy (/healthz 503), said once naming the file; it said ok while every message was dropped', async () => {
    const file = await damagedIn('sessions')
    const { logger, lines } = createMemoryLogger()
    const store = openSqliteStore({ file, log: logger })
    try {
      assert.equal(await store.healthy(), true, 'nothing read the damage yet')
      assert.throws(() => store.sessions.getSync!('acct', 'o'), /malformed/)
      await assert.rejects(store.sessions.get('acct', 'other'), /malformed/)
      assert.equal(await store.healthy(), false)
      const said = lines.filter((l) => l.msg === 'database file damaged: restore it from a backup')
      assert.equal(said.length, 1, JSON.stringify(lines))
      assert.equal(said[0]!.code, 'STORE_UNAVAILABLE')
      assert.equal(said[0]!.file, file)
    } finally {
      await store.close()
    }
  })
})
