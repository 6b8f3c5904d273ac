/**
 * The account's own templates (get_all_private_template), kept to check a template message before it is
 * sent: the platform drops a data field the template does not have without a word (the user gets a notice
 * with a blank field) and answers a bare 40037 for a template that is not the account's.
 *
 * The list is read on the first sendTemplate and kept 10 minutes; a templateId not in it reads it again
 * (a template added in the console a minute ago must work), at most every 30 s, so that a plugin sending an
 * unknown id in a loop does not spend the API's quota. A list that cannot be read (48001 for an account
 * that may not read it, a timeout, an answer without template_list) blocks nothing: messages go out
 * unchecked, said once at info. The platform's own refusal (48001, an account that may not read its list)
 * is its answer for as long as the account stays what it is, so it is kept 10 minutes too; any other
 * failure (a timeout, a dropped connection, a 5xx, -1 system busy, an answer without template_list) may be
 * a passing outage and is kept 1 minute, so that a brief outage does not turn the check off for 10.
 *
 * A list already read is not given up for a read that fails in passing (its 10 minutes over, or a miss's
 * read): the check goes on against it, and the list is read again a minute later. A template's fields do
 * not change once it is added (the console adds a template under a new id), so an old list refuses nothing
 * a new one would allow, except an id added since: a miss, which goes out unchecked while the read fails.
 *
 * A send waits for a list read at most 2 s (not the API's timeout): past that it goes out unchecked and
 * the read goes on, becoming the list kept when it ends; other sends meanwhile do not wait for it at all.
 *
 * Subscription notices (sendSubscribeMessage) are checked the same way against the account's subscription
 * templates (subscribe-templates.ts): a TemplateListKind says where each list is read and how it is named.
 */
import { didYouMean } from '../did-you-mean.ts'
import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log/logger.ts'
import type { ApiJson } from './api-client.ts'
import type { AccessTokenFailure } from './access-token-manager.ts'

export const TEMPLATE_LIST_PATH = '/cgi-bin/template/get_all_private_template'
/** How long a read list (or the platform's refusal to list it, e.g. 48001) is kept. */
export const TEMPLATE_LIST_TTL_MS = 10 * 60_000
/** How long a read that failed otherwise (a timeout, a network error, a 5xx, -1) is kept. */
export const TEMPLATE_LIST_RETRY_MS = 60_000
/** How long a send waits for a list read before it goes out unchecked. */
export const TEMPLATE_LIST_WAIT_MS = 2_000
/** A templateId not in the list reads it again only if it is at least this old. */
export const TEMPLATE_MISS_REFETCH_MS = 30_000
/** Templates named when a templateId is not the account's. */
const LISTED = 5

export interface AccountTemplate {
  id: string
  title: string
  /** In the order of the content, each once. */
  fields: string[]
}

/** The field names in a template's content: `{{thing1.DATA}}`, or `{ {thing1.DATA} }` as the documentation writes it. */
export function templateFields(content: string): string[] {
  const names = [...content.matchAll(/\{\s*\{\s*([A-Za-z][A-Za-z0-9_]*)\.DATA\s*\}\s*\}/g)].map((m) => m[1])
  return [...new Set(names)]
}

/** The templates in get_all_private_template's answer, or why there are none to read. */
export function parseTemplateList(answer: ApiJson): Result<AccountTemplate[], string> {
  const list = answer.template_list
  if (!Array.isArray(list)) return { ok: false, error: 'the answer has no template_list' }
  return ok(templatesIn(list, 'template_id'))
}

/**
 * The entries of a template list with an id under `idKey` (each list's answer names it its own way), their
 * titles and the fields of their content; an entry that is not one is passed over.
 */
export function templatesIn(list: readonly unknown[], idKey: string): AccountTemplate[] {
  const templates: AccountTemplate[] = []
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue
    const { [idKey]: id, title, content } = entry as Record<string, unknown>
    if (typeof id !== 'string' || id === '') continue
    templates.push({ id, title: typeof title === 'string' ? title : '', fields: typeof content === 'string' ? templateFields(content) : [] })
  }
  return templates
}

/** A list of templates checked against, and how lines and refusals name it. */
export interface TemplateListKind {
  /** The call a refusal names: `sendTemplate`. */
  call: string
  /** One message sent from such a template, for lines: `template message`. */
  message: string
  /** The list, for lines: `the account's templates`. */
  templates: string
  /** The list's API, named when it is slow to answer: `get_all_private_template`. */
  listApi: string
  /** The templates in the list's answer, or why there are none to read. */
  parse(answer: ApiJson): Result<AccountTemplate[], string>
  /** Said after the platform's 48001 (api unauthorized). */
  unauthorized: string
  /** Where in the console a template is added, and where they are all listed. */
  consoleAdd: string
  consoleList: string
  /** Fields WeChat no longer shows: not asked for when a template still has them, refused saying why when it has not. */
  retired?: { fields: ReadonlySet<string>; why: string }
}

/** Template messages: get_all_private_template. */
export const TEMPLATE_MESSAGES: TemplateListKind = {
  call: 'sendTemplate',
  message: 'template message',
  templates: "the account's templates",
  listApi: 'get_all_private_template',
  parse: parseTemplateList,
  unauthorized: 'the account may not read its template list (not verified?)',
  consoleAdd: '模板消息 > 模板库',
  consoleList: '模板消息 > 我的模板',
  retired: { fields: new Set(['first', 'remark']), why: 'WeChat has not shown first or remark since May 2023: drop it' },
}

/** What a check reads of a message: its template and the names of its fields. */
export interface FromTemplate {
  templateId: string
  data: Record<string, unknown>
}

export interface TemplateCheckOptions {
  appId: string
  kind: TemplateListKind
  /**
   * GET the list (token added). A failure marked `ofAccessToken` is the token's, not the list API's answer:
   * passing, as far as the list goes (the send fails for want of the token too, until it is back).
   */
  fetchList: () => Promise<Result<ApiJson> | AccessTokenFailure>
  log?: Logger
  now?: () => number
  /** Default TEMPLATE_LIST_WAIT_MS. */
  waitMs?: number
}

/**
 * A list read at `at`, or why none could be. `failedAt`: the latest read of a list already read failed in
 * passing then; it is kept and read again a minute on (TEMPLATE_LIST_RETRY_MS).
 */
type ReadList = { at: number; templates: AccountTemplate[]; warned: Set<string>; failedAt?: number }
type ListState = ReadList | { at: number; unreadable: true; keepMs: number }

/** A list read in flight, shared by the checks that need it. */
interface Reading {
  done: Promise<ListState>
  /** A check gave up waiting for it: later ones do not wait. */
  slow: boolean
}

export interface TemplateCheck {
  /**
   * A refusal (PLUGIN_BAD_REPLY) for a templateId or a field the account does not have; ok, with a warning
   * line for a field left out, otherwise (and when the list cannot be read).
   */
  check(message: FromTemplate): Promise<Result<void>>
  /** Drop the list kept (or the failure to read it): the next check reads it again. */
  forget(): void
}

export function createTemplateCheck(opts: TemplateCheckOptions): TemplateCheck {
  const { appId, log, kind } = opts
  const retired = kind.retired?.fields ?? new Set<string>()
  const messages = `${kind.message}s`
  const now = opts.now ?? Date.now
  const waitMs = opts.waitMs ?? TEMPLATE_LIST_WAIT_MS
  let state: ListState | undefined
  let reading: Reading | undefined
  /** Moved by forget(): a read begun before it does not become the list kept. */
  let generation = 0

  function read(): Reading {
    if (reading) return reading
    const begun = generation
    const current: Reading = {
      slow: false,
      // Runs once the read ends, when `current` is long set.
      done: fetchState().then((s) => {
        if (reading === current) reading = undefined
        if (generation !== begun) return s
        state = settle(state, s)
        return state
      }),
    }
    reading = current
    return current
  }

  /** A read's outcome: the list, or why there is none (errcode and reason, for settle's line). */
  type Fetched = ReadList | { at: number; unreadable: true; keepMs: number; refused: boolean; errcode: number | undefined; reason: string }

  async function fetchState(): Promise<Fetched> {
    const r = await opts.fetchList().catch((e: unknown): Result<never> => fail('INTERNAL', e instanceof Error ? e.message : String(e)))
    const at = now()
    const parsed: Result<AccountTemplate[], string> = r.ok ? kind.parse(r.value) : { ok: false, error: r.error.reason }
    if (parsed.ok) return { at, templates: parsed.value, warned: new Set<string>() }
    const errcode = r.ok ? undefined : r.error.errcode
    // The platform's refusal is kept as long as a list: asking again in a minute gets the same answer. -1
    // (system busy), like a timeout or a 5xx (no errcode), may be over in a minute; so may a refusal of the
    // access_token under it (an IP whitelist, the token's quota): it is no answer of the list's, and held
    // as one it dropped a list read before and let misspelt fields through for 10 minutes after the fix.
    const refused = errcode !== undefined && errcode !== -1 && !('ofAccessToken' in r)
    return { at, unreadable: true as const, keepMs: refused ? TEMPLATE_LIST_TTL_MS : TEMPLATE_LIST_RETRY_MS, refused, errcode, reason: parsed.error }
  }

  /** What is kept once a read ends, said at info when it is not the list read. */
  function settle(before: ListState | undefined, read: Fetched): ListState {
    if (!('unreadable' in read)) return read
    const { refused, errcode, reason, ...unreadable } = read
    if (before !== undefined && !('unreadable' in before) && !refused) {
      log?.info(
        { appId, errcode, reason },
        `${messages} are checked against ${kind.templates} as read ${ago(read.at - before.at)}: reading them again failed (${reason}); read again in 1 minute`,
      )
      return { ...before, failedAt: read.at }
    }
    const hint = errcode === 48001 ? `: ${kind.unauthorized}` : ''
    log?.info({ appId, errcode, reason }, `${messages} go out unchecked for ${refused ? '10 minutes' : '1 minute'}: ${kind.templates} could not be read (${reason})${hint}`)
    return unreadable
  }

  /** The list a read ends with, or undefined if it is slow (past waitMs for this check, or for an earlier one). */
  async function awaitRead(): Promise<ListState | undefined> {
    const current = read()
    if (current.slow) return undefined
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, waitMs, undefined)
    })
    const s = await Promise.race([current.done, late]).finally(() => clearTimeout(timer))
    if (s === undefined && !current.slow) {
      current.slow = true
      log?.info({ appId }, `${messages} go out unchecked while ${kind.templates} are read: ${kind.listApi} has not answered in ${waitMs} ms`)
    }
    return s
  }

  function kept(s: ListState): boolean {
    if ('unreadable' in s) return now() - s.at < s.keepMs
    return s.failedAt !== undefined ? now() - s.failedAt < TEMPLATE_LIST_RETRY_MS : now() - s.at < TEMPLATE_LIST_TTL_MS
  }

  async function check(message: FromTemplate): Promise<Result<void>> {
    const before = state
    let list = before !== undefined && kept(before) ? before : await awaitRead()
    // A read slow to answer while a list read before is at hand: checked against that one, as when a read
    // fails in passing (a miss still goes out unchecked, below).
    if (list === undefined && before !== undefined && !('unreadable' in before)) list = before
    if (list === undefined || 'unreadable' in list) return ok(undefined)
    let template = list.templates.find((t) => t.id === message.templateId)
    // A miss against a list that could not be read again since (failed, or still being read): the id may be
    // one added since.
    if (template === undefined && (list.failedAt !== undefined || list === before && !kept(before))) return ok(undefined)
    if (template === undefined && now() - list.at >= TEMPLATE_MISS_REFETCH_MS) {
      list = await awaitRead()
      if (list === undefined || 'unreadable' in list || list.failedAt !== undefined) return ok(undefined)
      template = list.templates.find((t) => t.id === message.templateId)
    }
    if (template === undefined) return refuse(unknownTemplate(kind, message.templateId, list.templates))

    // A content whose fields could not be read (a format not seen yet): nothing to check them against.
    if (template.fields.length === 0) return ok(undefined)
    const given = Object.keys(message.data)
    const unknown = given.filter((name) => !template.fields.includes(name))
    if (unknown.length > 0) {
      const each = unknown.map((name) =>
        retired.has(name) ? `no field "${name}" (${kind.retired?.why})` : `no field "${name}"${didYouMean(name, template.fields.filter((f) => !given.includes(f)))}`,
      )
      return refuse(`template "${template.id}"${titled(template)} has ${each.join(', ')}; its fields: ${template.fields.join(', ')}`)
    }
    const missing = template.fields.filter((name) => !retired.has(name) && !given.includes(name))
    const key = `${template.id} ${missing.join(',')}`
    if (missing.length > 0 && !list.warned.has(key)) {
      list.warned.add(key)
      log?.warn(
        { appId, templateId: template.id, title: template.title, missing },
        `${kind.message} sent without ${missing.join(', ')}: template "${template.id}"${titled(template)} has ${missing.length === 1 ? 'that field' : 'those fields'} and data gives ${missing.length === 1 ? 'it' : 'them'} no value, so WeChat shows ${missing.length === 1 ? 'it' : 'them'} blank`,
      )
    }
    return ok(undefined)
  }

  function refuse(reason: string): Result<never> {
    return fail('PLUGIN_BAD_REPLY', `${kind.call}: ${reason}`)
  }

  return {
    check,
    forget() {
      state = undefined
      reading = undefined
      generation++
    },
  }
}

function unknownTemplate(kind: TemplateListKind, id: string, templates: AccountTemplate[]): string {
  const head = `templateId "${id}" is not one of ${kind.templates}${didYouMean(id, templates.map((t) => t.id))}`
  if (templates.length === 0) return `${head}; it has none: add one in the console (${kind.consoleAdd})`
  const named = templates.slice(0, LISTED).map((t) => `"${t.id}"${titled(t)}`)
  const more = templates.length > LISTED ? ` and ${templates.length - LISTED} more (the console's ${kind.consoleList} lists them all)` : ''
  return `${head}; it has ${templates.length}: ${named.join(', ')}${more}`
}

/** `40 s ago`, `12 min ago`. */
function ago(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s ago` : `${Math.round(ms / 60_000)} min ago`
}

function titled(t: AccountTemplate): string {
  return t.title ? ` (${t.title})` : ''
}
