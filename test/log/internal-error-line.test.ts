/**
 * A bug of ours while handling a request (engine.ts, handle's catch) is answered `success`, and its line is
 * the only word of it: it says why in `reason`, as every failure line does (logger.ts), not only inside the
 * error's stack, so that a search or an alert on `reason` finds it as it finds the others.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness } from '../support/engine-harness.ts'

test("an internal error's line has its code, reason and account", async () => {
  const h = await startHarness()
  try {
    // Never rejects, by its contract: a bug if it does.
    h.runtime.store.log.committed = () => Promise.reject(new TypeError('cannot read properties of undefined'))
    const res = await h.post('plain', push.text('bug-user', 'hello'))
    assert.equal(res.body, 'success')
    const line = h.lines.find((l) => l.code === 'INTERNAL')
    assert.ok(line, 'a line')
    assert.equal(line.account, 'plain')
    assert.equal(line.reason, 'cannot read properties of undefined')
    assert.ok(line.err, 'with the stack')

    // At /wechat (the default account, no id in the path): the line names the account all the same.
    const req = h.sim('plain').request(push.text('bug-user-2', 'hello'))
    const atDefault = await fetch(`${h.url}/wechat?${req.search}`, { method: 'POST', body: req.body, headers: { 'content-type': 'text/xml' } })
    assert.equal(await atDefault.text(), 'success')
    const lines = h.lines.filter((l) => l.code === 'INTERNAL')
    assert.equal(lines.length, 2)
    assert.equal(lines[1]!.account, 'plain', 'the default account, named')
  } finally {
    await h.close()
  }
})
