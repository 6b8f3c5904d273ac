import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '../../core/log/logger.ts'
import { openStore, SQLITE_FILE_NAME } from '../../core/store/open-store.ts'
import { StoreOpenError } from '../../core/store/store-open-error.ts'

const dir = mkdtempSync(join(tmpdir(), 'wxengine-open-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const log = createLogger({ level: 'silent' })

describe('openStore', () => {
  it('sqlite: opens wxengine.db inside the data directory, creating it', async () => {
    const dataDir = join(dir, 'data')
    const store = await openStore({ kind: 'sqlite' }, dataDir, log)
    assert.equal(store.kind, 'sqlite')
    await store.kv.set('ns', 'k', 1)
    await store.close()
    assert.ok(existsSync(join(dataDir, SQLITE_FILE_NAME)))
    const again = await openStore({ kind: 'sqlite' }, dataDir, log)
    assert.equal(await again.kv.get('ns', 'k'), 1)
    await again.close()
  })

  it('memory', async () => {
    const store = await openStore({ kind: 'memory' }, join(dir, 'unused'), log)
    assert.equal(store.kind, 'memory')
    assert.equal(existsSync(join(dir, 'unused')), false)
    await store.close()
  })

  it('redis without a url is refused with a StoreOpenError', async () => {
    await assert.rejects(openStore({ kind: 'redis' }, dir, log), (e: unknown) => e instanceof StoreOpenError && /url/.test(e.message))
  })
})
