/**
 * cookieHeaderFrom (cookie-header.ts): what a browser sends back, from the Set-Cookie lines as the engine
 * writes them and from one without attributes, which the tests' own `slice(0, indexOf(';'))` cut short.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cookieHeaderFrom } from './cookie-header.ts'

const headersWith = (...setCookies: string[]) => {
  const headers = new Headers()
  for (const line of setCookies) headers.append('set-cookie', line)
  return headers
}

test("each Set-Cookie line's name=value, joined, its attributes left out", () => {
  const headers = headersWith('wxe_login_0123456789ab=abc.def; path=/oauth; expires=Thu, 01 Jan 2099 00:00:00 GMT; samesite=lax; httponly', 'b=2; path=/')
  assert.equal(cookieHeaderFrom(headers), 'wxe_login_0123456789ab=abc.def; b=2')
})

test('a line without attributes is kept whole; no Set-Cookie gives an empty header', () => {
  assert.equal(cookieHeaderFrom(headersWith('a=1')), 'a=1')
  assert.equal(cookieHeaderFrom(new Headers()), '')
})
