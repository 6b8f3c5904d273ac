/**
 * Making and checking Reply values. Replies cross the plugin sandbox and come from YAML, so they are
 * plain data: the helpers build objects without `undefined` keys, and `parseReply` checks anything
 * that arrives from outside before it reaches the serializer.
 */
import { z } from 'zod'
import { fail, ok, type Result } from '../errors.ts'
import { CUSTOM_MESSAGE_TYPES } from './custom-message-types.ts'
import { MAX_REPLY_CHARS } from './reply-limits.ts'
import { kfAccountProblem } from './kf-account.ts'
import { httpUrlProblem } from './http-url.ts'
import type { Article, Reply } from './reply-types.ts'

const text = (what: string) => z.string({ error: `${what} must be a string` }).max(MAX_REPLY_CHARS, `${what} is over ${MAX_REPLY_CHARS} characters`)
const nonEmpty = (what: string) => text(what).min(1, `${what} is empty`)
const optionalText = (what: string) => text(what).optional()

/** TransInfo.KfAccount: the platform's `prefix@wechat-id` (kf-account.ts), or no transfer happens. */
const kfAccount = z.string({ error: (issue) => kfAccountProblem(issue.input) }).superRefine((value, ctx) => {
  const problem = kfAccountProblem(value)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
})

/** A link WeChat opens or fetches (http-url.ts): only http(s) works there. */
const link = (what: string) =>
  text(what).superRefine((value, ctx) => {
    const problem = httpUrlProblem(what, value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
  })

export const articleSchema = z.strictObject({
  title: text('title'),
  description: optionalText('description'),
  picUrl: link('picUrl').optional(),
  url: link('url').optional(),
})

/** The Reply union as a schema; the rules loader reuses it for inline replies in YAML. */
export const replySchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('text'), content: nonEmpty('content') }),
    z.strictObject({ type: z.literal('image'), mediaId: nonEmpty('mediaId') }),
    z.strictObject({ type: z.literal('voice'), mediaId: nonEmpty('mediaId') }),
    z.strictObject({
      type: z.literal('video'),
      mediaId: nonEmpty('mediaId'),
      title: optionalText('title'),
      description: optionalText('description'),
      thumbMediaId: optionalText('thumbMediaId'),
    }),
    z.strictObject({
      type: z.literal('music'),
      title: optionalText('title'),
      description: optionalText('description'),
      musicUrl: link('musicUrl').optional(),
      hqMusicUrl: link('hqMusicUrl').optional(),
      thumbMediaId: nonEmpty('thumbMediaId'),
    }),
    z.strictObject({
      type: z.literal('news'),
      // The article limit is applied (with a warning) when serializing: it depends on what is answered.
      articles: z.array(articleSchema, { error: 'articles must be an array' }).min(1, 'articles is empty'),
    }),
    z.strictObject({ type: z.literal('transfer_customer_service'), kfAccount: kfAccount.optional() }),
    z.strictObject({ type: z.literal('none') }),
  ],
  { error: replyTypeError },
)

export function replyTypeError(issue: { code: string; input?: unknown }): string | undefined {
  if (issue.code === 'invalid_type') {
    // The usual slip: returning the text itself. Say what a text reply looks like, in code and in YAML.
    const hint = typeof issue.input === 'string' ? " (a text reply is ctx.reply.text('...') in a plugin, { type: text, content: ... } in YAML)" : ''
    return `a reply must be an object, got ${describe(issue.input)}${hint}`
  }
  if (issue.code === 'invalid_union') {
    const type = typeof issue.input === 'object' && issue.input !== null ? (issue.input as { type?: unknown }).type : undefined
    if (typeof type === 'string' && CUSTOM_MESSAGE_TYPES.has(type)) {
      return `a ${type} message has no passive-reply form: send it with ctx.api.sendToUser(openId, message) and return another reply (or ctx.reply.none())`
    }
    return `reply type must be one of text, image, voice, video, music, news, transfer_customer_service, none${type === undefined ? ' (it has none)' : `, got ${typeof type === 'string' ? JSON.stringify(type) : describe(type)}`}`
  }
  return undefined
}

// Compile-time proof that the schema and the Reply contract describe the same values.
type Parsed = z.infer<typeof replySchema>
const parsedIsReply = (value: Parsed): Reply => value
const replyIsParsed = (value: Reply): Parsed => value
void parsedIsReply
void replyIsParsed

/** Checks a value from a plugin or a rules file; the reason names every problem with its path. */
export function parseReply(value: unknown): Result<Reply> {
  const parsed = replySchema.safeParse(value)
  return parsed.success ? ok(parsed.data) : invalid('reply', value, parsed.error)
}

/** Problems named in a reason; the rest are counted. A reason goes into the log and the message log. */
const MAX_PROBLEMS_NAMED = 5

/**
 * PLUGIN_BAD_REPLY naming the value's type and its first problems with their paths: "invalid text reply:
 * content: ...". Not all of them: 10,000 articles without a title made a reason of 470 KB per message.
 */
export function invalid(noun: 'reply' | 'message' | 'template message' | 'subscription notice', value: unknown, error: z.ZodError): Result<never> {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined
  const subject = typeof type === 'string' && type.length <= 40 ? `${type} ${noun}` : noun
  const problems = error.issues.slice(0, MAX_PROBLEMS_NAMED).map((issue) => {
    const path = issue.path.map(String).join('.')
    return path ? `${path}: ${issue.message}` : issue.message
  })
  const more = error.issues.length - problems.length
  return fail('PLUGIN_BAD_REPLY', `invalid ${subject}: ${problems.join('; ')}${more > 0 ? `; and ${more} more like these` : ''}`)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}
