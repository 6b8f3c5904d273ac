/**
 * The files an inline image, voice or video reply may name (`reply: {type: image, file: images/qr.png}`),
 * checked when the rules are loaded: within the platform's limits for permanent material (material/add_material),
 * so the upload is not refused for something the loader can see. A voice's 60 s limit cannot be checked
 * without decoding the file: the platform refuses a longer one (the upload fails, and is logged).
 */
import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import path from 'node:path'
import type { MediaFile } from '../rule-types.ts'
import { megabytesUp } from './size-over.ts'

export type MediaType = MediaFile['type']

export const MEDIA_LIMITS: Readonly<Record<MediaType, { extensions: readonly string[]; maxBytes: number }>> = {
  image: { extensions: ['bmp', 'png', 'jpeg', 'jpg', 'gif'], maxBytes: 10 * 1_048_576 },
  voice: { extensions: ['mp3', 'wma', 'wav', 'amr'], maxBytes: 2 * 1_048_576 },
  video: { extensions: ['mp4'], maxBytes: 10 * 1_048_576 },
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  bmp: 'image/bmp',
  png: 'image/png',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  gif: 'image/gif',
  mp3: 'audio/mpeg',
  wma: 'audio/x-ms-wma',
  wav: 'audio/wav',
  amr: 'audio/amr',
  mp4: 'video/mp4',
}

export function extensionOf(file: string): string {
  return path.extname(file).slice(1).toLowerCase()
}

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extensionOf(file)] ?? 'application/octet-stream'
}

/** `an image`, `a voice`, `a video`: the type in a sentence. */
export function aMediaType(type: MediaType): string {
  return type === 'image' ? 'an image' : `a ${type}`
}

/** Only the extension (the schema's check, before any file is opened); undefined when it is one the type takes. */
export function extensionProblem(type: MediaType, file: string): string | undefined {
  const { extensions } = MEDIA_LIMITS[type]
  const ext = extensionOf(file)
  if (extensions.includes(ext)) return undefined
  return `${JSON.stringify(file)} cannot be ${aMediaType(type)} reply: the platform takes ${extensions.join(', ')} files${ext ? `, not .${ext}` : ''}`
}

/** O_NONBLOCK where the system has it (not Windows, which has no FIFOs to wait on). */
const READ_WITHOUT_WAITING = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)

/**
 * Opens the file and checks it is a regular file within the type's size; hashes what it reads (the key of the
 * upload cache). A problem in words, or the size and sha256.
 */
export async function readMediaFile(type: MediaType, absolute: string, shown: string): Promise<{ bytes: number; sha256: string } | { problem: string }> {
  const { maxBytes } = MEDIA_LIMITS[type]
  let handle
  try {
    // Non-blocking: a FIFO (named pipe) opened to read waits for a writer, and the rules check, a start or a
    // reload waited with it, without a word (a review of bad input); now it opens, and is not a regular file.
    handle = await open(absolute, READ_WITHOUT_WAITING)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return { problem: `file ${JSON.stringify(shown)} does not exist (${absolute}; a file is relative to the rules file's folder)` }
    return { problem: `file ${JSON.stringify(shown)} cannot be read: ${(e as Error).message}` }
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) return { problem: `file ${JSON.stringify(shown)} is not a regular file (${absolute})` }
    if (info.size === 0) return { problem: `file ${JSON.stringify(shown)} is empty` }
    if (info.size > maxBytes) return { problem: `file ${JSON.stringify(shown)} is ${megabytesUp(info.size)}, over the ${megabytesUp(maxBytes)} the platform takes for ${aMediaType(type)}` }
    const hash = createHash('sha256')
    let bytes = 0
    for await (const chunk of handle.createReadStream({ autoClose: false, start: 0 })) {
      hash.update(chunk as Buffer)
      bytes += (chunk as Buffer).length
      if (bytes > maxBytes) return { problem: `file ${JSON.stringify(shown)} grew over ${megabytesUp(maxBytes)} while it was read` }
    }
    return { bytes, sha256: hash.digest('hex') }
  } catch (e) {
    return { problem: `file ${JSON.stringify(shown)} cannot be read: ${(e as Error).message}` }
  } finally {
    await handle.close().catch(() => undefined)
  }
}
