/**
 * What a plugin returns or sends is checked before it goes anywhere (reply-builders.ts, custom-message-schema.ts,
 * template-message.ts). Over generated values (fast-check), near-valid ones most of all: a check answers ok or
 * PLUGIN_BAD_REPLY with a bounded reason, never throws, and whatever it accepts serializes: a reply to XML
 * that parses, a customer-service or template message or a subscription notice to a JSON body.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from '../support/fast-check.ts'
import { parseReply } from '../../core/reply/reply-builders.ts'
import { parseSendable, parseSendOptions } from '../../core/reply/custom-message-schema.ts'
import { toCustomMessage } from '../../core/reply/custom-message.ts'
import { parseTemplateMessage, toTemplateBody } from '../../core/reply/template-message.ts'
import { parseSubscribeMessage, toSubscribeBody } from '../../core/reply/subscribe-message.ts'
import { serializeReply } from '../../core/reply/reply-xml.ts'
import { parseXml } from '../../core/normalize/safe-xml.ts'

const TYPES = ['text', 'image', 'voice', 'video', 'music', 'news', 'transfer_customer_service', 'none', 'mpnews', 'msgmenu', 'miniprogrampage', 'wxcard', 'link', 'mpnewsarticle', 'template', '']
const FIELDS = ['type', 'content', 'mediaId', 'title', 'description', 'thumbMediaId', 'musicUrl', 'hqMusicUrl', 'articles', 'kfAccount', 'url', 'picUrl', 'list', 'headContent', 'tailContent', 'id', 'appId', 'pagePath', 'cardId', 'articleId', 'templateId', 'data', 'value', 'miniProgram', 'clientMsgId', 'color', 'first', 'remark', 'keyword1', 'thing1', 'kfAccount', '__proto__', 'constructor']

/** Values shaped like replies and messages (known types and field names, any values), and anything JSON. */
const { value } = fc.letrec<{ value: unknown; leaf: unknown }>((tie) => ({
  leaf: fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom(...TYPES), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined)),
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.dictionary(fc.constantFrom(...FIELDS), tie('value'), { maxKeys: 6 }).chain((d) => fc.constantFrom(...TYPES).map((type) => ({ type, ...d }))),
    fc.dictionary(fc.constantFrom(...FIELDS), tie('value'), { maxKeys: 6 }),
    fc.array(tie('value'), { maxLength: 4 }),
  ),
}))

/** Mostly `arb`, sometimes any leaf: near-valid values, the ones a check must look at closely. */
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: arb as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: value })
const str = fc.string({ unit: 'binary', maxLength: 30 })
const some = (fields: Record<string, fc.Arbitrary<unknown>>, required: string[]) => fc.record(fields, { requiredKeys: required })
const of = (type: string, fields: Record<string, fc.Arbitrary<unknown>>, required: string[]) =>
  some({ type: maybe(fc.constant(type)), ...fields }, ['type', ...required])

/** Replies and messages as a plugin means to write them, with a wrong value here and there. */
const nearValid = fc.oneof(
  of('text', { content: maybe(str) }, ['content']),
  of('image', { mediaId: maybe(str) }, ['mediaId']),
  of('voice', { mediaId: maybe(str) }, ['mediaId']),
  of('video', { mediaId: maybe(str), title: maybe(str), description: maybe(str), thumbMediaId: maybe(str) }, ['mediaId']),
  of('music', { title: maybe(str), description: maybe(str), musicUrl: maybe(str), hqMusicUrl: maybe(str), thumbMediaId: maybe(str) }, ['thumbMediaId']),
  of('news', { articles: maybe(fc.array(some({ title: maybe(str), description: maybe(str), url: maybe(str), picUrl: maybe(str) }, ['title']), { maxLength: 10 })) }, ['articles']),
  of('transfer_customer_service', { kfAccount: maybe(str) }, []),
  of('none', {}, []),
  of('msgmenu', { headContent: maybe(str), tailContent: maybe(str), list: maybe(fc.array(some({ id: maybe(fc.constantFrom('1', '2', '3', '')), content: maybe(str) }, ['id', 'content']), { maxLength: 4 })) }, ['list']),
  of('miniprogrampage', { title: maybe(str), appId: maybe(str), pagePath: maybe(str), thumbMediaId: maybe(str) }, ['appId', 'pagePath', 'thumbMediaId']),
  of('mpnews', { mediaId: maybe(str) }, ['mediaId']),
  of('mpnewsarticle', { articleId: maybe(str) }, ['articleId']),
  of('wxcard', { cardId: maybe(str) }, ['cardId']),
)
const values = fc.oneof(value, fc.jsonValue(), nearValid, nearValid)

const ENV = { toUser: 'o-user', fromUser: 'gh_account', createTime: 1_700_000_000, answeringUserMessage: true }
const LIMITS = { newsMaxArticles: 8, newsMaxArticlesForUserMessage: 1 }

function refusedCleanly(r: { ok: boolean; error?: { code: string; reason: string } }): void {
  if (r.ok) return
  assert.equal(r.error!.code, 'PLUGIN_BAD_REPLY')
  assert.ok(r.error!.reason.length > 0 && r.error!.reason.length < 2000, `reason of ${r.error!.reason.length}`)
}

test('any value as a passive reply: refused with PLUGIN_BAD_REPLY, or accepted and serialized to XML that parses', () => {
  let accepted = 0
  fc.assert(
    fc.property(values, (v) => {
      const r = parseReply(v)
      refusedCleanly(r)
      if (!r.ok) return
      accepted++
      const { xml } = serializeReply(r.value, ENV, LIMITS)
      if (r.value.type === 'none') assert.equal(xml, null)
      else {
        assert.ok(xml)
        const back = parseXml(xml)
        assert.ok(back.ok, back.ok ? '' : back.error.reason)
        assert.equal(back.value.MsgType, r.value.type)
      }
    }),
    { numRuns: 5000 },
  )
  // The generator reaches the accepting side too, not only refusals.
  assert.ok(accepted > 50, `${accepted} accepted`)
})

test('any value as a customer-service message and options: refused with PLUGIN_BAD_REPLY, or accepted and made a JSON body', () => {
  let accepted = 0
  fc.assert(
    fc.property(values, fc.oneof(fc.constant(undefined), values), (v, o) => {
      const m = parseSendable(v)
      refusedCleanly(m)
      const opts = parseSendOptions(o)
      if (!opts.ok) assert.equal(typeof opts.error.reason, 'string')
      if (!m.ok) return
      const body = toCustomMessage('o-user', m.value, opts.ok ? opts.value : undefined)
      refusedCleanly(body)
      if (!body.ok) return
      accepted++
      assert.equal(body.value.touser, 'o-user')
      assert.equal(typeof body.value.msgtype, 'string')
      assert.doesNotThrow(() => JSON.stringify(body.value))
    }),
    { numRuns: 5000 },
  )
  assert.ok(accepted > 50, `${accepted} accepted`)
})

test('any value as a template message: refused with PLUGIN_BAD_REPLY, or accepted and made a JSON body', () => {
  const nearTemplate = fc.record(
    {
      templateId: maybe(fc.string({ maxLength: 10 })),
      data: maybe(
        fc.dictionary(
          fc.constantFrom('thing1', 'time2', 'first', 'remark', 'bad key', ''),
          maybe(fc.oneof(str, fc.double(), some({ value: maybe(str), color: str }, ['value']))),
          { maxKeys: 4 },
        ),
      ),
      url: maybe(fc.constantFrom('https://example.com/x', 'http://a.b', 'ftp://x', '', 'https://a b')),
      miniProgram: maybe(some({ appId: maybe(str), pagePath: maybe(str) }, ['appId'])),
      clientMsgId: maybe(fc.string({ maxLength: 70 })),
    },
    { requiredKeys: ['templateId', 'data'] },
  )
  let accepted = 0
  fc.assert(
    fc.property(fc.oneof(values, nearTemplate), (v) => {
      const m = parseTemplateMessage(v)
      refusedCleanly(m)
      if (!m.ok) return
      accepted++
      const body = toTemplateBody('o-user', m.value)
      assert.equal(body.touser, 'o-user')
      assert.doesNotThrow(() => JSON.stringify(body))
    }),
    { numRuns: 5000 },
  )
  assert.ok(accepted > 20, `${accepted} accepted`)
})

test('any value as a subscription notice: refused with PLUGIN_BAD_REPLY, or accepted and made a JSON body', () => {
  const nearNotice = fc.record(
    {
      templateId: maybe(fc.string({ maxLength: 10 })),
      data: maybe(
        fc.dictionary(
          fc.constantFrom('thing1', 'number2', 'phrase3', 'name4', 'character_string5', 'time6', 'constructor', '__proto__', 'bad key', ''),
          maybe(fc.oneof(str, fc.double(), fc.string({ maxLength: 40, unit: 'grapheme' }), some({ value: maybe(str), color: str }, ['value']))),
          { maxKeys: 4 },
        ),
      ),
      page: maybe(fc.constantFrom('https://example.com/x', 'http://a.b', 'pages/index', '', 'https://a b')),
      miniProgram: maybe(some({ appId: maybe(str), pagePath: maybe(str) }, ['appId'])),
    },
    { requiredKeys: ['templateId', 'data'] },
  )
  let accepted = 0
  fc.assert(
    fc.property(fc.oneof(values, nearNotice), (v) => {
      const m = parseSubscribeMessage(v)
      refusedCleanly(m)
      if (!m.ok) return
      accepted++
      const body = toSubscribeBody('o-user', m.value)
      assert.equal(body.touser, 'o-user')
      assert.doesNotThrow(() => JSON.stringify(body))
    }),
    { numRuns: 5000 },
  )
  assert.ok(accepted > 20, `${accepted} accepted`)
})
