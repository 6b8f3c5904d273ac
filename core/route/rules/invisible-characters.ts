/**
 * Characters that take no width and show nothing (docs/rules.md "Invisible characters"), which text copied from
 * a web page, another app or a right-to-left context carries unseen: a user who pastes `帮助\u200b` sees 帮助
 * and must get the `exact: 帮助` rule. The matcher trims them with the spaces, and width folding, which
 * rewrites the whole text anyway, removes them inside it too (fold-text.ts).
 *
 * Left out on purpose: variation selectors (U+FE0F makes ❤ the emoji ❤️) and tag characters (the flag of
 * Scotland ends in them). They belong to the character before them, and keywords are written with them.
 */

/** Soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width space/non-joiner/joiner, LRM, RLM,
 * the bidi embeddings and isolates, word joiner and the invisible operators, and the BOM (zero-width no-break space). */
const INVISIBLE_CLASS = '\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff'

const INVISIBLE_ANYWHERE = new RegExp(`[${INVISIBLE_CLASS}]`, 'g')

/** The same set as INVISIBLE_CLASS, by UTF-16 code unit (all of it is in the BMP). */
export function isInvisible(c: number): boolean {
  if (c < 0xad) return false
  return c === 0xad || c === 0x61c || c === 0x180e || (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069) || c === 0xfeff
}

/** The text without any invisible character (width folding, fold-text.ts and fold-regex.ts). */
export function withoutInvisible(text: string): string {
  return text.replace(INVISIBLE_ANYWHERE, '')
}

/**
 * `String.prototype.trim`, then any mix of spaces and invisible characters left at either end. Plain text
 * pays the trim and two code-unit reads: the loop runs only when an end is invisible.
 */
export function trimForMatching(text: string): string {
  const trimmed = text.trim()
  const last = trimmed.length - 1
  if (last < 0 || (!isInvisible(trimmed.charCodeAt(0)) && !isInvisible(trimmed.charCodeAt(last)))) return trimmed
  let start = 0
  let end = trimmed.length
  while (start < end && isBlank(trimmed.charCodeAt(start))) start++
  while (end > start && isBlank(trimmed.charCodeAt(end - 1))) end--
  return trimmed.slice(start, end)
}

/** The start of the text as trimForMatching leaves it (a `prefix` keyword must not start with what it trims). */
export function trimStartForMatching(text: string): string {
  let start = 0
  while (start < text.length && isBlank(text.charCodeAt(start))) start++
  return text.slice(start)
}

/**
 * A keyword as a message quotes it: JSON, with each invisible character written as its escape (`"帮助\u200b"`),
 * or the message would show a keyword that looks right and say it is wrong.
 */
export function shownKeyword(keyword: string): string {
  return JSON.stringify(keyword).replace(INVISIBLE_ANYWHERE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function isBlank(c: number): boolean {
  return isInvisible(c) || String.fromCharCode(c).trim() === ''
}
