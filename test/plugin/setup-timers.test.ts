/**
 * setup's api.every and api.after (core/plugin/sandbox/setup-registry.ts) with delays Node's timers cannot
 * hold: refused at the call, naming it and the value, instead of running the callback at once.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSetupRegistry } from '../../core/plugin/sandbox/setup-registry.ts'

test('a delay past 2^31-1 ms is refused, not run at once: after(a month) fired within milliseconds', async () => {
  const reported: string[] = []
  const registry = createSetupRegistry((what) => reported.push(what))
  let ran = 0
  const month = 30 * 24 * 3600 * 1000
  try {
    assert.throws(() => registry.after(month, () => void ran++), {
      name: 'TypeError',
      message: `after: ms must be at most 2147483647 (about 24.8 days), got ${month}: for a later time, keep the due time in storage and check it with a shorter every`,
    })
    assert.throws(() => registry.every(month, () => void ran++), /^TypeError: every: ms must be at most 2147483647 .*got 2592000000/)
    // The longest delay Node holds is taken.
    registry.after(2 ** 31 - 1, () => void ran++)
    await sleep(30)
    assert.equal(ran, 0)
  } finally {
    assert.deepEqual(await registry.undo(1000), { cleared: 1, unsettled: [] })
  }
  assert.deepEqual(reported, [])
})

test('a delay that is not a number >= 0 is refused naming the value', () => {
  const registry = createSetupRegistry(() => undefined)
  assert.throws(() => registry.every(-1, () => undefined), { message: 'every: ms must be a finite number >= 0, got -1' })
  assert.throws(() => registry.after(Number.NaN, () => undefined), { message: 'after: ms must be a finite number >= 0, got NaN' })
  assert.throws(() => registry.after('10' as unknown as number, () => undefined), { message: 'after: ms must be a finite number >= 0, got "10"' })
})
