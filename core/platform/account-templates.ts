/**
 * The account's own templates (get_all_private_template), kept to check a template message before it is
 * sent: the platform drops a data field the template does not have without a word (the user gets a notice
 * with a blank field) and answers a bare 40037 for a template that is not the account's.
 *
 * The list is read on the first sendTemplate and kept 10 minutes; a templateId not in it reads it again
 * (a template added in the console a minute ago must work), at most every 30 s, so that a plugin sending an
 * unknown id in a loop does not spend the API's quota. A list that cannot be read (48001 for an account
 * that may not read it, a timeout, an answer without template_list) blocks nothing: messages go out
 * unchecked, said once at info, and the list is asked for again 10 minutes later.
 */
import { didYouMean } from '../did-you-mean.ts'
import { fail, ok, type Result } from '../errors.ts'
import type { Logger } from '../log/logger.ts'
import type { TemplateMessage } from '../reply/template-message.ts'
import type { ApiJson } from './api-client.ts'

export const TEMPLATE_LIST_PATH = '/cgi-bin/template/get_all_private_template'
/** How long a read list (or a failed read) is kept. */
export const TEMPLATE_LIST_TTL_MS = 10 * 60_000
/** A templateId not in the list reads it again only if it is at least this old. */
export const TEMPLATE_MISS_REFETCH_MS = 30_000
/** Templates named when a templateId is not the account's. */
const LISTED = 5
/** Not shown by WeChat since May 2023: not asked for when a template still has them. */
const RETIRED_FIELDS = new Set(['first', 'remark'])

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
  const templates: AccountTemplate[] = []
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue
    const { template_id: id, title, content } = entry
    if (typeof id !== 'string' || id === '') continue
    templates.push({ id, title: typeof title === 'string' ? title : '', fields: typeof content === 'string' ? templateFields(content) : [] })
  }
  return ok(templates)
}

export interface TemplateCheckOptions {
  appId: string
  /** GET the list (token added). */
  fetchList: () => Promise<Result<ApiJson>>
  log?: Logger
  now?: () => number
}

type ListState = { at: number; templates: AccountTemplate[]; warned: Set<string> } | { at: number; unreadable: true }

export interface TemplateCheck {
  /**
   * A refusal (PLUGIN_BAD_REPLY) for a templateId or a field the account does not have; ok, with a warning
   * line for a field left out, otherwise (and when the list cannot be read).
   */
  check(message: TemplateMessage): Promise<Result<void>>
  /** Drop the list kept (or the failure to read it): the next check reads it again. */
  forget(): void
}

export function createTemplateCheck(opts: TemplateCheckOptions): TemplateCheck {
  const { appId, log } = opts
  const now = opts.now ?? Date.now
  let state: ListState | undefined
  /** The read in flight, shared by the checks that need it. */
  let reading: Promise<ListState> | undefined
  /** Moved by forget(): a read begun before it does not become the list kept. */
  let generation = 0

  function read(): Promise<ListState> {
    if (reading) return reading
    const begun = generation
    const current = (async (): Promise<ListState> => {
      const r = await opts.fetchList().catch((e: unknown): Result<never> => fail('INTERNAL', e instanceof Error ? e.message : String(e)))
      const at = now()
      const parsed: Result<AccountTemplate[], string> = r.ok ? parseTemplateList(r.value) : { ok: false, error: r.error.reason }
      if (parsed.ok) return { at, templates: parsed.value, warned: new Set<string>() }
      const errcode = r.ok ? undefined : r.error.errcode
      const hint = errcode === 48001 ? ': the account may not read its template list (not verified?)' : ''
      log?.info({ appId, errcode, reason: parsed.error }, `template messages go out unchecked for 10 minutes: the account's templates could not be read (${parsed.error})${hint}`)
      return { at, unreadable: true as const }
    })()
    reading = current
    return current.then((s) => {
      if (reading === current) reading = undefined
      if (generation === begun) state = s
      return s
    })
  }

  async function check(message: TemplateMessage): Promise<Result<void>> {
    let list = state !== undefined && now() - state.at < TEMPLATE_LIST_TTL_MS ? state : await read()
    if ('unreadable' in list) return ok(undefined)
    let template = list.templates.find((t) => t.id === message.templateId)
    if (template === undefined && now() - list.at >= TEMPLATE_MISS_REFETCH_MS) {
      list = await read()
      if ('unreadable' in list) return ok(undefined)
      template = list.templates.find((t) => t.id === message.templateId)
    }
    if (template === undefined) return refuse(unknownTemplate(message.templateId, list.templates))

    // A content whose fields could not be read (a format not seen yet): nothing to check them against.
    if (template.fields.length === 0) return ok(undefined)
    const given = Object.keys(message.data)
    const unknown = given.filter((name) => !template.fields.includes(name))
    if (unknown.length > 0) {
      const each = unknown.map((name) =>
        RETIRED_FIELDS.has(name) ? `no field "${name}" (WeChat has not shown first or remark since May 2023: drop it)` : `no field "${name}"${didYouMean(name, template.fields.filter((f) => !given.includes(f)))}`,
      )
      return refuse(`template "${template.id}"${titled(template)} has ${each.join(', ')}; its fields: ${template.fields.join(', ')}`)
    }
    const missing = template.fields.filter((name) => !RETIRED_FIELDS.has(name) && !given.includes(name))
    const key = `${template.id} ${missing.join(',')}`
    if (missing.length > 0 && !list.warned.has(key)) {
      list.warned.add(key)
      log?.warn(
        { appId, templateId: template.id, title: template.title, missing },
        `template message sent without ${missing.join(', ')}: template "${template.id}"${titled(template)} has ${missing.length === 1 ? 'that field' : 'those fields'} and data gives ${missing.length === 1 ? 'it' : 'them'} no value, so WeChat shows ${missing.length === 1 ? 'it' : 'them'} blank`,
      )
    }
    return ok(undefined)
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

function unknownTemplate(id: string, templates: AccountTemplate[]): string {
  const head = `templateId "${id}" is not one of the account's templates${didYouMean(id, templates.map((t) => t.id))}`
  if (templates.length === 0) return `${head}; it has none: add one in the console (模板消息 > 模板库)`
  const named = templates.slice(0, LISTED).map((t) => `"${t.id}"${titled(t)}`)
  const more = templates.length > LISTED ? ` and ${templates.length - LISTED} more (the console's 模板消息 > 我的模板 lists them all)` : ''
  return `${head}; it has ${templates.length}: ${named.join(', ')}${more}`
}

function titled(t: AccountTemplate): string {
  return t.title ? ` (${t.title})` : ''
}

function refuse(reason: string): Result<never> {
  return fail('PLUGIN_BAD_REPLY', `sendTemplate: ${reason}`)
}
