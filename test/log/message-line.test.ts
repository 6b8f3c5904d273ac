/**
 * The per-message line at debug (message-recorder.ts: `wxengine dev` shows it) names the message's key, as
 * its other lines (reply budget spent, late reply sent, a plugin's failure) and its message-log entry do: the
 * key is what ties them together when one user sends several messages in a second.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness } from '../support/engine-harness.ts'
import { until } from '../support/until.ts'

test("the debug 'message' line has the account, the user and the message's key", async () => {
  const h = await startHarness({ rules: { 'hi.yaml': 'rules:\n  - { name: hi, keywords: [hi], reply: { type: text, content: hello } }\n' } })
  try {
    assert.equal((await h.post('plain', push.text('o-keyed', 'hi'))).reply?.Content, 'hello')
    const line = await until('the message line', () => h.lines.find((l) => l.msg === 'message'))
    const entry = await until('the message event', () => h.events.find((e) => e.type === 'message'))
    assert.equal(line.account, 'plain')
    assert.equal(line.openId, 'o-keyed')
    assert.equal(line.rule, 'hi')
    assert.equal(line.key, entry.type === 'message' ? entry.entry.msgKey : undefined)
    assert.equal(typeof line.key, 'string')
  } finally {
    await h.close()
  }
})
