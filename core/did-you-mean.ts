/**
 * "did you mean ...?" for a misspelt name (a rule key, a plugin name, a plugin's setting): the known name
 * within edit distance 2, if any, that keeps a letter of the word: two edits make any two-letter word any
 * other ("QR" is no typo of "OK"). Case does not count.
 */
export function suggest(word: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of allowed) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance && d < Math.min(word.length, candidate.length)) {
      bestDistance = d
      best = candidate
    }
  }
  return best
}

/** ` (did you mean "x"?)` to append to a message, or '' when nothing known is close. */
export function didYouMean(word: string, known: readonly string[]): string {
  const hint = suggest(word, known)
  return hint ? ` (did you mean "${hint}"?)` : ''
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}
