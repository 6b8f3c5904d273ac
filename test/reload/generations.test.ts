/**
 * Generations and their plugin sets: a reload of rules/ only hands the serving set on to the next generation
 * (runtime.ts). That set must not be retired or disposed while any generation still has it, and must be
 * disposed once none does, at a later reload or at close.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { PluginSet } from '../../core/plugin/plugin-host-types.ts'
import { createGenerations } from '../../core/reload/generations.ts'
import type { RuleSet } from '../../core/route/rule-types.ts'

/** A plugin set that counts what is done to it. */
function fakeSet(name: string) {
  const seen = { disposed: 0, retiredTo: [] as string[] }
  const set = {
    name,
    names: () => [],
    dispose: async () => void (seen.disposed += 1),
    retire: (next: PluginSet & { name?: string }) => void seen.retiredTo.push(next.name ?? '?'),
  } as unknown as PluginSet
  return { set, seen }
}
const rules = {} as RuleSet

it('a set handed on is neither retired nor disposed while a generation has it, and goes with the last one', async () => {
  const a = fakeSet('A')
  const b = fakeSet('B')
  const gens = createGenerations({ rules, plugins: a.set })
  const lease = gens.acquire()
  gens.swap({ rules, plugins: a.set })
  gens.swap({ rules, plugins: a.set })
  assert.deepEqual(a.seen, { disposed: 0, retiredTo: [] }, 'kept through two reloads of rules only')

  gens.swap({ rules, plugins: b.set })
  assert.deepEqual(a.seen.retiredTo, ['B'], 'retired once, to the set that replaced it')
  assert.equal(a.seen.disposed, 0, 'the first generation still holds a lease on it')
  lease.release()
  assert.equal(a.seen.disposed, 1, 'disposed with the last generation that had it')

  await gens.close(1000)
  assert.equal(a.seen.disposed, 1)
  assert.equal(b.seen.disposed, 1, 'the serving set goes at close')
})

it('close disposes a set shared by the serving generation and a retired one once, after both', async () => {
  const a = fakeSet('A')
  const gens = createGenerations({ rules, plugins: a.set })
  const lease = gens.acquire()
  gens.swap({ rules, plugins: a.set })
  const closed = gens.close(5000)
  await new Promise((r) => setTimeout(r, 20))
  assert.equal(a.seen.disposed, 0, 'a message on the old generation still runs')
  lease.release()
  await closed
  assert.equal(a.seen.disposed, 1)
})
