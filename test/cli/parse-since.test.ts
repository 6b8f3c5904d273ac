/**
 * `wxengine log --since` (core/cli/commands/log.ts parseSince): a duration ago, or a date in local time,
 * whether a time is given or not. Run in a child process with TZ set, so the zone is known.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { test } from 'node:test'

const inZone = (tz: string, values: string[]): Array<number | null> =>
  JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', '-e', `import('./core/cli/commands/log.ts').then((m) => console.log(JSON.stringify(${JSON.stringify(values)}.map((v) => m.parseSince(v, 1_000_000_000_000) ?? null))))`], {
      env: { ...process.env, TZ: tz },
      encoding: 'utf8',
    }),
  ) as Array<number | null>

test('a date alone and a date with a time are both local time', () => {
  const [dateOnly, midnight, eight, utc, offset] = inZone('Asia/Shanghai', ['2026-05-01', '2026-05-01T00:00', '2026-05-01T08:00', '2026-05-01T00:00Z', '2026-05-01T00:00+08:00'])
  assert.equal(dateOnly, Date.UTC(2026, 3, 30, 16), 'local midnight in UTC+8')
  assert.equal(midnight, dateOnly)
  assert.equal(eight, Date.UTC(2026, 4, 1, 0))
  assert.equal(utc, Date.UTC(2026, 4, 1, 0))
  assert.equal(offset, Date.UTC(2026, 3, 30, 16))
})

test('durations count back from now; anything else is refused', () => {
  assert.deepEqual(inZone('UTC', ['30s', '10m', '2h', '7d', 'yesterday', '2026-13-45']), [1_000_000_000_000 - 30_000, 1_000_000_000_000 - 600_000, 1_000_000_000_000 - 7_200_000, 1_000_000_000_000 - 604_800_000, null, null])
})

test('a day the month does not have, or a time past the day, is refused rather than rolled over', () => {
  // Date.parse read 2026-02-30 as March 2 and 2026-04-31 as May 1: a typo silently moved the window.
  assert.deepEqual(inZone('UTC', ['2026-02-30', '2026-04-31', '2026-02-29', '2026-05-01T24:00', '2026-05-01T08:60', '2026-05-01junk', '2026-05-01T08']), [null, null, null, null, null, null, null])
  assert.deepEqual(inZone('UTC', ['2028-02-29', '2026-12-31T23:59:59', '2026-05-01 08:00']), [Date.UTC(2028, 1, 29), Date.UTC(2026, 11, 31, 23, 59, 59), Date.UTC(2026, 4, 1, 8)])
})
