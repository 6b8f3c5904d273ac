/**
 * Copies bytes a plugin passes (`ctx.api.uploadMedia`'s data) out of the sandbox into a Uint8Array of this
 * realm, which crosses to the main thread (or process) as bytes.
 *
 * Two kinds arrive. A Buffer (the sandbox's Buffer is this realm's, behind vm2's bridge) or an ArrayBuffer a
 * Node API made comes back unwrapped: copied at memory speed. A Uint8Array the plugin's own code made is of
 * the sandbox's realm and arrives as a vm2 proxy: reading it here would cross the bridge once per byte (10 MB
 * took minutes), and Node refuses its `.buffer`. Such a value is read inside the sandbox instead, by a
 * function of its realm (REALM_BYTES_SOURCE, evaluated there by load-plugin-module.ts), into a string of
 * one character a byte, which crosses as a plain string.
 */
import { types } from 'node:util'

/**
 * Evaluated in the sandbox as a module: its export takes a value and a bound, and gives the value's bytes
 * as a latin1 string, its size when over the bound, or undefined when it holds no bytes.
 */
export const REALM_BYTES_SOURCE = `
module.exports = function bytesOf(value, max) {
  var u8
  if (value instanceof Uint8Array) u8 = value
  else if (value instanceof ArrayBuffer) u8 = new Uint8Array(value)
  else if (ArrayBuffer.isView(value)) u8 = new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  else return undefined
  if (u8.length > max) return u8.length
  var out = ''
  for (var i = 0; i < u8.length; i += 8192) out += String.fromCharCode.apply(null, u8.subarray(i, i + 8192))
  return out
}
`

export type RealmBytes = (value: unknown, max: number) => string | number | undefined

let realmBytes: RealmBytes = () => undefined

/** The sandbox's reader, once the plugin's sandbox is made (worker-main.ts). */
export function useBytesRealm(reader: RealmBytes): void {
  realmBytes = reader
}

/** A copy of the bytes, `{ over: size }` past `max`, or undefined when the value holds none. */
export function copyBytes(value: unknown, max: number): Uint8Array | { over: number } | undefined {
  if (types.isProxy(value)) {
    const read = realmBytes(value, max)
    if (typeof read === 'number') return { over: read }
    return typeof read === 'string' ? new Uint8Array(Buffer.from(read, 'latin1')) : undefined
  }
  if (ArrayBuffer.isView(value)) {
    if (value.byteLength > max) return { over: value.byteLength }
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice()
  }
  if (value instanceof ArrayBuffer) {
    if (value.byteLength > max) return { over: value.byteLength }
    return new Uint8Array(value.slice(0))
  }
  return undefined
}
