/**
 * The platform API never redirects. A redirect comes from something in between (a proxy, a captive
 * portal, a hijacked DNS name), and following it would re-send the request to wherever it points: for a
 * 307/308 fetch re-posts the body, and the stable_token body holds the AppSecret; a GET keeps nothing of
 * the query, but the access_token of a POST is lost with the answer anyway. Not followed: an API_ERROR.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createAccessTokenManager } from '../../core/platform/access-token-manager.ts'
import { createApiClient } from '../../core/platform/api-client.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { FAKE_PATHS, startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
const elsewhere = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
after(async () => {
  await fake.close()
  await elsewhere.close()
})

for (const status of [307, 308, 302]) {
  test(`a ${status} from the API base is not followed: the AppSecret stays where it was sent`, async () => {
    const before = elsewhere.requests.length
    fake.answerRawNext(FAKE_PATHS.stableToken, { status, body: '', headers: { location: `${elsewhere.baseUrl}${FAKE_PATHS.stableToken}` } })
    const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 2000 })
    const m = createAccessTokenManager({ appId: 'wxA', appSecret: 'secretA', client, tokens: createMemoryStore().tokens, log: createMemoryLogger().logger, useStableToken: true })
    const r = await m.getToken()
    assert.equal(r.ok, false)
    if (!r.ok) {
      assert.equal(r.error.code, 'API_ERROR')
      assert.equal(r.error.errcode, undefined)
      assert.match(r.error.reason, new RegExp(`HTTP ${status}`))
    }
    assert.equal(elsewhere.requests.length, before, 'nothing reached the redirect target')
  })
}
