/**
 * The regex prefilter (docs/rules.md "Regex prefilter"): from a regex source, find a literal that every
 * match must contain, so the regex runs only on texts where the shared automaton saw that literal.
 *
 * Conservative by construction: when unsure (top-level alternation, classes, escapes other than escaped
 * punctuation, optional groups, lookarounds) the run is broken and nothing is claimed. A group every match
 * goes through is read for its own literal, never joined to the text around it. Returning undefined is always safe;
 * returning a literal the regex does not require would make a rule silently miss, so every branch
 * below errs towards breaking the run.
 */

/**
 * Under the `i` flag a literal is usable only if lowercasing the text keeps it findable. With `iu`, the
 * only non-ASCII characters that match an ASCII letter are U+212A KELVIN SIGN (lowercases to `k`, fine)
 * and U+017F LONG S (stays `ſ` but matches `s`), so `s` is excluded; other letters with case outside
 * ASCII (Greek final sigma and symbol variants...) fold in ways toLowerCase does not, so they are excluded.
 */
function isSafeUnderIgnoreCase(ch: string): boolean {
  if (/^[a-rt-zA-RT-Z]$/.test(ch)) return true
  if (/^[sS]$/.test(ch)) return false
  return ch.toLowerCase() === ch && ch.toUpperCase() === ch
}

const QUANTIFIER = /^\{(\d+)(?:,(\d*))?\}/

/**
 * How many characters after `\X` (X at `at`) still belong to the escape: `\k<name>`, `\p{L}`,
 * `\u{1F600}`, `\u0041`, `\x41`, `\cJ`, `\12`. Missing this would read `{L}` or `0041` as literals.
 */
function escapeTailLength(source: string, at: number): number {
  const rest = source.slice(at + 1)
  const tail = (re: RegExp) => re.exec(rest)?.[0].length ?? 0
  switch (source[at]) {
    case 'k':
      return tail(/^<[^>]*>/)
    case 'p':
    case 'P':
      return tail(/^\{[^}]*\}/)
    case 'u':
      return tail(/^(?:\{[0-9A-Fa-f]+\}|[0-9A-Fa-f]{4})/)
    case 'x':
      return tail(/^[0-9A-Fa-f]{2}/)
    case 'c':
      return tail(/^[A-Za-z]/)
    default:
      return /[0-9]/.test(source[at]) ? tail(/^[0-9]*/) : 0
  }
}

/** Index just past the group or class that starts at `start` (`(` or `[`), or -1 when unbalanced. */
function skipBracketed(source: string, start: number): number {
  let depth = 0
  let inClass = false
  for (let i = start; i < source.length; i++) {
    const ch = source[i]
    if (ch === '\\') {
      i++
      continue
    }
    if (inClass) {
      if (ch === ']') {
        inClass = false
        if (depth === 0) return i + 1
      }
      continue
    }
    if (ch === '[') {
      inClass = true
      continue
    }
    if (ch === '(') depth++
    else if (ch === ')') {
      depth--
      if (depth === 0) return i + 1
    }
  }
  return -1
}

function hasTopLevelAlternation(source: string): boolean {
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]
    if (ch === '\\') i++
    else if (ch === '(' || ch === '[') {
      const end = skipBracketed(source, i)
      if (end < 0) return true
      i = end - 1
    } else if (ch === '|') return true
  }
  return false
}

/**
 * The body of the group from `start` (its `(`) to `end` (just past its `)`), when it is a plain,
 * non-capturing or named group; undefined for lookarounds and any other `(?` form, which claim nothing.
 */
function groupBody(source: string, start: number, end: number): string | undefined {
  if (source[start + 1] !== '?') return source.slice(start + 1, end - 1)
  if (source[start + 2] === ':') return source.slice(start + 3, end - 1)
  if (source[start + 2] === '<' && source[start + 3] !== '=' && source[start + 3] !== '!') {
    const close = source.indexOf('>', start + 3)
    return close < 0 || close >= end ? undefined : source.slice(close + 1, end - 1)
  }
  return undefined
}

/** Whether what follows position `at` lets the atom before it match zero times (`*`, `?`, `{0,...}`). */
function optionalAfter(source: string, at: number): boolean {
  const after = source[at]
  if (after === '*' || after === '?') return true
  const braces = after === '{' ? QUANTIFIER.exec(source.slice(at)) : null
  return braces !== null && Number(braces[1]) === 0
}

/**
 * The longest literal (code points in a row) that every match of `source` (compiled with the `u` flag,
 * plus `i` when `ignoreCase`) contains. Lowercased when `ignoreCase`. Undefined when none is certain.
 */
export function extractRequiredLiteral(source: string, ignoreCase: boolean): string | undefined {
  if (hasTopLevelAlternation(source)) return undefined
  const runs: string[] = []
  let run: string[] = []
  const endRun = () => {
    if (run.length > 0) runs.push(run.join(''))
    run = []
  }
  let i = 0
  while (i < source.length) {
    const ch = source[i]
    let atom: string | undefined
    let next: number
    if (ch === '\\') {
      const escaped = source[i + 1]
      if (escaped === undefined) return undefined
      // Escaped punctuation is that character; letters and digits are classes, assertions,
      // back-references or code escapes, none of which is a certain literal.
      atom = /[A-Za-z0-9]/.test(escaped) ? undefined : escaped
      next = i + 2 + escapeTailLength(source, i + 1)
    } else if (ch === '(' || ch === '[') {
      next = skipBracketed(source, i)
      if (next < 0) return undefined
      // A group every match goes through (not optional, not a lookaround, no alternation at its own top
      // level) holds its own required literal: `^(?<cmd>notes?)\s` needs "note". Kept as a run of its own,
      // never joined to the text around the group.
      const inner = ch === '(' ? groupBody(source, i, next) : undefined
      if (inner !== undefined && !optionalAfter(source, next)) {
        const found = extractRequiredLiteral(inner, ignoreCase)
        endRun()
        if (found !== undefined) runs.push(found)
      }
    } else if (ch === '.' || ch === '^' || ch === '$' || ch === '|' || ch === ')' || ch === ']') {
      next = i + 1
    } else if (ch === '*' || ch === '+' || ch === '?' || ch === '{') {
      // A quantifier with no literal before it (after a group or class): nothing to keep.
      const q = ch === '{' ? QUANTIFIER.exec(source.slice(i)) : null
      next = i + (q ? q[0].length : 1)
      if (source[next] === '?') next++
      endRun()
      i = next
      continue
    } else {
      const cp = source.codePointAt(i) as number
      atom = String.fromCodePoint(cp)
      next = i + atom.length
    }

    if (atom === undefined) {
      endRun()
      i = next
      continue
    }
    if (ignoreCase && !isSafeUnderIgnoreCase(atom)) {
      endRun()
      i = next
      continue
    }

    // What follows the atom decides whether it is required and whether the run continues after it.
    const after = source[next]
    const braces = after === '{' ? QUANTIFIER.exec(source.slice(next)) : null
    if (after === '*' || after === '?' || (braces && Number(braces[1]) === 0)) {
      endRun()
    } else if (after === '+' || braces) {
      run.push(atom)
      endRun()
    } else {
      run.push(atom)
    }
    i = next
  }
  endRun()
  let best: string | undefined
  for (const r of runs) if (best === undefined || r.length > best.length) best = r
  if (best === undefined) return undefined
  return ignoreCase ? best.toLowerCase() : best
}
