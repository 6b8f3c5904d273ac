/**
 * A plugin's temporary media upload checked before any request (core/platform/temporary-media.ts): the format
 * read from the bytes, against what the platform takes for each type (素材, 临时素材), and the name sent.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkUpload, mediaIdOf, sniffFormat } from '../../core/platform/temporary-media.ts'

const bytes = (head: number[] | string, size = 64) => {
  const b = new Uint8Array(size)
  b.set(typeof head === 'string' ? [...Buffer.from(head, 'latin1')] : head)
  return b
}
const PNG = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const JPEG = bytes([0xff, 0xd8, 0xff, 0xe1])
const GIF = bytes('GIF89a')
const AMR = bytes('#!AMR\n')
const MP3_ID3 = bytes('ID3\x04')
const MP3_FRAME = bytes([0xff, 0xfb, 0x90, 0x64])
const MP4 = bytes('\x00\x00\x00\x20ftypisom')

test('the format is read from the bytes', () => {
  assert.deepEqual([PNG, JPEG, GIF, AMR, MP3_ID3, MP3_FRAME, MP4].map(sniffFormat), ['png', 'jpg', 'gif', 'amr', 'mp3', 'mp3', 'mp4'])
  assert.equal(sniffFormat(bytes('BM')), undefined, 'a BMP: permanent material takes it, temporary media does not')
  assert.equal(sniffFormat(new Uint8Array(0)), undefined)
})

test('each type takes its formats, and goes up under its format name with its content type', () => {
  const cases = [
    ['image', PNG, 'media.png', 'image/png'],
    ['image', JPEG, 'media.jpg', 'image/jpeg'],
    ['image', GIF, 'media.gif', 'image/gif'],
    ['voice', AMR, 'media.amr', 'audio/amr'],
    ['voice', MP3_FRAME, 'media.mp3', 'audio/mpeg'],
    ['video', MP4, 'media.mp4', 'video/mp4'],
    ['thumb', JPEG, 'media.jpg', 'image/jpeg'],
  ] as const
  for (const [type, data, filename, contentType] of cases) {
    const r = checkUpload(type, data)
    assert.ok(r.ok, r.ok ? '' : r.error.reason)
    assert.deepEqual(r.value, { type, filename, contentType })
  }
  // A name of the plugin's that agrees (any case, .jpeg for .jpg) is fine; what is sent is the format's name.
  const named = checkUpload('image', JPEG, 'Poster.JPEG')
  assert.ok(named.ok)
  assert.equal(named.value.filename, 'media.jpg')
})

test('refused with what the platform takes: another type, a format the type does not take, a size over its limit, nothing', () => {
  const reason = (...args: Parameters<typeof checkUpload>) => {
    const r = checkUpload(...args)
    assert.equal(r.ok, false)
    return r.ok ? '' : `${r.error.code} ${r.error.reason}`
  }
  assert.equal(reason('news', PNG), 'PLUGIN_BAD_REPLY uploadMedia: type must be image, voice, video or thumb, not "news"')
  assert.equal(reason(undefined, PNG), 'PLUGIN_BAD_REPLY uploadMedia: type must be image, voice, video or thumb, not undefined')
  assert.equal(reason('thumb', PNG), 'PLUGIN_BAD_REPLY uploadMedia: the data is a PNG file, and a thumb is JPG within 64 KB')
  assert.equal(reason('image', bytes('BM')), 'PLUGIN_BAD_REPLY uploadMedia: the data is of no format the platform takes, and an image is PNG, JPG, GIF within 10 MB')
  assert.equal(reason('voice', bytes('#!AMR', 2 * 1_048_576 + 1)), "PLUGIN_BAD_REPLY uploadMedia: the data is 2097153 bytes, over the platform's limit: a voice is AMR, MP3 within 2 MB (2097152 bytes)")
  assert.equal(reason('image', new Uint8Array(0)), 'PLUGIN_BAD_REPLY uploadMedia: the data is empty')
  assert.equal(reason('image', PNG, ''), 'PLUGIN_BAD_REPLY uploadMedia: filename must be a non-empty string, not an empty one')
  assert.equal(reason('image', PNG, 'chart'), 'PLUGIN_BAD_REPLY uploadMedia: filename "chart" does not say PNG, which the data is: the platform reads the format from the name (errcode 40005)')
})

test("the media_id in the platform's answer; a thumb's is thumb_media_id", () => {
  assert.equal(mediaIdOf({ type: 'image', media_id: 'M1', created_at: 1700000000 }), 'M1')
  assert.equal(mediaIdOf({ type: 'thumb', thumb_media_id: 'T1', created_at: 1700000000 }), 'T1')
  assert.equal(mediaIdOf({ type: 'image', created_at: 1700000000 }), undefined)
  assert.equal(mediaIdOf({ media_id: '' }), undefined)
})
