/**
 * core/plugin/turn-slicer.ts: a plugin's requests to the main thread run a slice of a turn at a time, in
 * order; cheap ones all at once. The clock is fake: each task says how long it "took".
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTurnSlicer } from '../../core/plugin/turn-slicer.ts'

/** Runs `count` tasks of `costMs` each, all queued in one turn; returns the turn each ran in. */
async function turnsOf(count: number, costMs: number, sliceMs: number): Promise<number[]> {
  let clock = 0
  const slicer = createTurnSlicer(sliceMs, () => clock)
  let turn = 0
  const ranIn: number[] = []
  const order: number[] = []
  // A ticker queued before the slicer's first turn: in each turn of the loop it runs first.
  let ticking = true
  const tick = () => {
    turn++
    clock += 0.001
    if (ticking) setImmediate(tick)
  }
  setImmediate(tick)
  for (let i = 0; i < count; i++) {
    slicer.run(() => {
      order.push(i)
      ranIn.push(turn)
      clock += costMs
    })
  }
  while (ranIn.length < count) await new Promise((r) => setTimeout(r, 1))
  ticking = false
  assert.deepEqual(order, [...Array(count).keys()], 'in the order they were made')
  assert.equal(slicer.queued, 0)
  return ranIn
}

test('cheap requests all run at once, in the turn they arrive', async () => {
  const turns = await turnsOf(200, 0.001, 4)
  assert.ok(turns.every((t) => t === 0), JSON.stringify(turns))
})

test('expensive requests are spread over turns: at most a slice of them a turn, at least one', async () => {
  const turns = await turnsOf(20, 3, 4) // 3 ms each, 4 ms a slice: two a turn (the second starts in time)
  const perTurn = new Map<number, number>()
  for (const t of turns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1)
  assert.ok([...perTurn.values()].every((n) => n <= 2), JSON.stringify([...perTurn]))
  assert.ok(perTurn.size >= 10, `${perTurn.size} turns`)
  // A task longer than the slice still runs, one a turn.
  const long = await turnsOf(5, 50, 4)
  assert.equal(new Set(long).size, 5, JSON.stringify(long))
})

test('a request made while others wait goes after them, not before', async () => {
  let clock = 0
  const slicer = createTurnSlicer(4, () => clock)
  const order: string[] = []
  for (const name of ['a', 'b', 'c']) slicer.run(() => { order.push(name); clock += 5 })
  slicer.run(() => order.push('d'))
  assert.deepEqual(order, ['a'])
  while (order.length < 4) await new Promise((r) => setImmediate(r))
  assert.deepEqual(order, ['a', 'b', 'c', 'd'])
})
