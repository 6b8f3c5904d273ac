/**
 * One info line a minute saying how many messages were handled and how they ended, instead of an info line
 * per message. At a few hundred messages a second a line per message outruns journald's default rate limit
 * (10,000 lines per 30 s per service; rsyslog's imjournal reads 20,000 per 10 minutes), and journald then
 * drops every line of the service until the interval ends, warnings and errors included. The per-message
 * line is at debug (`wxengine dev` shows it); every message is in the message log (`wxengine log`).
 */
import type { EngineEvent } from '../engine.ts'
import type { MessageLogEntry } from '../store/store.ts'
import type { Logger } from './logger.ts'

export const TRAFFIC_SUMMARY_INTERVAL_MS = 60_000

type Outcome = MessageLogEntry['outcome']

export interface TrafficSummary {
  observe(event: EngineEvent): void
  /** Stops the timer and writes what was counted since the last line (at shutdown). */
  close(): void
}

export function createTrafficSummary(log: Logger, intervalMs = TRAFFIC_SUMMARY_INTERVAL_MS, now: () => number = Date.now): TrafficSummary {
  let counts = emptyCounts()
  let duplicates = 0
  let since = now()
  const timer = setInterval(flush, intervalMs)
  timer.unref()

  function flush(): void {
    const messages = counts.replied + counts.no_reply + counts.late + counts.failed + counts.dropped
    // A quiet minute says nothing: the line is for traffic, not a heartbeat (/healthz is that).
    if (messages > 0 || duplicates > 0) {
      log.info({ seconds: Math.round((now() - since) / 1000), messages, ...counts, duplicates }, 'messages handled')
    }
    counts = emptyCounts()
    duplicates = 0
    since = now()
  }

  return {
    observe(event) {
      if (event.type === 'message') counts[event.entry.outcome]++
      else if (event.type === 'duplicate') duplicates++
    },
    close() {
      clearInterval(timer)
      flush()
    },
  }
}

function emptyCounts(): Record<Outcome, number> {
  return { replied: 0, no_reply: 0, late: 0, failed: 0, dropped: 0 }
}
