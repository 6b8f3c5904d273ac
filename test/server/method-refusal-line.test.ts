/**
 * A /wechat request with a method other than GET or POST is refused before any account is looked up, so the
 * id in its path is whatever the client put there: up to node's 16 KB of headers. Its line shows that id cut
 * short, as the engine's unknown-account line does, or each such request wrote a line of kilobytes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startHarness } from '../support/engine-harness.ts'

test("a PUT's refusal line shows the path's account id cut short", async () => {
  const h = await startHarness()
  try {
    const id = 'x'.repeat(8000)
    const res = await fetch(`${h.url}/wechat/${id}`, { method: 'PUT', body: '' })
    await res.text()
    assert.equal(res.status, 405)
    const line = h.lines.find((l) => l.code === 'METHOD_NOT_ALLOWED')
    assert.ok(line, 'a refusal line')
    assert.equal(line.reason, 'PUT is not GET or POST')
    assert.equal(typeof line.account, 'string')
    assert.ok((line.account as string).length <= 65, `account shown in ${(line.account as string).length} characters`)
    assert.ok((line.account as string).startsWith('xxxx'))
    assert.ok(JSON.stringify(line).length < 1000)
  } finally {
    await h.close()
  }
})
