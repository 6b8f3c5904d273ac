/**
 * What the message log keeps of a mass send's result (the MASSSENDJOBFINISH push WeChat sends when a send
 * ends, normalized as masssend_job_finish): one line in the entry's summary, written by the recorder
 * (core/log/message-recorder.ts) and read back by `wxengine mass results`:
 *
 *   msg_id=1000000001 total=100 filter=90 sent=88 error=2 status=send success
 *
 * status is last because it has spaces (`send success`, `send fail`, `err(30003)`): it is the rest of the
 * line. The counts are WeChat's: TotalCount the followers the send was for, FilterCount those left after its
 * filters (the month's 4, blocked users), SentCount and ErrorCount how many of those it reached or not.
 */
import type { MassSendJobFinishEvent } from '../normalize/message-types.ts'

/** What the summary keeps of the event: its id, status and counts, as the event names them. */
export type MassJobResult = Pick<MassSendJobFinishEvent, 'msgId' | 'status' | 'totalCount' | 'filterCount' | 'sentCount' | 'errorCount'>

export function massJobSummary(e: MassSendJobFinishEvent): string {
  return `msg_id=${e.msgId} total=${e.totalCount} filter=${e.filterCount} sent=${e.sentCount} error=${e.errorCount} status=${e.status}`
}

const SUMMARY = /^msg_id=(\S+) total=(\d+) filter=(\d+) sent=(\d+) error=(\d+) status=(.*)$/s

/** A summary massJobSummary wrote, read back; undefined for anything else (a log from before it was written). */
export function parseMassJobSummary(summary: string | undefined): MassJobResult | undefined {
  const m = summary === undefined ? null : SUMMARY.exec(summary)
  if (!m) return undefined
  return { msgId: m[1]!, totalCount: Number(m[2]), filterCount: Number(m[3]), sentCount: Number(m[4]), errorCount: Number(m[5]), status: m[6]! }
}
