/**
 * Prometheus metrics, fed by the engine's events. A registry per runtime (not prom-client's global one),
 * so several engines in one process (tests, the test kit) never share counters.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { EngineEvent } from '../engine.ts'

export interface Metrics {
  registry: Registry
  observe(event: EngineEvent): void
  reloads: Counter<'outcome'>
  render(): Promise<string>
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'wxengine_' })
  // Counted once per message: tallied in a Map, copied into prom-client when scraped (see tally()).
  const requests = tally(registry, 'wxengine_requests_total', 'Requests by outcome', ['outcome', 'code'])
  const messages = tally(registry, 'wxengine_messages_total', 'Messages handled, by account, kind, handler and outcome', ['account', 'kind', 'handled_by', 'outcome'])
  const replies = tally(registry, 'wxengine_replies_total', 'Replies by type', ['type'])
  const ruleHits = tally(registry, 'wxengine_rule_hits_total', 'Rule hits', ['account', 'rule'])
  const pluginErrors = new Counter({ name: 'wxengine_plugin_errors_total', help: 'Plugin errors and timeouts', labelNames: ['plugin', 'code'] as const, registers: [registry] })
  const dedupHits = new Counter({ name: 'wxengine_dedup_hits_total', help: 'Duplicate deliveries answered from the reply cache', labelNames: ['account'] as const, registers: [registry] })
  const lateReplies = new Counter({ name: 'wxengine_late_replies_total', help: 'Replies sent after the passive budget', labelNames: ['account', 'type'] as const, registers: [registry] })
  const latency = new Histogram({
    name: 'wxengine_message_latency_seconds',
    help: 'Time from request to passive answer',
    labelNames: ['handled_by'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 4.5],
    registers: [registry],
  })
  const reloads = new Counter({ name: 'wxengine_reloads_total', help: 'Hot reloads by outcome', labelNames: ['outcome'] as const, registers: [registry] })

  return {
    registry,
    reloads,
    render: () => registry.metrics(),
    observe(event) {
      switch (event.type) {
        case 'message': {
          const e = event.entry
          requests.add('accepted', '')
          messages.add(e.account, e.kind, e.handledBy, e.outcome)
          if (e.replyType) replies.add(e.replyType)
          if (e.rule) ruleHits.add(e.account, e.rule)
          if (e.outcome !== 'late') latency.observe({ handled_by: e.handledBy }, e.latencyMs / 1000)
          break
        }
        case 'rejected':
          requests.add('rejected', event.code)
          break
        case 'duplicate':
          requests.add('duplicate', '')
          dedupHits.inc({ account: event.account })
          break
        case 'plugin_error':
          pluginErrors.inc({ plugin: event.plugin, code: event.code })
          break
        case 'late_reply':
          lateReplies.inc({ account: event.account, type: event.replyType })
          break
        default: {
          const never: never = event
          throw new Error(`unknown engine event ${JSON.stringify(never)}`)
        }
      }
    },
  }
}

/**
 * A counter for the per-message path. prom-client's inc() validates and hashes its label object on every
 * call; here a call is one Map lookup keyed by the label values, and the counts are handed to prom-client
 * (reset, then set) only when /metrics is scraped.
 */
function tally(registry: Registry, name: string, help: string, labelNames: string[]): { add(...values: string[]): void } {
  const counts = new Map<string, { labels: Record<string, string>; n: number }>()
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset()
      for (const c of counts.values()) this.inc(c.labels, c.n)
    },
  })
  return {
    add(...values) {
      const key = values.join('\u0000')
      const c = counts.get(key)
      if (c) c.n++
      else counts.set(key, { labels: Object.fromEntries(labelNames.map((l, i) => [l, values[i]])), n: 1 })
    },
  }
}
