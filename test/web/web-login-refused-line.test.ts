/**
 * 'web login refused by the user' (web-login-endpoint.ts) comes once per request: a page that sends every
 * visitor to a userinfo login, on a day many decline it, or a script replaying its own login's return,
 * wrote an info line each. It is budgeted per account (log/line-budget.ts): a flood of 25 costs
 * LINES_PER_KEY lines and one count, and another account's first line is still written; every refusal
 * stays counted in wxengine_web_requests_total (outcome user_refused).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { AccountConfig } from '../../core/config/config-types.ts'
import { LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { cookieHeaderFrom } from '../support/cookie-header.ts'
import { startWebLoginEngine, WEB_LOGIN_ACCOUNT, type WebLoginEngine } from '../support/web-login-engine.ts'

const ACCOUNTS: AccountConfig[] = [
  WEB_LOGIN_ACCOUNT,
  { id: 'other', token: 'othertoken', appId: 'wxother000000001', appSecret: 'other-secret', mode: 'plaintext', pageDomains: ['other.example.com'] },
]
const REFUSED = 'web login refused by the user'

let h: WebLoginEngine
before(async () => {
  h = await startWebLoginEngine(ACCOUNTS)
})
after(() => h?.close())

/** A userinfo login started at the account's /oauth, and the user sent back declining it: WeChat returns the state alone. */
async function refusedLogin(account: string, page: string): Promise<void> {
  const start = await fetch(`${h.url}/oauth/${account}?scope=userinfo&to=${encodeURIComponent(page)}`, { redirect: 'manual' })
  assert.equal(start.status, 302)
  const cookie = cookieHeaderFrom(start.headers)
  const authorize = new URL(start.headers.get('location') ?? '')
  const back = new URL(authorize.searchParams.get('redirect_uri') ?? '')
  back.searchParams.set('state', authorize.searchParams.get('state') ?? '')
  const res = await fetch(back, { redirect: 'manual', headers: { cookie } })
  await res.text()
  assert.equal(res.status, 302)
  assert.match(res.headers.get('location') ?? '', /wxe_login=refused/)
}

test("a flood of declined logins costs a budget of lines, and another account's first is still written", async () => {
  for (let i = 0; i < LINES_PER_KEY + 5; i++) await refusedLogin('main', 'https://h5.example.com/a')
  await refusedLogin('other', 'https://other.example.com/b')
  const refused = h.lines.filter((l) => l.msg === REFUSED)
  assert.equal(refused.filter((l) => l.account === 'main').length, LINES_PER_KEY, 'the flood used its budget of lines')
  assert.equal(refused.filter((l) => l.account === 'other').length, 1, "another account's refusal has its own line")
})
