import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { randomBytesFromPool } from '../../core/verify/random-pool.ts'

describe('randomBytesFromPool', () => {
  it('gives the asked number of bytes, never the same bytes twice, across pool refills', () => {
    const seen = new Set<string>()
    // 16-byte draws well past several 4096-byte pools, with odd sizes in between to cross pool boundaries.
    for (let i = 0; i < 2000; i++) {
      const n = i % 7 === 0 ? 13 : 16
      const bytes = randomBytesFromPool(n)
      assert.equal(bytes.length, n)
      const hex = bytes.toString('hex')
      assert.ok(!seen.has(hex), `draw ${i} repeated an earlier one`)
      seen.add(hex)
    }
  })

  it('never hands out bytes that a later draw overwrites', () => {
    const first = randomBytesFromPool(16)
    const copy = Buffer.from(first)
    for (let i = 0; i < 1000; i++) randomBytesFromPool(16) // several refills
    assert.deepEqual(first, copy)
  })

  it('looks random: over 64 KiB every byte value appears and none dominates', () => {
    const counts = new Array<number>(256).fill(0)
    for (let i = 0; i < 4096; i++) for (const b of randomBytesFromPool(16)) counts[b]++
    // 65536 bytes, 256 expected per value; a stuck or zeroed pool fails at once.
    assert.ok(Math.min(...counts) > 150 && Math.max(...counts) < 380, `byte counts ${Math.min(...counts)}..${Math.max(...counts)}`)
  })

  it('refuses more than one pool at once', () => {
    assert.throws(() => randomBytesFromPool(4097), RangeError)
  })
})
