/**
 * A late reply left pending by one run and taken up by the next (late-reply-sender.ts, resumePending) still
 * names the message it answers: its outbox entry keeps the message's key (msg_key), and the resumed send's
 * lines and its `late_reply` event carry it, as the send's did before the restart. Without it the resumed
 * lines could not be matched to the message's entries in `wxengine log` (its msgKey).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createAccessTokenManager } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { createLateReplySender, type LateReplySettled } from '../../core/platform/late-reply-sender.ts'
import { createPlatformApi } from '../../core/platform/platform-api.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import type { Store } from '../../core/store/store.ts'
import { startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
after(() => fake.close())

function senderOn(store: Store, log: ReturnType<typeof createMemoryLogger>, opts: { settled?: LateReplySettled[]; sleep?: (ms: number) => Promise<void>; now?: () => number } = {}) {
  const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 1000 })
  const api = createPlatformApi({ client, tokens: createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: store.tokens, log: log.logger }) })
  return createLateReplySender({
    api: (account) => (account === 'acc' ? api : undefined),
    outbox: store.outbox,
    log: log.logger,
    retry: { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 },
    sleep: opts.sleep ?? (async () => undefined),
    now: opts.now,
    onSettled: (s) => opts.settled?.push(s),
  })
}

test('a late reply resumed after a restart names its message: in the outbox file, its lines and its event', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-resume-key-'))
  const file = path.join(dir, 'wxengine.sqlite')
  try {
    // The first run: the platform is busy, and the run stops while the send waits to try again.
    const first = openSqliteStore({ file })
    const firstLog = createMemoryLogger()
    fake.failNextSends(1, -1, 'system error')
    const s1 = senderOn(first, firstLog, { sleep: () => new Promise<void>(() => undefined) })
    await s1.send('acc', 'o-resume', { type: 'text', content: 'left over' }, 'msgid:4242')
    while (!firstLog.lines.some((l) => l.msg === 'late reply attempt failed; retrying')) await new Promise((r) => setTimeout(r, 10))
    assert.equal((await s1.drain(1000)).drained, true)
    assert.ok(firstLog.lines.some((l) => l.msg === 'late reply left pending at shutdown' && l.key === 'msgid:4242'))
    await first.close()

    // The next run, on the same file.
    const second = openSqliteStore({ file })
    const secondLog = createMemoryLogger()
    const settled: LateReplySettled[] = []
    const s2 = senderOn(second, secondLog, { settled })
    try {
      assert.equal((await second.outbox.list('pending'))[0]?.msgKey, 'msgid:4242')
      assert.equal(await s2.resumePending(), 1)
      await s2.idle()
      const resuming = secondLog.lines.find((l) => l.msg === 'resuming a late reply left pending by the previous run')
      assert.equal(resuming?.key, 'msgid:4242')
      const sent = secondLog.lines.find((l) => l.msg === 'late reply sent')
      assert.equal(sent?.key, 'msgid:4242')
      assert.equal(sent?.openId, 'o-resume')
      assert.deepEqual(settled.map((s) => [s.key, s.outcome]), [['msgid:4242', 'sent']])
    } finally {
      await second.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('one found past the 48 h window at start-up: its failure line and event name its message too', async () => {
  const store = createMemoryStore()
  const log = createMemoryLogger()
  const settled: LateReplySettled[] = []
  await store.outbox.record({ account: 'acc', openId: 'o-stale', msgKey: 'msgid:77', reply: { type: 'text', content: 'too old' }, attempts: 1, status: 'pending', at: Date.now() - 49 * 3_600_000 })
  const s = senderOn(store, log, { settled })
  assert.equal(await s.resumePending(), 0)
  const failed = log.lines.find((l) => l.msg === 'late reply failed')
  assert.equal(failed?.key, 'msgid:77')
  assert.deepEqual(settled.map((e) => [e.key, e.outcome]), [['msgid:77', 'failed']])
})
