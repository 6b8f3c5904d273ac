/**
 * A multi-pattern matcher over UTF-16 code units (Aho-Corasick, 1975): one pass over the text finds
 * every occurrence of every pattern, whatever the number of patterns.
 *
 * Why not modern-ahocorasick: it matches whole grapheme clusters only, so `❤` is not found in `我❤️你`
 * (U+2764 followed by the emoji selector U+FE0F is one grapheme) and `👍` is not found in `👍🏽`.
 * A `contains` keyword must mean `text.includes(keyword)`, and the regex prefilter must find every
 * literal that the regex itself would find, so matching has to be by code unit. It also spends about
 * 1.8 µs per short text in Intl.Segmenter; this automaton spends a few hundred ns (bench/match-cost).
 *
 * Layout: transitions in compressed sparse rows (sorted codes per state, binary search) plus one dense
 * table for the root, where most lookups land; failure links; a dictionary-suffix link per state so
 * reporting outputs never walks states that have none.
 */

export interface Automaton {
  readonly patternCount: number
  readonly stateCount: number
  /** Calls `onMatch(patternId, end)` for every occurrence; `end` is exclusive (like `slice`). */
  forEachMatch(text: string, onMatch: (patternId: number, end: number) => void): void
}

const ROOT = 0
const NONE = -1

/** `patterns` must be non-empty strings without duplicates; the id of a pattern is its index. */
export function buildAutomaton(patterns: readonly string[]): Automaton {
  // Build the trie in one Map keyed by state * 65536 + code unit: compact while building, and its keys
  // sort into CSR rows directly.
  const trie = new Map<number, number>()
  let stateCount = 1
  const endsAt: number[] = []
  for (const pattern of patterns) {
    if (pattern.length === 0) throw new Error('buildAutomaton: empty pattern')
    let state = ROOT
    for (let i = 0; i < pattern.length; i++) {
      const key = state * 65536 + pattern.charCodeAt(i)
      let next = trie.get(key)
      if (next === undefined) {
        next = stateCount++
        trie.set(key, next)
      }
      state = next
    }
    endsAt.push(state)
  }

  const output = new Int32Array(stateCount).fill(NONE)
  patterns.forEach((_, id) => {
    if (output[endsAt[id]] !== NONE) throw new Error(`buildAutomaton: duplicate pattern ${JSON.stringify(patterns[id])}`)
    output[endsAt[id]] = id
  })

  const keys = Float64Array.from(trie.keys()).sort()
  const edgeStart = new Int32Array(stateCount + 1)
  // Code and target side by side ([code, target, code, target, ...]): one cache line per probe.
  const edges = new Int32Array(keys.length * 2)
  const rootTable = new Int32Array(65536)
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]
    const parent = Math.floor(key / 65536)
    const code = key - parent * 65536
    const target = trie.get(key) as number
    edgeStart[parent + 1]++
    edges[2 * i] = code
    edges[2 * i + 1] = target
    if (parent === ROOT) rootTable[code] = target
  }
  for (let s = 0; s < stateCount; s++) edgeStart[s + 1] += edgeStart[s]
  trie.clear()

  const child = (state: number, code: number): number => {
    if (state === ROOT) return rootTable[code] === 0 ? NONE : rootTable[code]
    let lo = edgeStart[state]
    let hi = edgeStart[state + 1] - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const c = edges[2 * mid]
      if (c === code) return edges[2 * mid + 1]
      if (c < code) lo = mid + 1
      else hi = mid - 1
    }
    return NONE
  }

  // Breadth-first, so a state's failure target (shallower) is final before the state is reached.
  const fail = new Int32Array(stateCount)
  const dictLink = new Int32Array(stateCount).fill(NONE)
  const queue = new Int32Array(stateCount)
  let head = 0
  let tail = 0
  for (let e = edgeStart[ROOT]; e < edgeStart[ROOT + 1]; e++) queue[tail++] = edges[2 * e + 1]
  while (head < tail) {
    const state = queue[head++]
    for (let e = edgeStart[state]; e < edgeStart[state + 1]; e++) {
      const next = edges[2 * e + 1]
      const code = edges[2 * e]
      let f = fail[state]
      let target = child(f, code)
      while (target === NONE && f !== ROOT) {
        f = fail[f]
        target = child(f, code)
      }
      fail[next] = target === NONE ? ROOT : target
      dictLink[next] = output[fail[next]] !== NONE ? fail[next] : dictLink[fail[next]]
      queue[tail++] = next
    }
  }

  // The first state with output on the suffix chain, the state itself included: one read per character.
  const firstOutput = new Int32Array(stateCount)
  for (let st = 0; st < stateCount; st++) firstOutput[st] = output[st] !== NONE ? st : dictLink[st]

  return {
    patternCount: patterns.length,
    stateCount,
    forEachMatch(text, onMatch) {
      let state = ROOT
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i)
        let next = child(state, code)
        while (next === NONE && state !== ROOT) {
          state = fail[state]
          next = child(state, code)
        }
        state = next === NONE ? ROOT : next
        let s = firstOutput[state]
        while (s !== NONE) {
          onMatch(output[s], i + 1)
          s = dictLink[s]
        }
      }
    },
  }
}
