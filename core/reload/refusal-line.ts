/**
 * The log line of a refused reload: the problems it lists, and how many there are. Every problem went into
 * the line twice (its `problems` field and its text), so a broken template merged into 15,000 rules wrote one
 * JSON line of 2 MB to the journal, which journald cuts at 48 KB into pieces no log reader parses. The first
 * few say what is wrong; `wxengine rules check` lists them all, each with its file and line.
 */

/** Problems a refusal line lists; the rest are counted. */
export const PROBLEMS_LISTED = 20

export function refusalLine(problems: readonly string[]): { fields: { problems: string[]; problemCount: number }; msg: string } {
  const listed = problems.slice(0, PROBLEMS_LISTED)
  const more = problems.length - listed.length
  const tail = more > 0 ? `\n  ... and ${more} more (wxengine rules check lists them all)` : ''
  return { fields: { problems: listed, problemCount: problems.length }, msg: `reload refused, keeping the last good set:\n  ${listed.join('\n  ')}${tail}` }
}
