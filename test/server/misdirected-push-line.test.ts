/**
 * A push WeChat signed, sent to a path that is not /wechat or /wechat/<account>: the console's URL, or a proxy's
 * rewrite, is wrong (/WeChat, /wx/wechat, //wechat). It was answered Koa's 404 "Not Found" without a line, so
 * every message of the account was lost and nothing said where they went (a review of bad input). Now it is
 * refused as a request to an unknown account is, with a line saying where pushes are served. A request to an
 * unknown path without WeChat's query (a scanner) stays a quiet 404.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'

describe('a signed push to a path no account is at', () => {
  let h: Harness
  before(async () => {
    h = await startHarness({ rules: { 'main.yaml': 'rules:\n  - name: hello\n    keywords: [hello]\n    reply: { type: text, content: hi }\n' } })
  })
  after(() => h.close())

  for (const path of ['/WeChat/plain', '/wx/wechat/plain', '/', '//wechat/plain']) {
    it(`${path}: 404 UNKNOWN_ACCOUNT, a line saying where pushes go, and a metric`, async () => {
      const before = h.lines.length
      const eventsBefore = h.events.length
      const req = h.sim('plain').request(push.text('u-misdirected', 'hello'))
      const res = await fetch(`${h.url}${path}?${req.search}`, { method: 'POST', body: req.body })
      assert.equal(res.status, 404)
      assert.equal(await res.text(), 'UNKNOWN_ACCOUNT')
      const line = h.lines.slice(before).find((l) => l.code === 'UNKNOWN_ACCOUNT')
      assert.ok(line, JSON.stringify(h.lines.slice(before)))
      assert.equal(line.reason, `a signed WeChat request to ${path}, where no account is: pushes are served at /wechat and /wechat/<account-id> (paths are case-sensitive)`)
      assert.ok(h.events.slice(eventsBefore).some((e) => e.type === 'rejected' && e.code === 'UNKNOWN_ACCOUNT' && e.status === 404))
    })
  }

  it('the endpoint check (GET) too: the console says only "token verification failed"', async () => {
    const before = h.lines.length
    const req = h.sim('plain').request(push.text('u-misdirected', 'hello'))
    const res = await fetch(`${h.url}/WeChat?${req.search}&echostr=e`)
    assert.equal(res.status, 404)
    assert.ok(h.lines.slice(before).some((l) => l.code === 'UNKNOWN_ACCOUNT' && String(l.reason).startsWith('a signed WeChat request to /WeChat,')))
  })

  it('an unknown path without WeChat\'s query stays a quiet 404; /healthz still answers', async () => {
    const before = h.lines.length
    const res = await fetch(`${h.url}/wp-login.php?x=1`, { method: 'POST', body: 'x' })
    assert.equal(res.status, 404)
    assert.equal(await res.text(), 'Not Found')
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200)
    assert.deepEqual(h.lines.slice(before).filter((l) => l.code === 'UNKNOWN_ACCOUNT'), [])
  })
})
