/**
 * With the token store away (a closed SQLite file here, as a failed disk or a lost Redis), every API call
 * fails getting its access_token, and each used to write its own `access_token store failed` line: a
 * plugin calling the API on every message flooded the log (log/line-budget.ts says what that costs). The
 * line is budgeted, per credential and AppID, and still says why.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { createLineBudget, LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createAccessTokenManager } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import { startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
after(() => fake.close())

test('a token store that is away: one line per call up to the budget, then a count; each call fails with the reason', async () => {
  const store = openSqliteStore({ file: ':memory:' })
  await store.close()
  const { logger, lines } = createMemoryLogger()
  const budget = createLineBudget(logger)
  const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 1000 })
  const tokens = createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: store.tokens, log: logger, lines: budget })
  for (let i = 0; i < LINES_PER_KEY + 5; i++) {
    const r = await tokens.getToken()
    assert.equal(r.ok, false)
    assert.equal(!r.ok && r.error.code, 'STORE_UNAVAILABLE')
  }
  budget.close()
  const said = lines.filter((l) => l.msg === 'access_token store failed')
  assert.equal(said.length, LINES_PER_KEY)
  assert.equal(said[0]!.appId, 'wxA')
  assert.match(String(said[0]!.reason), /^token store get failed: /)
  const counted = lines.find((l) => l.held === 5)
  assert.equal(counted?.lastReason, said[0]!.reason)
})
