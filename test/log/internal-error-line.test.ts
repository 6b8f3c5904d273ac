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
  } finally {
    await h.close()
  }
})
