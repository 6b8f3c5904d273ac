/**
 * What a running engine deletes by itself: message-log entries and finished late replies (sent or failed,
 * with the reply's text and the user's OpenID) older than log.retentionDays; with the log off, finished late
 * replies at once. A late reply still being sent stays, however old. Until this test the outbox grew forever.
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
import { until } from '../support/until.ts'

const DAY = 86_400_000

async function seededRuntime(retentionDays: number) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-retention-'))
  const dataDir = path.join(root, 'data')
  for (const d of [dataDir, path.join(root, 'rules'), path.join(root, 'plugins')]) mkdirSync(d)
  const now = Date.now()
  const seed = openSqliteStore({ file: path.join(dataDir, SQLITE_FILE_NAME) })
  const late = (openId: string, status: 'pending' | 'sent' | 'failed', at: number) =>
    seed.outbox.record({ account: 'plain', openId, reply: { type: 'text', content: openId }, attempts: 1, status, at })
  await late('sent-40-days-ago', 'sent', now - 40 * DAY)
  await late('failed-40-days-ago', 'failed', now - 40 * DAY)
  await late('pending-40-days-ago', 'pending', now - 40 * DAY)
  await late('sent-a-minute-ago', 'sent', now - 60_000)
  const logEntry = (openId: string, at: number) =>
    seed.log.append({ at, account: 'plain', openId, kind: 'text', msgKey: `k-${openId}`, handledBy: 'rule', latencyMs: 1, outcome: 'replied' })
  logEntry('logged-40-days-ago', now - 40 * DAY)
  logEntry('logged-a-minute-ago', now - 60_000)
  await seed.close()
  const loaded = loadConfig({
    root,
    env: {},
    overrides: {
      dataDir,
      defaultAccount: 'plain',
      accounts: [{ id: 'plain', token: 'plaintoken', appId: 'wxplain000000001', mode: 'plaintext' }],
      log: { retentionDays },
    },
  })
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.reason)
  const runtime = await startRuntime(loaded.value, { listen: false, log: createMemoryLogger('silent').logger, pruneFirstAfterMs: 50 })
  return {
    runtime,
    outbox: async () => (await runtime.store.outbox.list()).map((e) => e.openId),
    logged: async () => (await runtime.store.log.query({})).map((e) => e.openId).sort(),
    async close() {
      await runtime.close()
      rmSync(root, { recursive: true, force: true })
    },
  }
}

test('entries older than log.retentionDays go: finished late replies and log entries; pending late replies stay', async () => {
  const e = await seededRuntime(30)
  try {
    await until('the first prune', async () => (await e.outbox()).length === 2, 5_000)
    assert.deepEqual(await e.outbox(), ['pending-40-days-ago', 'sent-a-minute-ago'])
    await until('the log prune', async () => (await e.logged()).length === 1, 5_000)
    assert.deepEqual(await e.logged(), ['logged-a-minute-ago'])
  } finally {
    await e.close()
  }
})

test('with the message log off, finished late replies go at the first prune; pending ones stay', async () => {
  const e = await seededRuntime(0)
  try {
    await until('the first prune', async () => (await e.outbox()).length === 1, 5_000)
    assert.deepEqual(await e.outbox(), ['pending-40-days-ago'])
  } finally {
    await e.close()
  }
})
