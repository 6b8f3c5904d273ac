/**
 * Prometheus metrics, fed by the engine's events. A registry per runtime (not prom-client's global one),
 * so several engines in one process (tests, the test kit) never share counters.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric as PromMetric } from 'prom-client'
import type { EngineEvent } from '../engine.ts'

export interface Metrics {
  registry: Registry
  observe(event: EngineEvent): void
  reloads: Counter<'outcome'>
  /** What pages ask of core/web/: by endpoint, account and outcome (`ok`, `user_refused` or the error code). */
  webRequests: Counter<'endpoint' | 'account' | 'outcome'>
  render(): Promise<string>
}

export interface MetricsOptions {
  defaultMetrics?: boolean
  /** Per account, the media files the live rules have no media_id for (read when scraped). */
  mediaFilesMissing?: () => ReadonlyMap<string, number>
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry()
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'wxengine_' })
  // Counted once per message: tallied in a Map, copied into prom-client when scraped (see tally()).
  const requests = tally(registry, 'wxengine_requests_total', 'Requests by outcome', ['outcome', 'code'])
  const messages = tally(registry, 'wxengine_messages_total', 'Messages handled, by account, kind, handler and outcome', ['account', 'kind', 'handled_by', 'outcome'])
  const replies = tally(registry, 'wxengine_replies_total', 'Replies by type', ['type'])
  const ruleHits = tally(registry, 'wxengine_rule_hits_total', 'Rule hits', ['account', 'rule'])
  const pluginErrors = new Counter({ name: 'wxengine_plugin_errors_total', help: 'Plugin errors and timeouts', labelNames: ['plugin', 'code'] as const, registers: [registry] })
  const dedupHits = new Counter({ name: 'wxengine_dedup_hits_total', help: 'Duplicate deliveries answered from the reply cache', labelNames: ['account'] as const, registers: [registry] })
  const lateReplies = new Counter({
    name: 'wxengine_late_replies_total',
    help: 'Replies sent through the API after the passive budget, by how the send ended',
    labelNames: ['account', 'type', 'outcome'] as const,
    registers: [registry],
  })
  // Not messages_total{outcome="late"}: that counts a message once it ended, with a late reply; this counts
  // every message its plugin kept past the budget (one that then failed or answered nothing too), by plugin.
  const budgetSpent = new Counter({
    name: 'wxengine_reply_budget_spent_total',
    help: 'Messages answered success at the reply budget, their reply left to go out late, by the plugin still working',
    labelNames: ['account', 'plugin'] as const,
    registers: [registry],
  })
  const latency = tallyHistogram(
    registry,
    'wxengine_message_latency_seconds',
    'Time from request to passive answer',
    'handled_by',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 4.5],
  )
  const reloads = new Counter({ name: 'wxengine_reloads_total', help: 'Hot reloads by outcome', labelNames: ['outcome'] as const, registers: [registry] })
  const webRequests = new Counter({ name: 'wxengine_web_requests_total', help: 'Requests of pages inside WeChat (JS-SDK signatures, web logins) by endpoint, account and outcome', labelNames: ['endpoint', 'account', 'outcome'] as const, registers: [registry] })
  // Its own counter rather than plugin_errors_total: a media_id is an account's own (one account without an
  // appSecret, or out of quota, fails alone), which that counter cannot tell; and no plugin failed.
  const mediaUnavailable = new Counter({
    name: 'wxengine_media_unavailable_total',
    help: 'Messages a rule could not answer because its media file has no media_id for the account (MEDIA_UNAVAILABLE)',
    labelNames: ['account', 'rule'] as const,
    registers: [registry],
  })
  const mediaUploadFailures = new Counter({
    name: 'wxengine_media_upload_failures_total',
    help: 'Uploads of media files as permanent material that failed, at a load or a retry',
    labelNames: ['account'] as const,
    registers: [registry],
  })

  // A state, not an event: the counters above say something failed, this says whether it still does, so an
  // alert on it clears once an upload succeeds. Read from the live rule set at each scrape.
  const mediaFilesMissing = opts.mediaFilesMissing
  if (mediaFilesMissing) {
    new Gauge({
      name: 'wxengine_media_files_missing',
      help: 'Media files the live rules name that have no media_id for the account (their rules answer as failing ones do)',
      labelNames: ['account'] as const,
      registers: [registry],
      collect() {
        this.reset()
        for (const [account, n] of mediaFilesMissing()) this.set({ account }, n)
      },
    })
  }

  return {
    registry,
    reloads,
    webRequests,
    render: () => registry.metrics(),
    observe(event) {
      switch (event.type) {
        case 'message': {
          const e = event.entry
          requests.add('accepted', '')
          messages.add(e.account, e.kind, e.handledBy, e.outcome)
          if (e.replyType) replies.add(e.replyType)
          if (e.rule) ruleHits.add(e.account, e.rule)
          if (e.outcome !== 'late') latency.observe(e.handledBy, e.latencyMs / 1000)
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
        case 'budget_spent':
          budgetSpent.inc({ account: event.account, plugin: event.plugin ?? '' })
          break
        case 'late_reply':
          lateReplies.inc({ account: event.account, type: event.reply.type, outcome: event.outcome })
          break
        case 'media_unavailable':
          mediaUnavailable.inc({ account: event.account, rule: event.rule })
          break
        case 'media_upload_failed':
          mediaUploadFailures.inc({ account: event.account })
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

/**
 * A one-label histogram for the per-message path, for the reason tally() exists: prom-client's observe()
 * validates and hashes its label object on every call (about 1.5 % of the server's time under load). Here
 * an observation is a Map lookup, a bucket search and three additions. The registry renders it exactly as
 * prom-client's own Histogram: cumulative `_bucket` series with `le` (then `+Inf`), `_sum` and `_count`.
 */
function tallyHistogram(registry: Registry, name: string, help: string, labelName: string, upperBounds: number[]): { observe(label: string, value: number): void } {
  const series = new Map<string, { perBucket: number[]; sum: number; count: number }>()
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: Array<{ labels: Record<string, string | number>; sharedLabels: Record<string, string>; value: number; metricName: string }> = []
      for (const [label, s] of series) {
        const shared = { [labelName]: label }
        let cumulative = 0
        upperBounds.forEach((le, i) => {
          cumulative += s.perBucket[i]
          values.push({ labels: { le }, sharedLabels: shared, value: cumulative, metricName: `${name}_bucket` })
        })
        values.push({ labels: { le: '+Inf' }, sharedLabels: shared, value: s.count, metricName: `${name}_bucket` })
        values.push({ labels: {}, sharedLabels: shared, value: s.sum, metricName: `${name}_sum` })
        values.push({ labels: {}, sharedLabels: shared, value: s.count, metricName: `${name}_count` })
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' }
    },
    reset() {
      series.clear()
    },
  }
  registry.registerMetric(metric as unknown as PromMetric)
  return {
    observe(label, value) {
      let s = series.get(label)
      if (!s) series.set(label, (s = { perBucket: upperBounds.map(() => 0), sum: 0, count: 0 }))
      const i = upperBounds.findIndex((b) => value <= b)
      if (i >= 0) s.perBucket[i]++
      s.sum += value
      s.count++
    },
  }
}
