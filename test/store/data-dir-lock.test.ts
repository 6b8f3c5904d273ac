/**
 * The data directory's lock (core/store/data-dir-lock.ts) against a reader's brief look at it: `wxengine log`
 * and `stats` ask it whether an engine serves (heldByAnotherProcess) before they judge a journal, which
 * takes a shared lock for the length of one read. An engine starting right then must wait that out, not be
 * refused as though another engine held the directory.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { heldByAnotherProcess, lockDataDir } from '../../core/store/data-dir-lock.ts'
import { StoreOpenError } from '../../core/store/store-open-error.ts'
import { childExited } from '../support/child-end.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-lock-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test("an engine starting while another process reads the lock file (a reader's probe) waits for the read, and gets the lock", async () => {
  lockDataDir(dir).release() // the lock file, as a stopped engine leaves it
  // Another process holding a read of the lock file open for 300 ms (a probe takes far less).
  const reader = spawn(
    process.execPath,
    ['-e', `const db = new (require('better-sqlite3'))(${JSON.stringify(path.join(dir, 'wxengine.lock'))}, { readonly: true }); db.exec('BEGIN'); db.prepare('SELECT count(*) FROM holder').get(); console.log('reading'); setTimeout(() => { db.exec('COMMIT'); db.close() }, 300)`],
    { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] },
  )
  // Asked for now: the reader exits once its read is done, which the lock below waits for.
  const readerExited = childExited(reader)
  await once(reader.stdout!, 'data')
  const lock = lockDataDir(dir)
  try {
    assert.equal(heldByAnotherProcess(dir), false, 'held here, not by another process')
  } finally {
    lock.release()
    await readerExited
  }
})

test('a lock file that is not one (garbage in its place): refused naming it, saying to remove it, not to restore a backup', () => {
  const other = mkdtempSync(path.join(dir, 'garbage-'))
  writeFileSync(path.join(other, 'wxengine.lock'), 'not a lock file\n'.repeat(100))
  assert.throws(
    () => lockDataDir(other),
    (e: unknown) => {
      assert.ok(e instanceof StoreOpenError, String(e))
      assert.match(e.message, /wxengine\.lock: file is not a database: not a lock file wxengine made; remove it/)
      assert.doesNotMatch(e.message, /backup/)
      return true
    },
  )
})
