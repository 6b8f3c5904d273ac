/**
 * A login's state finishes one login (web-login-endpoint.ts). Its cookie is cleared by the callback, but a
 * client that keeps the cookie (a script, not a browser) could bring it back with each new code WeChat gave for
 * that state, and the engine exchanged every one: one login started, any number finished, each a call to
 * sns/oauth2/access_token. The state is now spent in the store at its callback, before the exchange.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { WEB_CODE_PATH } from '../../core/platform/web-authorization.ts'
import { cookieHeaderFrom } from '../support/cookie-header.ts'
import { startWebLoginEngine, type WebLoginEngine } from '../support/web-login-engine.ts'

let h: WebLoginEngine
before(async () => {
  h = await startWebLoginEngine()
})
after(() => h?.close())

async function get(url: string, cookie = '') {
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} })
  return { status: res.status, location: res.headers.get('location') ?? '', text: await res.text(), cookie: cookieHeaderFrom(res.headers) }
}

test('a state and its kept cookie, back with a second code for the same state: refused, no second exchange', async () => {
  const start = await get(`${h.url}/oauth/main?to=${encodeURIComponent('https://h5.example.com/a')}`)
  assert.equal(start.status, 302)
  const authorize = start.location.split('#')[0]
  const first = await get((await get(authorize)).location, start.cookie)
  assert.equal(first.status, 302)
  assert.match(first.location, /^https:\/\/h5\.example\.com\/a\?wxe_ticket=/)

  // WeChat answers the same authorize URL (the same state) with a fresh code; the client kept the cookie.
  const exchanges = h.fake.requests.filter((r) => r.path === WEB_CODE_PATH).length
  const again = await get((await get(authorize)).location, start.cookie)
  assert.equal(again.status, 400, again.location)
  assert.equal(again.text, 'BAD_QUERY: this login was finished already: open the page again\n')
  assert.equal(h.fake.requests.filter((r) => r.path === WEB_CODE_PATH).length, exchanges, 'the second code was not exchanged')
  const line = h.lines.find((l) => l.msg === 'web login refused: this login was finished already: open the page again')
  assert.equal(line?.account, 'main')
  assert.equal(line?.status, 400)
})
