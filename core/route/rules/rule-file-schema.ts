/**
 * The shape of one rules file (docs/rules.md). Strict objects everywhere: an unknown key is an error,
 * because a misspelt `prority:` silently ignored is a rule in the wrong order.
 * Checks that need more than one field (one target, one keyword kind, regex syntax) are refinements
 * with their own plain-words messages; positions are added by the loader.
 */
import { z } from 'zod'
import { MESSAGE_KINDS } from '../../normalize/message-types.ts'
import { QR_SCENE_PREFIX } from '../../normalize/normalize-message.ts'
import { articleSchema, replySchema, replyTypeError } from '../../reply/reply-builders.ts'
import { KEY_KINDS, SCENE_KINDS } from '../rule-types.ts'
import { GROUP_NAME } from '../user-groups.ts'
import { aMediaType, extensionProblem } from './media-file.ts'
import { slowRegexProblem } from './slow-regex.ts'
import { widthFoldedRegex } from './fold-regex.ts'
import { shownPattern } from './shown-pattern.ts'
import { shownKeyword, trimForMatching, trimStartForMatching, withoutInvisible } from './invisible-characters.ts'

export const KEYWORD_KINDS = ['exact', 'contains', 'prefix', 'regex'] as const


const jsonValue = z.json()

const keywordObjectShape = {
  exact: z.string().min(1).optional(),
  contains: z.string().min(1).optional(),
  prefix: z.string().min(1).optional(),
  regex: z.string().min(1).optional(),
  /** A regex the slow-regex check refuses, accepted anyway: its author vouches it cannot backtrack badly. */
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
    const problem = checkRegex(value) ?? (kw.trusted === true ? undefined : slowRegexProblem(value, kw.foldCase !== false) ?? slowWhenFolded(value, kw))
    if (problem) ctx.addIssue({ code: 'custom', path: ['regex'], message: problem })
  } else if (kw.trusted !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['trusted'], message: 'trusted applies to regex keywords only' })
  } else if (kind === 'exact' && value !== trimForMatching(value)) {
    ctx.addIssue({
      code: 'custom',
      path: ['exact'],
      message: `exact keyword ${shownKeyword(value)} has leading or trailing ${spacesIn(value)}; texts are trimmed before matching, so it could never match`,
    })
  } else if (kind === 'prefix' && value !== trimStartForMatching(value)) {
    ctx.addIssue({
      code: 'custom',
      path: ['prefix'],
      message: `prefix keyword ${shownKeyword(value)} starts with ${spacesIn(value)}; texts are trimmed before matching, so it could never match`,
    })
  }
})

/**
 * Width folding rewrites a regex (fold-regex.ts), which can make it slow where it was not: `(?:，|,)+` is
 * `(?:,|,)+` as it reads folded text. Checked unless the keyword itself turns folding off (the rule's setting is
 * not known here: a rule with `foldWidth: false` may be refused for a shape it does not run).
 */
function slowWhenFolded(source: string, kw: { foldCase?: boolean; foldWidth?: boolean }): string | undefined {
  if (kw.foldWidth === false) return undefined
  const folded = widthFoldedRegex(source)
  if (folded === source) return undefined
  const problem = slowRegexProblem(folded, kw.foldCase !== false)
  return problem && `${problem} (as the regex reads width-folded text, where full-width characters are half-width: foldWidth)`
}

/** A bare string is an exact keyword (docs/rules.md says why). */
const keywordSchema = z.union([z.string().min(1), keywordObject]).superRefine((kw, ctx) => {
  if (typeof kw === 'string' && kw !== trimForMatching(kw)) {
    ctx.addIssue({
      code: 'custom',
      message: `keyword ${shownKeyword(kw)} has leading or trailing ${spacesIn(kw)}; texts are trimmed before matching, so it could never match`,
    })
  }
})

/** What a keyword's trimmed ends are made of, said: the invisible ones only when there are some. */
function spacesIn(keyword: string): string {
  return withoutInvisible(keyword) === keyword ? 'spaces' : 'spaces or invisible characters'
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
  const matches = anchored ? 'it matches no text at all (an anchor after a slash)' : `it matches only texts containing ${shownPattern(source)} itself`
  return `regex ${shownPattern(source)} looks like a JavaScript literal /.../${flags}: as written ${matches}; write the pattern alone, ${shownPattern(inner)} (case and width are folded by foldCase and foldWidth, on by default)`
}

/** Syntax check with the flags the matcher uses (`u`, plus `i` when folding case; `i` never changes validity). */
export function checkRegex(source: string): string | undefined {
  try {
    new RegExp(source, 'u')
    return undefined
  } catch (e) {
    const detail = (e as Error).message.replace(/^Invalid regular expression: \/.*\/u?: /s, '')
    const hint = uFlagHint(source)
    return `invalid regular expression ${shownPattern(source)}: ${detail} (regexes use the u flag${hint ? `: ${hint}` : ''})`
  }
}

/**
 * What to write instead, for the two u-flag refusals a newcomer meets (a review): an escape the u flag does
 * not know (`^price\-(\d+)$`: outside [...], `\-` is no escape), and a script named as a property
 * (`\p{Han}`, which the u flag spells `\p{Script=Han}`). V8 says only "Invalid escape" and "Invalid
 * property name". Undefined when neither is found.
 */
function uFlagHint(source: string): string | undefined {
  let inClass = false
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (c === '[' && !inClass) inClass = true
    else if (c === ']' && inClass) inClass = false
    if (c !== '\\') continue
    // A lone \ at the end escapes nothing: V8's "\ at end of pattern" says it all, and reading past the
    // end would name a NUL as the escape.
    if (i + 1 >= source.length) return undefined
    const next = String.fromCodePoint(source.codePointAt(i + 1) as number)
    i += next.length
    const property = /^[pP]\{([^}=]*)\}/.exec(source.slice(i))
    if (property) {
      if (compiles(`\\p{${property[1]}}`) || !compiles(`\\p{Script=${property[1]}}`)) continue
      return `a script is written \\${next}{Script=${property[1]}}; \\${next}{...} alone takes a category, such as L or Letter`
    }
    // Escapes that take more after them (\u{..}, \x41, \cA, \k<name>, \1) are V8's to judge.
    if (/[\dpPuxck]/.test(next)) continue
    if (!compiles(inClass ? `[\\${next}]` : `\\${next}`)) {
      return `\\${next} is no escape ${inClass ? 'in [...]' : 'outside [...]'}, write ${JSON.stringify(next)} alone; a \\ escapes only ^ $ \\ . * + ? ( ) [ ] { } | /${inClass ? ' and, in [...], -' : ''}`
    }
  }
  return undefined
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u')
    return true
  } catch {
    return false
  }
}

/** The reply types whose media a rule may name by file (`file:`) instead of by media_id (docs/rules.md). */
export const FILE_REPLY_TYPES = ['image', 'voice', 'video'] as const

/**
 * A news article in YAML may open its page through a web login (`login: base|userinfo`, docs/rules.md): its
 * url is then the page, and the link sent is made per account when the rules are loaded (load-rule-set.ts).
 */
const inlineArticleShape = articleSchema.extend({ login: z.enum(['base', 'userinfo']).optional() })
const inlineArticleSchema = inlineArticleShape
  .superRefine((a, ctx) => {
    if (a.login !== undefined && (a.url === undefined || a.url === '')) ctx.addIssue({ code: 'custom', path: ['login'], message: 'login needs the url of the page to open, on the account\'s pageDomains' })
  })

/**
 * An inline reply in YAML: a Reply, except that an image, voice or video may name a file (relative to the
 * rules file's folder) instead of a mediaId: exactly one of them. The file itself is checked by the loader.
 */
const inlineReplyOptions = replySchema.options.map((option) =>
  (FILE_REPLY_TYPES as readonly string[]).includes(option.shape.type.value)
    ? option.extend({ mediaId: z.string().min(1, 'mediaId is empty').optional(), file: z.string({ error: 'file must be a string' }).min(1, 'file is empty').optional() })
    : option.shape.type.value === 'news'
      ? option.extend({ articles: z.array(inlineArticleSchema, { error: 'articles must be an array' }).min(1, 'articles is empty') })
      : option,
)

export const inlineReplySchema = z
  .discriminatedUnion('type', inlineReplyOptions as unknown as typeof replySchema.options, { error: replyTypeError })
  .superRefine((reply, ctx) => {
    if (!(FILE_REPLY_TYPES as readonly string[]).includes(reply.type)) return
    const r = reply as { type: (typeof FILE_REPLY_TYPES)[number]; mediaId?: string; file?: string }
    if (r.mediaId === undefined && r.file === undefined) {
      ctx.addIssue({ code: 'custom', message: `${aMediaType(r.type)} reply needs mediaId: (a media_id from the platform) or file: (a file the engine uploads)` })
    } else if (r.mediaId !== undefined && r.file !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['file'], message: `${aMediaType(r.type)} reply has both mediaId and file; choose one` })
    } else if (r.file !== undefined) {
      const problem = extensionProblem(r.type, r.file)
      if (problem) ctx.addIssue({ code: 'custom', path: ['file'], message: problem })
    }
  })

const targetShape = {
  plugin: z.string().min(1).optional(),
  args: z.record(z.string(), jsonValue).optional(),
  reply: inlineReplySchema.optional(),
}

type TargetFields = { plugin?: string; args?: Record<string, unknown>; reply?: unknown }

function refineTarget(t: TargetFields, ctx: z.RefinementCtx, owner: string): void {
  if (t.plugin === undefined && t.reply === undefined) {
    ctx.addIssue({ code: 'custom', message: `${owner} needs a target: \`plugin: <name>\` or \`reply: {...}\`` })
  } else if (t.plugin !== undefined && t.reply !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['reply'], message: `${owner} has both plugin and reply; choose one` })
  } else if (t.args !== undefined && t.plugin === undefined) {
    ctx.addIssue({ code: 'custom', path: ['args'], message: 'args are for a plugin target; an inline reply takes none' })
  } else if (t.args !== undefined && containsItself(t.args)) {
    ctx.addIssue({
      code: 'custom',
      path: ['args'],
      message: 'args contain themselves through an alias (*name naming an anchor around it): args are JSON data, and a plugin that stringifies them would throw',
    })
  }
}

/**
 * An alias inside its own anchor (`- &r {..., args: {self: *r}}`) makes a cycle, which z.json() lets through.
 * An alias used twice side by side is no cycle, only shared data: that is fine.
 */
function containsItself(value: unknown, within: Set<object> = new Set()): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (within.has(value)) return true
  within.add(value)
  for (const v of Object.values(value)) if (containsItself(v, within)) return true
  within.delete(value)
  return false
}

export const targetSchema = z.strictObject(targetShape).superRefine((t, ctx) => refineTarget(t, ctx, 'this reply'))

const groupName = z.string().regex(GROUP_NAME, 'a group name is a letter followed by letters, digits, _ or -')

/** `users: admins` or `users: [admins, staff]`: groups of engine.config.ts's userGroups (checked by the loader). */
export const usersSchema = z.union([groupName, z.array(groupName).min(1, 'lists no group: leave users out for everyone')], {
  error: 'users must be a group name or a list of them (users: admins, or users: [admins, staff])',
})

const orderShape = {
  priority: z.int().optional(),
  enabled: z.boolean().optional(),
  users: usersSchema.optional(),
}

export const ruleShape = {
  name: z.string().min(1),
  keywords: z.array(keywordSchema).min(1),
  foldCase: z.boolean().optional(),
  foldWidth: z.boolean().optional(),
  ...orderShape,
  ...targetShape,
}

// "the rule", "the handler": the error's line already begins with the rule's name or the handler's number
// (describe-issue.ts subjectOf), and `rule "b": rule "b" needs a target` said it twice.
const ruleSchema = z.strictObject(ruleShape).superRefine((r, ctx) => refineTarget(r, ctx, 'the rule'))

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
  refineTarget(h, ctx, 'the handler')
  if (h.scene !== undefined && !SCENE_KINDS.includes(h.type)) {
    ctx.addIssue({
      code: 'custom',
      path: ['scene'],
      message: `scene applies only to ${SCENE_KINDS.join(' and ')} handlers, not ${h.type}`,
    })
  }
  // `qrscene_1001` is what a new follower's push carries as its EventKey (the log and `wxengine send` show it
  // so), but the scene compared is the key without it, and a follower's scan carries no prefix at all: a
  // handler written with it never answered either push, and loaded without a word. `qrcode create` refuses
  // such a scene too.
  if (typeof h.scene === 'string' && h.scene.startsWith(QR_SCENE_PREFIX)) {
    ctx.addIssue({
      code: 'custom',
      path: ['scene'],
      message: `scene ${JSON.stringify(h.scene)}: write it without ${QR_SCENE_PREFIX}, scene: ${h.scene.slice(QR_SCENE_PREFIX.length) || '...'} (WeChat adds ${QR_SCENE_PREFIX} to a new follower's EventKey; the scene a handler names is compared without it, and a follower's scan has none)`,
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
/** The keys an inline reply of this type takes (`type` among them), or undefined for a type there is not. */
function inlineReplyKeys(type: unknown): string[] | undefined {
  const option = inlineReplyOptions.find((o) => o.shape.type.value === type)
  return option && Object.keys(option.shape)
}

/**
 * The keys a mapping at `path` takes, for an unknown key's message (its did-you-mean and list). `at` is the
 * mapping itself: an inline reply's keys depend on its type, an article's are the same in every news.
 */
export function allowedKeysAt(path: readonly PropertyKey[], at?: unknown): string[] | undefined {
  const p = path.map(String)
  if (p.at(-1) === 'reply' && typeof at === 'object' && at !== null) return inlineReplyKeys((at as { type?: unknown }).type)
  if (p.at(-3) === 'reply' && p.at(-2) === 'articles') return Object.keys(inlineArticleShape.shape)
  if (p.length === 0) return Object.keys(fileShape)
  if (p.length === 1 && (p[0] === 'welcome' || p[0] === 'default' || p[0] === 'error')) return Object.keys(targetShape)
  if (p.length === 2 && p[0] === 'rules') return Object.keys(ruleShape)
  if (p.length === 2 && p[0] === 'handlers') return Object.keys(handlerShape)
  if (isKeywordPath(path)) return Object.keys(keywordObjectShape)
  return undefined
}

/** `rules[i].keywords[j]`: a keyword, text (an exact one) or its mapping. */
export function isKeywordPath(path: readonly PropertyKey[]): boolean {
  return path.length === 4 && path[0] === 'rules' && path[2] === 'keywords'
}
