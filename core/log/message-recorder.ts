/**
 * How each message ended, recorded once: its message-log row, its metrics event and (at debug) its line.
 * The engine calls `record` wherever a message's fate is decided (answered, answered late, dropped); this
 * file decides what a record holds.
 */
import type { Logger } from './logger.ts'
import type { InboundMessage } from '../normalize/message-types.ts'
import type { RouteResult } from '../route/router.ts'
import type { MessageLog, MessageLogEntry } from '../store/store.ts'
import { massJobSummary } from '../mass/mass-job-summary.ts'

export interface MessageRecorderDeps {
  /** Where rows go; null when the message log is off (`log.retentionDays: 0`). */
  messageLog: MessageLog | null
  log: Logger
  now: () => number
  /** Every finished message's entry, for the metrics. */
  onRecorded: (entry: MessageLogEntry) => void
}

/**
 * `parts`: a message answered `success` at the reply budget is recorded in two steps. `log`: a row at
 * once, like every answered message (which plugin is working, no reply yet), without the rule: nothing has
 * answered. Then, when its plugin has finished, `all`: how it ended (a late reply, `none`, or a failure),
 * with the rule when it answered, as a passive answer's row has it. So a hit is a rule that answered, in the
 * log (`wxengine stats`) as in the metrics, and the metrics count each message once.
 */
export type RecordMessage = (
  accountId: string,
  message: InboundMessage,
  key: string,
  result: RouteResult | undefined,
  outcome: MessageLogEntry['outcome'],
  started: number,
  error?: string,
  parts?: 'all' | 'log',
) => void

export function createMessageRecorder(deps: MessageRecorderDeps): RecordMessage {
  const { messageLog, log, now, onRecorded } = deps
  // At debug only: a line per message would outrun journald's rate limit under load
  // (traffic-summary.ts writes one info line a minute instead). Checked once, so no object is built for nothing.
  const perMessageLines = log.isLevelEnabled('debug')

  // Built as one object of a fixed shape: this runs for every message, and spreading partial entries
  // together was a tenth of the in-process cost (BENCHMARKS.md).
  return function record(accountId, message, key, result, outcome, started, error, parts = 'all') {
    const entry: MessageLogEntry = {
      at: now(),
      account: accountId,
      openId: message.fromUser,
      kind: message.kind,
      msgKey: key,
      handledBy: result ? result.handledBy : 'none',
      // The row at the budget: nothing has answered yet, so no rule (no hit).
      rule: parts === 'log' ? undefined : result?.rule,
      keyword: result?.keyword,
      plugin: result?.plugin,
      replyType: result?.reply?.type,
      summary: summarize(message),
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      outcome,
      error: error ?? (result && result.errors.length > 0 ? result.errors.map((e) => `${e.plugin}: ${e.code}: ${e.reason}`).join('; ') : undefined),
    }
    if (messageLog) messageLog.append(entry)
    if (parts === 'log') return
    onRecorded(entry)
    if (perMessageLines) {
      log.debug(
        {
          account: entry.account,
          kind: entry.kind,
          openId: entry.openId,
          // The key the message's other lines (budget spent, late reply sent) and its message-log entry carry.
          key: entry.msgKey,
          handledBy: entry.handledBy,
          rule: entry.rule,
          keyword: entry.keyword,
          plugin: entry.plugin,
          replyType: entry.replyType,
          outcome: entry.outcome,
          latencyMs: entry.latencyMs,
          error: entry.error,
        },
        'message',
      )
    }
  }
}

/**
 * Short text of what came in, for reading the log: a text's content, an event's key; a mass send's result
 * its counts (mass-job-summary.ts), which `wxengine mass results` reads back. One comparison more for the
 * other kinds: this runs for every message.
 */
function summarize(m: InboundMessage): string | undefined {
  if (m.kind === 'text') return firstChars(m.content, 200)
  if (m.kind === 'masssend_job_finish') return firstChars(massJobSummary(m), 200)
  const key = m.raw.EventKey
  return typeof key === 'string' ? firstChars(key, 200) : undefined
}

/** The first `max` UTF-16 units, one fewer rather than half an emoji: a lone surrogate is not UTF-8. */
function firstChars(text: string, max: number): string {
  if (text.length <= max) return text
  const last = text.charCodeAt(max - 1)
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max)
}
