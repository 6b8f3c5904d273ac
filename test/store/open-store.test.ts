import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { loadConfig } from '../../core/config/load-config.ts'
import { createLogger } from '../../core/log/logger.ts'
import { openStore, SQLITE_FILE_NAME } from '../../core/store/open-store.ts'
import { StoreOpenError } from '../../core/store/store-open-error.ts'
import { startRedisServer } from '../support/redis-server.ts'

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

  it('redis: store.keyPrefix from the configuration keeps two deployments on one Redis apart', async () => {
    const server = await startRedisServer()
    const a = await openStore({ kind: 'redis', url: server.url, keyPrefix: 'shop-a:' }, join(dir, 'a'), log)
    const b = await openStore({ kind: 'redis', url: server.url, keyPrefix: 'shop-b:', commandTimeoutMs: 500 }, join(dir, 'b'), log)
    const raw = new Redis(server.url)
    try {
      await a.kv.set('ns', 'k', 'from a')
      await b.kv.set('ns', 'k', 'from b')
      assert.equal(await a.kv.get('ns', 'k'), 'from a')
      assert.equal(await b.kv.get('ns', 'k'), 'from b')
      assert.deepEqual((await raw.keys('*')).filter((k) => k.includes(':kv:')).sort(), ['shop-a:kv:ns:k', 'shop-b:kv:ns:k'])
    } finally {
      raw.disconnect()
      await Promise.all([a.close(), b.close()])
      await server.stop()
    }
  })

  it('the configuration checks store.keyPrefix and store.commandTimeoutMs', () => {
    const account = { id: 'default', token: 'plaintoken', appId: 'wx1111111111111111' }
    const bad = (store: Record<string, unknown>) => {
      const r = loadConfig({ root: dir, overrides: { accounts: [account], store: store as never }, env: {} })
      assert.equal(r.ok, false)
      return r.ok ? '' : r.error.reason
    }
    assert.match(bad({ kind: 'redis', url: 'redis://127.0.0.1', keyPrefix: '' }), /store\.keyPrefix: must not be empty/)
    assert.match(bad({ kind: 'redis', url: 'redis://127.0.0.1', commandTimeoutMs: 6000 }), /store\.commandTimeoutMs: must stay well under WeChat/)
    // The URL's shape is a setting too, so `rules check` refuses it as `start` does (an operator review).
    for (const url of ['http://127.0.0.1:6379', 'redis://127.0.0.1:6379/abc', 'not a url']) {
      assert.match(bad({ kind: 'redis', url }), /store\.url: must be a redis:\/\/ or rediss:\/\/ URL, with a database number if any: redis:\/\/host:6379\/0 \(REDIS_URL\)/, url)
    }
    for (const url of ['redis://127.0.0.1:6379/2', 'rediss://user:pw@host:6380', 'redis://127.0.0.1?db=3']) {
      assert.ok(loadConfig({ root: dir, overrides: { accounts: [account], store: { kind: 'redis', url } }, env: {} }).ok, url)
    }
    const good = loadConfig({ root: dir, overrides: { accounts: [account], store: { kind: 'redis', url: 'redis://127.0.0.1', keyPrefix: 'b:', commandTimeoutMs: 300 } }, env: {} })
    assert.ok(good.ok)
    assert.deepEqual(good.value.store, { kind: 'redis', url: 'redis://127.0.0.1', keyPrefix: 'b:', commandTimeoutMs: 300 })
  })
})
