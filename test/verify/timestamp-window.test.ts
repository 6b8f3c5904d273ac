import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkTimestamp } from '../../core/verify/timestamp-window.ts'

const NOW = 1_700_000_000
const WINDOW = 300

describe('checkTimestamp', () => {
  const inside: Array<[string, number]> = [
    ['now', NOW],
    ['a WeChat retry 15 s later', NOW - 15],
    ['exactly the window in the past', NOW - WINDOW],
    ['exactly the window in the future', NOW + WINDOW],
    ['clock skew ahead', NOW + 42],
  ]
  for (const [what, seconds] of inside) {
    it(`accepts ${what}`, () => {
      assert.deepEqual(checkTimestamp(String(seconds), NOW, WINDOW), { ok: true, value: seconds })
    })
  }

  it('refuses one second past the window, saying how far off', () => {
    const result = checkTimestamp(String(NOW - WINDOW - 1), NOW, WINDOW)
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.equal(result.error.code, 'STALE_TIMESTAMP')
    assert.match(result.error.reason, /301 s in the past/)
    assert.match(result.error.reason, /window 300 s/)
  })

  it('refuses a timestamp from the future beyond the window', () => {
    const result = checkTimestamp(String(NOW + 3600), NOW, WINDOW)
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.equal(result.error.code, 'STALE_TIMESTAMP')
    assert.match(result.error.reason, /3600 s in the future/)
  })

  it('refuses a replay from a day ago', () => {
    const result = checkTimestamp(String(NOW - 86_400), NOW, WINDOW)
    assert.equal(result.ok ? 'ok' : result.error.code, 'STALE_TIMESTAMP')
  })

  it('accepts leading zeros as the same number', () => {
    assert.deepEqual(checkTimestamp(`000${NOW}`, NOW, WINDOW), { ok: true, value: NOW })
  })

  const notIntegers = ['', 'abc', '1.5', `${NOW}.0`, '-5', '+1700000000', ` ${NOW}`, `${NOW} `, '1e9', '0x10', '９', '9'.repeat(30)]
  for (const bad of notIntegers) {
    it(`gives BAD_QUERY for ${JSON.stringify(bad)}`, () => {
      const result = checkTimestamp(bad, NOW, WINDOW)
      assert.equal(result.ok, false)
      if (result.ok) return
      assert.equal(result.error.code, 'BAD_QUERY')
      assert.match(result.error.reason, /not an integer/)
    })
  }

  it('gives BAD_QUERY, not a throw, for a non-string (repeated query parameter)', () => {
    const result = checkTimestamp([String(NOW), String(NOW)] as unknown as string, NOW, WINDOW)
    assert.equal(result.ok ? 'ok' : result.error.code, 'BAD_QUERY')
  })
})
