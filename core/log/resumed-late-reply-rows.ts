/**
 * The message-log row of a late reply taken up after a restart (late-reply-sender.ts, resumePending) that
 * then fails for good: `failed`, with `late reply failed: <code>: <reason>`, as the live path's third row
 * (engine.ts, answerWithinBudget) says it. The run that handed the reply over wrote the message's other rows
 * and is gone; without this one `wxengine log` showed the message as `late` for ever, though no reply went.
 *
 * A resumed reply that is sent adds no row, as on the live path: the earlier run's `late` row with the
 * reply's type already says a reply was handed over, and the `late reply sent` line and
 * wxengine_late_replies_total say it went out.
 *
 * The outbox keeps who and which message (its key), not the message itself: the row takes kind, summary,
 * plugin and keyword from that message's `late` row with the reply's type, written by the earlier run, and
 * its latency from that message's arrival. Found in a window around the reply's hand-over; an entry with no key (written
 * before msg_key was kept) or whose rows are gone (pruned, the log off then) gets a row of what the outbox
 * knows: kind `unknown`, handled by `none`.
 */
import type { LateReplySettled } from '../platform/late-reply-sender.ts'
import type { MessageLog, MessageLogEntry } from '../store/store.ts'
import type { Logger } from './logger.ts'

/**
 * How far from the reply's hand-over (its outbox entry's time) the message's rows are looked for: the run
 * wrote them as it handed the reply over. A window on the log's time index: the log has no per-user index,
 * and a look through a user's newest rows read the whole log for a user with few, on the main thread, at
 * every failure (thousands after a long stop; a crash-safety review).
 */
const WINDOW_MS = 10_000

export interface ResumedLateReplyRowDeps {
  /** Where rows go; null when the message log is off (`log.retentionDays: 0`). */
  messageLog: MessageLog | null
  log: Logger
  now?: () => number
}

export interface ResumedLateReplyRows {
  /** The resumed send's end, as a row when it failed (resumePending's `settled`). Never throws. */
  record(settled: LateReplySettled): void
  /** Resolves once every row recorded so far is appended: before the store closes. */
  appended(): Promise<void>
}

export function createResumedLateReplyRows(deps: ResumedLateReplyRowDeps): ResumedLateReplyRows {
  const { messageLog, log } = deps
  const now = deps.now ?? Date.now
  const inFlight = new Set<Promise<void>>()

  async function append(messages: MessageLog, s: LateReplySettled): Promise<void> {
    let earlier: MessageLogEntry | undefined
    if (s.key !== undefined) {
      try {
        const rows = await messages.query({ account: s.account, openId: s.openId, since: s.recordedAt - WINDOW_MS, until: s.recordedAt + WINDOW_MS, limit: 100 })
        earlier = rows.find((r) => r.msgKey === s.key && r.outcome === 'late' && r.replyType !== undefined) ?? rows.find((r) => r.msgKey === s.key)
      } catch (e) {
        // The row still goes in, with what the outbox knows.
        log.warn({ code: 'STORE_UNAVAILABLE', account: s.account, openId: s.openId, key: s.key, reason: (e as Error).message }, "message log not readable: the resumed late reply's failed row names only its user and key")
      }
    }
    const at = now()
    messages.append({
      at,
      account: s.account,
      openId: s.openId,
      kind: earlier?.kind ?? 'unknown',
      msgKey: s.key ?? '',
      handledBy: earlier?.handledBy ?? 'none',
      // No rule, as the live path's failed row: the message's hit is counted once, on the row of its reply.
      keyword: earlier?.keyword,
      plugin: earlier?.plugin,
      replyType: s.reply.type,
      summary: earlier?.summary,
      // From the message's arrival (that row's time less its latency), as the live row's is.
      latencyMs: earlier ? Math.max(0, at - (earlier.at - earlier.latencyMs)) : 0,
      outcome: 'failed',
      error: `late reply failed: ${s.error}`,
    })
  }

  return {
    record(s) {
      if (messageLog === null || s.outcome !== 'failed') return
      const p: Promise<void> = append(messageLog, s)
        .catch((e: unknown) => log.error({ code: 'INTERNAL', account: s.account, openId: s.openId, key: s.key, reason: (e as Error).message }, "the resumed late reply's failed row was not written"))
        .finally(() => inFlight.delete(p))
      inFlight.add(p)
    },
    async appended() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    },
  }
}
