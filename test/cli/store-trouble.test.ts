/**
 * The store commands when the data directory is not what they expect (a CLI bad-input review): a database
 * damaged inside a table (found only by the read that reaches it: a stack trace before), a DATA_DIR that is
 * a file (told "does not exist, the engine creates it", exit 0) or mistyped under `storage set` (created with
 * its parents, written where no engine reads), and a database cut to 0 bytes (given empty tables, for good).
 */
import assert from 'node:assert/strict'
import { closeSync, cpSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import Database from 'better-sqlite3'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { makeProject, pushThroughEngine, type Project } from './cli-harness.ts'

let project: Project
before(async () => {
  project = makeProject()
  await pushThroughEngine(project, [{ accountId: 'default', fields: push.text('alice', 'hello') }])
})
after(() => project.remove())

const NO_TRACE = /SqliteError|\n\s+at /

test('a database damaged inside its tables: each read command says the store failed and what to do, exit 1, no stack trace', async () => {
  const file = path.join(project.dataDir, 'wxengine.db')
  const damaged = path.join(project.dir, 'damaged')
  cpSync(project.dataDir, damaged, { recursive: true })
  const db = new Database(path.join(damaged, 'wxengine.db'))
  const pageSize = db.pragma('page_size', { simple: true }) as number
  const roots = db.prepare("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name IN ('message_log', 'rule_hits', 'follow_events', 'follower_days', 'followers')").pluck().all() as number[]
  db.close()
  assert.ok(statSync(file).size > 0)
  // Each table's root page: its b-tree page type byte made one SQLite does not know (the header stays good,
  // so the store opens, as the review's file did).
  const fd = openSync(path.join(damaged, 'wxengine.db'), 'r+')
  for (const root of roots) writeSync(fd, Buffer.from([0x55, 0x55, 0x55, 0x55]), 0, 4, (root - 1) * pageSize)
  closeSync(fd)
  for (const args of [['log'], ['stats'], ['followers'], ['mass', 'results']]) {
    const r = await project.run(args, { env: { DATA_DIR: damaged } })
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, new RegExp(`^wxengine ${args.join(' ')}: the store failed: .*(malformed|corrupt).*; the file is damaged .*restore it from a backup`), args.join(' '))
    assert.doesNotMatch(r.stderr, NO_TRACE, args.join(' '))
  }
})

test('a DATA_DIR that is a file: said so, exit 1, for reads and writes alike', async () => {
  const notDir = path.join(project.dir, 'a-file')
  writeFileSync(notDir, 'x')
  for (const args of [['log'], ['session', 'list'], ['stats'], ['storage', 'set', 'echo', 'k', '1']]) {
    const r = await project.run(args, { env: { DATA_DIR: notDir } })
    assert.equal(r.code, 1, args.join(' '))
    assert.equal(r.stderr, `wxengine ${args[0] === 'storage' ? 'storage set' : args.join(' ')}: the data directory ${notDir} is not a directory (DATA_DIR sets it)\n`)
  }
  assert.equal(readFileSync(notDir, 'utf8'), 'x')
})

test('storage set under a DATA_DIR whose parent does not exist either: refused, nothing made; a data directory not made yet: made', async () => {
  const typo = path.join(project.dir, 'no-such', 'data')
  const r = await project.run(['storage', 'set', 'echo', 'k', '1'], { env: { DATA_DIR: typo } })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /neither the data directory .*no-such.* nor the directory it would be in exists: nothing was written \(DATA_DIR sets it\)/)
  assert.equal(statSync(path.join(project.dir, 'no-such'), { throwIfNoEntry: false }), undefined)

  // A project's data/ not made yet (no start so far), its parent there: made, as the engine would.
  const parent = path.join(project.dir, 'fresh-parent')
  mkdirSync(parent)
  const fresh = path.join(parent, 'data')
  const made = await project.run(['storage', 'set', 'echo', 'k', '1'], { env: { DATA_DIR: fresh } })
  assert.equal(made.code, 0, made.stderr)
  assert.equal((await project.run(['storage', 'get', 'echo', 'k'], { env: { DATA_DIR: fresh } })).stdout.trim(), '1')
})

test('a database of 0 bytes: read commands leave it as it is and say so', async () => {
  const empty = path.join(project.dir, 'empty')
  mkdirSync(empty)
  writeFileSync(path.join(empty, 'wxengine.db'), '')
  const r = await project.run(['log'], { env: { DATA_DIR: empty } })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /wxengine\.db is empty \(0 bytes\): no engine has written it, or it was cut to nothing; left as it is/)
  assert.equal(statSync(path.join(empty, 'wxengine.db')).size, 0)
})
