import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createApiClient } from '../../core/platform/api-client.ts'
import { FAKE_PATHS, startFakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

const fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'secretA' })
after(() => fake.close())
const client = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 2000 })
const tokenQuery = { grant_type: 'client_credential', appid: 'wxA', secret: 'secretA' }

test('getJson returns the decoded answer', async () => {
  const r = await client.getJson(FAKE_PATHS.token, tokenQuery)
  assert.ok(r.ok)
  assert.equal(typeof r.value.access_token, 'string')
  assert.equal(r.value.expires_in, 7200)
})

test('errcode != 0 becomes API_ERROR with errcode and errmsg, never the secret', async () => {
  const r = await client.getJson(FAKE_PATHS.token, { ...tokenQuery, secret: 'wrong-secret-value' })
  assert.equal(r.ok, false)
  if (r.ok) return
  assert.equal(r.error.code, 'API_ERROR')
  assert.equal(r.error.errcode, 40125)
  assert.match(r.error.reason, /^GET \/cgi-bin\/token: errcode 40125 invalid appsecret/)
  assert.doesNotMatch(r.error.reason, /wrong-secret-value/)
})

test('postJson sends JSON and keeps the query', async () => {
  const tok = await client.getJson(FAKE_PATHS.token, tokenQuery)
  assert.ok(tok.ok)
  const access_token = String(tok.value.access_token)
  fake.route('POST', '/cgi-bin/echo', ({ body, query }) => ({ errcode: 0, got: body ?? null, q: query.x ?? null }))
  const r = await client.postJson('/cgi-bin/echo', { access_token, x: '1' }, { a: ['中文', 2] })
  assert.ok(r.ok)
  assert.deepEqual(r.value, { errcode: 0, got: { a: ['中文', 2] }, q: '1' })
})

test('a timeout is API_ERROR without errcode', async () => {
  const fast = createApiClient({ baseUrl: fake.baseUrl, timeoutMs: 50 })
  fake.hangNext(FAKE_PATHS.token, 1)
  const r = await fast.getJson(FAKE_PATHS.token, tokenQuery)
  assert.equal(r.ok, false)
  if (r.ok) return
  assert.equal(r.error.code, 'API_ERROR')
  assert.equal(r.error.errcode, undefined)
  assert.match(r.error.reason, /timed out after 50 ms/)
})

test('a dropped connection and a refused connection are network errors', async () => {
  fake.dropNext(FAKE_PATHS.token, 1)
  const dropped = await client.getJson(FAKE_PATHS.token, tokenQuery)
  assert.equal(dropped.ok, false)
  if (!dropped.ok) {
    assert.equal(dropped.error.errcode, undefined)
    assert.match(dropped.error.reason, /network error/)
  }
  const closed = await startFakeWeChatApi()
  const baseUrl = closed.baseUrl
  await closed.close()
  const refused = await createApiClient({ baseUrl }).getJson(FAKE_PATHS.token, tokenQuery)
  assert.equal(refused.ok, false)
  if (!refused.ok) assert.match(refused.error.reason, /network error: ECONNREFUSED/)
})

test('non-JSON and non-object answers are API_ERROR; HTTP errors without errcode too', async () => {
  const cases: Array<[Response, RegExp]> = [
    [new Response('<html>bad gateway</html>', { status: 502 }), /HTTP 502, answer is not JSON/],
    [new Response('[1,2]', { status: 200 }), /not a JSON object/],
    [new Response('{"ok":true}', { status: 503 }), /HTTP 503$/],
  ]
  for (const [response, reason] of cases) {
    const c = createApiClient({ baseUrl: 'http://127.0.0.1:9', fetch: async () => response })
    const r = await c.getJson('/cgi-bin/x')
    assert.equal(r.ok, false)
    if (!r.ok) {
      assert.equal(r.error.errcode, undefined)
      assert.match(r.error.reason, reason)
    }
  }
})

test('a base URL path prefix (a proxy) is kept', async () => {
  const seen: string[] = []
  const c = createApiClient({
    baseUrl: 'http://127.0.0.1:9/wx/',
    fetch: async (url) => {
      seen.push(String(url))
      return new Response('{"errcode":0}')
    },
  })
  const r = await c.getJson('/cgi-bin/token', { a: 'b c' })
  assert.ok(r.ok)
  assert.deepEqual(seen, ['http://127.0.0.1:9/wx/cgi-bin/token?a=b+c'])
})

test('an errcode spelled as a string is still a refusal, never a success', async () => {
  const cases: Array<[string, number | undefined, RegExp]> = [
    ['{"errcode":"45015","errmsg":"response out of time limit"}', 45015, /errcode 45015 response out of time limit$/],
    ['{"errcode":" -1 ","errmsg":"system error"}', -1, /errcode -1 system error$/],
    ['{"errcode":"E500","errmsg":"gateway"}', undefined, /HTTP 200, errcode is not a number \("E500"\) gateway$/],
  ]
  for (const [body, errcode, reason] of cases) {
    const c = createApiClient({ baseUrl: 'http://127.0.0.1:9', fetch: async () => new Response(body, { status: 200 }) })
    const r = await c.postJson('/cgi-bin/message/custom/send', { access_token: 'T' }, {})
    assert.equal(r.ok, false, body)
    if (!r.ok) {
      assert.equal(r.error.code, 'API_ERROR')
      assert.equal(r.error.errcode, errcode, body)
      assert.match(r.error.reason, reason)
    }
  }
  // "0" and 0 both mean success.
  for (const body of ['{"errcode":"0","errmsg":"ok"}', '{"errcode":0,"errmsg":"ok"}']) {
    const c = createApiClient({ baseUrl: 'http://127.0.0.1:9', fetch: async () => new Response(body, { status: 200 }) })
    assert.ok((await c.postJson('/cgi-bin/message/custom/send', undefined, {})).ok, body)
  }
})

test('a 64-bit integer in an answer (a msgid past 2^53) arrives with all its digits, as a string; safe numbers stay numbers', async () => {
  void fake.answerRawNext('/cgi-bin/message/template/send', {
    status: 200,
    contentType: 'application/json',
    body: '{"errcode":0,"errmsg":"ok","msgid":2963446620935323649,"neg":-9007199254740993,"safe":9007199254740991,"float":1.5,"in_text":"id 2963446620935323649","list":[12345678901234567890,7]}',
  })
  const r = await client.postJson('/cgi-bin/message/template/send', {}, {})
  assert.ok(r.ok, JSON.stringify(r))
  assert.deepEqual(r.value, {
    errcode: 0,
    errmsg: 'ok',
    msgid: '2963446620935323649',
    neg: '-9007199254740993',
    safe: 9007199254740991,
    float: 1.5,
    in_text: 'id 2963446620935323649',
    list: ['12345678901234567890', 7],
  })
})

test("a refusal carries the platform's whole answer (a mass send's 45065 names the msg_id it repeats), its 64-bit ids as digits", async () => {
  const c = createApiClient({
    baseUrl: 'http://127.0.0.1:9',
    fetch: async () => new Response('{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":2963446620935323649}', { status: 200 }),
  })
  const r = await c.postJson('/cgi-bin/message/mass/sendall', { access_token: 'T' }, {})
  assert.equal(r.ok, false)
  if (!r.ok) assert.deepEqual(r.error, { code: 'API_ERROR', reason: 'POST /cgi-bin/message/mass/sendall: errcode 45065 clientmsgid exist', errcode: 45065, answer: { errcode: 45065, errmsg: 'clientmsgid exist', msg_id: '2963446620935323649' } })
})

test('an answer with a long number and a repeated key is read as JSON.parse reads it (the last value wins), not refused', async () => {
  void fake.answerRawNext('/cgi-bin/message/template/send', {
    status: 200,
    contentType: 'application/json',
    body: '{"errcode":0,"errmsg":"ok","msgid":2963446620935323649,"errmsg":"again"}',
  })
  const r = await client.postJson('/cgi-bin/message/template/send', {}, {})
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.value.errmsg, 'again')
})
