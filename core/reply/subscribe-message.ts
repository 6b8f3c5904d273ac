/**
 * Subscription notices (订阅通知, `ctx.api.sendSubscribeMessage`): what WeChat steers service accounts to in
 * place of template messages. A user subscribes in an article or a web page, once (a one-time subscription
 * allows one notice) or for good (long-term, public-service categories only), and the account may then send
 * them a notice from one of its subscription templates (message/subscribe/bizsend).
 *
 * Checked before any request, as template messages are (template-message.ts, whose field checks it shares),
 * and further: each value against what its keyword's type takes (subscribe-keywords.ts), since the
 * platform's 47003 names no field.
 */
import { z } from 'zod'
import { isHttpUrl } from './http-url.ts'
import { ok, type Result } from '../errors.ts'
import { invalid } from './reply-builders.ts'
import { keywordProblem } from './subscribe-keywords.ts'
import { dataJson, fieldText, miniProgramJson, miniProgramSchema, templateData, type FieldValue } from './template-message.ts'

export const SUBSCRIBE_SEND_PATH = '/cgi-bin/message/subscribe/bizsend'

export interface SubscribeMessage {
  /** The subscription template's id (priTmplId), from the console (订阅通知 > 我的模板) or `/wxaapi/newtmpl/gettemplate`. */
  templateId: string
  /**
   * A value for each of the template's keywords, by the name in its `{{name.DATA}}` (e.g. `thing1`, `time2`,
   * `character_string3`). A number is sent as its text. `{ value }` is accepted too, as the platform's JSON
   * spells it. Each is checked against its keyword's type: a `thing` takes 20 characters, a `phrase` 5
   * Chinese characters, and so on.
   */
  data: Record<string, FieldValue>
  /** The web page a tap opens (an http(s) URL). */
  page?: string
  /** Opened instead of `page` when the user taps (the mini program must be linked to the account). */
  miniProgram?: { appId: string; pagePath?: string }
}

/** What a sendTemplate call carried over has that bizsend does not: said by name rather than "unrecognized". */
const NOT_HERE: Record<string, string> = {
  url: 'a subscription notice opens `page` (an http(s) URL), not url',
  clientMsgId: 'bizsend takes no clientMsgId (a one-time subscription allows one notice anyway)',
}

const subscribeMessageSchema = z.strictObject(
  {
    templateId: z.string({ error: 'templateId must be a string' }).min(1, 'templateId is empty'),
    data: templateData('subscription notice').superRefine((data, ctx) => {
      for (const [name, v] of Object.entries(data)) {
        const problem = keywordProblem(name, fieldText(v))
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [name], message: problem })
      }
    }),
    page: z
      .string({ error: 'page must be a string' })
      .refine(isHttpUrl, 'page must be an http(s) URL (a mini program page goes in miniProgram.pagePath)')
      .optional(),
    miniProgram: miniProgramSchema.optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((k) => `${JSON.stringify(k.slice(0, 40))}: ${Object.hasOwn(NOT_HERE, k) ? NOT_HERE[k] : 'not a field of a subscription notice'}`).join('; ')
        : undefined,
  },
)

// Compile-time proof that the schema and the SubscribeMessage contract describe the same values.
type Parsed = z.infer<typeof subscribeMessageSchema>
const parsedIsMessage = (v: Parsed): SubscribeMessage => v
const messageIsParsed = (v: SubscribeMessage): Parsed => v
void parsedIsMessage
void messageIsParsed

/** Checks what a plugin hands `sendSubscribeMessage`; the reason names every problem with its path. */
export function parseSubscribeMessage(input: unknown): Result<SubscribeMessage> {
  const parsed = subscribeMessageSchema.safeParse(input)
  return parsed.success ? ok(parsed.data) : invalid('subscription notice', input, parsed.error)
}

/** The platform's JSON for a checked notice (message/subscribe/bizsend). */
export function toSubscribeBody(openId: string, m: SubscribeMessage): Record<string, unknown> {
  const body: Record<string, unknown> = { touser: openId, template_id: m.templateId }
  if (m.page !== undefined) body.page = m.page
  if (m.miniProgram !== undefined) body.miniprogram = miniProgramJson(m.miniProgram)
  body.data = dataJson(m.data)
  return body
}
