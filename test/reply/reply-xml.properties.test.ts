/**
 * Properties of the reply XML over generated text (fast-check): whatever a plugin puts in a reply, the XML
 * parses (with our reader and with xml-js) and carries the text as WeChat will read it: XML-forbidden
 * characters removed, `]]>` intact across the split CDATA sections, line ends as XML reads them.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from '../support/fast-check.ts'
import { serializeReply, buildEncryptedReply, type ReplyEnvelope } from '../../core/reply/reply-xml.ts'
import { parseXml } from '../../core/normalize/safe-xml.ts'
import { createWeChatCipher } from '../../core/verify/wechat-cipher.ts'
import { verifyMsgSignature } from '../../core/verify/signature.ts'
import { childText, readXml } from './read-reply-xml.ts'

const LIMITS = { newsMaxArticles: 8, newsMaxArticlesForUserMessage: 1 }

/** `s` without the characters XML 1.0 forbids (C0 controls but tab, LF and CR; U+FFFE/U+FFFF; lone surrogates). */
function withoutForbidden(s: string): string {
  return s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
}

/** What an XML reader that normalizes line ends (ours, and the platform's) gives back for `s` written by the serializer. */
function asRead(s: string): string {
  return withoutForbidden(s).replace(/\r\n?/g, '\n')
}

/** Any UTF-16 at all, lone surrogates and control characters included, and `]]>` often. */
const ANY_TEXT = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.constantFrom(']]>', ']', '>', ']]', '\r\n', '\u0000', '\uD800', '\uDC00', '😀', 'x', '&', '<'), { maxLength: 20 }).map((a) => a.join('')),
)

/** The envelope's names come from a parsed request, so they hold no character XML forbids. */
const NAME = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map(withoutForbidden)
const ENVELOPE = fc.record({
  toUser: NAME,
  fromUser: NAME,
  createTime: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  answeringUserMessage: fc.boolean(),
}) as fc.Arbitrary<ReplyEnvelope>

test('a text reply of any content parses, and reads as the content with forbidden characters removed', () => {
  fc.assert(
    fc.property(ANY_TEXT, ENVELOPE, (content, env) => {
      const { xml, warnings } = serializeReply({ type: 'text', content }, env, LIMITS)
      if (withoutForbidden(content) === '') {
        // Nothing left to say: the no-reply (`success`), not a reply with an empty Content (seeds/001).
        assert.equal(xml, null)
        assert.equal(warnings.length, 1)
        return
      }
      assert.ok(xml)
      const ours = parseXml(xml)
      assert.ok(ours.ok, ours.ok ? '' : ours.error.reason)
      assert.equal(ours.value.Content, asRead(content))
      assert.equal(ours.value.ToUserName, asRead(env.toUser))
      assert.equal(ours.value.FromUserName, asRead(env.fromUser))
      assert.equal(ours.value.CreateTime, String(env.createTime))
      // xml-js (sax) does not normalize line ends, so it reads a CR as sent: the same text otherwise.
      const theirs = readXml(xml)
      assert.equal(childText(theirs, 'Content'), withoutForbidden(content))
      // A removal is said, once, as the engine's log line needs it.
      if (withoutForbidden(content) !== content) assert.ok(warnings.length > 0)
      else assert.deepEqual(warnings, [])
    }),
    { numRuns: 3000 },
  )
})

test('news of any titles, descriptions and urls parses, and reads as given', () => {
  const article = fc.record({ title: ANY_TEXT, description: ANY_TEXT, url: ANY_TEXT, picUrl: ANY_TEXT })
  fc.assert(
    fc.property(fc.array(article, { minLength: 1, maxLength: 8 }), ENVELOPE, (articles, env) => {
      const { xml } = serializeReply({ type: 'news', articles }, { ...env, answeringUserMessage: false }, LIMITS)
      assert.ok(xml)
      const r = parseXml(xml)
      assert.ok(r.ok, r.ok ? '' : r.error.reason)
      assert.equal(r.value.ArticleCount, String(articles.length))
      const items = ([] as unknown[]).concat((r.value.Articles as Record<string, unknown>).item) as Array<Record<string, string>>
      assert.equal(items.length, articles.length)
      items.forEach((item, i) => {
        assert.equal(item.Title, asRead(articles[i].title))
        assert.equal(item.Description, asRead(articles[i].description))
        assert.equal(item.Url, asRead(articles[i].url))
        assert.equal(item.PicUrl, asRead(articles[i].picUrl))
      })
    }),
    { numRuns: 1000 },
  )
})

test('an encrypted reply of any content decrypts to the plain reply, and its MsgSignature verifies', () => {
  const c = createWeChatCipher('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', 'wxsafe0000000001')
  assert.ok(c.ok)
  fc.assert(
    // Something is left of the content once forbidden characters are removed ('x'): else there is no reply to seal.
    fc.property(ANY_TEXT.map((t) => `${t}x`), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.stringMatching(/^[0-9a-f]{16}$/), (content, ts, nonce) => {
      const { xml } = serializeReply({ type: 'text', content }, { toUser: 'o', fromUser: 'gh', createTime: ts, answeringUserMessage: true }, LIMITS)
      const sealed = buildEncryptedReply(c.value, 'safetoken', xml!, String(ts), nonce)
      const outer = parseXml(sealed)
      assert.ok(outer.ok)
      const { Encrypt, MsgSignature, TimeStamp, Nonce } = outer.value as Record<string, string>
      assert.equal(TimeStamp, String(ts))
      assert.equal(Nonce, nonce)
      assert.ok(verifyMsgSignature('safetoken', TimeStamp, Nonce, Encrypt, MsgSignature))
      const inner = c.value.decrypt(Encrypt)
      assert.ok(inner.ok)
      assert.equal(inner.value, xml)
    }),
    { numRuns: 500 },
  )
})
