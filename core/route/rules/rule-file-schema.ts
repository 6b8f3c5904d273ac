/**
 * The shape of one rules file (docs/rules.md). Strict objects everywhere: an unknown key is an error,
 * because a misspelt `prority:` silently ignored is a rule in the wrong order.
 * Checks that need more than one field (one target, one keyword kind, regex syntax) are refinements
 * with their own plain-words messages; positions are added by the loader.
 */
import retModule, { type Token } from 'ret'
import { z } from 'zod'
import { MESSAGE_KINDS } from '../../normalize/message-types.ts'
import { replySchema } from '../../reply/reply-builders.ts'
import { KEY_KINDS, SCENE_KINDS } from '../rule-types.ts'
import { checkOverlappingAlternatives } from './overlapping-alternatives.ts'

export const KEYWORD_KINDS = ['exact', 'contains', 'prefix', 'regex'] as const


const jsonValue = z.json()

const keywordObjectShape = {
  exact: z.string().min(1).optional(),
  contains: z.string().min(1).optional(),
  prefix: z.string().min(1).optional(),
  regex: z.string().min(1).optional(),
  /** A regex with nested repetition, accepted anyway: its author vouches it cannot backtrack badly. */
  trusted: z.boolean().optional(),
  foldCase: z.boolean().optional(),
  foldWidth: z.boolean().optional(),
}

const keywordObject = z.strictObject(keywordObjectShape).superRefine((kw, ctx) => {
  const kinds = KEYWORD_KINDS.filter((k) => kw[k] !== undefined)
  if (kinds.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'a keyword needs one of exact, contains, prefix or regex' })
    return
  }
  if (kinds.length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: [kinds[1]],
      message: `a keyword has exactly one kind, this one has ${kinds.join(' and ')} (write two keywords)`,
    })
    return
  }
  const kind = kinds[0]
  const value = kw[kind] as string
  if (kind === 'regex') {
    const problem = checkRegex(value) ?? (kw.trusted === true ? undefined : (checkBacktracking(value) ?? checkOverlappingAlternatives(value)))
    if (problem) ctx.addIssue({ code: 'custom', path: ['regex'], message: problem })
  } else if (kw.trusted !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['trusted'], message: 'trusted applies to regex keywords only' })
  } else if (kind === 'exact' && value !== value.trim()) {
    ctx.addIssue({
      code: 'custom',
      path: ['exact'],
      message: `exact keyword ${JSON.stringify(value)} has leading or trailing spaces; texts are trimmed before matching, so it could never match`,
    })
  } else if (kind === 'prefix' && value !== value.trimStart()) {
    ctx.addIssue({
      code: 'custom',
      path: ['prefix'],
      message: `prefix keyword ${JSON.stringify(value)} starts with spaces; texts are trimmed before matching, so it could never match`,
    })
  }
})

/** A bare string is an exact keyword (docs/rules.md says why). */
const keywordSchema = z.union([z.string().min(1), keywordObject]).superRefine((kw, ctx) => {
  if (typeof kw === 'string' && kw !== kw.trim()) {
    ctx.addIssue({
      code: 'custom',
      message: `keyword ${JSON.stringify(kw)} has leading or trailing spaces; texts are trimmed before matching, so it could never match`,
    })
  }
})

/** ret, the regex parser safe-regex2 is built on: a CommonJS function whose typings describe an ES default export. */
const parseRegex = retModule as unknown as (source: string) => Token
/** ret's token types (its `types` enum), read from the CommonJS export for the same reason. */
const { REPETITION } = (retModule as unknown as { types: { REPETITION: number } }).types

/**
 * Nested repetition (`(a+)+`, `(\w+\s?)*`, `(a?a?)+`): a backtracking engine takes time exponential in the
 * text's length to fail on it, and the text comes from any WeChat user. `^(a+)+$` against 27 a's and a `!`
 * took 5 s of the main thread, stalling every account. Found as a quantifier under a quantifier (star
 * height above 1), as safe-regex2 does, with two exceptions that cannot explode:
 * - an optional part (`?`, `{0,1}`) that no repeating quantifier encloses is tried once at most:
 *   `^note(?:\s+(.+))?$` (a command with an optional argument). Under a repetition an optional part counts
 *   like any quantifier: `(a?a?)+` took 30 s on 24 a's.
 * - small bounded repetitions inside each other, the product of their bounds at most 64: the IPv4 pattern
 *   `^(?:\d{1,3}\.){3}\d{1,3}$` tries at most 3 x 3 ways. A bounded one around an unbounded one (`(a+){3}`)
 *   or the other way (`(a{1,2})+`) still counts.
 * Lookbehind, which ret (the parser) cannot read, is read as a plain group for the check. It does not find
 * every slow regex (overlapping alternatives under one quantifier, several repetitions in a row on a long
 * text): docs/rules.md says so.
 */
export function checkBacktracking(source: string): string | undefined {
  let root: Token
  try {
    root = parseRegex(source.replace(LOOKBEHIND, '(?:'))
  } catch {
    // What JS accepts and ret still cannot read is not judged.
    return undefined
  }
  if (!nestsRepetition(root, 0, 1)) return undefined
  return (
    `regex ${JSON.stringify(source)} repeats a repeated part (like (a+)+): on a text that almost matches it can run for ` +
    'seconds and stall every account. Rewrite it without the nested repetition, or add trusted: true to this keyword if you are sure'
  )
}

/** `(?<=` and `(?<!` not escaped: a lookbehind, read as `(?:` by the check. */
const LOOKBEHIND = /(?<!\\)\(\?<[=!]/g
/** Bounded repetitions nested in each other are harmless while the product of their bounds is this small. */
const BOUNDED_PRODUCT = 64

/**
 * Whether a repetition sits under another (`depth` repetitions enclose this token; `bound` is the product
 * of their upper bounds, Infinity once one is unbounded). An optional quantifier (max 1) counts only under a
 * repetition.
 */
function nestsRepetition(token: Token, depth: number, bound: number): boolean {
  if (token.type === REPETITION) {
    const { max, value } = token as Extract<Token, { min: number }>
    const counts = max > 1 || depth > 0
    if (!counts) return nestsRepetition(value, depth, bound)
    const within = bound * max
    if (depth > 0 && !(within <= BOUNDED_PRODUCT)) return true
    return nestsRepetition(value, depth + 1, within)
  }
  const node = token as { stack?: Token[]; options?: Token[][] }
  for (const t of node.stack ?? []) if (nestsRepetition(t, depth, bound)) return true
  for (const branch of node.options ?? []) for (const t of branch) if (nestsRepetition(t, depth, bound)) return true
  return false
}

/**
 * `'/^foo$/i'`: a JavaScript literal written as the pattern, which compiles (slashes are characters) and
 * cannot match (a plugin author's review: accepted silently). A warning, not an error: `/api/v` or
 * `/bind/(\d+)/confirm` are real patterns with slashes, and one that only looks like a literal must still
 * load. Taken for a literal: real flags after the last slash (each once), or an anchor just inside the
 * slashes (`/^start/`, `/end$/`, an escaped `\$` not counted).
 */
export function regexLiteralWarning(source: string): string | undefined {
  const literal = /^\/(.+)\/([dgimsuvy]*)$/s.exec(source)
  if (!literal) return undefined
  const [, inner, flags] = literal
  if (new Set(flags).size !== flags.length) return undefined
  const anchored = inner.startsWith('^') || (inner.endsWith('$') && !/(^|[^\\])(\\\\)*\\\$$/.test(inner))
  if (flags === '' && !anchored) return undefined
  const matches = anchored ? 'it matches no text at all (an anchor after a slash)' : `it matches only texts containing ${JSON.stringify(source)} itself`
  return `regex ${JSON.stringify(source)} looks like a JavaScript literal /.../${flags}: as written ${matches}; write the pattern alone, ${JSON.stringify(inner)} (case and width are folded by foldCase and foldWidth, on by default)`
}

/** Syntax check with the flags the matcher uses (`u`, plus `i` when folding case; `i` never changes validity). */
export function checkRegex(source: string): string | undefined {
  try {
    new RegExp(source, 'u')
    return undefined
  } catch (e) {
    const detail = (e as Error).message.replace(/^Invalid regular expression: \/.*\/u?: /s, '')
    return `invalid regular expression ${JSON.stringify(source)}: ${detail} (regexes use the u flag)`
  }
}

const targetShape = {
  plugin: z.string().min(1).optional(),
  args: z.record(z.string(), jsonValue).optional(),
  reply: replySchema.optional(),
}

type TargetFields = { plugin?: string; args?: Record<string, unknown>; reply?: unknown }

function refineTarget(t: TargetFields, ctx: z.RefinementCtx, owner: string): void {
  if (t.plugin === undefined && t.reply === undefined) {
    ctx.addIssue({ code: 'custom', message: `${owner} needs a target: \`plugin: <name>\` or \`reply: {...}\`` })
  } else if (t.plugin !== undefined && t.reply !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['reply'], message: `${owner} has both plugin and reply; choose one` })
  } else if (t.args !== undefined && t.plugin === undefined) {
    ctx.addIssue({ code: 'custom', path: ['args'], message: 'args are for a plugin target; an inline reply takes none' })
  }
}

export const targetSchema = z.strictObject(targetShape).superRefine((t, ctx) => refineTarget(t, ctx, 'this reply'))

const orderShape = {
  priority: z.int().optional(),
  enabled: z.boolean().optional(),
}

export const ruleShape = {
  name: z.string().min(1),
  keywords: z.array(keywordSchema).min(1),
  foldCase: z.boolean().optional(),
  foldWidth: z.boolean().optional(),
  ...orderShape,
  ...targetShape,
}

const ruleSchema = z.strictObject(ruleShape).superRefine((r, ctx) => refineTarget(r, ctx, `rule "${r.name}"`))

export const handlerShape = {
  name: z.string().min(1).optional(),
  type: z.enum(MESSAGE_KINDS),
  /** QR scene ids are often written as numbers; they arrive as strings (protocol.md §3). */
  scene: z.union([z.string().min(1), z.int().nonnegative()]).optional(),
  /** A menu event's EventKey, exactly (a menu button, from a click only: a text rule also takes typed text). */
  key: z.union([z.string().min(1), z.int().nonnegative()]).optional(),
  ...orderShape,
  ...targetShape,
}

const handlerSchema = z.strictObject(handlerShape).superRefine((h, ctx) => {
  refineTarget(h, ctx, `handler for ${h.type}`)
  if (h.scene !== undefined && !SCENE_KINDS.includes(h.type)) {
    ctx.addIssue({
      code: 'custom',
      path: ['scene'],
      message: `scene applies only to ${SCENE_KINDS.join(' and ')} handlers, not ${h.type}`,
    })
  }
  if (h.key !== undefined && !KEY_KINDS.includes(h.type)) {
    ctx.addIssue({
      code: 'custom',
      path: ['key'],
      message: `key applies only to menu event handlers (${KEY_KINDS.join(', ')}), not ${h.type}${SCENE_KINDS.includes(h.type) ? ': a QR code is told apart by scene' : ''}`,
    })
  }
})

export const fileShape = {
  account: z.string().min(1).optional(),
  rules: z.array(ruleSchema).nullable().optional(),
  handlers: z.array(handlerSchema).nullable().optional(),
  welcome: targetSchema.optional(),
  default: targetSchema.optional(),
  error: targetSchema.optional(),
}

export const ruleFileSchema = z.strictObject(fileShape)

export type RuleFile = z.infer<typeof ruleFileSchema>
export type RuleEntry = z.infer<typeof ruleSchema>
export type HandlerEntry = z.infer<typeof handlerSchema>
export type TargetEntry = z.infer<typeof targetSchema>
export type KeywordEntry = z.infer<typeof keywordSchema>

/** Keys allowed at a path of a rules file, for "unknown key" messages. */
export function allowedKeysAt(path: readonly PropertyKey[]): string[] | undefined {
  const p = path.map(String)
  if (p.length === 0) return Object.keys(fileShape)
  if (p.length === 1 && (p[0] === 'welcome' || p[0] === 'default' || p[0] === 'error')) return Object.keys(targetShape)
  if (p.length === 2 && p[0] === 'rules') return Object.keys(ruleShape)
  if (p.length === 2 && p[0] === 'handlers') return Object.keys(handlerShape)
  if (p.length === 4 && p[0] === 'rules' && p[2] === 'keywords') return Object.keys(keywordObjectShape)
  return undefined
}
