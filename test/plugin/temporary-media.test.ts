/**
 * ctx.api.uploadMedia and downloadMedia from inside a plugin's worker, in a thread and in a process of its
 * own. An upload's bytes
 * (a Buffer, or a Uint8Array or ArrayBuffer the plugin's own code made, which reaches the engine through the
 * sandbox's realm) cross to the main thread and go up to the fake WeChat API as media/upload documents it,
 * multipart with the format's name; the media_id comes back for the reply. What the platform would refuse
 * is refused in the plugin with PLUGIN_BAD_REPLY naming why, without a request. A download (media/get) gives
 * the plugin a Buffer of the file with its content type, a video's URL, or the platform's errcode.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { MEDIA_UPLOAD_PATH } from '../../core/platform/temporary-media.ts'
import type { FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { image, loadPlugins, replyOf, startPlatformOnFakeApi, text, textOf, type Harness } from './plugin-test-kit.ts'

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
const JPEG = [0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0]
/** The plugin's bytes, made here the same way, to compare what arrived. */
function made(head: number[], size: number): Buffer {
  const bytes = Buffer.alloc(size)
  bytes.set(head)
  for (let i = head.length; i < size; i++) bytes[i] = i % 251
  return bytes
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

for (const isolation of ['thread', 'process'] as const) {
  describe(`uploadMedia from a plugin (${isolation})`, () => {
    let fake: FakeWeChatApi
    let h: Harness
    before(async () => {
      const platform = await startPlatformOnFakeApi()
      fake = platform.fake
      h = await loadPlugins({ only: ['media-maker'], api: platform.api, isolation })
    })
    after(async () => {
      await h.dispose()
      await fake.close()
    })
    const uploads = () => fake.requests.filter((r) => r.path === MEDIA_UPLOAD_PATH).length

    it("a Buffer, a Uint8Array and an ArrayBuffer of the plugin's own go up whole, as temporary media named by their format", async () => {
      // The largest image the platform takes, made in the sandbox: read there at memory speed (a read through
      // vm2's bridge, a byte at a time, took minutes for this), within the call's deadline.
      for (const [what, size] of [['buffer', 3000], ['array', 200_000], ['arraybuffer', 5000], ['array', 10 * 1_048_576]] as const) {
        const reply = replyOf(await h.call('media-maker', text(`${what} ${size}`)))
        assert.equal(reply.type, 'image', `${what}: ${JSON.stringify(reply)}`)
        const up = fake.uploads.at(-1)!
        assert.equal(reply.type === 'image' && reply.mediaId, up.mediaId)
        assert.deepEqual({ type: up.type, temporary: up.temporary, filename: up.filename, contentType: up.contentType, bytes: up.bytes }, { type: 'image', temporary: true, filename: 'media.png', contentType: 'image/png', bytes: size })
        assert.equal(up.sha256, sha256(made(PNG, size)), `${what}: the bytes as the plugin made them`)
      }
    })

    it('a thumb with a filename that agrees with its bytes; its id comes back from thumb_media_id', async () => {
      const reply = replyOf(await h.call('media-maker', text('thumb 2000')))
      const up = fake.uploads.at(-1)!
      assert.deepEqual({ type: up.type, filename: up.filename, sha256: up.sha256 }, { type: 'thumb', filename: 'media.jpg', sha256: sha256(made(JPEG, 2000)) })
      assert.equal(reply.type === 'image' && reply.mediaId, up.mediaId)
    })

    it('what the platform would refuse is refused in the plugin, naming why, with no request', async () => {
      const before = uploads()
      const refused = async (cmd: string) => JSON.parse(textOf(await h.call('media-maker', text(cmd)))) as { name: string; code?: string; message: string }
      assert.deepEqual(await refused('as-voice 1000'), { name: 'PlatformApiError', code: 'PLUGIN_BAD_REPLY', message: 'uploadMedia: the data is a PNG file, and a voice is AMR, MP3 within 2 MB' })
      assert.deepEqual(await refused('misnamed 1000'), {
        name: 'PlatformApiError',
        code: 'PLUGIN_BAD_REPLY',
        message: 'uploadMedia: filename "poster.jpg" does not say PNG, which the data is: the platform reads the format from the name (errcode 40005)',
      })
      assert.deepEqual(await refused('thumb 70000'), { name: 'PlatformApiError', code: 'PLUGIN_BAD_REPLY', message: "uploadMedia: the data is 70000 bytes, over the platform's limit: a thumb is JPG within 64 KB (65536 bytes)" })
      assert.deepEqual(await refused('text'), { name: 'TypeError', message: "uploadMedia: data must be the file's bytes (a Buffer, Uint8Array or ArrayBuffer), got string" })
      assert.deepEqual(await refused(`array ${11 * 1_048_576}`), { name: 'RangeError', message: `uploadMedia: the data is ${11 * 1_048_576} bytes, over the ${10 * 1_048_576} of the largest file the platform takes` })
      assert.equal(uploads(), before)
    })

    it("a user's picture is downloaded as the file it is, and can be sent back as the plugin's own", async () => {
      const picture = made(JPEG, 50_000)
      fake.addMedia('wxA', 'USERPIC1', { contentType: 'image/jpeg', bytes: picture })
      const reply = replyOf(await h.call('media-maker', { ...image(), mediaId: 'USERPIC1' }))
      const up = fake.uploads.at(-1)!
      assert.deepEqual({ type: up.type, filename: up.filename, sha256: up.sha256 }, { type: 'image', filename: 'media.jpg', sha256: sha256(picture) })
      assert.equal(reply.type === 'image' && reply.mediaId, up.mediaId)
      // Back through media/get: a Buffer in the plugin, its own methods at hand.
      const seen = JSON.parse(textOf(await h.call('media-maker', text(`download ${up.mediaId}`))))
      assert.deepEqual(seen, { contentType: 'image/jpeg', bytes: 50_000, head: 'ffd8ffe0', isBuffer: true })
    })

    it("a video comes as its URL; an unknown media_id is the platform's 40007; one that is no media_id a TypeError", async () => {
      fake.addMedia('wxA', 'VIDEO1', { videoUrl: 'http://vweixinf.tc.qq.com/fake/VIDEO1.mp4' })
      assert.deepEqual(JSON.parse(textOf(await h.call('media-maker', text('download VIDEO1')))), { videoUrl: 'http://vweixinf.tc.qq.com/fake/VIDEO1.mp4' })
      const unknown = JSON.parse(textOf(await h.call('media-maker', text('download NOSUCH'))))
      assert.deepEqual({ name: unknown.name, code: unknown.code, errcode: unknown.errcode }, { name: 'PlatformApiError', code: 'API_ERROR', errcode: 40007 })
      assert.match(unknown.message, /^GET \/cgi-bin\/media\/get: errcode 40007 invalid media_id/)
      const gets = fake.requests.filter((r) => r.path === '/cgi-bin/media/get').length
      const bad = JSON.parse(textOf(await h.call('media-maker', text('download ../token'))))
      assert.deepEqual(bad, { name: 'TypeError', message: 'downloadMedia: mediaId must be a media_id (such as ctx.message.mediaId), got "../token"' })
      assert.equal(fake.requests.filter((r) => r.path === '/cgi-bin/media/get').length, gets, 'no request for it')
    })
  })
}
