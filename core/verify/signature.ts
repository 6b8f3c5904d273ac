/**
 * WeChat request signatures (protocol.md §1, §2): sha1 over the sorted, concatenated strings.
 * Used for `signature` (token, timestamp, nonce) and `msg_signature` (the same plus Encrypt).
 */
import crypto from 'node:crypto'

const SHA1_HEX = /^[0-9a-fA-F]{40}$/

/**
 * The platform sorts with a plain string sort (PHP SORT_STRING / Java String order). Every part it
 * signs is ASCII (token [A-Za-z0-9], digits, base64), where code-unit order equals byte order.
 */
export function computeSignature(parts: string[]): string {
  return sha1Hex(sortedConcat(parts))
}

/**
 * crypto.hash, the one-shot form (Node >= 20.12): about 3x faster than createHash for inputs this small,
 * and hex output costs half of a Buffer's.
 */
function sha1Hex(data: string): string {
  return crypto.hash('sha1', data, 'hex')
}

/** The parts in code-unit order, concatenated. Three or four short strings: an insertion sort on a copy. */
function sortedConcat(parts: string[]): string {
  const a = parts.slice()
  for (let i = 1; i < a.length; i++) {
    const v = a[i]
    let j = i - 1
    while (j >= 0 && a[j] > v) {
      a[j + 1] = a[j]
      j--
    }
    a[j + 1] = v
  }
  let out = ''
  for (const p of a) out += p
  return out
}

/** `signature` of the GET verification and of every POST (protocol.md §1). */
export function verifySignature(token: string, timestamp: string, nonce: string, signature: string): boolean {
  return compareSignature([token, timestamp, nonce], signature)
}

/** `msg_signature` of an encrypted POST, which also covers the Encrypt element (protocol.md §2). */
export function verifyMsgSignature(
  token: string,
  timestamp: string,
  nonce: string,
  encrypt: string,
  msgSignature: string,
): boolean {
  return compareSignature([token, timestamp, nonce, encrypt], msgSignature)
}

/**
 * Constant time: every one of the 40 hex digits is compared, whatever differs, with no branch on the data
 * (the same guarantee as crypto.timingSafeEqual, without making two Buffers per request). `| 0x20`
 * lower-cases A-F and leaves 0-9 as they are, so an upper-case signature matches too. The shape check on
 * the given value leaks nothing about the expected one. The typeof guards are for callers other than the
 * HTTP layer (which flattens repeated query parameters): `engine.handle` is public to tests and the CLI.
 */
function compareSignature(parts: string[], given: unknown): boolean {
  if (typeof given !== 'string' || !SHA1_HEX.test(given)) return false
  if (!parts.every((part) => typeof part === 'string')) return false
  const expected = sha1Hex(sortedConcat(parts))
  let diff = 0
  for (let i = 0; i < 40; i++) diff |= (given.charCodeAt(i) | 0x20) ^ expected.charCodeAt(i)
  return diff === 0
}
