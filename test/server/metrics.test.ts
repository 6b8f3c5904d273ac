/**
 * The per-message metrics are tallied outside prom-client (core/server/metrics.ts) and handed to it when
 * scraped. The latency histogram must render exactly as prom-client's own Histogram fed the same samples.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Histogram, Registry } from 'prom-client'
import { createMetrics } from '../../core/server/metrics.ts'
import type { MessageLogEntry } from '../../core/store/store.ts'

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 4.5]

const entry = (handledBy: MessageLogEntry['handledBy'], latencyMs: number, outcome: MessageLogEntry['outcome'] = 'replied'): MessageLogEntry => ({
  at: 0, account: 'a', openId: 'o', kind: 'text', msgKey: 'k', handledBy, latencyMs, outcome,
})

/** The lines of one metric family in a scrape. */
function family(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}_`) || l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `))
}

describe('metrics', () => {
  it('the latency histogram renders as prom-client\'s Histogram: cumulative buckets, +Inf, sum and count per handler', async () => {
    const samples: Array<[MessageLogEntry['handledBy'], number]> = [
      ['rule', 0.2], ['rule', 0.5], ['rule', 3], ['rule', 4600], ['default', 0.7], ['rule', 12], ['default', 2500],
    ]
    const metrics = createMetrics({ defaultMetrics: false })
    const reference = new Registry()
    const histogram = new Histogram({ name: 'wxengine_message_latency_seconds', help: 'Time from request to passive answer', labelNames: ['handled_by'], buckets: BUCKETS, registers: [reference] })
    for (const [handledBy, ms] of samples) {
      metrics.observe({ type: 'message', entry: entry(handledBy, ms) })
      histogram.observe({ handled_by: handledBy }, ms / 1000)
    }
    // A late answer is not a passive one: in neither.
    metrics.observe({ type: 'message', entry: entry('rule', 9000, 'late') })
    const ours = family(await metrics.render(), 'wxengine_message_latency_seconds')
    assert.deepEqual(ours, family(await reference.metrics(), 'wxengine_message_latency_seconds'))
    assert.ok(ours.includes('wxengine_message_latency_seconds_bucket{le="0.005",handled_by="rule"} 3'), ours.join('\n'))
    assert.ok(ours.includes('wxengine_message_latency_seconds_bucket{le="+Inf",handled_by="rule"} 5'), ours.join('\n'))
    assert.ok(ours.includes('wxengine_message_latency_seconds_count{handled_by="default"} 2'), ours.join('\n'))
  })

  it('resetMetrics() empties the tallied histogram too', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.observe({ type: 'message', entry: entry('rule', 1) })
    metrics.registry.resetMetrics()
    assert.deepEqual(family(await metrics.render(), 'wxengine_message_latency_seconds').filter((l) => !l.startsWith('#')), [])
  })
})
