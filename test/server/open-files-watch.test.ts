/**
 * The open-files watch (core/server/open-files-watch.ts): what it says as the count climbs to the limit,
 * stays there and comes back, driven by a count and a clock given to it. The real thing, a process at its
 * limit dropping connections, is in test/e2e/open-files-limit.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { readSoftLimit, watchOpenFiles } from '../../core/server/open-files-watch.ts'

/** A watch over a count the test sets, with a limit of 100 and a clock the test moves. */
function watched(limit: number | null = 100) {
  const { logger, lines } = createMemoryLogger('debug')
  let count: number | 'EMFILE' = 10
  let t = 1_000_000
  const watch = watchOpenFiles({ log: logger, everyMs: 3_600_000, limit: () => limit, countOpen: async () => count, now: () => t })
  const at = async (n: number | 'EMFILE', clock = t) => {
    count = n
    t = clock
    const before = lines.length
    await watch.sample()
    return lines.slice(before)
  }
  return { at, lines, close: () => watch.close() }
}

describe('open-files watch', () => {
  it('says nothing while the count stays under the warning share', async () => {
    const w = watched()
    for (const n of [10, 50, 79, 40]) assert.deepEqual(await w.at(n), [])
    w.close()
  })

  it('warns once when the count passes 80 % of the limit, and says when it is back under 70 %', async () => {
    const w = watched()
    const warned = await w.at(80)
    assert.equal(warned.length, 1)
    assert.equal(warned[0].level, 40)
    assert.equal(warned[0].open, 80)
    assert.equal(warned[0].limit, 100)
    assert.match(String(warned[0].msg), /80 of 100 \(80 %\)/)
    // Still high, or in the gap between 70 % and 80 %: no line every second.
    assert.deepEqual(await w.at(90), [])
    assert.deepEqual(await w.at(75), [])
    assert.deepEqual(await w.at(85), [])
    const back = await w.at(60)
    assert.equal(back.length, 1)
    assert.equal(back[0].level, 30)
    assert.match(String(back[0].msg), /back to 60 of 100/)
    assert.deepEqual(await w.at(50), [])
    w.close()
  })

  it('at the limit: FD_EXHAUSTED at once, again every 10 s while it lasts, and a line when it is over', async () => {
    const w = watched()
    // The count's own directory handle is one of the files: limit - 1 counted is the limit.
    const first = await w.at(99, 0)
    assert.equal(first.length, 1)
    assert.equal(first[0].level, 50)
    assert.equal(first[0].code, 'FD_EXHAUSTED')
    assert.equal(first[0].limit, 100)
    assert.match(String(first[0].msg), /dropping new connections/)
    assert.deepEqual(await w.at(99, 5_000), [], 'not repeated within 10 s')
    const again = await w.at(100, 10_000)
    assert.equal(again.length, 1)
    assert.equal(again[0].code, 'FD_EXHAUSTED')
    assert.equal(again[0].seconds, 10)
    assert.deepEqual(await w.at(99, 15_000), [])
    assert.equal((await w.at(99, 20_000))[0]?.seconds, 20)
    // Down to high: said, so the error is known to be over; then back under 70 %.
    const under = await w.at(90, 21_000)
    assert.equal(under.length, 1)
    assert.equal(under[0].level, 40)
    assert.match(String(under[0].msg), /under the limit again \(90 of 100\) after 21 s at it/)
    assert.equal((await w.at(30, 22_000))[0]?.level, 30)
    w.close()
  })

  it('from the limit into the gap between 70 % and 80 %: said, and a later return to the limit is a new episode', async () => {
    const w = watched()
    await w.at(100, 0)
    const gap = await w.at(75, 3_000)
    assert.equal(gap.length, 1)
    assert.match(String(gap[0].msg), /under the limit again \(75 of 100\) after 3 s/)
    const again = await w.at(100, 50_000)
    assert.equal(again.length, 1)
    assert.equal(again[0].code, 'FD_EXHAUSTED')
    assert.equal(again[0].seconds, undefined, 'a new episode, not "still at the limit"')
    assert.equal((await w.at(10, 52_000))[0]?.msg, 'open files back to 10 of 100, after 2 s at the limit')
    w.close()
  })

  it('a count that cannot even open its directory (EMFILE) is the limit', async () => {
    const w = watched()
    const lines = await w.at('EMFILE')
    assert.equal(lines.length, 1)
    assert.equal(lines[0].code, 'FD_EXHAUSTED')
    assert.equal(lines[0].open, 100)
    const back = await w.at(20)
    assert.equal(back.length, 1)
    assert.match(String(back[0].msg), /back to 20 of 100/)
    w.close()
  })

  it('jumping straight from low to the limit gives the error, not the warning', async () => {
    const w = watched()
    const lines = await w.at(100)
    assert.deepEqual(
      lines.map((l) => l.code ?? l.level),
      ['FD_EXHAUSTED'],
    )
    w.close()
  })

  it('with no limit to watch it says so at debug and never counts', async () => {
    const { logger, lines } = createMemoryLogger('debug')
    let counted = 0
    const watch = watchOpenFiles({ log: logger, limit: () => null, countOpen: async () => ++counted })
    await watch.sample()
    watch.close()
    assert.equal(counted, 0)
    assert.equal(lines.length, 1)
    assert.equal(lines[0].level, 20)
    assert.match(String(lines[0].msg), /not watched/)
  })

  it('a count still running is not stacked on', async () => {
    const { logger } = createMemoryLogger('debug')
    let calls = 0
    let release!: (n: number) => void
    const watch = watchOpenFiles({
      log: logger,
      everyMs: 3_600_000,
      limit: () => 100,
      countOpen: () => {
        calls++
        return new Promise<number>((r) => (release = r))
      },
    })
    const first = watch.sample()
    await watch.sample()
    assert.equal(calls, 1)
    release(5)
    await first
    const third = watch.sample()
    assert.equal(calls, 2)
    release(5)
    await third
    watch.close()
  })

  it('counts this process for real on Linux: more than stdin, stdout and stderr, under the limit', async () => {
    const { logger, lines } = createMemoryLogger('debug')
    const limit = readSoftLimit()
    if (limit === null) return // not Linux, or no limit: covered by the case above
    const watch = watchOpenFiles({ log: logger, everyMs: 3_600_000 })
    await watch.sample()
    watch.close()
    assert.deepEqual(lines, [], 'a test process is far from its limit')
  })
})

describe('readSoftLimit', () => {
  const limits = (soft: string, hard: string) =>
    [
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max cpu time              unlimited            unlimited            seconds   ',
      `Max open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     `,
      'Max locked memory         8388608              8388608              bytes     ',
    ].join('\n')

  it('reads the soft limit, not the hard one', () => {
    assert.equal(readSoftLimit(limits('1024', '524288')), 1024)
  })
  it('unlimited, missing or garbled: null (nothing to watch)', () => {
    assert.equal(readSoftLimit(limits('unlimited', 'unlimited')), null)
    assert.equal(readSoftLimit('Max cpu time unlimited unlimited seconds'), null)
    assert.equal(readSoftLimit(limits('lots', '10')), null)
  })
})
