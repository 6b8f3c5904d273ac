/**
 * A browser keeps few unfinished web logins (login-cookie.ts MAX_PENDING_LOGINS). Found by a web review: each
 * login started set its own cookie of up to ~2.2 KB (a long `to`), none was cleared until it expired, and
 * about seven abandoned ones put the Cookie header past node's 16 KB: every request to /oauth got 431, with
 * no line, for ten minutes. Over real HTTP, with a cookie jar that keeps each cookie at its path as a
 * browser does.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { MAX_PENDING_LOGINS } from '../../core/web/login-cookie.ts'
import { startWebLoginEngine, type WebLoginEngine } from '../support/web-login-engine.ts'

// Near the longest `to` a login takes (MAX_LOGIN_TO, 1500): a cookie of about 2.1 KB.
const LONG_TO = `https://h5.example.com/a?q=${'x'.repeat(1400)}`

let h: WebLoginEngine
before(async () => {
  h = await startWebLoginEngine()
})
after(() => h?.close())

/** A browser's cookies for the engine's host, each at its path (RFC 6265: a name at two paths is two cookies). */
type Jar = Map<string, { name: string; path: string; value: string }>

/** RFC 6265 §5.1.4: the cookie's path is the request's, or a prefix of it ending at a `/`. */
const pathMatches = (cookiePath: string, requestPath: string) =>
  requestPath === cookiePath || (requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'))

async function get(jar: Jar, url: string) {
  const requestPath = new URL(url).pathname
  const toEngine = url.startsWith(h.url)
  const cookie = [...jar.values()].filter((c) => pathMatches(c.path, requestPath)).map((c) => `${c.name}=${c.value}`).join('; ')
  const res = await fetch(url, { redirect: 'manual', headers: toEngine && cookie ? { cookie } : {} })
  if (toEngine) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const name = pair!.slice(0, pair!.indexOf('='))
      const value = pair!.slice(pair!.indexOf('=') + 1)
      const path = attributes.map((a) => /^\s*path=(.*)$/i.exec(a)?.[1]).find((p) => p !== undefined) ?? requestPath
      const gone = value === '' || attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a))
      if (gone) jar.delete(`${path} ${name}`)
      else jar.set(`${path} ${name}`, { name, path, value })
    }
  }
  return { status: res.status, location: res.headers.get('location') ?? '', text: await res.text(), cookieBytes: cookie.length }
}

/** Starts a login at `path` and leaves it (the user closes WeChat's consent): its state. */
async function abandon(jar: Jar, path: string): Promise<string> {
  const start = await get(jar, `${h.url}${path}?to=${encodeURIComponent(LONG_TO)}`)
  assert.equal(start.status, 302, start.text)
  return new URL(start.location).searchParams.get('state')!
}

const logins = (jar: Jar) => [...jar.values()].filter((c) => c.name.startsWith('wxe_login_'))

test('ten abandoned logins with long pages: the browser keeps the newest few, and the next login finishes', async () => {
  const jar: Jar = new Map()
  const states: string[] = []
  for (let i = 0; i < 10; i++) states.push(await abandon(jar, '/oauth/main'))
  assert.deepEqual(
    logins(jar).map((c) => c.name).sort(),
    states.slice(-MAX_PENDING_LOGINS).map((s) => `wxe_login_${s.slice(0, 12)}`).sort(),
  )
  // The last one finishes: its cookie came back with the others, under the header limit.
  const start = await get(jar, `${h.url}/oauth/main?to=${encodeURIComponent(LONG_TO)}`)
  assert.equal(start.status, 302, start.text)
  const back = await get(jar, (await get(jar, start.location.split('#')[0]!)).location)
  assert.equal(back.status, 302, back.text)
  assert.match(back.location, /^https:\/\/h5\.example\.com\/a\?q=x+&wxe_ticket=/)
  const line = h.lines.find((l) => l.account === 'main' && typeof l.msg === 'string' && l.msg.startsWith('web login started with 3 others unfinished in this browser: the oldest 1 forgotten'))
  assert.equal(line?.forgotten, 1, JSON.stringify(h.lines.filter((l) => String(l.msg).startsWith('web login'))))
})

test("a login at /oauth/main clears /oauth's old login cookies at /oauth, where they live", async () => {
  const jar: Jar = new Map()
  for (let i = 0; i < 3; i++) await abandon(jar, '/oauth')
  for (let i = 0; i < 3; i++) await abandon(jar, '/oauth/main')
  // /oauth/main is sent both paths' cookies: still the newest three in all, not three per path.
  assert.equal(logins(jar).length, MAX_PENDING_LOGINS, JSON.stringify(logins(jar).map((c) => c.path)))
  assert.deepEqual(logins(jar).map((c) => c.path), ['/oauth/main', '/oauth/main', '/oauth/main'])
  const back = await get(jar, `${h.url}/oauth/main?to=${encodeURIComponent(LONG_TO)}`)
  assert.ok(back.cookieBytes < 16 * 1024 / 2, `${back.cookieBytes} bytes of cookies`)
})
