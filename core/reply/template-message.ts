/**
 * Template messages (模板消息): the service notices an account sends a user at any time, not only within the
 * 48 h the customer-service API allows, from a template chosen in the console (`ctx.api.sendTemplate`).
 * Checked before any request, as sendToUser's messages are: the platform's refusal (47003 "argument
 * invalid") names no field.
 */
import { z } from 'zod'
import { isHttpUrl } from './http-url.ts'
import { ok, type Result } from '../errors.ts'
import { invalid } from './reply-builders.ts'
import { MAX_REPLY_CHARS } from './reply-limits.ts'

export const TEMPLATE_SEND_PATH = '/cgi-bin/message/template/send'

export interface TemplateMessage {
  /** The template's id, from the console (模板消息 > 我的模板) or `/cgi-bin/template/get_all_private_template`. */
  templateId: string
  /**
   * A value for each of the template's fields, by the name in its `{{name.DATA}}` (e.g. `thing1`, `time2`,
   * `amount3`). A number is sent as its text. `{ value }` is accepted too, as the platform's JSON spells it.
   */
  data: Record<string, FieldValue>
  /** Opened when the user taps the notice. */
  url?: string
  /** Opened instead of `url` when the user taps (the mini program must be linked to the account). */
  miniProgram?: { appId: string; pagePath?: string }
  /**
   * Sent once: the platform sends one message per user and `clientMsgId` (for about 10 minutes), so a retry
   * after a timeout that did reach it does not notify the user twice.
   */
  clientMsgId?: string
}

/** The field names templates use: `{{thing1.DATA}}`, `{{first.DATA}}`. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/

const value = z.union([z.string().max(MAX_REPLY_CHARS, `is over ${MAX_REPLY_CHARS} characters`), z.number().refine(Number.isFinite, 'is not a finite number')], { error: 'must be a string or a number' })
// Any other key of { value } is refused below by name: `color` is what old code passes.
const fieldValue = z.union([value, z.looseObject({ value })], { error: 'must be a string, a number or { value }' })

/** A field's value as given: text, a number, or `{ value }` as the platform's JSON spells it. */
export type FieldValue = string | number | { value: string | number }

/**
 * `data` of a message sent from a template (a template message, a subscription notice): field values by
 * name, each name checked as one and each `{ value }` for other keys; `what` names the message in the
 * refusal of an empty one.
 */
export function templateData(what: string) {
  return z
    .record(z.string(), fieldValue, { error: 'data must be an object of field values, such as { thing1: "Order shipped" }' })
    .superRefine((data, ctx) => {
      const names = Object.keys(data)
      if (names.length === 0) ctx.addIssue({ code: 'custom', message: `data is empty: a ${what} needs its fields` })
      for (const name of names) {
        if (!FIELD_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: `${JSON.stringify(name.slice(0, 40))} is not a template field name (such as thing1, as in {{thing1.DATA}})` })
        const v = data[name]
        for (const key of typeof v === 'object' ? Object.keys(v).filter((k) => k !== 'value') : []) {
          // The platform stopped showing colours in May 2023 (and `first` / `remark` fields with them).
          const why = key === 'color' ? 'colours are no longer shown by WeChat (since May 2023): drop it' : 'only { value } is sent'
          ctx.addIssue({ code: 'custom', path: [name, key], message: `${JSON.stringify(key.slice(0, 40))}: ${why}` })
        }
      }
    })
}

/** The mini program a tap opens, as sendTemplate and sendSubscribeMessage take it. */
export const miniProgramSchema = z.strictObject({
  appId: z.string({ error: 'appId must be a string' }).min(1, 'appId is empty'),
  pagePath: z.string({ error: 'pagePath must be a string' }).optional(),
})

const templateMessageSchema = z.strictObject({
  templateId: z.string({ error: 'templateId must be a string' }).min(1, 'templateId is empty'),
  data: templateData('template message'),
  url: z
    .string({ error: 'url must be a string' })
    .refine(isHttpUrl, 'url must be an http(s) URL')
    .optional(),
  miniProgram: miniProgramSchema.optional(),
  clientMsgId: z.string({ error: 'clientMsgId must be a string' }).min(1, 'clientMsgId is empty').max(64, 'clientMsgId is over 64 characters').optional(),
})

// Compile-time proof that the schema and the TemplateMessage contract describe the same values.
type Parsed = z.infer<typeof templateMessageSchema>
const parsedIsMessage = (v: Parsed): TemplateMessage => v
const messageIsParsed = (v: TemplateMessage): Parsed => v
void parsedIsMessage
void messageIsParsed

/** Checks what a plugin hands `sendTemplate`; the reason names every problem with its path. */
export function parseTemplateMessage(input: unknown): Result<TemplateMessage> {
  const parsed = templateMessageSchema.safeParse(input)
  return parsed.success ? ok(parsed.data) : invalid('template message', input, parsed.error)
}

/** The platform's JSON for a checked message (message/template/send). */
export function toTemplateBody(openId: string, m: TemplateMessage): Record<string, unknown> {
  const body: Record<string, unknown> = { touser: openId, template_id: m.templateId }
  if (m.url !== undefined) body.url = m.url
  if (m.miniProgram !== undefined) body.miniprogram = miniProgramJson(m.miniProgram)
  if (m.clientMsgId !== undefined) body.client_msg_id = m.clientMsgId
  body.data = dataJson(m.data)
  return body
}

/** A field's value as the text sent. */
export function fieldText(v: FieldValue): string {
  return String(typeof v === 'object' ? v.value : v)
}

/** `data` as the platform's JSON spells it: `{ thing1: { value: "..." } }`. */
export function dataJson(data: Record<string, FieldValue>): Record<string, { value: string }> {
  return Object.fromEntries(Object.entries(data).map(([name, v]) => [name, { value: fieldText(v) }]))
}

/** `miniprogram` as the platform's JSON spells it. */
export function miniProgramJson(m: { appId: string; pagePath?: string }): Record<string, string> {
  return m.pagePath === undefined ? { appid: m.appId } : { appid: m.appId, pagepath: m.pagePath }
}
