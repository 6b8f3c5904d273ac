/**
 * qrcode/create's answer read, and the image fetched from showqrcode (on platform.mpBase, here the fake):
 * the ticket URL-encoded, an image only when it is one.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { explainQrcodeError, fetchQrcodeImage, MAX_IMAGE_BYTES, readCreateAnswer, showQrcodeUrl } from '../../core/qrcode/qrcode-api.ts'
import { FAKE_PATHS, startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'

let fake: FakeWeChatApi
let ticket: string
before(async () => {
  fake = await startFakeWeChatApi({ appId: 'wxA', appSecret: 'sA' })
  const { access_token } = (await (await fetch(`${fake.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=wxA&secret=sA`)).json()) as { access_token: string }
  const made = (await (await fetch(`${fake.baseUrl}/cgi-bin/qrcode/create?access_token=${access_token}`, { method: 'POST', body: '{"expire_seconds":60,"action_name":"QR_SCENE","action_info":{"scene":{"scene_id":1}}}' })).json()) as { ticket: string }
  ticket = made.ticket
})
after(() => fake.close())

test("the answer's ticket, url and expire_seconds; an answer without a ticket or url is none", () => {
  const ticket = 'gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw=='
  assert.deepEqual(readCreateAnswer({ ticket, expire_seconds: 60, url: 'http://weixin.qq.com/q/kZgfwMTm72WWPkovabbI' }), { ticket, expireSeconds: 60, url: 'http://weixin.qq.com/q/kZgfwMTm72WWPkovabbI' })
  assert.deepEqual(readCreateAnswer({ ticket, url: 'http://weixin.qq.com/q/x' }), { ticket, url: 'http://weixin.qq.com/q/x' })
  assert.equal(readCreateAnswer({ url: 'http://weixin.qq.com/q/x' }), undefined)
  assert.equal(readCreateAnswer({ ticket: '' , url: 'u' }), undefined)
  // A lifetime that is no positive whole number of seconds is as if not said (the expires: line then says the one asked for).
  for (const odd of [0, -60, 1.5, Number.NaN]) {
    assert.deepEqual(readCreateAnswer({ ticket, expire_seconds: odd, url: 'http://weixin.qq.com/q/x' }), { ticket, url: 'http://weixin.qq.com/q/x' }, String(odd))
  }
})

test('showqrcode: the ticket URL-encoded on the mp host; the image bytes', async () => {
  assert.equal(showQrcodeUrl('https://mp.weixin.qq.com', 'a+b/c=='), 'https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=a%2Bb%2Fc%3D%3D')
  assert.equal(showQrcodeUrl('http://127.0.0.1:9/prefix/', 'x'), 'http://127.0.0.1:9/prefix/cgi-bin/showqrcode?ticket=x')
  const r = await fetchQrcodeImage(fake.baseUrl, ticket)
  assert.ok(r.ok, r.ok ? '' : r.reason)
  assert.deepEqual(r.bytes, fake.qrcodes[0]!.image)
  assert.equal(fake.requests.at(-1)!.query.ticket, ticket)
})

test('a bad ticket (404), a page that is no image, no answer: refused with the reason, nothing written', async () => {
  const missing = await fetchQrcodeImage(fake.baseUrl, 'nope')
  assert.deepEqual(missing, { ok: false, reason: 'GET /cgi-bin/showqrcode: HTTP 404 (a ticket WeChat does not know, or one expired)' })
  void fake.answerRawNext(FAKE_PATHS.showQrcode, { status: 200, contentType: 'text/html', body: '<html>error</html>' })
  const page = await fetchQrcodeImage(fake.baseUrl, ticket)
  assert.deepEqual(page, { ok: false, reason: 'GET /cgi-bin/showqrcode: HTTP 200, text/html, not an image (18 bytes)' })
  fake.hangNext(FAKE_PATHS.showQrcode, 1)
  const slow = await fetchQrcodeImage(fake.baseUrl, ticket, { timeoutMs: 200 })
  assert.deepEqual(slow, { ok: false, reason: 'GET /cgi-bin/showqrcode: timed out after 200 ms' })
})

test('errcodes in words', () => {
  assert.match(explainQrcodeError(40097), /^WeChat refused it with errcode 40097: invalid args/)
  assert.match(explainQrcodeError(48001), /verified service account/)
  assert.match(explainQrcodeError(12345), /no plain words for it here/)
})

test('an answer without a content-length is read only up to the 5 MB an image may be, then refused', async () => {
  // Chunked, as a proxy's error stream or a misbehaving host sends it: 32 MB, of which no more than the
  // limit (and a chunk) may be read before the answer is refused.
  const chunk = new Uint8Array(64 * 1024).fill(0xff)
  let pulled = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= 32 * 1024 * 1024) return controller.close()
      pulled += chunk.length
      controller.enqueue(chunk)
    },
  })
  const fetchStub = (async () => new Response(body, { status: 200, headers: { 'content-type': 'image/jpeg' } })) as typeof fetch
  const r = await fetchQrcodeImage('https://mp.example', 't', { fetch: fetchStub })
  assert.deepEqual(r, { ok: false, reason: `GET /cgi-bin/showqrcode: HTTP 200, over ${MAX_IMAGE_BYTES} bytes, not an image` })
  assert.ok(pulled <= MAX_IMAGE_BYTES + 2 * chunk.length, `${pulled} bytes read`)
})
