/**
 * The AppSecret and the access_token travel in the query string (/cgi-bin/token?secret=, ?access_token=),
 * so nothing that quotes the request URL may reach an error reason, the outbox's lastError or a log line.
 * fetch quotes the whole URL in some of its own errors: a base URL with a user and password (a forward
 * proxy written as https://user:pass@proxy/wx) is refused with "Request cannot be constructed from a URL
 * that includes credentials: <the URL>".
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createAccessTokenManager } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

const SECRET = 'the-app-secret-0123456789abcdef'
const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: SECRET })
after(() => fake.close())

test('a base URL with credentials: the token fetch fails without quoting the AppSecret', async () => {
  const memLog = createMemoryLogger()
  const withUser = fake.baseUrl.replace('http://', 'http://proxyuser:proxypass@')
  const client = createApiClient({ baseUrl: withUser, timeoutMs: 2000 })
  const m = createAccessTokenManager({ appId: 'wxA', appSecret: SECRET, client, tokens: createMemoryStore().tokens, log: memLog.logger })
  const r = await m.getToken()
  assert.equal(r.ok, false)
  if (!r.ok) {
    assert.equal(r.error.code, 'API_ERROR')
    assert.doesNotMatch(r.error.reason, new RegExp(SECRET))
    assert.doesNotMatch(r.error.reason, /proxypass/)
  }
  const logged = JSON.stringify(memLog.lines)
  assert.ok(logged.includes('access_token fetch failed'))
  assert.ok(!logged.includes(SECRET), logged)
  assert.ok(!logged.includes('proxypass'), logged)
})
