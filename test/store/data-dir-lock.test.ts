/**
 * The data directory's lock (core/store/data-dir-lock.ts) against a reader's brief look at it: `wxengine log`
 * and `stats` ask it whether an engine serves (heldByAnotherProcess) before they judge a journal, which
 * takes a shared lock for the length of one read. An engine starting right then must wait that out, not be
 * refused as though another engine held the directory.
 */
import assert from 'node:assert/strict'
import { fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { heldByAnotherProcess, lockDataDir } from '../../core/store/data-dir-lock.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { until } from '../support/until.ts'
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

/** Another engine taking `lockDir` (data-dir-holder-child.ts): 'held', or its exit code when it could not. */
async function otherEngine(lockDir: string): Promise<{ held: true; stop: () => Promise<void> } | { held: false; code: number | null }> {
  const child = fork(path.join(import.meta.dirname, 'data-dir-holder-child.ts'), [lockDir], { execArgv: ['--import', 'tsx'], stdio: 'ignore' })
  const exited = childExited(child)
  const first = await Promise.race([once(child, 'message').then(() => 'held' as const), exited.then(() => 'exited' as const)])
  if (first === 'exited') return { held: false, code: child.exitCode }
  return {
    held: true,
    stop: async () => {
      child.disconnect()
      await exited
    },
  }
}

const removeLockFile = (lockDir: string) => {
  for (const f of ['wxengine.lock', 'wxengine.lock-journal']) rmSync(path.join(lockDir, f), { force: true })
}

test('a lock file removed while held (a clean-up of *.lock) is taken again on a new file, said once: another engine is still refused', async () => {
  const lockDir = mkdtempSync(path.join(dir, 'removed-'))
  const memory = createMemoryLogger('warn')
  const lock = lockDataDir(lockDir, { log: memory.logger, checkEveryMs: 20 })
  try {
    removeLockFile(lockDir)
    // Before: a second engine started here, as the lock was on a file no other start could see.
    await until('the lock taken again', () => memory.lines.find((l) => l.msg === 'data directory lock taken again'))
    const other = await otherEngine(lockDir)
    assert.equal(other.held, false, 'the other engine is refused')
    assert.equal(lock.recheck(), undefined, 'the new file is the one held')
    const line = memory.lines.find((l) => l.msg === 'data directory lock taken again')
    assert.equal(line?.code, 'DATA_DIR_LOCK')
    assert.match(String(line?.reason), /wxengine\.lock was removed or replaced while this engine ran; taken again on a new one/)
    assert.equal(memory.lines.length, 1)
  } finally {
    lock.release()
  }
})

test('a lock file removed, and the directory taken by another engine meanwhile: said as an error naming both', async () => {
  const lockDir = mkdtempSync(path.join(dir, 'taken-'))
  const lock = lockDataDir(lockDir)
  let other: Awaited<ReturnType<typeof otherEngine>> | undefined
  try {
    removeLockFile(lockDir)
    other = await otherEngine(lockDir)
    assert.equal(other.held, true)
    const r = lock.recheck()
    assert.equal(r?.retaken, false)
    assert.match(String(r?.reason), /^another wxengine is serving from this data directory besides this one: the lock file .*wxengine\.lock was removed while this engine ran, and another took the directory; stop one of them$/)
  } finally {
    lock.release()
    if (other?.held) await other.stop()
  }
})
