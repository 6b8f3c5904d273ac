/**
 * `wxengine log`: the message log, oldest of the selection first (like a tail). One line per message:
 * time, account, user, what came in, who handled it, the reply and the latency. --json prints JSON Lines.
 */
import type { MessageLogEntry } from '../../store/store.ts'
import path from 'node:path'
import { EXIT_OK, EXIT_USAGE, loadProjectConfig, stdio, utcDateTime, type GlobalFlags, type Output } from '../cli-context.ts'
import { shownPath } from '../../shown-path.ts'
import { SQLITE_FILE_NAME } from '../../store/open-store.ts'
import { withProjectStore } from '../open-project-store.ts'
import { printable } from '../../shown-text.ts'

export interface LogFlags extends GlobalFlags {
  user?: string
  account?: string
  since?: string
  limit?: number
  json?: boolean
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `10m`, `2h`, `7d`, `30s`, or a date/time (`2024-05-01`, `2024-05-01T08:00`): epoch ms, or undefined. */
export function parseSince(value: string, now = Date.now()): number | undefined {
  const rel = /^(\d+)\s*([smhd])$/.exec(value.trim())
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2]]
  const at = DATE_TIME.exec(value.trim())
  if (!at || !isCalendarTime(at)) return undefined
  // Date.parse reads a date alone as UTC midnight but a date and time as local time: a date alone is read
  // as local midnight too, so both forms mean the operator's clock, as the docs say.
  const [, date, time = '00:00', zone = ''] = at
  const ms = Date.parse(`${date}T${time}${zone}`)
  return Number.isNaN(ms) ? undefined : ms
}

/** A date, optionally a time (`T` or a space between) and a zone (`Z`, `+08:00`). */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(Z|[+-]\d{2}:\d{2})?)?$/

/** Date.parse rolls a day past the month's end over (2026-02-30 is March 2): only days the calendar has pass. */
function isCalendarTime([, date, time = '00:00']: RegExpExecArray): boolean {
  const [y, m, d] = date.split('-').map(Number)
  const [h, min, s = 0] = time.split(':').map(Number)
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate()
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth && h <= 23 && min <= 59 && s <= 59
}

/** `--since` as `log` and `followers` take it: epoch ms, undefined when not given, null once said to be no time. */
export function sinceFlag(command: string, value: string | undefined, io: Output): number | undefined | null {
  if (value === undefined) return undefined
  const since = parseSince(value)
  if (since !== undefined) return since
  io.err(`wxengine ${command}: --since takes a duration (30s, 10m, 2h, 7d) or a date (2024-05-01 or 2024-05-01T08:00), got "${value}"`)
  return null
}

export async function runLog(flags: LogFlags, io: Output = stdio): Promise<number> {
  const since = sinceFlag('log', flags.since, io)
  if (since === null) return EXIT_USAGE
  const config = loadProjectConfig(flags, io)
  if (!config) return EXIT_USAGE
  return withProjectStore(flags, 'log', io, { config }, async (store) => {
    const entries = await store.log.query({ account: flags.account, openId: flags.user, since, limit: flags.limit ?? 50 })
    entries.reverse()
    for (const e of entries) io.out(flags.json ? JSON.stringify(e) : describeEntry(e))
    // Which log was read: an engine started with DATA_DIR=... logs elsewhere than a `wxengine log` run without
    // it reads, and "no messages match" alone read as a user who had sent nothing (a plugin author's walkthrough).
    if (entries.length === 0 && !flags.json) {
      io.err(config.store.kind === 'sqlite' ? `no messages match in ${shownPath(path.join(config.dataDir, SQLITE_FILE_NAME))} (DATA_DIR sets which data directory is read)` : 'no messages match')
    }
    return EXIT_OK
  })
}

function describeEntry(e: MessageLogEntry): string {
  const time = utcDateTime(e.at)
  const input = e.summary ? `${e.kind} ${JSON.stringify(e.summary)}` : e.kind
  // A row without its rule is a late message's first (its plugin still working) or its failed send: the rule
  // is left out so that `stats` counts only the row of the answer. "a rule", not a bare "rule,".
  const route = !e.rule ? (e.handledBy === 'rule' ? 'a rule' : e.handledBy) : e.rule === e.handledBy ? e.handledBy : `${e.handledBy} ${e.rule}`
  const by = [route, e.keyword && `keyword ${JSON.stringify(e.keyword)}`, e.plugin && `plugin ${e.plugin}`].filter(Boolean).join(', ')
  const result = e.replyType ? `${e.outcome} ${e.replyType}` : e.outcome
  // The sender's id is a client's text (printable: escaped as the summary is by JSON); the error, JSON-quoted below.
  return printable(`${time}  ${e.account}  ${e.openId}  ${input} -> ${by}: ${result} in ${Math.round(e.latencyMs)} ms${e.error ? `  [${shownError(e.error)}]` : ''}`)
}

/** Control characters (C0, DEL, C1) and the Unicode line separators: what breaks a line or drives a terminal. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/**
 * An entry's error as the line shows it: as written when it is plain text, JSON-quoted (every control
 * character escaped) when not. It holds a plugin's own words (the message it threw), and a newline in them
 * split one entry into two lines (`| wc -l`, `| grep` counted a message that was not there), an escape
 * sequence reached the operator's terminal.
 */
function shownError(error: string): string {
  if (!UNPRINTABLE.test(error)) return error
  // JSON.stringify escapes C0 only: DEL, C1 and the line separators are escaped by printable, as everywhere.
  return printable(JSON.stringify(error))
}
