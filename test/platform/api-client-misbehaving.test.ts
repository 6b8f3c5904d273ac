/**
 * The API misbehaving on the wire, through the fake server rather than a stubbed fetch: what a broken
 * gateway in front of api.weixin.qq.com sends. Each is an API_ERROR without errcode (transient for the
 * late-reply sender), and none may hold the process: a body of tens of megabytes (a proxy streaming a
 * file, a loop) must not be read into memory and parsed on the main thread, which every message shares.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createApiClient } from '../../core/platform/api-client.ts'
import { FAKE_PATHS, startFakeWeChatApi } from '../support/fake-wechat-api.ts'

const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
after(() => fake.close())
const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 3000 })
const tokenQuery = { grant_type: 'client_credential', appid: 'wxA', secret: 'secretA' }

async function reasonOf(answer: Parameters<typeof fake.answerRawNext>[1]): Promise<string> {
  fake.answerRawNext(FAKE_PATHS.token, answer)
  const r = await client.getJson(FAKE_PATHS.token, tokenQuery)
  assert.equal(r.ok, false)
  if (r.ok) return ''
  assert.equal(r.error.code, 'API_ERROR')
  assert.equal(r.error.errcode, undefined)
  assert.doesNotMatch(r.error.reason, /secretA/)
  return r.error.reason
}

test('an HTML 502 page and an empty body are API_ERROR without errcode', async () => {
  assert.match(await reasonOf({ status: 502, body: '<html><body>502 Bad Gateway</body></html>' }), /HTTP 502, answer is not JSON/)
  assert.match(await reasonOf({ status: 200, contentType: 'application/json', body: '' }), /HTTP 200, answer is not JSON \(0 bytes\)/)
})

test('a body over the limit is refused without being read whole', async () => {
  // 40 MiB: far past any JSON the platform answers (a user list page of 10 000 OpenIDs is ~0.4 MB).
  const chunk = 'x'.repeat(1 << 16)
  const copies = 640
  // With its length announced, and streamed without one.
  for (const chunked of [false, true]) {
    fake.answerRawNext(FAKE_PATHS.token, { status: 200, contentType: 'application/json', body: chunk, repeat: copies, chunked })
    const r = await client.getJson(FAKE_PATHS.token, tokenQuery)
    assert.equal(r.ok, false)
    if (!r.ok) {
      assert.equal(r.error.errcode, undefined)
      assert.match(r.error.reason, /^GET \/cgi-bin\/token: HTTP 200, answer over \d+ bytes/, `chunked: ${chunked}`)
    }
  }
  // The client still works afterwards.
  assert.ok((await client.getJson(FAKE_PATHS.token, tokenQuery)).ok)
})
