/**
 * The API misbehaving on the wire, through the fake server rather than a stubbed fetch: what a broken
 * gateway in front of api.weixin.qq.com sends. Each is an API_ERROR without errcode (transient for the
 * late-reply sender), and none may hold the process: a body of tens of megabytes (a proxy streaming a
 * file, a loop) must not be read into memory and parsed on the main thread, which every message shares.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { createApiClient } from '../../core/platform/api-client.ts'
import { FAKE_PATHS, startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

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

test('over the limit, the connection is dropped at once: not left open until the timeout', async () => {
  // A deadline far past the test's own bound: only cancelling the body ends the answer in time.
  const patient = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 60_000, maxBodyBytes: 1 << 20 })
  const chunk = 'x'.repeat(1 << 16)
  const done = fake.answerRawNext(FAKE_PATHS.token, { status: 200, contentType: 'application/json', body: chunk, repeat: 640, chunked: true })
  const r = await patient.getJson(FAKE_PATHS.token, tokenQuery)
  assert.equal(r.ok, false)
  if (!r.ok) assert.match(r.error.reason, /answer over 1048576 bytes/)
  let bound: NodeJS.Timeout | undefined
  const outcome = await Promise.race([
    done,
    new Promise<'still open'>((resolve) => {
      bound = setTimeout(() => resolve('still open'), 10_000)
    }),
  ])
  clearTimeout(bound)
  assert.notEqual(outcome, 'still open', 'the refused answer kept its connection')
  if (outcome === 'still open') return
  assert.equal(outcome.complete, false)
  assert.ok(outcome.written < 640 * chunk.length, `wrote ${outcome.written} bytes`)
})

test('a gzip answer: read whole although content-length counts compressed bytes; the limit counts decoded ones', async () => {
  // fetch asks for gzip and decodes it, leaving the compressed content-length: a reader that holds the
  // body to that length (raw-body's `length`) refuses every compressed answer.
  const small = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 3000, maxBodyBytes: 1 << 20 })
  const json = { access_token: 'T'.repeat(512), expires_in: 7200 }
  fake.answerRawNext(FAKE_PATHS.token, { status: 200, contentType: 'application/json', headers: { 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify(json)) })
  assert.deepEqual(await small.getJson(FAKE_PATHS.token, tokenQuery), { ok: true, value: json })
  // 4 MiB that gzip to a few KiB: refused by its decoded size.
  const bomb = gzipSync(Buffer.alloc(4 << 20, 0x20))
  assert.ok(bomb.length < 1 << 16)
  fake.answerRawNext(FAKE_PATHS.token, { status: 200, contentType: 'application/json', headers: { 'content-encoding': 'gzip' }, body: bomb })
  const r = await small.getJson(FAKE_PATHS.token, tokenQuery)
  assert.equal(r.ok, false)
  if (!r.ok) assert.match(r.error.reason, /answer over 1048576 bytes/)
})

test('getFile (media/get): a file as bytes and its content type, JSON refusals as errcodes, a file past its bound or behind a 502 refused', async () => {
  const path = '/cgi-bin/media/get'
  const file = async (answer: Parameters<typeof fake.answerRawNext>[1], max = 1024) => {
    fake.answerRawNext(path, answer)
    return client.getFile(path, { media_id: 'M1' }, max)
  }
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])
  const got = await file({ status: 200, contentType: 'image/jpeg; charset=binary', body: jpeg })
  assert.ok(got.ok && got.value.kind === 'file')
  assert.equal(got.value.contentType, 'image/jpeg')
  assert.deepEqual([...got.value.bytes], [...jpeg])
  // The platform's refusals and a video's URL come as JSON with a text/plain type: read as JSON, by their first byte.
  const refused = await file({ status: 200, contentType: 'text/plain', body: ' {"errcode":40007,"errmsg":"invalid media_id"}' })
  assert.equal(refused.ok, false)
  assert.equal(refused.ok ? 0 : refused.error.errcode, 40007)
  const video = await file({ status: 200, contentType: 'text/plain', body: '{"video_url":"http://v.example/1.mp4"}' })
  assert.ok(video.ok && video.value.kind === 'json')
  assert.equal(video.value.json.video_url, 'http://v.example/1.mp4')
  const big = await file({ status: 200, contentType: 'image/png', body: Buffer.alloc(2048, 0x89), chunked: true })
  assert.equal(big.ok ? '' : big.error.reason, `GET ${path}: HTTP 200, answer over 1024 bytes`)
  const gateway = await file({ status: 502, contentType: 'text/html', body: '<html>502</html>' })
  assert.equal(gateway.ok ? '' : `${gateway.error.reason} ${gateway.error.httpStatus}`, `GET ${path}: HTTP 502 502`)
  // What a 200 can carry that is no file (an API review: each was handed over as the file's bytes).
  const bom = await file({ status: 200, contentType: 'text/plain', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"errcode":40007,"errmsg":"invalid media_id"}')]) })
  assert.equal(bom.ok ? 0 : bom.error.errcode, 40007)
  const empty = await file({ status: 200, contentType: 'image/jpeg', body: '' })
  assert.equal(empty.ok ? '' : empty.error.reason, `GET ${path}: HTTP 200, an empty answer, not a file`)
  const portal = await file({ status: 200, contentType: 'text/html; charset=utf-8', body: '<!DOCTYPE html><html>log in to the Wi-Fi</html>' })
  assert.equal(portal.ok ? '' : portal.error.reason, `GET ${path}: HTTP 200, the answer is a page (text/html), not a file`)
  const untyped = await file({ status: 200, contentType: '', body: '  <html>portal</html>' })
  assert.equal(untyped.ok ? '' : untyped.error.reason, `GET ${path}: HTTP 200, the answer is a page (no content type), not a file`)
})
