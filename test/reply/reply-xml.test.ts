import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildEncryptedReply, serializeReply, type ReplyEnvelope } from '../../core/reply/reply-xml.ts'
import type { Article, Reply } from '../../core/reply/reply-types.ts'
import { createWeChatCipher } from '../../core/verify/wechat-cipher.ts'
import { verifyMsgSignature } from '../../core/verify/signature.ts'
import { child, childNames, childText, hasForbiddenXmlChars, readXml, skeleton, type XmlNode } from './read-reply-xml.ts'

const ENV: ReplyEnvelope = { toUser: 'oUser123', fromUser: 'gh_account', createTime: 1_700_000_000, answeringUserMessage: false }
const LIMITS = { newsMaxArticles: 8, newsMaxArticlesForUserMessage: 1 }

function serialize(reply: Reply, env: Partial<ReplyEnvelope> = {}, limits = LIMITS) {
  return serializeReply(reply, { ...ENV, ...env }, limits)
}

/** Serializes, checks the common head, and returns the parsed document. */
function render(reply: Reply, env: Partial<ReplyEnvelope> = {}): XmlNode {
  const { xml, warnings } = serialize(reply, env)
  assert.ok(xml, 'expected XML')
  assert.deepEqual(warnings, [])
  assert.equal(hasForbiddenXmlChars(xml), false)
  const doc = readXml(xml)
  assert.equal(doc.name, 'xml')
  assert.deepEqual(childNames(doc).slice(0, 4), ['ToUserName', 'FromUserName', 'CreateTime', 'MsgType'])
  assert.equal(childText(doc, 'ToUserName'), ENV.toUser)
  assert.equal(childText(doc, 'FromUserName'), ENV.fromUser)
  assert.equal(childText(doc, 'MsgType'), reply.type === 'none' ? '' : reply.type)
  return doc
}

function articles(count: number): Article[] {
  return Array.from({ length: count }, (_, i) => ({ title: `title ${i + 1}`, url: `https://example.com/${i + 1}` }))
}

describe('serializeReply: each reply type (protocol.md §4)', () => {
  it('text: Content', () => {
    const doc = render({ type: 'text', content: '你好\nsecond line' })
    assert.deepEqual(childNames(doc), ['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'Content'])
    assert.equal(childText(doc, 'Content'), '你好\nsecond line')
  })

  it('image: Image{MediaId}', () => {
    const doc = render({ type: 'image', mediaId: 'MEDIA_1' })
    assert.deepEqual(skeleton(child(doc, 'Image')), ['Image', 'Image/MediaId'])
    assert.equal(childText(child(doc, 'Image'), 'MediaId'), 'MEDIA_1')
  })

  it('voice: Voice{MediaId}', () => {
    const doc = render({ type: 'voice', mediaId: 'VOICE_1' })
    assert.equal(childText(child(doc, 'Voice'), 'MediaId'), 'VOICE_1')
    assert.deepEqual(childNames(child(doc, 'Voice')), ['MediaId'])
  })

  it('video: Video{MediaId, Title, Description}, without thumbMediaId', () => {
    const doc = render({ type: 'video', mediaId: 'V', title: 'T', description: 'D', thumbMediaId: 'THUMB' })
    const video = child(doc, 'Video')
    assert.deepEqual(childNames(video), ['MediaId', 'Title', 'Description'])
    assert.deepEqual([childText(video, 'MediaId'), childText(video, 'Title'), childText(video, 'Description')], ['V', 'T', 'D'])
  })

  it('video: omits Title and Description when absent', () => {
    assert.deepEqual(childNames(child(render({ type: 'video', mediaId: 'V' }), 'Video')), ['MediaId'])
  })

  it('music: Music{Title, Description, MusicUrl, HQMusicUrl, ThumbMediaId} in that order', () => {
    const doc = render({
      type: 'music',
      thumbMediaId: 'THUMB',
      hqMusicUrl: 'https://m/hq.mp3',
      musicUrl: 'https://m/a.mp3',
      description: 'D',
      title: 'T',
    })
    const music = child(doc, 'Music')
    assert.deepEqual(childNames(music), ['Title', 'Description', 'MusicUrl', 'HQMusicUrl', 'ThumbMediaId'])
    assert.equal(childText(music, 'HQMusicUrl'), 'https://m/hq.mp3')
    assert.equal(childText(music, 'ThumbMediaId'), 'THUMB')
  })

  it('music: only ThumbMediaId when nothing else is given', () => {
    assert.deepEqual(childNames(child(render({ type: 'music', thumbMediaId: 'T' }), 'Music')), ['ThumbMediaId'])
  })

  it('news: ArticleCount and Articles{item{Title, Description, PicUrl, Url}}', () => {
    const doc = render({
      type: 'news',
      articles: [
        { title: 'A', description: 'a', picUrl: 'https://p/a.jpg', url: 'https://u/a' },
        { title: 'B', url: 'https://u/b' },
      ],
    })
    assert.deepEqual(childNames(doc).slice(4), ['ArticleCount', 'Articles'])
    assert.equal(childText(doc, 'ArticleCount'), '2')
    assert.equal(child(doc, 'ArticleCount').content, 'text')
    const items = child(doc, 'Articles').children
    assert.deepEqual(items.map((item) => item.name), ['item', 'item'])
    assert.deepEqual(childNames(items[0]), ['Title', 'Description', 'PicUrl', 'Url'])
    assert.deepEqual(childNames(items[1]), ['Title', 'Url'])
    assert.equal(childText(items[0], 'PicUrl'), 'https://p/a.jpg')
    assert.equal(childText(items[1], 'Title'), 'B')
  })

  it('transfer_customer_service with TransInfo{KfAccount}', () => {
    const doc = render({ type: 'transfer_customer_service', kfAccount: 'test1@test' })
    assert.deepEqual(childNames(doc).slice(4), ['TransInfo'])
    assert.equal(childText(child(doc, 'TransInfo'), 'KfAccount'), 'test1@test')
  })

  it('transfer_customer_service without TransInfo when no account (or an empty one) is given', () => {
    assert.deepEqual(childNames(render({ type: 'transfer_customer_service' })).slice(4), [])
    assert.deepEqual(childNames(render({ type: 'transfer_customer_service', kfAccount: '' })).slice(4), [])
  })

  it('none: no XML, so the engine answers success', () => {
    assert.deepEqual(serialize({ type: 'none' }), { xml: null, warnings: [] })
  })
})

describe('serializeReply: matches the platform samples in seeds/001 exactly', () => {
  const fromSeed: Record<string, Reply> = {
    text: { type: 'text', content: '你好' },
    image: { type: 'image', mediaId: 'media_id' },
    voice: { type: 'voice', mediaId: 'media_id' },
    video: { type: 'video', mediaId: 'media_id', title: 'title', description: 'description' },
    music: {
      type: 'music',
      title: 'TITLE',
      description: 'DESCRIPTION',
      musicUrl: 'MUSIC_Url',
      hqMusicUrl: 'HQ_MUSIC_Url',
      thumbMediaId: 'media_id',
    },
    news: {
      type: 'news',
      articles: [
        { title: 'title1', description: 'description1', picUrl: 'picurl', url: 'url' },
        { title: 'title', description: 'description', picUrl: 'picurl', url: 'url' },
      ],
    },
  }
  for (const [name, reply] of Object.entries(fromSeed)) {
    it(`${name}: same elements, order, values and CDATA-ness as seed-${name}.xml`, () => {
      const seed = readXml(readFileSync(new URL(`../fixtures/reply/seed-${name}.xml`, import.meta.url), 'utf8'))
      const env = { toUser: 'toUser', fromUser: 'fromUser', createTime: 12345678, answeringUserMessage: false }
      const { xml } = serializeReply(reply, env, { newsMaxArticles: 8, newsMaxArticlesForUserMessage: 1 })
      assert.ok(xml)
      assert.deepEqual(readXml(xml), seed)
    })

    it(`${name}: byte for byte the sample, once its layout (whitespace between elements) is taken out`, () => {
      // The comparison above goes through a parser, which lets pass what the samples do not have (an XML
      // declaration, attributes, comments): this one holds the reply to the sample's exact bytes.
      const sample = readFileSync(new URL(`../fixtures/reply/seed-${name}.xml`, import.meta.url), 'utf8').replace(/>\s+</g, '><').trim()
      const env = { toUser: 'toUser', fromUser: 'fromUser', createTime: 12345678, answeringUserMessage: false }
      const { xml } = serializeReply(reply, env, { newsMaxArticles: 8, newsMaxArticlesForUserMessage: 1 })
      assert.equal(xml, sample)
    })
  }
})

describe('serializeReply: escaping', () => {
  it('CreateTime is bare seconds, not CDATA', () => {
    const doc = render({ type: 'text', content: 'x' })
    assert.equal(childText(doc, 'CreateTime'), '1700000000')
    assert.equal(child(doc, 'CreateTime').content, 'text')
    assert.equal(child(doc, 'MsgType').content, 'cdata')
  })

  it('throws (a caller bug) for milliseconds or a fraction in createTime', () => {
    assert.throws(() => serialize({ type: 'text', content: 'x' }, { createTime: 1_700_000_000_000 }), RangeError)
    assert.throws(() => serialize({ type: 'text', content: 'x' }, { createTime: 1.5 }), RangeError)
    assert.throws(() => serialize({ type: 'text', content: 'x' }, { createTime: Number.NaN }), RangeError)
  })

  it('splits ]]> across CDATA sections so the value survives', () => {
    const content = 'a]]>b ]]>]]> <tag> & "q" </xml>'
    const { xml } = serialize({ type: 'text', content })
    assert.ok(xml)
    assert.ok(xml.includes('a]]]]><![CDATA[>b'))
    assert.equal(childText(readXml(xml), 'Content'), content)
  })

  it('escapes every string field, not only Content', () => {
    const nasty = 'x]]><Injected/>'
    const reply: Reply = {
      type: 'news',
      articles: [{ title: nasty, description: nasty, picUrl: nasty, url: nasty }],
    }
    const { xml } = serializeReply(reply, { ...ENV, toUser: nasty, fromUser: nasty }, LIMITS)
    assert.ok(xml)
    const doc = readXml(xml)
    assert.equal(childText(doc, 'ToUserName'), nasty)
    assert.equal(childText(doc, 'FromUserName'), nasty)
    const item = child(child(doc, 'Articles'), 'item')
    for (const name of ['Title', 'Description', 'PicUrl', 'Url']) assert.equal(childText(item, name), nasty)
    assert.equal(skeleton(doc).some((path) => path.endsWith('Injected')), false)
  })

  it('removes characters XML 1.0 forbids and keeps tab, LF, CR and real surrogate pairs', () => {
    const forbidden = ['\u0000', '\u0001', '\u0008', '\u000B', '\u000C', '\u000E', '\u001F', '\uFFFE', '\uFFFF', '\uD800', '\uDC00']
    // Joined with '-' so that the lone surrogates in the list do not pair up with each other.
    const content = `a${forbidden.join('-')}b\t\n\rc😀d\uDBFF\uDFFFe${'\uDC00\uD800'}f`
    const { xml, warnings } = serialize({ type: 'text', content })
    assert.ok(xml)
    assert.equal(hasForbiddenXmlChars(xml), false)
    assert.equal(childText(readXml(xml), 'Content'), `a${'-'.repeat(forbidden.length - 1)}b\t\n\rc😀d\uDBFF\uDFFFef`)
    assert.equal(warnings.length, 1)
    assert.match(warnings[0], /removed 13 character\(s\)/)
  })

  it('does not let a removed character join two lone surrogates into a pair', () => {
    const { xml } = serialize({ type: 'text', content: 'a\uD800\u0001\uDC00b' })
    assert.ok(xml)
    assert.equal(hasForbiddenXmlChars(xml), false)
    assert.equal(childText(readXml(xml), 'Content'), 'ab')
  })

  it('removes forbidden characters from ids and titles too', () => {
    const { xml, warnings } = serialize({ type: 'video', mediaId: 'M\u0007', title: '\uFFFET' })
    assert.ok(xml)
    assert.equal(hasForbiddenXmlChars(xml), false)
    const video = child(readXml(xml), 'Video')
    assert.equal(childText(video, 'MediaId'), 'M')
    assert.equal(childText(video, 'Title'), 'T')
    assert.match(warnings[0], /removed 2 character/)
  })

  it('a required field with nothing left once forbidden characters are removed is no reply: success, said in a warning', () => {
    // It went out as <Content><![CDATA[]]></Content>: seeds/001 sets that apart from the no-reply (an empty
    // body), and the reply check refuses an empty Content for the same reason.
    const cases: Array<[Reply, string]> = [
      [{ type: 'text', content: '\u0001\u0002' }, "text reply's Content"],
      [{ type: 'image', mediaId: '\uFFFE' }, "image reply's MediaId"],
      [{ type: 'voice', mediaId: '\u0000' }, "voice reply's MediaId"],
      [{ type: 'video', mediaId: '\uD800', title: 'T' }, "video reply's MediaId"],
      [{ type: 'music', musicUrl: 'https://m/a.mp3', thumbMediaId: '\u001F' }, "music reply's ThumbMediaId"],
    ]
    for (const [reply, field] of cases) {
      const { xml, warnings } = serialize(reply)
      assert.equal(xml, null, JSON.stringify(reply))
      assert.deepEqual(warnings, [`${field} is empty once the characters XML 1.0 forbids are removed; answered success instead`])
    }
  })

  it('keeps characters XML 1.0 allows, C1 controls and U+FFFD included', () => {
    const content = '\u007F\u0085\u009F\uFFFD\uE000 ünïcödé 中文'
    assert.equal(childText(render({ type: 'text', content }), 'Content'), content)
  })
})

describe('serializeReply: news limits', () => {
  it('keeps up to newsMaxArticles for events (e.g. a menu click)', () => {
    const { xml, warnings } = serialize({ type: 'news', articles: articles(8) })
    assert.ok(xml)
    assert.equal(childText(readXml(xml), 'ArticleCount'), '8')
    assert.deepEqual(warnings, [])
  })

  it('cuts 10 articles to 8 and names the dropped ones', () => {
    const { xml, warnings } = serialize({ type: 'news', articles: articles(10) })
    assert.ok(xml)
    const doc = readXml(xml)
    assert.equal(childText(doc, 'ArticleCount'), '8')
    const titles = child(doc, 'Articles').children.map((item) => childText(item, 'Title'))
    assert.deepEqual(titles, articles(8).map((a) => a.title))
    assert.equal(warnings.length, 1)
    assert.match(warnings[0], /cut from 10 to 8/)
    assert.match(warnings[0], /"title 9", "title 10"/)
    assert.doesNotMatch(warnings[0], /answering a user message/)
  })

  it('cuts to 1 article when answering a user message, and says why', () => {
    const { xml, warnings } = serialize({ type: 'news', articles: articles(3) }, { answeringUserMessage: true })
    assert.ok(xml)
    const doc = readXml(xml)
    assert.equal(childText(doc, 'ArticleCount'), '1')
    assert.equal(child(doc, 'Articles').children.length, 1)
    assert.equal(childText(child(child(doc, 'Articles'), 'item'), 'Title'), 'title 1')
    assert.match(warnings[0], /cut from 3 to 1 article\(s\) \(answering a user message\); dropped: "title 2", "title 3"/)
  })

  it('names the first 5 dropped titles and counts the rest: a plugin\'s 1150 articles made a warning of 106 KB', () => {
    const { warnings } = serialize({ type: 'news', articles: articles(1150) }, { answeringUserMessage: true })
    assert.match(warnings[0], /dropped: "title 2", "title 3", "title 4", "title 5", "title 6" and 1144 more$/)
    assert.ok(warnings[0].length < 300, String(warnings[0].length))
  })

  it('follows the configured limits', () => {
    const limits = { newsMaxArticles: 10, newsMaxArticlesForUserMessage: 2 }
    assert.equal(childText(readXml(serializeReply({ type: 'news', articles: articles(10) }, ENV, limits).xml!), 'ArticleCount'), '10')
    const user = serializeReply({ type: 'news', articles: articles(3) }, { ...ENV, answeringUserMessage: true }, limits)
    assert.equal(childText(readXml(user.xml!), 'ArticleCount'), '2')
  })

  it('shortens long titles in the warning', () => {
    const long = [{ title: 'a' }, { title: 'x'.repeat(500) }]
    const { warnings } = serialize({ type: 'news', articles: long }, { answeringUserMessage: true })
    assert.ok(warnings[0].length < 200, warnings[0])
    assert.match(warnings[0], /x{40}…/)
  })

  it('answers success (null) with a warning for a news reply without articles', () => {
    const { xml, warnings } = serialize({ type: 'news', articles: [] })
    assert.equal(xml, null)
    assert.match(warnings[0], /no articles/)
  })
})

describe('buildEncryptedReply (protocol.md §2)', () => {
  const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
  const APP_ID = 'wxb11529c136998cb6'
  const TOKEN = 'pamtest'
  const created = createWeChatCipher(KEY, APP_ID)
  assert.ok(created.ok)
  const cipher = created.value

  const inner = serialize({ type: 'text', content: '加密回复 ]]> ok' }).xml!

  it('is Encrypt, MsgSignature, TimeStamp, Nonce in that order', () => {
    const doc = readXml(buildEncryptedReply(cipher, TOKEN, inner, '1700000123', 'n0nce'))
    assert.deepEqual(childNames(doc), ['Encrypt', 'MsgSignature', 'TimeStamp', 'Nonce'])
    assert.equal(childText(doc, 'TimeStamp'), '1700000123')
    assert.equal(child(doc, 'TimeStamp').content, 'text')
    assert.equal(childText(doc, 'Nonce'), 'n0nce')
    assert.equal(child(doc, 'Encrypt').content, 'cdata')
  })

  it('signs its own timestamp, nonce and Encrypt: verifyMsgSignature accepts it', () => {
    const doc = readXml(buildEncryptedReply(cipher, TOKEN, inner, '1700000123', 'n0nce'))
    const encrypt = childText(doc, 'Encrypt')
    const signature = childText(doc, 'MsgSignature')
    assert.equal(verifyMsgSignature(TOKEN, '1700000123', 'n0nce', encrypt, signature), true)
    assert.equal(verifyMsgSignature(TOKEN, '1700000124', 'n0nce', encrypt, signature), false)
    assert.equal(verifyMsgSignature('other', '1700000123', 'n0nce', encrypt, signature), false)
    const byHand = createHash('sha1').update([TOKEN, '1700000123', 'n0nce', encrypt].sort().join('')).digest('hex')
    assert.equal(signature, byHand)
  })

  it('decrypts back to the reply XML', () => {
    const doc = readXml(buildEncryptedReply(cipher, TOKEN, inner, '1700000123', 'n0nce'))
    assert.deepEqual(cipher.decrypt(childText(doc, 'Encrypt')), { ok: true, value: inner })
    assert.equal(childText(readXml(inner), 'Content'), '加密回复 ]]> ok')
  })

  it('is the envelope of protocol.md §2 byte for byte: Encrypt, MsgSignature and Nonce in CDATA, TimeStamp bare', () => {
    // The shape WeChat's own SDKs (WXBizMsgCrypt) write. The checks above read it through a parser and looked at
    // the CDATA-ness of Encrypt and TimeStamp only: MsgSignature or Nonce written bare went unnoticed.
    const envelope = buildEncryptedReply(cipher, TOKEN, inner, '1409304348', 'xxxxxx')
    const encrypt = /^<xml><Encrypt><!\[CDATA\[([A-Za-z0-9+/=]+)\]\]><\/Encrypt>/.exec(envelope)?.[1]
    assert.ok(encrypt, envelope)
    const signature = createHash('sha1').update([TOKEN, '1409304348', 'xxxxxx', encrypt].sort().join('')).digest('hex')
    assert.equal(
      envelope,
      `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt><MsgSignature><![CDATA[${signature}]]></MsgSignature>` +
        '<TimeStamp>1409304348</TimeStamp><Nonce><![CDATA[xxxxxx]]></Nonce></xml>',
    )
  })

  it('throws (a caller bug) for a timestamp that is not digits', () => {
    assert.throws(() => buildEncryptedReply(cipher, TOKEN, inner, '17e8', 'n'), RangeError)
  })
})
