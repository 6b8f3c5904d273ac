/**
 * The line an unsubscribe's failed clean-up leaves (engine.ts, cleanUpOnUnsubscribe) names whose it was: the
 * account and the user, and the message's key, as every other failure line of a message does. Without the
 * account an operator of several accounts could not tell which one's store refused the delete.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness } from '../support/engine-harness.ts'
import { until } from '../support/until.ts'

test("a failed clean-up on unsubscribe says the account, the user and the message's key", async () => {
  const h = await startHarness()
  try {
    h.runtime.store.sessions.delete = async () => {
      throw new Error('disk I/O error')
    }
    const res = await h.post('compat', push.event('leaving-user', 'unsubscribe'))
    assert.equal(res.status, 200)
    const line = await until('the clean-up failure line', () => h.lines.find((l) => l.msg === 'clean-up on unsubscribe failed'))
    assert.equal(line.code, 'STORE_UNAVAILABLE')
    assert.equal(line.reason, 'disk I/O error')
    assert.equal(line.openId, 'leaving-user')
    assert.equal(line.account, 'compat')
    const entry = await until('the message event', () => h.events.find((e) => e.type === 'message'))
    assert.equal(line.key, entry.type === 'message' ? entry.entry.msgKey : undefined)
  } finally {
    await h.close()
  }
})

test('a wave of unsubscribes: the purge line and the failure line each cost their budget of lines', async () => {
  const h = await startHarness({ config: { log: { purgeOnUnsubscribe: true } } })
  try {
    const wave = async (prefix: string) => {
      for (let i = 0; i < LINES_PER_KEY + 5; i++) assert.equal((await h.post('compat', push.event(`${prefix}-${i}`, 'unsubscribe'))).status, 200)
      await h.runtime.engine.idle()
    }
    await wave('gone')
    const purged = h.lines.filter((l) => l.msg === 'purged user data on unsubscribe' && l.held === undefined)
    assert.equal(purged.length, LINES_PER_KEY)
    assert.equal(purged[0]!.account, 'compat')
    assert.equal(purged[0]!.openId, 'gone-0')
    assert.equal(typeof purged[0]!.key, 'string')

    h.runtime.store.sessions.delete = async () => {
      throw new Error('disk I/O error')
    }
    await wave('failing')
    assert.equal(h.lines.filter((l) => l.msg === 'clean-up on unsubscribe failed').length, LINES_PER_KEY)
  } finally {
    await h.close()
  }
})
