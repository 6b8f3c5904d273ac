/**
 * The fourth slow shape slow-regex.ts refuses: **bounded repetitions in a row that can take the same
 * characters** (`\s(.{0,60})\s(.{0,60})\s(.{0,60})!`). recheck reads a bounded repetition as linear, whatever
 * its bound, so these loaded; yet on a text that almost matches, every way of sharing it between them is tried,
 * from every start when the regex is not anchored: that one took 1.0 s on 2,000 characters and 1.9 s on 4,000
 * (61^3 ways from each of 4,000 starts), `(.{0,100})x(.{0,100})y(.{0,100})z` 2.3 s on 4,000 (`xy` repeated),
 * `.{0,30}.{0,30}.{0,30}.{0,30}!` 4.6 s on 2,000, `.*.{0,60}!` 1.2 s on 4,000 (timed in V8 20.x on this
 * project's 2-core build machine).
 *
 * A cost model, pure arithmetic on the parse (no cache needed): the ways a backtracking matcher tries on the
 * worst text of N = TEXT_LENGTH characters, refused above WAYS_BUDGET (about 100 ms). The regex is read as a
 * sequence of parts (groups inlined, alternatives and optional parts as separate sequences); from each
 * repetition, the walk goes right while the parts can take a common character: a repetition that can take it
 * multiplies the ways by its choices (`{m,n}`: n - m + 1; unbounded: N), a single character or fixed count
 * that can take it passes (a text of that character feeds them all), one that cannot ends the walk (only one
 * way reaches past it), unless it can match nothing. The ways are counted where the text can fail (worstWalk):
 * what the regex ends with that cannot fail (`.{0,100}` at the end) adds none, as the first way tried matches.
 * Unbounded ones share the N characters (N^u / u! ways, not N^u). The search from every start of a regex not
 * anchored with `^` counts as one more unbounded repetition that takes any character; from a later
 * repetition, only when every repetition before it can take its characters too (`\d{1,3}\s(.{0,60})...`: a
 * text of `1 ` repeated starts at every other character; 250 ms on 4,000).
 *
 * An estimate: it takes the worst text to have all the ways at once, which for several classes it need not
 * (`(.{0,100})x(.{0,100})y` counts every length, of which only those ending before an `x` go on). Calibrated
 * where it matters, at the budget: `\d{1,20}\d{1,20}\d{1,20}x` (8,000 x 4,096 ways) took 110 ms on 4,000 digits
 * and is refused; `.{0,60}.{0,60}!` (3,721 x 4,096) 64 ms and `^(.{0,60})\s(.{0,60})\s(.{0,60})\s(.{0,60})!`
 * (61^4) 31 ms, and load. Walks with unbounded repetitions only are left to recheck, which gives their degree
 * (super-linear-time.ts): `^cmd\s+(\S+)\s+(.*)$` is N^2 / 2 = 8.4 million ways here, loads there, and must.
 * Lookarounds are passed over (recheck asks about their bodies); a backreference is one character of any kind.
 */
import type { AST } from '@eslint-community/regexpp'
import { getConsumedChars, isPotentiallyZeroLength, type ReadonlyFlags } from 'regexp-ast-analysis'
import { parse } from './regex-ast.ts'
import { withoutTrimmedSpace } from './super-linear-time.ts'
import { shownPattern } from './shown-pattern.ts'

type CharSet = ReturnType<typeof getConsumedChars>['chars']

/**
 * N, the longest text a regex must get through in about 100 ms, in UTF-16 code units. WeChat texts of
 * 2,000-4,000 characters happen: 4,096 covers what users paste. A longer text is slower still, in proportion
 * for an anchored regex, up to REGEX_TEXT_MAX_LENGTH (text-matcher.ts), past which regexes are not tried.
 */
export const TEXT_LENGTH = 4_096

/**
 * Ways tried per second by V8's irregexp (Node 20) on this project's 2-core build machine, counted as here:
 * 3.2e8 to 5.5e8 for `.{0,K}.{0,K}!` from every start of 4,000 `a`s (K 60 to 200), `^(.{0,K})(.{0,K})(.{0,K})!`
 * (K 60 to 150) and `\d{1,K}\d{1,K}\d{1,K}x` on 4,000 digits (K 20, 30). The slowest, rounded down, so the
 * estimate errs towards refusing and a slower server has some margin.
 */
const WAYS_PER_SECOND = 3e8
/** About 100 ms of one thread that serves every account. */
const WAYS_BUDGET = WAYS_PER_SECOND / 10

/** Sequences tried at most when alternatives and optional parts are read apart; past it, a part is read whole. */
const MAX_SEQUENCES = 64
/** A fixed count of a group (`(?:\d{1,3}\.){3}`) is written out up to this many times; past it, read whole. */
const MAX_UNROLLED = 8

/** What the walk sees: a repetition with a choice to make, a part that takes characters, or an assertion. */
type Part =
  | { kind: 'repeat'; chars: CharSet; ways: number; bounded: boolean; canBeEmpty: boolean; raw: string }
  | { kind: 'fixed'; chars: CharSet; canBeEmpty: boolean }
  | { kind: 'assert'; end: boolean }

type Repeat = Extract<Part, { kind: 'repeat' }>

interface Worst {
  ways: number
  parts: Repeat[]
  fromEveryStart: boolean
}

/** Bounded repetitions in a row that make too many ways to try (its own tests; slow-regex.ts asks the rest). */
export function checkBoundedRepetitions(source: string, foldCase = true): string | undefined {
  const pattern = parse(source)
  return pattern && boundedRepetitions(source, pattern, foldCase)
}

export function boundedRepetitions(source: string, parsed: AST.Pattern, foldCase: boolean): string | undefined {
  // The matcher trims texts: a \s* right after ^ or before the final $ takes nothing (super-linear-time.ts).
  const asMatched = withoutTrimmedSpace(source, parsed)
  const pattern = asMatched === source ? parsed : parse(asMatched)
  if (!pattern) return undefined
  const flags: ReadonlyFlags = { unicode: true, ignoreCase: foldCase }
  const any = anyCharacter(flags)
  let worst: Worst | undefined
  for (const alternative of pattern.alternatives) {
    const anchored = alternative.elements[0]?.type === 'Assertion' && alternative.elements[0].kind === 'start'
    for (const sequence of sequencesOf(alternative.elements, flags)) {
      const found = worstWalk(sequence, anchored, any)
      if (found && (!worst || found.ways > worst.ways)) worst = found
    }
  }
  if (!worst || worst.ways <= WAYS_BUDGET) return undefined
  // Each part once, with how many times it is written in a row: (".{0,60}" x3).
  const counts = new Map<string, number>()
  for (const p of worst.parts) counts.set(p.raw, (counts.get(p.raw) ?? 0) + 1)
  const parts = [...counts].map(([raw, n]) => JSON.stringify(raw) + (n > 1 ? ` x${n}` : '')).join(', ')
  return (
    `regex ${shownPattern(source)} has repetitions in a row that can take the same characters (${parts}` +
    `${worst.fromEveryStart ? ', and, as it is not anchored with ^, the search from every start' : ''}): every way of sharing ` +
    `the text between them is tried, about ${amount(worst.ways)} ways on a text of ${TEXT_LENGTH.toLocaleString('en')} characters that ` +
    `almost matches (about ${seconds(worst.ways)} in V8), so it can stall every account. Make neighbouring parts take different characters ` +
    `(\\S{1,30}\\s, not .{1,30}\\s), or narrow the bounds${worst.fromEveryStart ? ', anchor it with ^' : ''}, or add trusted: true to this keyword if you are sure`
  )
}

/**
 * The most ways from any repetition: the walk right from it while the parts can take a common character, and
 * the ways counted where the text can fail. That is a part that cannot take every character of the text walked
 * (a `!` after `.{0,60}`: the text has none; an `x` there may be in the text or not), an assertion (`$`, but
 * not after `.*` of any character, which reaches the end whatever), or the part that ends the walk. Not one that
 * takes all of them: in `^(\d{0,60})(\d*)\d` the last `\d` finds a digit, and the first way tried matches; nor
 * what can take nothing (`.{0,100}` at the end). Undefined when no walk has a bounded repetition with a choice
 * before where it fails (unbounded ones alone: recheck's).
 */
function worstWalk(parts: Part[], anchored: boolean, any: CharSet): Worst | undefined {
  const start: Repeat = { kind: 'repeat', chars: any, ways: TEXT_LENGTH, bounded: false, canBeEmpty: true, raw: '' }
  const walks: Array<{ from: number; withStart: boolean }> = []
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    if (part.kind !== 'repeat') continue
    // From a later repetition, the search from every start counts when everything repeated before it can take
    // its characters (a text of them starts anywhere); the walk from the first character covers the rest.
    const before = parts.slice(0, i).filter((p): p is Repeat => p.kind === 'repeat')
    walks.push({ from: i, withStart: !anchored && before.every((p) => !p.chars.isDisjointWith(part.chars)) })
  }
  if (!anchored) walks.push({ from: -1, withStart: true })
  let worst: Worst | undefined
  for (const { from, withStart } of walks) {
    const taken: Repeat[] = withStart ? [start] : []
    let common = from < 0 ? any : (parts[from] as Repeat).chars
    if (from >= 0) taken.push(parts[from] as Repeat)
    const failHere = () => {
      if (!taken.some((p) => p.bounded)) return
      const ways = waysOf(taken)
      if (!worst || ways > worst.ways) worst = { ways, parts: taken.filter((p) => p !== start), fromEveryStart: withStart }
    }
    for (let j = from + 1; j < parts.length; j++) {
      const part = parts[j]!
      if (part.kind === 'assert') {
        const previous = parts.slice(0, j).filter((p) => p.kind !== 'assert').pop()
        const reachesEnd = part.end && previous?.kind === 'repeat' && !previous.bounded && previous.chars.isAll
        if (!reachesEnd) failHere()
        continue
      }
      if (part.chars.isDisjointWith(common)) {
        if (part.canBeEmpty) continue
        failHere()
        break
      }
      if (!part.canBeEmpty && !part.chars.isSupersetOf(common)) failHere()
      if (part.kind === 'repeat') {
        common = common.intersect(part.chars)
        taken.push(part)
      }
    }
  }
  return worst
}

/** Bounded choices multiply; u unbounded ones share the text: N^u / u!. */
function waysOf(taken: Repeat[]): number {
  let ways = 1
  let unbounded = 0
  for (const p of taken) {
    if (p.bounded) ways *= p.ways
    else ways *= TEXT_LENGTH / ++unbounded
  }
  return ways
}

/**
 * The sequences of parts the elements can be read as: a group's alternatives and an optional part (taken or
 * not) each make their own, up to MAX_SEQUENCES in all; past that an element is one part, whole.
 */
function sequencesOf(elements: readonly AST.Element[], flags: ReadonlyFlags): Part[][] {
  let sequences: Part[][] = [[]]
  for (const element of elements) {
    let options = optionsOf(element, flags)
    if (sequences.length * options.length > MAX_SEQUENCES) options = [[whole(element, flags)]]
    sequences = sequences.flatMap((s) => options.map((o) => [...s, ...o]))
  }
  return sequences
}

function optionsOf(element: AST.Element, flags: ReadonlyFlags): Part[][] {
  switch (element.type) {
    case 'Assertion':
      // Lookarounds too: recheck asks about their bodies (super-linear-time.ts).
      return [[{ kind: 'assert', end: element.kind === 'end' }]]
    case 'Character':
    case 'CharacterClass':
    case 'CharacterSet':
      return [[{ kind: 'fixed', chars: getConsumedChars(element, flags).chars, canBeEmpty: false }]]
    case 'Group':
    case 'CapturingGroup': {
      const options = element.alternatives.flatMap((alt) => sequencesOf(alt.elements, flags))
      return options.length > MAX_SEQUENCES ? [[whole(element, flags)]] : options
    }
    case 'Quantifier': {
      if (element.max === 0) return [[]]
      if (element.max === 1) {
        const taken = optionsOf(element.element, flags)
        return element.min === 1 ? taken : [...taken, []]
      }
      if (element.min === element.max) {
        // A fixed count chooses nothing itself; a small one of a group is written out, so a choice inside it
        // counts once a run (`(?:\d{1,3}\.){3}`).
        if (element.max > MAX_UNROLLED || element.element.type === 'Character' || element.element.type === 'CharacterSet' || element.element.type === 'CharacterClass') {
          return [[{ kind: 'fixed', chars: consumed(element.element, flags), canBeEmpty: isPotentiallyZeroLength(element, flags) }]]
        }
        const once = optionsOf(element.element, flags)
        if (once.length ** element.max > MAX_SEQUENCES) return [[whole(element, flags)]]
        let options: Part[][] = [[]]
        for (let i = 0; i < element.max; i++) options = options.flatMap((s) => once.map((o) => [...s, ...o]))
        return options
      }
      const bounded = Number.isFinite(element.max) && element.max < TEXT_LENGTH
      return [
        [
          {
            kind: 'repeat',
            chars: consumed(element.element, flags),
            ways: bounded ? element.max - element.min + 1 : TEXT_LENGTH,
            bounded,
            canBeEmpty: isPotentiallyZeroLength(element, flags),
            raw: element.raw,
          },
        ],
      ]
    }
    default:
      // A backreference: what its group took, any characters.
      return [[whole(element, flags)]]
  }
}

/** An element read as one part that takes any of the characters it can take. */
function whole(element: AST.Element, flags: ReadonlyFlags): Part {
  return { kind: 'fixed', chars: consumed(element, flags), canBeEmpty: isPotentiallyZeroLength(element, flags) }
}

function consumed(element: AST.Element, flags: ReadonlyFlags): CharSet {
  return element.type === 'Backreference' ? anyCharacter(flags) : getConsumedChars(element, flags).chars
}

function anyCharacter(flags: ReadonlyFlags): CharSet {
  return getConsumedChars(parse('[^]')!.alternatives[0]!, flags).chars
}

/** 930 million, 1.2 billion, 3.5 x 10^13. */
function amount(ways: number): string {
  const round = (x: number) => Number(x.toPrecision(2)).toLocaleString('en')
  if (ways >= 1e12) return ways.toExponential(1).replace('e+', ' x 10^')
  return ways >= 1e9 ? `${round(ways / 1e9)} billion` : `${round(ways / 1e6)} million`
}

/** The estimate in time on the machine calibrated, in words. */
function seconds(ways: number): string {
  const s = ways / WAYS_PER_SECOND
  if (s >= 3600) return 'hours'
  if (s >= 60) return `${Math.round(s / 60)} min`
  return s >= 1 ? `${s.toPrecision(2)} s` : `${Math.round(s * 1000)} ms`
}
