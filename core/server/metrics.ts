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
  const requests = new Counter({ name: 'wxengine_requests_total', help: 'Requests by outcome', labelNames: ['outcome', 'code'] as const, registers: [registry] })
  const messages = new Counter({ name: 'wxengine_messages_total', help: 'Messages handled, by account, kind, handler and outcome', labelNames: ['account', 'kind', 'handled_by', 'outcome'] as const, registers: [registry] })
  const replies = new Counter({ name: 'wxengine_replies_total', help: 'Replies by type', labelNames: ['type'] as const, registers: [registry] })
  const ruleHits = new Counter({ name: 'wxengine_rule_hits_total', help: 'Rule hits', labelNames: ['account', 'rule'] as const, registers: [registry] })
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
          requests.inc({ outcome: 'accepted', code: '' })
          messages.inc({ account: e.account, kind: e.kind, handled_by: e.handledBy, outcome: e.outcome })
          if (e.replyType) replies.inc({ type: e.replyType })
          if (e.rule) ruleHits.inc({ account: e.account, rule: e.rule })
          if (e.outcome !== 'late') latency.observe({ handled_by: e.handledBy }, e.latencyMs / 1000)
          break
        }
        case 'rejected':
          requests.inc({ outcome: 'rejected', code: event.code })
          break
        case 'duplicate':
          requests.inc({ outcome: 'duplicate', code: '' })
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
