/**
 * Reading typed values out of RawFields. A value is usable only in the exact form the platform sends;
 * anything else is `undefined` and the caller decides (protocol.md §3: ids stay strings, numbers must
 * not lose precision, repeated elements are arrays).
 */
import type { RawFields, RawValue } from './message-types.ts'

/** Digits kept below 2^53 (9007199254740992, 16 digits), so an accepted integer is always exact. */
const MAX_INT_DIGITS = 15

export function textOf(value: RawValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** An element with child elements; an empty element (`<A/>`, `''`) reads as no children. */
export function objectOf(value: RawValue | undefined): RawFields | undefined {
  if (value === undefined || typeof value === 'string' || Array.isArray(value)) return undefined
  return value
}

/** Repeated or not, as an array: absent -> [], one -> [it], repeated -> all in order. */
export function listOf(value: RawValue | undefined): RawValue[] {
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

/** A decimal integer, optionally signed, surrounding whitespace allowed; at most 15 digits. */
export function intOf(value: RawValue | undefined): number | undefined {
  if (typeof value !== 'string') return undefined
  let start = 0
  let end = value.length
  while (start < end && isSpace(value.charCodeAt(start))) start++
  while (end > start && isSpace(value.charCodeAt(end - 1))) end--
  let i = start
  if (i < end && (value.charCodeAt(i) === 45 || value.charCodeAt(i) === 43)) i++
  if (i === end || end - i > MAX_INT_DIGITS) return undefined
  for (let k = i; k < end; k++) if (!isDigit(value.charCodeAt(k))) return undefined
  return Number(value.slice(start, end))
}

/** A decimal number (`23.134521`, `-1`, `1e3`), surrounding whitespace allowed; no hex, no Infinity. */
export function floatOf(value: RawValue | undefined): number | undefined {
  if (typeof value !== 'string') return undefined
  let start = 0
  let end = value.length
  while (start < end && isSpace(value.charCodeAt(start))) start++
  while (end > start && isSpace(value.charCodeAt(end - 1))) end--
  let i = start
  if (i < end && (value.charCodeAt(i) === 45 || value.charCodeAt(i) === 43)) i++
  let digits = 0
  while (i < end && isDigit(value.charCodeAt(i))) (i++, digits++)
  if (i < end && value.charCodeAt(i) === 46) {
    i++
    while (i < end && isDigit(value.charCodeAt(i))) (i++, digits++)
  }
  if (digits === 0) return undefined
  if (i < end && (value.charCodeAt(i) | 32) === 101) {
    i++
    if (i < end && (value.charCodeAt(i) === 45 || value.charCodeAt(i) === 43)) i++
    const expStart = i
    while (i < end && isDigit(value.charCodeAt(i))) i++
    if (i === expStart) return undefined
  }
  if (i !== end) return undefined
  const n = Number(value.slice(start, end))
  return Number.isFinite(n) ? n : undefined
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9
}
