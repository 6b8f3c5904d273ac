/**
 * Checking what a plugin hands `sendToUser`: a Reply (reply-builders.ts) or a CustomMessage. Values come
 * from the plugin's worker as plain data, and a CustomMessage has rules its type cannot state (a menu has
 * options, their ids differ), so every one is checked before a request is made: the platform's refusal
 * (47001 "data format error") names no field.
 */
import { z } from 'zod'
import { fail, ok, type Result } from '../errors.ts'
import { invalid, parseReply } from './reply-builders.ts'
import { MAX_REPLY_CHARS } from './reply-limits.ts'
import { CUSTOM_MESSAGE_TYPES, type CustomMessage, type SendOptions } from './custom-message-types.ts'
import type { Reply } from './reply-types.ts'
import { kfAccountProblem } from './kf-account.ts'

const text = (what: string) => z.string({ error: `${what} must be a string` }).max(MAX_REPLY_CHARS, `${what} is over ${MAX_REPLY_CHARS} characters`)
const nonEmpty = (what: string) => text(what).min(1, `${what} is empty`)

const menuOption = z.strictObject({ id: nonEmpty('id'), content: nonEmpty('content') })

export const customMessageSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('msgmenu'),
      headContent: text('headContent').optional(),
      list: z
        .array(menuOption, { error: 'list must be an array of { id, content }' })
        .min(1, 'list is empty: a menu message needs at least one option')
        .superRefine((options, ctx) => {
          // The tap comes back as bizmsgmenuid = id: two options with one id could not be told apart.
          const seen = new Set<string>()
          options.forEach((option, i) => {
            if (seen.has(option.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate id ${JSON.stringify(option.id)}` })
            seen.add(option.id)
          })
        }),
      tailContent: text('tailContent').optional(),
    }),
    z.strictObject({
      type: z.literal('miniprogrampage'),
      title: text('title').optional(),
      appId: nonEmpty('appId'),
      pagePath: nonEmpty('pagePath'),
      thumbMediaId: nonEmpty('thumbMediaId'),
    }),
    z.strictObject({ type: z.literal('mpnews'), mediaId: nonEmpty('mediaId') }),
    z.strictObject({ type: z.literal('mpnewsarticle'), articleId: nonEmpty('articleId') }),
    z.strictObject({ type: z.literal('wxcard'), cardId: nonEmpty('cardId') }),
  ],
  { error: 'message type must be one of msgmenu, miniprogrampage, mpnews, mpnewsarticle, wxcard' },
)

// Compile-time proof that the schema and the CustomMessage contract describe the same values.
type Parsed = z.infer<typeof customMessageSchema>
const parsedIsMessage = (value: Parsed): CustomMessage => value
const messageIsParsed = (value: CustomMessage): Parsed => value
void parsedIsMessage
void messageIsParsed

export function isCustomMessage(value: Reply | CustomMessage): value is CustomMessage {
  return CUSTOM_MESSAGE_TYPES.has(value.type)
}

/** Checks a CustomMessage; the reason names every problem with its path, as parseReply's does. */
export function parseCustomMessage(value: unknown): Result<CustomMessage> {
  const parsed = customMessageSchema.safeParse(value)
  return parsed.success ? ok(parsed.data) : invalid('message', value, parsed.error)
}

/** What sendToUser accepts: a CustomMessage by its type, anything else must be a Reply. */
export function parseSendable(value: unknown): Result<Reply | CustomMessage> {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined
  if (typeof type === 'string' && CUSTOM_MESSAGE_TYPES.has(type)) return parseCustomMessage(value)
  return parseReply(value)
}

export function parseSendOptions(value: unknown): Result<SendOptions> {
  if (value === undefined) return ok({})
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('PLUGIN_BAD_REPLY', 'send options must be an object such as { kfAccount }')
  const { kfAccount, ...rest } = value as { kfAccount?: unknown }
  const unknown = Object.keys(rest)
  if (unknown.length > 0) return fail('PLUGIN_BAD_REPLY', `send options: unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')} (only kfAccount)`)
  if (kfAccount === undefined) return ok({})
  // The platform's format is prefix@wxid (客服账号): anything else is refused by it, after a request.
  const problem = kfAccountProblem(kfAccount)
  if (problem !== undefined) return fail('PLUGIN_BAD_REPLY', `send options: ${problem}`)
  return ok({ kfAccount: kfAccount as string })
}
