/**
 * The data directory's files hold users' OpenIDs and messages, plugin storage and access tokens: the
 * database, its -wal and -shm, and the message log's journal are made readable by their owner only, also
 * under the usual umask 0022 (systemd's default), which made them world-readable (an operator's review).
 */
import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { createLogger } from '../../core/log/logger.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-modes-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const modeOf = (file: string) => statSync(file).mode & 0o777

test('a new database, its -wal and -shm and the log journal are private under umask 0022', async () => {
  const before = process.umask(0o022)
  try {
    const file = path.join(dir, 'wxengine.db')
    const store = openSqliteStore({ file, log: createLogger({ level: 'silent' }) })
    store.log.append({ at: Date.now(), account: 'a', openId: 'o-alice', kind: 'text', msgKey: 'k1', handledBy: 'default', latencyMs: 1, outcome: 'replied' })
    await store.log.committed()
    const journalDir = `${file}-msglog`
    const journals = readdirSync(journalDir)
    assert.ok(journals.length > 0, 'a journal is written')
    const seen: Record<string, string> = { db: modeOf(file).toString(8), journalDir: modeOf(journalDir).toString(8) }
    for (const j of journals) seen[j] = modeOf(path.join(journalDir, j)).toString(8)
    for (const f of [`${file}-wal`, `${file}-shm`]) if (existsSync(f)) seen[path.basename(f)] = modeOf(f).toString(8)
    await store.close()
    assert.deepEqual(
      Object.entries(seen).filter(([, mode]) => (parseInt(mode, 8) & 0o077) !== 0),
      [],
      `readable by others: ${JSON.stringify(seen)}`,
    )
  } finally {
    process.umask(before)
  }
})

test('a database file that exists keeps the mode the operator gave it', async () => {
  const file = path.join(dir, 'kept.db')
  const first = openSqliteStore({ file, log: createLogger({ level: 'silent' }) })
  await first.close()
  chmodSync(file, 0o640)
  const again = openSqliteStore({ file, log: createLogger({ level: 'silent' }) })
  await again.close()
  assert.equal(modeOf(file), 0o640)
})
