/**
 * A plugin's temporary media (素材管理, 临时素材): uploading a file it made, and downloading one a user sent.
 *
 * An upload (POST /cgi-bin/media/upload?type=TYPE, multipart, the file in field `media`) gives a media_id,
 * good for 3 days, for a reply (`ctx.reply.image`) or a customer-service message. Rules' files go up as
 * permanent material instead (media-uploads.ts).
 *
 * Checked here before any request, with the limits the platform states (protocol seeds, 素材): the type, the
 * size, and the format, read from the bytes themselves. The platform tells a file's format by its name's
 * extension and answers a bare 40005 (invalid file type) for a name that does not fit, so the name sent is
 * the one the bytes say (`media.png`), not one a plugin may have got wrong; a plugin's own name is checked
 * against them.
 */
import { fail, ok, type Result } from '../errors.ts'

export const MEDIA_UPLOAD_PATH = '/cgi-bin/media/upload'
/** One upload's or download's deadline: 10 MB over a slow link. */
export const MEDIA_TRANSFER_TIMEOUT_MS = 30_000

export type UploadType = 'image' | 'voice' | 'video' | 'thumb'

type Format = 'png' | 'jpg' | 'gif' | 'amr' | 'mp3' | 'mp4'

/** What the platform takes for each type of temporary media. */
export const UPLOAD_LIMITS: Readonly<Record<UploadType, { formats: readonly Format[]; maxBytes: number }>> = {
  image: { formats: ['png', 'jpg', 'gif'], maxBytes: 10 * 1_048_576 },
  voice: { formats: ['amr', 'mp3'], maxBytes: 2 * 1_048_576 },
  video: { formats: ['mp4'], maxBytes: 10 * 1_048_576 },
  thumb: { formats: ['jpg'], maxBytes: 64 * 1024 },
}

/** The largest upload of any type: what a plugin's worker may send at all. */
export const MAX_UPLOAD_BYTES = Math.max(...Object.values(UPLOAD_LIMITS).map((l) => l.maxBytes))

/** What uploadMedia says, as a TypeError, of data that is not bytes (in a plugin's worker and in this thread alike). */
export function notBytesMessage(data: unknown): string {
  return `uploadMedia: data must be the file's bytes (a Buffer, Uint8Array or ArrayBuffer), got ${data === null ? 'null' : typeof data}`
}

const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  gif: 'image/gif',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
}

/** A file name's extension as a format (`photo.JPEG` is jpg), or undefined. */
function formatOfName(name: string): Format | undefined {
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : ''
  if (ext === 'jpeg') return 'jpg'
  return ext in CONTENT_TYPES ? (ext as Format) : undefined
}

/** The format the bytes begin with (their magic numbers), or undefined. */
export function sniffFormat(b: Uint8Array): Format | undefined {
  const starts = (...sig: number[]) => sig.every((v, i) => b[i] === v)
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png'
  if (starts(0xff, 0xd8, 0xff)) return 'jpg'
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'gif'
  if (starts(0x23, 0x21, 0x41, 0x4d, 0x52)) return 'amr' // #!AMR
  if (starts(0x49, 0x44, 0x33) || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0)) return 'mp3' // an ID3 tag, or a frame sync
  if (b[4] === 0x66 && b[5] === 0x74 && b[6] === 0x79 && b[7] === 0x70) return 'mp4' // ....ftyp
  return undefined
}

export interface CheckedUpload {
  type: UploadType
  /** The name sent with the file: its format's extension, as the platform reads it. */
  filename: string
  contentType: string
}

const TYPES: readonly string[] = Object.keys(UPLOAD_LIMITS)

/** Why these bytes cannot go up as `type` (PLUGIN_BAD_REPLY, a sentence naming what is wrong), or how they go. */
export function checkUpload(type: unknown, bytes: Uint8Array, filename?: unknown): Result<CheckedUpload> {
  const bad = (reason: string) => fail('PLUGIN_BAD_REPLY', `uploadMedia: ${reason}`)
  if (typeof type !== 'string' || !TYPES.includes(type)) return bad(`type must be image, voice, video or thumb, not ${typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : typeof type}`)
  const t = type as UploadType
  const { formats, maxBytes } = UPLOAD_LIMITS[t]
  const takes = `${aType(t)} is ${formats.map((f) => f.toUpperCase()).join(', ')} within ${size(maxBytes)}`
  if (bytes.length === 0) return bad('the data is empty')
  if (bytes.length > maxBytes) return bad(`the data is ${bytes.length} bytes, over the platform's limit: ${takes} (${maxBytes} bytes)`)
  const format = sniffFormat(bytes)
  if (format === undefined || !formats.includes(format)) {
    return bad(`the data is ${format === undefined ? 'of no format the platform takes' : `a ${format.toUpperCase()} file`}, and ${takes}`)
  }
  if (filename !== undefined) {
    if (typeof filename !== 'string' || filename === '') return bad(`filename must be a non-empty string, not ${typeof filename === 'string' ? 'an empty one' : typeof filename}`)
    if (formatOfName(filename) !== format) return bad(`filename ${JSON.stringify(filename.slice(0, 80))} does not say ${format.toUpperCase()}, which the data is: the platform reads the format from the name (errcode 40005)`)
  }
  // Only the extension is the platform's business: the plugin's own name (any characters) is not sent.
  return ok({ type: t, filename: `media.${format}`, contentType: CONTENT_TYPES[format] })
}

/** The media_id in the platform's answer `{ type, media_id, created_at }` (a thumb's as `thumb_media_id`). */
export function mediaIdOf(answer: Record<string, unknown>): string | undefined {
  const mediaId = answer.media_id ?? answer.thumb_media_id
  return typeof mediaId === 'string' && mediaId !== '' ? mediaId : undefined
}

function aType(type: UploadType): string {
  return type === 'image' ? 'an image' : `a ${type}`
}

function size(bytes: number): string {
  return bytes < 1_048_576 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1_048_576).toFixed(1).replace(/\.0$/, '')} MB`
}

// --- download: media/get ---------------------------------------------------------------------------

export const MEDIA_GET_PATH = '/cgi-bin/media/get'
/** The largest file media/get gives (an image: 10 MB), with room; a video comes as its URL instead. */
export const MAX_DOWNLOAD_BYTES = 16 * 1_048_576

/** A media_id as the platform writes them (letters, digits, `-` and `_`); anything else is the plugin's mistake. */
export function mediaIdProblem(mediaId: unknown): string | undefined {
  if (typeof mediaId === 'string' && /^[A-Za-z0-9_-]{1,256}$/.test(mediaId)) return undefined
  const got = typeof mediaId === 'string' ? JSON.stringify(mediaId.slice(0, 40)) : mediaId === null ? 'null' : typeof mediaId
  return `downloadMedia: mediaId must be a media_id (such as ctx.message.mediaId), got ${got}`
}
