/**
 * Exactly once under generated schedules (fast-check's scheduler): deliveries of a few messages, retried in
 * the same engine and in a second engine on the same store (one with the store's synchronous claim, one
 * across a "network" without it), whose answers come at once, later, or fail, in every order the scheduler
 * picks. Whatever the order: a message's answer is produced at most once; every delivery that gets an answer
 * gets that one; a delivery ends otherwise (an error, or `success` for a retry) only when a run of that
 * message failed; and a message none of whose runs failed is produced exactly once.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from '../support/fast-check.ts'
import { createExactlyOnce, type Delivery } from '../../core/dedup/exactly-once.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'
import type { DedupStore, StoredReply } from '../../core/store/store.ts'

const FALLBACK: StoredReply = { status: 200, contentType: 'text/plain', body: 'success' }

type Outcome = 'at once' | 'later' | 'throws' | 'rejects'
interface Planned {
  key: string
  engine: 0 | 1
  outcome: Outcome
}

const plans = fc.array(
  fc.record({
    key: fc.constantFrom('k0', 'k1', 'k2'),
    engine: fc.constantFrom<0 | 1>(0, 1),
    outcome: fc.constantFrom<Outcome>('at once', 'later', 'later', 'throws', 'rejects'),
  }),
  { minLength: 1, maxLength: 10 },
)

test('any schedule of deliveries, retries and failures across two engines on one store: each answer produced at most once and given to every delivery', async () => {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), plans, async (s, planned: Planned[]) => {
      const store = createMemoryStore()
      const remote: DedupStore = { claim: store.dedup.claim, complete: store.dedup.complete, release: store.dedup.release, peek: store.dedup.peek }
      const options = { replyCacheMs: 30_000, pendingTtlMs: 15_000, waitMs: 60_000, pollMs: 5, fallback: FALLBACK, sleep: () => s.schedule(Promise.resolve()) }
      const engines = [createExactlyOnce({ ...options, dedup: store.dedup }), createExactlyOnce({ ...options, dedup: remote })]

      const produced = new Map<string, string[]>()
      const failedRuns = new Set<string>()
      const ends: Array<{ key: string; delivery?: Delivery; error?: unknown }> = []

      const deliver = (p: Planned, i: number): Promise<void> => {
        const body = `<xml>${p.key} by delivery ${i}</xml>`
        const reply: StoredReply = { status: 200, contentType: 'application/xml', body }
        const succeed = () => produced.set(p.key, [...(produced.get(p.key) ?? []), body])
        const produce = (): StoredReply | Promise<StoredReply> => {
          if (p.outcome === 'at once') return succeed(), reply
          if (p.outcome === 'throws') {
            failedRuns.add(p.key)
            throw new Error(`run ${i} failed`)
          }
          return s.schedule(Promise.resolve()).then(() => {
            if (p.outcome === 'rejects') {
              failedRuns.add(p.key)
              throw new Error(`run ${i} failed later`)
            }
            succeed()
            return reply
          })
        }
        try {
          return Promise.resolve(engines[p.engine].run(p.key, produce)).then(
            (delivery) => void ends.push({ key: p.key, delivery }),
            (error) => void ends.push({ key: p.key, error }),
          )
        } catch (error) {
          ends.push({ key: p.key, error })
          return Promise.resolve()
        }
      }
      // Each delivery arrives when the scheduler says, among the answers of those already running.
      const all = planned.map((p, i) => s.schedule(Promise.resolve(), `delivery ${i} of ${p.key} to engine ${p.engine} (${p.outcome})`).then(() => deliver(p, i)))
      await s.waitFor(Promise.all(all))

      assert.equal(ends.length, planned.length, 'every delivery ended')
      for (const key of new Set(planned.map((p) => p.key))) {
        const bodies = produced.get(key) ?? []
        assert.ok(bodies.length <= 1, `${key} produced ${bodies.length} times: ${bodies.join(', ')}`)
        for (const end of ends.filter((e) => e.key === key)) {
          if (end.delivery && end.delivery.reply !== FALLBACK) assert.equal(end.delivery.reply.body, bodies[0], `${key}: a delivery got another answer`)
          else assert.ok(failedRuns.has(key), `${key} ended with ${end.error ? `an error (${String(end.error)})` : '`success`'} though none of its runs failed`)
        }
        if (!failedRuns.has(key)) assert.equal(bodies.length, 1, `${key} was never produced`)
      }
    }),
    { numRuns: 400 },
  )
})
