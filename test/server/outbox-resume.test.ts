/**
 * Late replies left pending in the outbox (a stop mid-retry, a kill) go out when the engine next serves,
 * and only then: a runtime that does not listen (`wxengine send --local` on the same DATA_DIR as a running
 * engine) must not take up the running engine's retries and send them a second time.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { startRuntime } from '../../core/runtime.ts'
import { SQLITE_FILE_NAME } from '../../core/store/open-store.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import { startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

test('pending late replies are resumed by a serving engine, not by a runtime that does not listen', async () => {
  const fake = await startFakeWeChatApi({ appId: 'wxplain000000001', appSecret: 'secret1' })
  const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-resume-'))
  try {
    const dataDir = path.join(root, 'data')
    for (const d of [dataDir, path.join(root, 'rules'), path.join(root, 'plugins')]) mkdirSync(d)
    const seed = openSqliteStore({ file: path.join(dataDir, SQLITE_FILE_NAME) })
    await seed.outbox.record({ account: 'plain', openId: 'u1', reply: { type: 'text', content: 'late' }, attempts: 1, status: 'pending', at: Date.now() })
    await seed.close()
    const loaded = loadConfig({
      root,
      env: {},
      overrides: {
        port: 0,
        host: '127.0.0.1',
        dataDir,
        platform: { apiBase: fake.baseUrl },
        defaultAccount: 'plain',
        accounts: [{ id: 'plain', token: 'plaintoken', appId: 'wxplain000000001', appSecret: 'secret1', mode: 'plaintext' }],
      },
    })
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.reason)

    const local = await startRuntime(loaded.value, { listen: false, log: createMemoryLogger('silent').logger })
    await new Promise((r) => setTimeout(r, 500))
    await local.close()
    assert.equal(fake.sent.length, 0, 'a runtime that does not listen sent the pending reply')

    const served = await startRuntime(loaded.value, { log: createMemoryLogger('silent').logger })
    try {
      const until = Date.now() + 5_000
      while (fake.sent.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
      assert.equal(fake.sent.length, 1)
      assert.deepEqual(fake.sent[0].body, { touser: 'u1', msgtype: 'text', text: { content: 'late' } })
    } finally {
      await served.close()
    }
  } finally {
    await fake.close()
    rmSync(root, { recursive: true, force: true })
  }
})
