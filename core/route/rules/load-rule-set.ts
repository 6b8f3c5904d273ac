/**
 * rules/ -> a compiled RuleSet, or every problem found, each with file:line:column (docs/rules.md).
 * A file with a YAML syntax error is not validated further; all other files still are, so one run
 * reports everything there is to fix.
 */
import { readFile, stat } from 'node:fs/promises'
import { didYouMean } from '../../did-you-mean.ts'
import { USER_MESSAGE_KINDS } from '../../normalize/message-types.ts'
import type { NewsLimits } from '../../reply/reply-xml.ts'
import type { EngineConfig } from '../../config/config-types.ts'
import type { Reply } from '../../reply/reply-types.ts'
import { loginLinkSettingsOf, type LoginLinkSettings } from '../../web/login-link.ts'
import type { ArticleLogin, Keyword, MediaFile, RuleLoadError, RuleTarget, SystemReplies, TextRule, TypeHandler } from '../rule-types.ts'
import { resolveArticleLogins } from './article-logins.ts'
import { ALL_ACCOUNTS, compileRuleSet, type CompiledRuleSet } from './compile-rule-set.ts'
import { describeIssues, type Problem } from './describe-issue.ts'
import { listRuleFiles, type RuleFileRef } from './list-rule-files.ts'
import { readMediaFile } from './media-file.ts'
import { mediaFileOf, type InlineMediaReply } from './media-file-ref.ts'
import { stillCheckable, type StillCheckable } from './still-checkable.ts'
import { KEYWORD_KINDS, regexLiteralWarning, ruleFileSchema, type KeywordEntry, type TargetEntry } from './rule-file-schema.ts'
import { numberSourceAt, parseYamlWithPositions, positionAt } from './yaml-positions.ts'
import { checkGroupUses, type GroupUse } from './user-groups-check.ts'
import { groupNamesByAccount } from '../user-groups.ts'
import { shownPattern } from './shown-pattern.ts'
import { megabytesUp } from './size-over.ts'
import { unreachableReplyWarnings } from './unreachable-replies.ts'
import { utf8Text } from '../../utf8-text.ts'

export type LoadRuleSetResult =
  /**
   * `notes`: what costs time but is not wrong (a regex with no literal to prefilter on runs on every text, a few
   * microseconds): logged at info and listed by `rules check`, not warned about in every test file and
   * `send --local` (a plugin author's review), nor counted by `rules check --strict`.
   */
  | { ok: true; ruleSet: CompiledRuleSet; warnings: string[]; notes: string[] }
  | { ok: false; errors: RuleLoadError[] }

/** What one file contributes once it is valid on its own. */
export interface ParsedRuleFile {
  rules: TextRule[]
  handlers: TypeHandler[]
  system: { which: 'welcome' | 'default' | 'error'; account: string; target: RuleTarget; at: RuleLoadError }[]
  /** Where each rule and explicitly named handler is, for duplicate-name errors. */
  names: { name: string; account: string; at: RuleLoadError }[]
  /** Each group a rule's or handler's `users:` names, where, for checking against the accounts' groups. */
  groups: GroupUse[]
  /** Inline replies naming a file (the same objects as in the targets), with where `file:` is written. */
  media: { media: MediaFile; at: RuleLoadError }[]
  warnings: string[]
  /** The account the whole file is for ('*' for every account), and the file's path. */
  account: string
  file: string
  /** Where `account:` is written (`:1:10`), when the file names its account by the key rather than its folder. */
  accountAt?: string
}

export interface LoadRuleSetOptions {
  /** The configured account ids: a file for any other account is warned about (it would never run). */
  accounts?: readonly string[]
  /**
   * The group names each configured account defines (engine.config.ts's userGroups, by account id): a
   * `users:` naming another is an error (user-groups-check.ts). Absent: not checked (a test of the parser).
   */
  userGroups?: Readonly<Record<string, readonly string[]>>
  /** The configured `limits`: an inline news reply longer than what will be sent is warned about. */
  newsLimits?: NewsLimits
  /**
   * publicUrl and each account's pageDomains: a news article with `login:` gets its link per account
   * (article-logins.ts). Absent: such an article has none, and its rule fails for every account.
   */
  loginLinks?: LoginLinkSettings
}

/**
 * The options a project's configuration gives its rules, as the engine loads them: the `rules check`, `menu`
 * and `qrcode` commands load with these too, so they warn and refuse as the engine's start would.
 */
export function ruleSetOptionsOf(config: Pick<EngineConfig, 'accounts' | 'limits' | 'publicUrl'>): LoadRuleSetOptions {
  return { accounts: config.accounts.map((a) => a.id), userGroups: groupNamesByAccount(config.accounts), newsLimits: config.limits, loginLinks: loginLinkSettingsOf(config) }
}

/**
 * Past this size a rules file is refused before it is read. A reload parses rules in a worker thread
 * (read-rules-off-thread.ts), but what stays on the serving thread grows with the file: taking the parsed
 * rules in and compiling them (~0.2 s at 2 MB, ~15,000 rules of three keywords), and the whole parse (~1.4 s)
 * when the worker cannot run and the load falls back to this thread; the start-up load parses here too. The
 * limit keeps the worst of these well inside the 5 s WeChat waits for an answer, and a file this large is
 * almost always a mistake anyway, such as a data dump written into rules/ (bench/rules-reload-stall.bench.ts).
 */
export const MAX_RULES_FILE_BYTES = 2 * 1_048_576

/**
 * Everything before the compile: the files listed, read, parsed and checked against each other. Plain data
 * only (it crosses to the main thread by structured clone when a worker runs it: read-rules-off-thread.ts).
 */
export type ReadRuleFilesResult =
  | { ok: true; files: ParsedRuleFile[]; warnings: string[] }
  /** `files`: those valid on their own, for the checks made after the read (article logins), so one load lists all. */
  | { ok: false; errors: RuleLoadError[]; files?: ParsedRuleFile[] }

/** What loadRuleSet reads the files with: readRuleFiles itself, or the same run in a worker thread. */
export type RuleFilesReader = (dir: string, opts: LoadRuleSetOptions) => Promise<ReadRuleFilesResult>

/**
 * Gives each inline reply naming a file its media_id per account (core/platform/media-uploads.ts), before the
 * compile; resolves with warnings. Without one (`rules check`, `menu`), such a reply stays without a media_id.
 */
export type MediaResolver = (files: readonly ParsedRuleFile[]) => Promise<string[]>

/** `read`: where the files are parsed; the compile is always here, on the calling thread. */
export async function loadRuleSet(dir: string, opts: LoadRuleSetOptions = {}, read: RuleFilesReader = readRuleFiles, resolveMedia?: MediaResolver): Promise<LoadRuleSetResult> {
  const files = await read(dir, opts)
  if (!files.ok) {
    // A `login:` the configuration refuses was said only once every other error was fixed: one more run.
    const logins = opts.loginLinks && files.files ? resolveArticleLogins(files.files, opts.loginLinks) : []
    return { ok: false, errors: [...files.errors, ...logins] }
  }
  const { files: parsed, warnings } = files
  if (opts.loginLinks) {
    const errors = resolveArticleLogins(parsed, opts.loginLinks)
    if (errors.length > 0) return { ok: false, errors }
  }
  if (resolveMedia) warnings.push(...(await resolveMedia(parsed)))
  const system: Record<string, SystemReplies> = {}
  for (const entry of parsed.flatMap((p) => p.system)) (system[entry.account] ??= {})[entry.which] = entry.target
  const ruleSet = compileRuleSet(
    parsed.flatMap((p) => p.rules),
    parsed.flatMap((p) => p.handlers),
    system,
  )
  const notes: string[] = []
  for (const u of ruleSet.unfilteredRegexes) {
    const file = parsed.find((p) => p.account === u.account && p.rules.some((r) => r.name === u.rule))
    const rule = file?.rules.find((r) => r.name === u.rule)
    const where = file && rule ? `${file.file}:${rule.source.line}: ` : ''
    notes.push(
      `${where}rule "${u.rule}": regex ${shownPattern(u.keyword)} has no literal text every match must contain, so it runs on every message`,
    )
  }
  if (opts.newsLimits) warnings.push(...newsCutWarnings(parsed, opts.newsLimits))
  warnings.push(...unreachableReplyWarnings(parsed))
  return { ok: true, ruleSet, warnings, notes }
}

/**
 * Inline news replies with more articles than the answer will carry (reply-xml.ts cuts them, with a warning
 * per message): a keyword rule written with three articles, as WeEngine sent them, reaches a user who types
 * the keyword with one, since the platform shows one in a reply to a user's message. Said before it runs.
 */
function newsCutWarnings(files: readonly ParsedRuleFile[], limits: NewsLimits): string[] {
  const warnings: string[] = []
  const userLimit = `${limits.newsMaxArticlesForUserMessage} (limits.newsMaxArticlesForUserMessage: the platform shows one)`
  const eventLimit = `${limits.newsMaxArticles} (limits.newsMaxArticles)`
  const check = (where: string, target: RuleTarget, forUser: boolean, also: string) => {
    if (!('reply' in target) || target.reply.type !== 'news') return
    const max = forUser ? limits.newsMaxArticlesForUserMessage : limits.newsMaxArticles
    const count = target.reply.articles.length
    if (count <= max) return
    const kept = target.reply.articles.slice(0, max).map((a) => JSON.stringify(a.title)).join(', ')
    warnings.push(`${where}: its news reply has ${count} articles; ${forUser ? `answering a user's message it sends ${userLimit}` : `answering an event it sends ${eventLimit}`}, so only ${kept} go${max === 1 ? 'es' : ''} out${also}`)
  }
  for (const f of files) {
    for (const r of f.rules) check(`${f.file}:${r.source.line}: rule "${r.name}"`, r.target, true, `; a menu click that matches it gets up to ${limits.newsMaxArticles} (for a button alone, use a click handler with its key: typed text never reaches it)`)
    for (const h of f.handlers) check(`${f.file}:${h.source.line}: handler "${h.name}"`, h.target, USER_MESSAGE_KINDS.has(h.kind), '')
    for (const s of f.system) check(`${placeOf(s.at)}: ${s.which}`, s.target, s.which !== 'welcome', s.which === 'welcome' ? '' : `; a menu click it answers gets up to ${limits.newsMaxArticles}`)
  }
  return warnings
}

export async function readRuleFiles(dir: string, opts: LoadRuleSetOptions = {}): Promise<ReadRuleFilesResult> {
  const listed = await listRuleFiles(dir)
  if ('error' in listed) return { ok: false, errors: [listed.error] }
  const errors: RuleLoadError[] = []
  const warnings = [...listed.warnings]
  const parsed: ParsedRuleFile[] = []
  // The groups of files refused by the schema, still checked (still-checkable.ts), so one run lists them all.
  const groupsOfRefused: GroupUse[] = []
  // Every file's names in file order, those of files refused by the schema too: a duplicate is said beside
  // the schema errors, not on the run after they are fixed.
  const names: ParsedRuleFile['names'] = []
  for (const ref of listed.files) {
    let text: string
    try {
      const size = (await stat(ref.path)).size
      if (size > MAX_RULES_FILE_BYTES) {
        errors.push({ file: ref.path, line: 1, column: 1, message: `the file is ${megabytesUp(size)}, over the ${megabytesUp(MAX_RULES_FILE_BYTES)} a rules file may be (the serving thread compiles its rules, and parses them too when the parse worker cannot run); split it, or move data out of rules/` })
        continue
      }
      const read = utf8Text(await readFile(ref.path))
      if (!read.ok) {
        errors.push({ file: ref.path, line: read.line, column: read.column, message: read.message })
        continue
      }
      text = read.text
    } catch (e) {
      errors.push({ file: ref.path, line: 1, message: `cannot read the file: ${(e as Error).message}` })
      continue
    }
    const result = parseRuleFile(text, ref)
    if ('errors' in result) {
      errors.push(...result.errors)
      if (result.stillCheckable) {
        errors.push(...(await checkMediaFiles(result.stillCheckable)))
        groupsOfRefused.push(...result.stillCheckable.groups)
        names.push(...result.stillCheckable.names)
      }
    } else {
      errors.push(...(await checkMediaFiles(result)))
      parsed.push(result)
      names.push(...result.names)
      warnings.push(...result.warnings)
    }
  }
  errors.push(...checkAcrossFiles(names, parsed))
  if (opts.userGroups) {
    const groups = checkGroupUses([...parsed.flatMap((p) => p.groups), ...groupsOfRefused], opts.userGroups)
    errors.push(...groups.errors)
    warnings.push(...groups.warnings)
  }
  if (errors.length > 0) return { ok: false, errors, files: parsed }
  if (opts.accounts) {
    const known = new Set(opts.accounts)
    for (const p of parsed) {
      if (p.account === ALL_ACCOUNTS || known.has(p.account)) continue
      // A folder named `Shop` for the account `shop`: ids are exact, so say which one it resembles.
      // At the `account:` that names it, where it is the key: the line to fix (a folder's name has none).
      warnings.push(`${p.file}${p.accountAt ?? ''}: rules for account "${p.account}", which is not configured${didYouMean(p.account, opts.accounts)} (accounts: ${opts.accounts.join(', ')}): they never run`)
    }
  }
  return { ok: true, files: parsed, warnings }
}

/** One file's text -> its rules, or its errors. `ref.rel` goes into SourceRef.file (ordering ties). */
export function parseRuleFile(text: string, ref: RuleFileRef): ParsedRuleFile | { errors: RuleLoadError[]; stillCheckable?: StillCheckable } {
  const deep = tooDeep(text)
  if (deep) return { errors: [{ file: ref.path, line: deep.line, column: deep.column, message: `nested deeper than ${MAX_NESTING} levels: no rules file needs that (the YAML parser would run out of stack)` }] }
  const parsed = parseYamlWithPositions(text, ref.path)
  if (!parsed.ok) return { errors: parsed.errors }
  const { doc, lineCounter, data, warnings } = parsed
  const at = (path: readonly PropertyKey[], key?: string): RuleLoadError => {
    const { line, column } = positionAt(doc, lineCounter, path, key)
    return { file: ref.path, line, column, message: '' }
  }
  const located = (path: readonly PropertyKey[], message: string, key?: string): RuleLoadError => ({
    ...at(path, key),
    message,
  })

  if (typeof data !== 'object' || Array.isArray(data)) {
    return { errors: [located([], 'a rules file is a mapping with rules:, handlers:, welcome:, default:, error: (and account:)')] }
  }
  const checked = ruleFileSchema.safeParse(data)
  // An account: that contradicts the file's folder, or is empty, is said beside the schema's errors: it was
  // said only on the run after they were fixed.
  const accountWrong = accountProblem((data as Record<string, unknown>).account, ref)
  if (!checked.success) {
    const problems = describeIssues(checked.error.issues, data)
    if (accountWrong && !problems.some((p) => p.path[0] === 'account')) problems.push(accountWrong)
    return {
      errors: problems.map((p) => located(p.path, p.message, p.key)),
      stillCheckable: stillCheckable(data as Record<string, unknown>, problems, ref, at),
    }
  }
  if (accountWrong) {
    return { errors: [located(accountWrong.path, accountWrong.message)], stillCheckable: stillCheckable(data as Record<string, unknown>, [accountWrong], ref, at) }
  }
  const file = checked.data
  const account = (ref.folderAccount ?? file.account ?? ALL_ACCOUNTS).trim()

  const out: ParsedRuleFile = { rules: [], handlers: [], system: [], names: [], groups: [], media: [], warnings, account, file: ref.path }
  if (ref.folderAccount === undefined && file.account !== undefined) {
    const key = at(['account'])
    out.accountAt = `:${key.line}:${key.column}`
  }
  /** The target, with an inline reply's `file:` made a MediaFile (checked by checkMediaFiles). */
  const targetOf = (t: TargetEntry, path: readonly PropertyKey[]): RuleTarget => {
    const reply = t.reply as { type: string; file?: string; title?: string; description?: string } | undefined
    if (reply?.type === 'news') return newsTarget(reply as unknown as NewsReply, (i) => at([...path, 'reply', 'articles', i, 'login']))
    if (reply?.file === undefined) return toTarget(t)
    const where = at([...path, 'reply', 'file'])
    const media = mediaFileOf(reply as InlineMediaReply, ref.path, where)
    out.media.push({ media, at: where })
    return { media }
  }
  /** The entry's `users:` as a list, each group noted with where it is written. */
  const usersOf = (users: string | string[] | undefined, path: readonly PropertyKey[], owner: string): { users?: string[] } => {
    if (users === undefined) return {}
    const list = typeof users === 'string' ? [users] : users
    list.forEach((group, k) => out.groups.push({ group, account, owner, at: at(typeof users === 'string' ? [...path, 'users'] : [...path, 'users', k]) }))
    return { users: [...new Set(list)] }
  }
  ;(file.rules ?? []).forEach((rule, i) => {
    const place = at(['rules', i])
    const foldCase = rule.foldCase ?? true
    const foldWidth = rule.foldWidth ?? true
    out.rules.push({
      name: rule.name,
      account,
      keywords: rule.keywords.map((kw) => toKeyword(kw, foldCase, foldWidth)),
      target: targetOf(rule, ['rules', i]),
      priority: rule.priority ?? 0,
      enabled: rule.enabled ?? true,
      ...usersOf(rule.users, ['rules', i], `rule "${rule.name}"`),
      source: { file: ref.rel, line: place.line },
    })
    out.names.push({ name: rule.name, account, at: place })
    rule.keywords.forEach((kw, k) => {
      const literal = typeof kw === 'object' && kw.regex !== undefined ? regexLiteralWarning(kw.regex) : undefined
      if (literal) {
        const { line, column } = at(['rules', i, 'keywords', k, 'regex'])
        out.warnings.push(`${ref.path}:${line}:${column}: rule "${rule.name}": ${literal}`)
      }
    })
  })
  ;(file.handlers ?? []).forEach((handler, i) => {
    const place = at(['handlers', i])
    // An id written unquoted is the text written: YAML reads `key: 007` as 7 and `scene: 0x1F` as 31, and
    // String() of that never matched the EventKey `007` (a routing review).
    const asWritten = (value: string | number | undefined, field: 'scene' | 'key') =>
      value === undefined ? undefined : typeof value === 'string' ? value : (numberSourceAt(doc, ['handlers', i, field]) ?? String(value))
    const scene = asWritten(handler.scene, 'scene')
    const key = asWritten(handler.key, 'key')
    const which = scene ?? key
    const name = handler.name ?? `${handler.type}${which === undefined ? '' : `:${which}`}@${ref.rel}:${place.line}`
    out.handlers.push({
      name,
      account,
      kind: handler.type,
      ...(scene === undefined ? {} : { scene }),
      ...(key === undefined ? {} : { key }),
      target: targetOf(handler, ['handlers', i]),
      priority: handler.priority ?? 0,
      enabled: handler.enabled ?? true,
      ...usersOf(handler.users, ['handlers', i], `handler "${name}"`),
      source: { file: ref.rel, line: place.line },
    })
    if (handler.name !== undefined) out.names.push({ name: handler.name, account, at: place })
  })
  for (const which of ['welcome', 'default', 'error'] as const) {
    const target = file[which]
    if (target) out.system.push({ which, account, target: targetOf(target, [which]), at: at([which]) })
  }
  return out
}

/** The file's `account:` against its folder: one naming another account, or an empty one (a string; the schema says what else is wrong). */
function accountProblem(account: unknown, ref: RuleFileRef): Problem | undefined {
  if (typeof account !== 'string') return undefined
  if (ref.folderAccount !== undefined && account !== ref.folderAccount) {
    return { path: ['account'], message: `this file is in the folder of account "${ref.folderAccount}" but says account: ${account}; remove the key or move the file` }
  }
  if (ref.folderAccount === undefined && account.trim() === '') return { path: ['account'], message: 'account is empty: name an account id, or leave the key out for every account' }
  return undefined
}

/** Each file an inline reply names: readable, a regular file, within the platform's size; its size and sha256 noted. */
async function checkMediaFiles(file: Pick<ParsedRuleFile, 'media'>): Promise<RuleLoadError[]> {
  const errors: RuleLoadError[] = []
  for (const { media, at } of file.media) {
    const read = await readMediaFile(media.type, media.path, media.file)
    if ('problem' in read) errors.push({ ...at, message: read.problem })
    else Object.assign(media, read)
  }
  return errors
}

/** Nesting no rules file needs (the deepest, a news reply's article, is 6 levels). */
const MAX_NESTING = 64

/**
 * Where a text nests past MAX_NESTING, checked before the YAML parser sees it: the parser recurses per
 * level, and 100,000 `[` made V8 abort the whole process (a regex compiled while the stack was exhausted:
 * "RegExpCompiler Allocation failed", which nothing can catch). Flow brackets are counted outside quotes
 * and comments, and block nesting by indentation (two columns a level, as rules files are written).
 */
function tooDeep(text: string): { line: number; column: number } | undefined {
  let flow = 0
  let line = 1
  let column = 0
  let quote = ''
  let atLineStart = true
  let indent = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    column++
    if (ch === '\n') {
      line++
      column = 0
      atLineStart = true
      indent = 0
      continue
    }
    if (atLineStart) {
      if (ch === ' ') {
        if (++indent > MAX_NESTING * 2) return { line, column }
        continue
      }
      atLineStart = false
    }
    if (quote) {
      if (ch === '\\' && quote === '"') i++
      else if (ch === quote) quote = ''
      continue
    }
    if (ch === '"' || ch === "'") quote = ch
    else if (ch === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t' || text[i - 1] === '\n')) {
      const end = text.indexOf('\n', i)
      if (end < 0) break
      column += end - i - 1
      i = end - 1
    } else if (ch === '[' || ch === '{') {
      if (++flow > MAX_NESTING) return { line, column }
    } else if ((ch === ']' || ch === '}') && flow > 0) flow--
  }
  return undefined
}

/**
 * Duplicate names (per account, where '*' shares every account) and duplicate welcome/default/error. `names`:
 * every file's, in file order, those of a file with errors included (still-checkable.ts).
 */
function checkAcrossFiles(names: ParsedRuleFile['names'], files: readonly ParsedRuleFile[]): RuleLoadError[] {
  const errors: RuleLoadError[] = []
  const seen = new Map<string, { account: string; at: RuleLoadError }[]>()
  for (const entry of names) {
    const earlier = (seen.get(entry.name) ?? []).find(
      (e) => e.account === entry.account || e.account === ALL_ACCOUNTS || entry.account === ALL_ACCOUNTS,
    )
    if (earlier) {
      errors.push({
        ...entry.at,
        message:
          `duplicate name "${entry.name}": also defined at ${placeOf(earlier.at)}` +
          (earlier.account !== entry.account ? ` (rules for '*' share names with every account)` : ''),
      })
    }
    const list = seen.get(entry.name) ?? []
    list.push(entry)
    seen.set(entry.name, list)
  }
  const system = new Map<string, RuleLoadError>()
  for (const entry of files.flatMap((f) => f.system)) {
    const key = `${entry.which}\u0000${entry.account}`
    const earlier = system.get(key)
    const whose = entry.account === ALL_ACCOUNTS ? 'every account' : `account "${entry.account}"`
    if (earlier) {
      errors.push({ ...entry.at, message: `a second ${entry.which} for ${whose}: the first is at ${placeOf(earlier)}` })
    } else {
      system.set(key, entry.at)
    }
  }
  return errors
}

function toKeyword(kw: KeywordEntry, foldCase: boolean, foldWidth: boolean): Keyword {
  if (typeof kw === 'string') return { kind: 'exact', value: kw, foldCase, foldWidth }
  const kind = KEYWORD_KINDS.find((k) => kw[k] !== undefined) ?? 'exact'
  return { kind, value: kw[kind] as string, foldCase: kw.foldCase ?? foldCase, foldWidth: kw.foldWidth ?? foldWidth }
}

type NewsReply = Extract<Reply, { type: 'news' }>

/** A news reply's target: its articles' `login:` taken out of the reply (a Reply has none) into `logins`. */
function newsTarget(reply: NewsReply, loginAt: (article: number) => RuleLoadError): RuleTarget {
  const logins: ArticleLogin[] = []
  const articles = reply.articles.map((a, i) => {
    const { login, ...article } = a as typeof a & { login?: ArticleLogin['scope'] }
    if (login !== undefined) logins.push({ article: i, scope: login, at: loginAt(i) })
    return article
  })
  return logins.length === 0 ? { reply } : { reply: { ...reply, articles }, logins }
}

function toTarget(t: TargetEntry): RuleTarget {
  if (t.plugin !== undefined) return { plugin: t.plugin, args: (t.args ?? {}) as Extract<RuleTarget, { plugin: string }>['args'] }
  return { reply: t.reply as Extract<RuleTarget, { reply: unknown }>['reply'] }
}

function placeOf(e: RuleLoadError): string {
  return `${e.file}:${e.line}${e.column === undefined ? '' : `:${e.column}`}`
}

/** One `file:line:col: message` per line, in file then line order. */
export function formatRuleErrors(errors: readonly RuleLoadError[]): string {
  return [...errors]
    .sort((a, b) => (a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.line - b.line || (a.column ?? 0) - (b.column ?? 0)))
    .map((e) => `${placeOf(e)}: ${e.message}`)
    .join('\n')
}
