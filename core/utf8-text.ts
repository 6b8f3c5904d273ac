/**
 * A project file's bytes as text, refused when they are not UTF-8. A rules or menu file saved in GBK (what
 * Notepad on a Chinese Windows long saved by default) was read as UTF-8 all the same: every Chinese keyword
 * became replacement characters, the file loaded without a word, and its rules never matched (a menu's
 * button names went to WeChat garbled).
 */

const decoder = new TextDecoder('utf-8', { fatal: true })

export type Utf8Text = { ok: true; text: string } | { ok: false; line: number; column: number; message: string }

export function utf8Text(bytes: Uint8Array): Utf8Text {
  // UTF-16 (Notepad's "Unicode", Windows PowerShell 5's `>`): its BOM was said to be "GBK or another local
  // encoding", and without a BOM its ASCII is valid UTF-8 with a NUL after each letter, which YAML read as a
  // file of no keys ("a rules file is a mapping with rules: ...").
  if (looksLikeUtf16(bytes)) {
    return { ok: false, line: 1, column: 1, message: 'the file is UTF-16 (saved as "Unicode", or by Windows PowerShell 5\'s >), not UTF-8: save it as UTF-8 (with or without a BOM)' }
  }
  try {
    return { ok: true, text: decoder.decode(bytes) }
  } catch {
    const at = firstInvalidByte(bytes)
    const before = new TextDecoder('utf-8').decode(bytes.subarray(0, Math.max(at, 0)))
    const line = before.split('\n').length
    const column = before.length - before.lastIndexOf('\n')
    const byte = at >= 0 ? `byte 0x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')} here` : 'a byte sequence'
    return {
      ok: false,
      line,
      column,
      message: `the file is not UTF-8 (${byte} is not UTF-8; saved as GBK or another local encoding?): save it as UTF-8, or its text would be read garbled`,
    }
  }
}

/**
 * A UTF-16 byte order mark, or NULs in every other byte of the start (a UTF-16 text of ASCII letters, keys
 * and punctuation). No text file of this project holds a NUL, let alone half of its bytes; nor does a push's
 * body (receive/read-request.ts asks this of one that is not UTF-8).
 */
export function looksLikeUtf16(b: Uint8Array): boolean {
  if (b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff))) return true
  const pairs = Math.min(b.length, 256) >> 1
  if (pairs < 2) return false
  let evenNuls = 0
  let oddNuls = 0
  for (let i = 0; i < pairs * 2; i += 2) {
    if (b[i] === 0) evenNuls++
    if (b[i + 1] === 0) oddNuls++
  }
  return Math.max(evenNuls, oddNuls) * 2 >= pairs
}

/**
 * Where the first byte that cannot start or continue a UTF-8 character is; -1 when the fault is subtler (an
 * overlong form, a surrogate), which the decoder refuses and this does not look for: the message then says
 * line 1.
 */
export function firstInvalidByte(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!
    const tail = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1
    if (tail < 0) return i
    for (let k = 1; k <= tail; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i
    i += tail + 1
  }
  return -1
}

/** Where bytes that are not UTF-8 first go wrong, in a reason's words: `byte 0xC4 at offset 211`. */
export function firstNotUtf8(bytes: Uint8Array): string {
  const at = firstInvalidByte(bytes)
  return at >= 0 ? `byte 0x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')} at offset ${at}` : 'a byte sequence'
}
