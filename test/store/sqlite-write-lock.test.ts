/**
 * The SQLite store's writes while another connection holds the write lock, as the message log's thread does
 * for each batch it moves into the table: every write waits (busy_timeout) instead of failing at once.
 */
import { after, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { once } from 'node:events'
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import type { MessageLogEntry } from '../../core/store/store.ts'

const dir = mkdtempSync(join(tmpdir(), 'wxengine-write-lock-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/**
 * A thread holding the file's write lock for `holdMs` (what the log thread does for each batch it ingests).
 * Its exit is asked for at its start: it ends once the lock is released, which the caller's write waits for,
 * and an 'exit' listener attached after that may come too late and wait forever.
 */
async function holdWriteLock(file: string, holdMs: number): Promise<{ exited: Promise<number> }> {
  const w = new Worker(
    `const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))})
     const { parentPort, workerData } = require('node:worker_threads')
     const db = new Database(workerData.file)
     db.exec('BEGIN IMMEDIATE')
     db.prepare("INSERT INTO rule_hits (account, rule, keyword, hits) VALUES ('a', 'r', '', 1)").run()
     parentPort.postMessage('locked')
     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs)
     db.exec('COMMIT'); db.close()`,
    { eval: true, workerData: { file, holdMs } },
  )
  const exited = new Promise<number>((resolve) => w.once('exit', resolve))
  await once(w, 'message')
  return { exited }
}

const entry = (i: number): MessageLogEntry => ({ at: Date.now(), account: 'a', openId: 'o', kind: 'text', msgKey: `k${i}`, handledBy: 'rule', latencyMs: 1, outcome: 'replied', summary: 'x'.repeat(200) })

it('control: kv.set waits (busy_timeout) for a writer holding the lock 200 ms', async () => {
  const file = join(dir, 'control.db')
  const store = openSqliteStore({ file })
  const w = await holdWriteLock(file, 200)
  await store.kv.set('ns', 'k', 1) // waits ~200 ms, succeeds
  await w.exited
  await store.close()
})

it('outbox.update also waits for a writer holding the lock 200 ms', async () => {
  const file = join(dir, 'x.db')
  const store = openSqliteStore({ file })
  const id = await store.outbox.record({ account: 'a', openId: 'o', reply: { type: 'text', content: 'hi' }, attempts: 0, status: 'pending', at: Date.now() })
  const w = await holdWriteLock(file, 200)
  let err: unknown
  try {
    await store.outbox.update(id, { status: 'sent', attempts: 1 })
  } catch (e) {
    err = e
  }
  await w.exited
  const [e] = await store.outbox.list()
  await store.close()
  assert.equal(err, undefined, `outbox.update: ${(err as Error)?.message} (${(err as { code?: string })?.code})`)
  assert.equal(e.status, 'sent')
})

it('outbox.update under the real log thread never fails', async () => {
  const file = join(dir, 'real.db')
  const store = openSqliteStore({ file })
  const id = await store.outbox.record({ account: 'a', openId: 'o', reply: { type: 'text', content: 'hi' }, attempts: 0, status: 'pending', at: Date.now() })
  let failures = 0
  let first: unknown
  let i = 0
  const until = Date.now() + 2000
  while (Date.now() < until && failures === 0) {
    for (let j = 0; j < 500; j++) store.log.append(entry(i++)) // 500 = LOG_BATCH_MAX: handed to the thread at once
    for (let j = 0; j < 200; j++) {
      try {
        await store.outbox.update(id, { attempts: j })
      } catch (e) {
        failures++
        first ??= e
      }
    }
    await new Promise((r) => setImmediate(r))
  }
  await store.close()
  assert.equal(failures, 0, `${failures} outbox updates failed, first: ${(first as Error)?.message} (${(first as { code?: string })?.code}); ${i} log entries`)
})

it('a late reply delivered while the log thread writes is recorded as sent, and the next start does not send it again', async () => {
  const { startFakeWeChatApi } = await import('../../core/testkit/fake-wechat-api.ts')
  const { createApiClient } = await import('../../core/platform/api-client.ts')
  const { createAccessTokenManager } = await import('../../core/platform/access-token-manager.ts')
  const { createPlatformApi, CUSTOM_SEND_PATH } = await import('../../core/platform/platform-api.ts')
  const { createLateReplySender } = await import('../../core/platform/late-reply-sender.ts')
  const { createMemoryLogger } = await import('../../core/log/logger.ts')
  const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
  const file = join(dir, 'late.db')
  const run = (store: ReturnType<typeof openSqliteStore>) => {
    const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 2000 })
    const tokens = createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: store.tokens, log: createMemoryLogger().logger })
    const api = createPlatformApi({ client, tokens })
    return createLateReplySender({ api: () => api, outbox: store.outbox, log: createMemoryLogger().logger })
  }
  try {
    const store1 = openSqliteStore({ file })
    const s1 = run(store1)
    const arrived = fake.nextRequest(CUSTOM_SEND_PATH)
    const release = fake.hold(CUSTOM_SEND_PATH)
    await s1.send('acc', 'o1', { type: 'text', content: 'the late answer' })
    await arrived
    const w = await holdWriteLock(file, 300) // the log thread ingesting a batch at that moment
    release()
    await s1.idle()
    await w.exited
    assert.equal(fake.sent.length, 1)
    const [e1] = await store1.outbox.list()
    await store1.close()

    const store2 = openSqliteStore({ file }) // the next start
    const s2 = run(store2)
    await s2.resumePending()
    await s2.idle()
    await store2.close()
    assert.equal(fake.sent.length, 1, `the user got the late reply ${fake.sent.length} times`)
    assert.equal(e1.status, 'sent', `outbox entry after a successful send: ${JSON.stringify(e1)}`)
  } finally {
    await fake.close()
  }
})
