/**
 * zod issues in plain words: "rule "echo": priority must be an integer, got "high"", with the path kept
 * so the loader can point at the line. Unknown keys suggest the nearest allowed key.
 */
import type { z } from 'zod'
import { didYouMean } from '../../did-you-mean.ts'
import { allowedKeysAt, isKeywordPath } from './rule-file-schema.ts'
import { replySchema } from '../../reply/reply-builders.ts'

export interface Problem {
  path: PropertyKey[]
  /** For an unknown key: the key itself, so the position is the key's, not its mapping's. */
  key?: string
  message: string
}

interface RawProblem extends Problem {
  /** From a cross-field check (superRefine) rather than the shape itself. */
  refinement?: boolean
  /** The value at the path is not a mapping at all: the mapping's refinements are noise, as beside a typo. */
  notAMapping?: boolean
}

type Issue = z.core.$ZodIssue

export function describeIssues(issues: readonly Issue[], data: unknown): Problem[] {
  const problems = issues.flatMap((issue) => describeIssue(issue, [], data))
  // A typo'd key also trips "needs a target" / "needs a kind" on the same mapping; the typo is the news.
  const typoAt = new Set(problems.filter((p) => p.key !== undefined || p.notAMapping).map((p) => pathKey(p.path)))
  return problems
    .filter((p) => !(p.refinement && typoAt.has(pathKey(p.path))))
    .map(({ path, key, message }) => (key === undefined ? { path, message } : { path, key, message }))
}

/**
 * A keyword's kind by the name other tools give it (String.startsWith, a form's "equals", a pattern): no
 * misspelling of prefix, exact, contains or regex, so the did-you-mean by spelling found none
 * (`startsWith: fb` was "unknown key" and the list; a plugin author's walkthrough). Keys lowercased, without - and _.
 */
const KEYWORD_KINDS_BY_OTHER_NAME: Readonly<Record<string, string>> = {
  startswith: 'prefix',
  beginswith: 'prefix',
  starts: 'prefix',
  begins: 'prefix',
  equals: 'exact',
  equal: 'exact',
  is: 'exact',
  includes: 'contains',
  include: 'contains',
  has: 'contains',
  pattern: 'regex',
  regexp: 'regex',
  re: 'regex',
}

/** An unknown key with no value that holds a space: the tail of a text a comma cut inside {...}. */
function isCutByComma(mapping: unknown, key: string): boolean {
  if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) return false
  return (mapping as Record<string, unknown>)[key] === null && /\s/.test(key.trim())
}

/** The text a keyword's `: ` made a one-pair mapping of, as written (`价格: 多少`); undefined when it is not one. */
function cutByColon(mapping: unknown, key: string): string | undefined {
  if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) return undefined
  const entries = Object.entries(mapping as Record<string, unknown>)
  if (entries.length !== 1 || entries[0][0] !== key) return undefined
  const value = entries[0][1]
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? `${key}: ${String(value)}` : undefined
}

function pathKey(path: readonly PropertyKey[]): string {
  return path.map(String).join('\u0000')
}

function describeIssue(issue: Issue, prefix: PropertyKey[], data: unknown): RawProblem[] {
  const path = [...prefix, ...issue.path]
  const where = (message: string, key?: string): RawProblem => ({ path, key, message: `${subjectOf(path, data)}${message}` })
  // Messages that do not start with the field's path name welcome, default or error themselves.
  const named = (message: string, key?: string): RawProblem => where(`${systemSubject(path)}${message}`, key)
  const field = fieldOf(path)
  const actual = valueAt(data, path)
  switch (issue.code) {
    case 'unrecognized_keys': {
      // A !!binary value is an object to zod, its every index and Buffer method an unknown key: 100 lines.
      // Its mapping's refinements ("a keyword needs one of exact, ...") are dropped as a typo's are (describeIssues).
      if (isTaggedValue(actual)) return [{ ...where(`${field} must be ${isKeywordPath(path) ? 'text or ' : ''}a mapping (key: value), got ${describeValue(actual)}`), notAMapping: true }]
      const allowed = allowedKeysAt(path, actual)
      return issue.keys.map((key) => {
        const list = allowed ? `; allowed here: ${allowed.join(', ')}` : ''
        // `welcome: {type: text, content: Hi}`: the reply's own fields, written one level too high.
        const hint = allowed?.includes('reply') && REPLY_FIELDS.has(key) ? '; the fields of an inline reply go under reply: (reply: {type: text, content: ...})' : ''
        // `{type: text, content: Sorry, try again}`: YAML ends a plain value at a flow mapping's comma, and
        // the rest of the text becomes a key with no value. A key of words is no misspelt field name.
        if (isCutByComma(actual, key)) {
          return named(`unknown key "${key}"; inside {...} a comma ends a value, so the text after it was read as a key: put a text with a comma in quotes (content: 'Sorry, ...')`, key)
        }
        const otherName = allowed?.includes('prefix') ? KEYWORD_KINDS_BY_OTHER_NAME[key.toLowerCase().replace(/[-_]/g, '')] : undefined
        const meant = otherName === undefined ? didYouMean(key, allowed ?? []) : ` (did you mean "${otherName}"?)`
        // `keywords: [价格: 多少]`: ": " makes a text a key and its value, and the keyword a mapping. Not
        // when the key resembles a kind (`exatc: hi`): that is a typo.
        const pair = isKeywordPath(path) && meant === '' ? cutByColon(actual, key) : undefined
        if (pair !== undefined) {
          return named(`unknown key "${key}"; YAML read ${JSON.stringify(pair)} as a key and its value (": " makes a pair): put a keyword with ": " in quotes ('${pair.replace(/'/g, "''")}')`, key)
        }
        return named(`unknown key "${key}"${meant}${hint}${list}`, key)
      })
    }
    case 'invalid_type':
      if (actual === undefined) return [where(`${field} is missing`)]
      if (typeof actual === 'string' && (path[path.length - 1] === 'reply' || systemSubject(path) !== '')) {
        // WeEngine and the console take a reply as just its text; here a reply names its type.
        const reply = `{type: text, content: ${describeValue(actual)}}`
        const written = path[path.length - 1] === 'reply' ? `reply: ${reply}` : `${String(path[0])}: {reply: ${reply}}`
        return [where(`${field} must be a mapping (key: value), got ${describeValue(actual)}; a text reply is written ${written}`)]
      }
      return [where(`${field} must be ${wordsForType(isWholeNumber(path) ? 'int' : issue.expected)}, got ${describeValue(actual)}${issue.expected === 'string' ? quoteHint(actual) : ''}${issue.expected === 'array' ? dashHint(actual) || listHint(path, actual) : ''}`)]
    case 'invalid_value': {
      const values = issue.values.map(String)
      if (path.length === 3 && path[0] === 'handlers' && path[2] === 'type') {
        // No type at all was "unknown message type undefined" and the whole list of kinds.
        if (actual === undefined) return [where('type is missing: a handler says which message kind it takes (type: image, type: subscribe, type: click, ...; docs/rules.md lists them)')]
        return [where(`unknown message type ${describeValue(actual)}` + (didYouMean(String(actual), values) || `; known types: ${values.join(', ')}`))]
      }
      return [where(`${field} must be one of ${values.join(', ')}, got ${describeValue(actual)}`)]
    }
    case 'too_small':
      if (issue.origin === 'string') return [where(`${field} is empty`)]
      if (issue.origin === 'array') return [where(`${field} is an empty list`)]
      return [where(`${field} must be at least ${String(issue.minimum)}, got ${describeValue(actual)}`)]
    case 'too_big':
      // "must be at most 65536, got "xxxx..."" said neither characters nor how many (a review of bad input).
      if (issue.origin === 'string' && typeof actual === 'string') return [where(`${field} is ${actual.length} characters, more than the ${String(issue.maximum)} it may have`)]
      if (issue.origin === 'array' && Array.isArray(actual)) return [where(`${field} has ${actual.length} entries, more than the ${String(issue.maximum)} it may have`)]
      return [where(`${field} must be at most ${String(issue.maximum)}, got ${describeValue(actual)}`)]
    case 'invalid_union': {
      if (issue.errors.length === 0) {
        // A union of mappings told apart by a key (a reply's type), reported at that key: `reply: !!binary aGk=`
        // was "reply type must be one of ... (it has none)". Said of the value holding the key.
        const holderPath = path.slice(0, -1)
        const holder = valueAt(data, holderPath)
        if (path.length > 0 && isTaggedValue(holder)) {
          return [{ path: holderPath, message: `${subjectOf(holderPath, data)}${fieldOf(holderPath)} must be a mapping (key: value), got ${describeValue(holder)}` }]
        }
        return [where(issue.message)]
      }
      // The branch that got past the first shape check is the one the author meant; not for a value of a YAML
      // tag (`keywords: [!!binary aGk=]` got past the mapping's, and was its 100 unknown keys).
      const fitting = isTaggedValue(actual) ? [] : issue.errors.filter(
        (branch) => !(branch.length === 1 && branch[0].code === 'invalid_type' && branch[0].path.length === 0),
      )
      if (fitting.length >= 1) return fitting[0].flatMap((sub) => describeIssue(sub, path, data))
      const expected = issue.errors.map((b) => wordsForType((b[0] as { expected?: string }).expected ?? 'a value'))
      const hint = issue.errors.some((b) => (b[0] as { expected?: string }).expected === 'string') ? quoteHint(actual) : ''
      return [where(`${field} must be ${[...new Set(expected)].join(' or ')}, got ${describeValue(actual)}${hint}`)]
    }
    case 'custom':
      return [{ ...named(issue.message), refinement: true }]
    default:
      return [where(`${field}: ${issue.message}`)]
  }
}

/** "rule "echo": ", "handler #2 (location): " or nothing at the top level (see systemSubject). */
function subjectOf(path: readonly PropertyKey[], data: unknown): string {
  const [top, index] = path
  if ((top === 'rules' || top === 'handlers') && typeof index === 'number') {
    const entry = valueAt(data, [top, index]) as { name?: unknown; type?: unknown } | undefined
    if (top === 'rules') {
      return typeof entry?.name === 'string' ? `rule "${entry.name}": ` : `rule #${index + 1}: `
    }
    const type = typeof entry?.type === 'string' ? ` (${entry.type})` : ''
    return typeof entry?.name === 'string' ? `handler "${entry.name}": ` : `handler #${index + 1}${type}: `
  }
  return ''
}

/**
 * "welcome: " for a problem in the welcome, default or error mapping itself, "default.reply: " in its reply
 * (an article: "default.reply.articles[0]: "): its line alone does not say which.
 */
function systemSubject(path: readonly PropertyKey[]): string {
  return path.length >= 1 && SYSTEM_TARGETS.has(String(path[0])) ? `${fieldOf(path)}: ` : ''
}

const SYSTEM_TARGETS = new Set(['welcome', 'default', 'error'])

/** Fields of the Reply types, read off their schema (core/reply/reply-builders.ts), and an inline reply's `file`: none is a key of a rule, handler or system target. */
const REPLY_FIELDS: ReadonlySet<string> = new Set([...replySchema.options.flatMap((option) => Object.keys(option.shape)), 'file'])

/** The path below the subject: `priority`, `keywords[2].regex`, `reply.content`. */
function fieldOf(path: readonly PropertyKey[]): string {
  const below = (path[0] === 'rules' || path[0] === 'handlers') && typeof path[1] === 'number' ? path.slice(2) : path
  if (below.length === 0) {
    if (path.length === 0) return 'the file'
    return path[0] === 'rules' ? 'the rule' : 'the handler'
  }
  let out = ''
  for (const step of below) out += typeof step === 'number' ? `[${step}]` : out ? `.${String(step)}` : String(step)
  return out
}

/** zod reports "expected number" for a string given to z.int(); say what is really wanted. */
function isWholeNumber(path: readonly PropertyKey[]): boolean {
  return path[path.length - 1] === 'priority'
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data
  for (const step of path) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<PropertyKey, unknown>)[step]
  }
  return value
}

function wordsForType(expected: string): string {
  switch (expected) {
    case 'int':
      return 'a whole number'
    case 'number':
      return 'a number'
    case 'string':
      return 'text'
    case 'boolean':
      return 'true or false'
    case 'array':
      return 'a list'
    case 'object':
    case 'record':
      return 'a mapping (key: value)'
    default:
      return expected
  }
}

/**
 * `keywords: [1, 2, 3]` (a WeEngine menu of numbered choices) is three numbers to YAML, and "must be text, got 1"
 * did not say why 1 is not text. The value is not quoted back: `007` was read as 7.
 */
function quoteHint(actual: unknown): string {
  if (typeof actual === 'number') return '; YAML reads an unquoted number as a number: put the text in quotes'
  if (typeof actual === 'boolean') return `; YAML reads an unquoted ${String(actual)} as true or false: put the text in quotes`
  return ''
}

/**
 * `-a` for `- a`: without its space the dash is the first letter of a text (`keywords: "-a - b"`) or of a key
 * (`rules: {"-name": a}`), and "must be a list, got ..." did not say which character was missing.
 */
function dashHint(actual: unknown): string {
  const dashed = typeof actual === 'string' ? /^-[^\s-]/.test(actual) : typeof actual === 'object' && actual !== null && Object.keys(actual).some((k) => /^-[^\s-]/.test(k))
  return dashed ? '; a list item starts with "- ", a dash and a space (- a, not -a)' : ''
}

/**
 * `keywords: feedback` (one keyword, as WeEngine's form takes it) and `rules:` with its rule's keys under it but
 * no "- ": "must be a list, got ..." said what was wrong and not how a list is written (a plugin author's
 * walkthrough).
 */
function listHint(path: readonly PropertyKey[], actual: unknown): string {
  const last = path[path.length - 1]
  if (last === 'keywords' && typeof actual === 'string') {
    // Quoted when YAML would read the bare text otherwise (a comma, a colon, a bracket...).
    const written = /^[\p{L}\p{N}_ -]+$/u.test(actual) && !actual.startsWith('-') ? actual : JSON.stringify(actual)
    return `; one keyword is a list of one: keywords: [${written}]`
  }
  if (path.length === 1 && (last === 'rules' || last === 'handlers') && typeof actual === 'object' && actual !== null && !Array.isArray(actual)) {
    const first = last === 'rules' ? 'name' : 'type'
    const value = (actual as Record<string, unknown>)[first]
    return `; begin each ${last === 'rules' ? 'rule' : 'handler'} with "- ", as in: - ${first}: ${typeof value === 'string' ? value : '...'}`
  }
  return ''
}

/** A value only one of YAML's explicit tags makes (describeValue names each), never what a field takes. */
function isTaggedValue(value: unknown): boolean {
  return value instanceof Uint8Array || value instanceof Set || value instanceof Map || value instanceof Date
}

export function describeValue(value: unknown): string {
  if (value === null) return 'nothing (null)'
  if (Array.isArray(value)) return 'a list'
  // YAML's explicit tags make these (`!!binary aGk=`, `!!set`): each was said to be "a mapping" (an !!omap
  // even where a mapping is taken: "must be ... or a mapping (key: value), got a mapping").
  if (value instanceof Uint8Array) return 'binary data (a !!binary tag)'
  if (value instanceof Set) return 'a set (a !!set tag)'
  if (value instanceof Map) return 'an ordered mapping (a !!omap or !!pairs tag): write a plain mapping'
  if (value instanceof Date) return 'a date (a !!timestamp tag)'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  return String(value)
}
