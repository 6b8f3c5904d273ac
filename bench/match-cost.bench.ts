/**
 * Does matchText cost grow with the number of rules? (docs/rules.md "Cost")
 *
 *   npx tsx bench/match-cost.bench.ts            (about a minute; QUICK=1 for a smoke run)
 *
 * Rule sets of 10, 1,000 and 100,000 rules of mixed kinds (mostly exact and contains, some prefix,
 * regexes with prefilterable literals: 1 / 10 / 300). Every set contains the same 10 realistic rules,
 * so the fixed texts below hit the same rules in every set; the rest are generated fillers.
 * Sizes are measured interleaved over several rounds (the 10-rule set is the baseline in the same
 * run); ns per matchText is reported as the median and the minimum of the rounds, with the ratios
 * 1k/10 and 100k/10 of both. On a shared, loaded machine the minimum is the steadier estimate.
 * For contrast: a naive matcher (every keyword of every rule tested in turn) and, for the contains
 * automaton alone, modern-ahocorasick over the same dictionary.
 */
import AhoCorasick from 'modern-ahocorasick'
import { compileRuleSet } from '../core/route/rules/index.ts'
import { buildAutomaton } from '../core/route/rules/aho-corasick.ts'
import type { Keyword, KeywordKind, RuleSet, TextRule } from '../core/route/rule-types.ts'
import { median } from './support/median.ts'

const QUICK = process.env.QUICK === '1'
const ROUNDS = QUICK ? 2 : 9
const ROUND_MS = QUICK ? 100 : 400

// Deterministic PRNG (mulberry32) so every run builds the same rule sets.
let seed = 0x5eed
function random(): number {
  seed |= 0
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]

// 400 common Chinese characters plus Latin syllables: keywords look like what accounts configure.
const HANZI = Array.from(
  '的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黑',
)
const SYLLABLES = ['ba', 'ko', 'mi', 'tu', 'ren', 'shi', 'zh', 'an', 'qu', 'lo', 've', 'xi', 'ga', 'po', 'de', 'yu']
function word(minLength: number, maxLength: number): string {
  const length = minLength + Math.floor(random() * (maxLength - minLength + 1))
  let out = ''
  for (let i = 0; i < length; i++) out += random() < 0.75 ? pick(HANZI) : pick(SYLLABLES)
  return out
}

const kw = (kind: KeywordKind, value: string): Keyword => ({ kind, value, foldCase: true, foldWidth: true })
let line = 0
function rule(name: string, keywords: Keyword[], priority = 0): TextRule {
  return {
    name,
    account: '*',
    keywords,
    target: { plugin: 'p', args: {} },
    priority,
    enabled: true,
    source: { file: 'bench.yaml', line: ++line },
  }
}

/** The realistic rules every set has (the 10-rule baseline). */
function baseRules(): TextRule[] {
  return [
    rule('hello', [kw('exact', 'hello'), kw('exact', '你好')]),
    rule('echo', [kw('regex', '^echo\\s+(?<text>.+)$'), kw('exact', 'echo')]),
    rule('survey', [kw('exact', 'survey'), kw('exact', '问卷')]),
    rule('news', [kw('contains', 'news'), kw('contains', '新闻')], -10),
    rule('weather', [kw('prefix', '天气'), kw('contains', '天气怎么样')]),
    rule('order', [kw('prefix', '查询订单'), kw('exact', '订单')]),
    rule('help', [kw('exact', 'help'), kw('exact', '帮助'), kw('exact', '?')]),
    rule('thanks', [kw('contains', '谢谢'), kw('contains', 'thank')]),
    rule('price', [kw('contains', '多少钱'), kw('contains', '价格')]),
    rule('menu', [kw('exact', 'MENU_NEWS'), kw('exact', 'MENU_HELP')]),
  ]
}

/** Fillers: 55% exact, 33% contains, 12% prefix by rule (1-3 keywords each), plus `regexes` regex rules. */
function fillerRules(count: number, regexes: number): TextRule[] {
  const out: TextRule[] = []
  for (let i = 0; i < regexes; i++) {
    // A required literal of 3+ characters, as real regex rules have ("订单号(\d+)", "^绑定\s*(\w+)").
    out.push(rule(`re${i}`, [kw('regex', `${word(3, 4)}\\s*(\\d{2,8})$`)], Math.floor(random() * 5)))
  }
  for (let i = out.length; i < count; i++) {
    const r = random()
    const kind: KeywordKind = r < 0.55 ? 'exact' : r < 0.88 ? 'contains' : 'prefix'
    const n = 1 + Math.floor(random() * 3)
    const keywords: Keyword[] = []
    for (let k = 0; k < n; k++) keywords.push(kw(kind, kind === 'contains' ? word(3, 5) : word(2, 6)))
    out.push(rule(`r${i}`, keywords, Math.floor(random() * 5) - 2))
  }
  return out
}

const TEXTS = [
  // hits on the shared rules
  'hello',
  '你好',
  'echo 今天的天气真不错',
  '今天有什么新闻',
  'what is in the news today?',
  '天气北京',
  '查询订单 20240518',
  '谢谢你的帮助',
  '这个多少钱',
  'MENU_NEWS',
  'ＨＥＬＬＯ',
  // misses (typical chat that no rule wants)
  '在吗',
  '我想问一下你们周末开门吗？我下午三点左右过去可以吗',
  'ok',
  '哈哈哈哈😂😂',
  'Can someone call me back at 555 0100 about my delivery, it has not arrived yet',
  '1',
  '请问怎么联系人工客服，我的账号登录不上去了，一直提示密码错误，已经试了好几次了',
]

function measure(set: RuleSet, ms: number): number {
  let ops = 0
  let sink = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(ms) * 1_000_000n
  let now = start
  while (now < deadline) {
    for (let r = 0; r < 50; r++) for (const text of TEXTS) sink += set.matchText('acct', text, false).length
    ops += 50 * TEXTS.length
    now = process.hrtime.bigint()
  }
  if (sink < 0) console.log(sink)
  return Number(now - start) / ops
}

/** Every keyword of every rule in turn: what the compiled matcher replaces. */
function naiveRuleSet(rules: TextRule[]): RuleSet {
  const compiled = rules.map((r) => ({
    r,
    tests: r.keywords.map((k) => {
      const value = k.value.normalize('NFKC').toLowerCase()
      if (k.kind === 'exact') return (t: string) => t === value
      if (k.kind === 'prefix') return (t: string) => t.startsWith(value)
      if (k.kind === 'contains') return (t: string) => t.includes(value)
      const re = new RegExp(k.value, 'iu')
      return (_t: string, raw: string) => re.test(raw)
    }),
  }))
  const matchText: RuleSet['matchText'] = (_account, text) => {
    const raw = text.trim().normalize('NFKC')
    const folded = raw.toLowerCase()
    const out = []
    for (const { r, tests } of compiled) {
      if (tests.some((t) => t(folded, raw))) out.push({ rule: r.name, target: r.target, match: {} as never })
    }
    return out
  }
  return { matchText } as RuleSet
}

const SIZES = [
  { label: '10', count: 10, regexes: 0 },
  { label: '1k', count: 1_000, regexes: 10 },
  { label: '100k', count: 100_000, regexes: 300 },
]

const sets = SIZES.map(({ label, count, regexes }) => {
  const rules = [...baseRules(), ...fillerRules(count - 10, regexes)]
  const heapBefore = process.memoryUsage().heapUsed
  const t0 = performance.now()
  const set = compileRuleSet(rules, [])
  const buildMs = performance.now() - t0
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6
  return { label, rules, set, naive: naiveRuleSet(rules), buildMs, heapMb, samples: [] as number[] }
})

// Same candidates whatever the size, for the shared rules (fillers may add their own hits).
for (const text of TEXTS) {
  const small = sets[0].set.matchText('acct', text, false).map((c) => c.rule)
  const big = sets[2].set.matchText('acct', text, false).map((c) => c.rule)
  if (!small.every((r) => big.includes(r))) throw new Error(`100k set lost a base match for ${text}`)
}
const hitsPerText = sets.map((s) => TEXTS.reduce((n, t) => n + s.set.matchText('acct', t, false).length, 0) / TEXTS.length)

for (const s of sets) measure(s.set, ROUND_MS / 2) // warm-up
for (let round = 0; round < ROUNDS; round++) for (const s of sets) s.samples.push(measure(s.set, ROUND_MS))

console.log(`matchText over ${TEXTS.length} texts (${TEXTS.length - 7} hits on shared rules, 7 misses), node ${process.version}`)
console.log('rules   build ms  heap MB  keywords  candidates/text  ns/matchText: median    min   (every round)')
sets.forEach((s, i) => {
  console.log(
    `${s.label.padEnd(6)}  ${s.buildMs.toFixed(0).padStart(8)}  ${s.heapMb.toFixed(0).padStart(7)}  ${String(s.set.size.keywords).padStart(8)}  ${hitsPerText[i].toFixed(2).padStart(15)}  ${median(s.samples).toFixed(0).padStart(20)} ${Math.min(...s.samples).toFixed(0).padStart(6)}   [${s.samples.map((x) => x.toFixed(0)).join(' ')}]`,
  )
})
const ratio = (i: number, f: (xs: number[]) => number) => (f(sets[i].samples) / f(sets[0].samples)).toFixed(2)
const min = (xs: number[]) => Math.min(...xs)
console.log(`ratio 1k/10   = ${ratio(1, median)}x median, ${ratio(1, min)}x min`)
console.log(`ratio 100k/10 = ${ratio(2, median)}x median, ${ratio(2, min)}x min   (target <= 2x)`)
console.log('\nnaive baseline (every keyword of every rule in turn):')
for (const s of sets) {
  const ns = measure(s.naive, s.label === '100k' ? ROUND_MS * 2 : ROUND_MS)
  console.log(`  ${s.label.padEnd(5)} ${ns.toFixed(0).padStart(10)} ns/matchText`)
}

// The contains automaton alone vs modern-ahocorasick on the same dictionary (why this repo has its own).
const containsWords = [...new Set(sets[2].rules.flatMap((r) => r.keywords.filter((k) => k.kind === 'contains').map((k) => k.value.toLowerCase())))]
const ours = buildAutomaton(containsWords)
const theirs = new AhoCorasick(containsWords)
const loop = (fn: (text: string) => number) => {
  let ops = 0
  let sink = 0
  const start = performance.now()
  while (performance.now() - start < ROUND_MS) {
    for (const t of TEXTS) sink += fn(t)
    ops += TEXTS.length
  }
  if (sink < 0) console.log(sink)
  return ((performance.now() - start) * 1e6) / ops
}
const oursNs = loop((t) => {
  let n = 0
  ours.forEachMatch(t, () => n++)
  return n
})
const theirsNs = loop((t) => theirs.search(t).length)
console.log(`\ncontains automaton alone, ${containsWords.length} patterns: this repo ${oursNs.toFixed(0)} ns/text, modern-ahocorasick search() ${theirsNs.toFixed(0)} ns/text`)
