/**
 * `wxengine stats`: how often each rule (and each of its keywords) answered, from the message log,
 * most hits first: which rules earn their keep and which never fire. Kept as long as the log is
 * (log.retentionDays).
 */
import { EXIT_OK, stdio, tableLines, type GlobalFlags, type Output } from '../cli-context.ts'
import { withProjectStore } from '../open-project-store.ts'

export interface StatsFlags extends GlobalFlags {
  account?: string
  json?: boolean
}

export async function runStats(flags: StatsFlags, io: Output = stdio): Promise<number> {
  return withProjectStore(flags, 'stats', io, {}, async (store) => {
    const hits = await store.log.hits(flags.account)
    if (flags.json) {
      io.out(JSON.stringify(hits))
      return EXIT_OK
    }
    if (hits.length === 0) {
      io.err('no rule hits recorded yet')
      return EXIT_OK
    }
    const rows = hits.map((h) => [String(h.hits), h.account, h.rule, h.keyword === null ? '-' : JSON.stringify(h.keyword)])
    for (const line of tableLines([['HITS', 'ACCOUNT', 'RULE', 'KEYWORD'], ...rows], new Set([0]))) io.out(line)
    return EXIT_OK
  })
}
