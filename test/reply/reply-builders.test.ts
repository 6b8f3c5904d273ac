import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseReply, replySchema } from '../../core/reply/reply-builders.ts'
import { replyHelpers } from '../../core/reply/reply-helpers.ts'
import type { Reply } from '../../core/reply/reply-types.ts'
import type { CustomMessage } from '../../core/reply/custom-message-types.ts'
import { parseCustomMessage, parseSendable } from '../../core/reply/custom-message-schema.ts'

describe('replyHelpers', () => {
  const cases: Array<[string, Reply, Reply]> = [
    ['text', replyHelpers.text('hi'), { type: 'text', content: 'hi' }],
    ['image', replyHelpers.image('M'), { type: 'image', mediaId: 'M' }],
    ['voice', replyHelpers.voice('V'), { type: 'voice', mediaId: 'V' }],
    ['video without options', replyHelpers.video('V'), { type: 'video', mediaId: 'V' }],
    [
      'video with options',
      replyHelpers.video('V', { title: 'T', thumbMediaId: 'TH' }),
      { type: 'video', mediaId: 'V', title: 'T', thumbMediaId: 'TH' },
    ],
    [
      'music',
      replyHelpers.music({ thumbMediaId: 'TH', musicUrl: 'https://m' }),
      { type: 'music', thumbMediaId: 'TH', musicUrl: 'https://m' },
    ],
    [
      'news',
      replyHelpers.news([{ title: 'A', url: 'https://a' }, { title: 'B', description: undefined }]),
      { type: 'news', articles: [{ title: 'A', url: 'https://a' }, { title: 'B' }] },
    ],
    ['transfer to anyone', replyHelpers.transfer(), { type: 'transfer_customer_service' }],
    ['transfer to an agent', replyHelpers.transfer('kf1@acct'), { type: 'transfer_customer_service', kfAccount: 'kf1@acct' }],
    ['none', replyHelpers.none(), { type: 'none' }],
  ]
  for (const [what, built, expected] of cases) {
    it(`${what}: plain data without undefined keys, accepted by parseReply`, () => {
      assert.deepEqual(built, expected)
      assert.equal(JSON.stringify(built), JSON.stringify(expected))
      assert.equal(Object.values(built).includes(undefined), false)
      // structuredClone is how replies cross the worker boundary.
      assert.deepEqual(structuredClone(built), expected)
      assert.deepEqual(parseReply(built), { ok: true, value: expected })
    })
  }

  it('news and msgMenu given one item without its list throw a TypeError saying to put it in [ ] (it was "articles.map is not a function": plugins are not type-checked at load)', () => {
    assert.throws(() => replyHelpers.news({ title: 'A' } as never), {
      name: 'TypeError',
      message: 'ctx.reply.news takes a list of articles, [{ title, url?, ... }, ...], got an object: put it in [ ]',
    })
    assert.throws(() => replyHelpers.news(undefined as never), { name: 'TypeError', message: /^ctx\.reply\.news takes a list of articles, .*, got undefined$/ })
    assert.throws(() => replyHelpers.msgMenu({ id: '1', content: 'Yes' } as never), {
      name: 'TypeError',
      message: 'ctx.reply.msgMenu takes a list of options, [{ id, content }, ...], got an object: put it in [ ]',
    })
  })

  it('news copies the articles instead of keeping the caller’s objects', () => {
    const article = { title: 'A' }
    const reply = replyHelpers.news([article])
    article.title = 'changed'
    assert.deepEqual(reply, { type: 'news', articles: [{ title: 'A' }] })
  })
})

describe('customer-service-only helpers', () => {
  const cases: Array<[string, CustomMessage, CustomMessage]> = [
    [
      'msgMenu',
      replyHelpers.msgMenu([{ id: '1', content: 'Yes' }], { headContent: 'Happy?', tailContent: undefined }),
      { type: 'msgmenu', list: [{ id: '1', content: 'Yes' }], headContent: 'Happy?' },
    ],
    ['msgMenu without texts', replyHelpers.msgMenu([{ id: '1', content: 'Yes' }]), { type: 'msgmenu', list: [{ id: '1', content: 'Yes' }] }],
    [
      'miniProgramPage',
      replyHelpers.miniProgramPage({ appId: 'wxapp', pagePath: 'pages/a', thumbMediaId: 'TH', title: undefined }),
      { type: 'miniprogrampage', appId: 'wxapp', pagePath: 'pages/a', thumbMediaId: 'TH' },
    ],
    ['mpNews', replyHelpers.mpNews('M'), { type: 'mpnews', mediaId: 'M' }],
    ['mpNewsArticle', replyHelpers.mpNewsArticle('A'), { type: 'mpnewsarticle', articleId: 'A' }],
    ['wxCard', replyHelpers.wxCard('C'), { type: 'wxcard', cardId: 'C' }],
  ]
  for (const [what, built, expected] of cases) {
    it(`${what}: plain data without undefined keys, accepted by parseCustomMessage and parseSendable`, () => {
      assert.deepEqual(built, expected)
      assert.equal((Object.values(built) as unknown[]).includes(undefined), false)
      assert.deepEqual(structuredClone(built), expected)
      assert.deepEqual(parseCustomMessage(built), { ok: true, value: expected })
      assert.deepEqual(parseSendable(built), { ok: true, value: expected })
    })
  }

  it('parseSendable still checks a reply as a reply', () => {
    assert.deepEqual(parseSendable({ type: 'text', content: 'x' }), { ok: true, value: { type: 'text', content: 'x' } })
    const bad = parseSendable({ type: 'text', content: '' })
    assert.equal(bad.ok, false)
    if (!bad.ok) assert.match(bad.error.reason, /^invalid text reply: content: content is empty$/)
  })

  it('as a passive reply, a customer-service-only message is refused with a pointer to sendToUser', () => {
    const result = parseReply(replyHelpers.wxCard('C'))
    assert.equal(result.ok, false)
    if (!result.ok) {
      assert.equal(result.error.code, 'PLUGIN_BAD_REPLY')
      assert.match(result.error.reason, /^invalid wxcard reply: type: a wxcard message has no passive-reply form: send it with ctx\.api\.sendToUser/)
    }
  })
})

describe('parseReply', () => {
  it('returns a copy, not the value it was given', () => {
    const value = { type: 'news', articles: [{ title: 'A' }] }
    const result = parseReply(value)
    assert.ok(result.ok)
    assert.notEqual(result.value, value)
    assert.deepEqual(result.value, value)
  })

  it('accepts a reply with every optional field', () => {
    const reply = {
      type: 'music',
      title: 'T',
      description: 'D',
      musicUrl: 'https://m/a',
      hqMusicUrl: 'https://m/hq',
      thumbMediaId: 'TH',
    }
    assert.deepEqual(parseReply(reply), { ok: true, value: reply })
  })

  const invalid: Array<[string, unknown, RegExp]> = [
    ['null', null, /must be an object, got null/],
    ['a string', 'hello', /must be an object, got string \(a text reply is ctx\.reply\.text\('\.\.\.'\) in a plugin, \{ type: text, content: \.\.\. \} in YAML\)/],
    ['an array', [{ type: 'text', content: 'x' }], /must be an object, got an array/],
    ['no type', { content: 'x' }, /type: reply type must be one of text, image, .*none/],
    ['an unknown type', { type: 'markdown', content: 'x' }, /^invalid markdown reply: type: reply type must be one of .*none, got "markdown"$/],
    ['no type at all', { content: 'x' }, /reply type must be one of .*none \(it has none\)/],
    ['a Pass object', { pass: true }, /type: reply type must be one of/],
    ['text without content', { type: 'text' }, /^invalid text reply: content: content must be a string$/],
    ['text with a number', { type: 'text', content: 42 }, /content: content must be a string/],
    ['text with empty content', { type: 'text', content: '' }, /content: content is empty/],
    ['a misspelt key', { type: 'image', media_id: 'M' }, /mediaId: mediaId must be a string; Unrecognized key: "media_id"/],
    ['video with a null title', { type: 'video', mediaId: 'V', title: null }, /title: title must be a string/],
    ['music without thumbMediaId', { type: 'music', title: 'T' }, /thumbMediaId: thumbMediaId must be a string/],
    ['news without articles', { type: 'news' }, /articles: articles must be an array/],
    ['news with no articles', { type: 'news', articles: [] }, /articles: articles is empty/],
    ['an article without a title', { type: 'news', articles: [{ title: 'A' }, { url: 'u' }] }, /articles\.1\.title: title must be a string/],
    ['an article with an extra key', { type: 'news', articles: [{ title: 'A', image: 'x' }] }, /articles\.0: Unrecognized key: "image"/],
    ['transfer with an empty account', { type: 'transfer_customer_service', kfAccount: '' }, /^invalid transfer_customer_service reply: kfAccount: kfAccount must be a customer-service account, prefix@wechat-id \(.*\), got ""$/],
    // The platform's format is prefix@wechat-id (kfaccount/add): these went out, and no agent got the user.
    ['transfer to an account with no @', { type: 'transfer_customer_service', kfAccount: 'alice' }, /kfAccount: kfAccount must be a customer-service account, prefix@wechat-id .*, got "alice"$/],
    ['transfer to an account with two @', { type: 'transfer_customer_service', kfAccount: 'kf1@a@b' }, /got "kf1@a@b"$/],
    ['transfer to an account with no prefix', { type: 'transfer_customer_service', kfAccount: '@mywxid' }, /got "@mywxid"$/],
    ['transfer to an account with no WeChat ID', { type: 'transfer_customer_service', kfAccount: 'kf1@' }, /got "kf1@"$/],
    ['transfer to an account whose prefix is over 10 characters', { type: 'transfer_customer_service', kfAccount: 'agent_number1@mywxid' }, /got "agent_number1@mywxid"$/],
    ['transfer to an account with a space', { type: 'transfer_customer_service', kfAccount: 'kf 1@mywxid' }, /got "kf 1@mywxid"$/],
    ['transfer to an account with markup', { type: 'transfer_customer_service', kfAccount: 'kf1@x]]><Content>hi' }, /got "kf1@x\]\]><Content>hi"$/],
    ['transfer to an account that is a number', { type: 'transfer_customer_service', kfAccount: 42 }, /kfAccount: kfAccount must be a customer-service account, .*got number$/],
    // WeChat opens these from the user's phone: only http(s) works there (http-url.ts). Each went out before.
    ['an article Url with javascript:', { type: 'news', articles: [{ title: 'A', url: 'https://a' }, { title: 'B', url: 'javascript:alert(1)' }] }, /^invalid news reply: articles\.1\.url: url must be an absolute http:\/\/ or https:\/\/ URL, got "javascript:alert\(1\)"$/],
    ['an article PicUrl with data:', { type: 'news', articles: [{ title: 'A', picUrl: 'data:image/png;base64,AAAA' }] }, /^invalid news reply: articles\.0\.picUrl: picUrl must be an absolute http:\/\/ or https:\/\/ URL, got "data:image\/png;base64,AAAA"$/],
    ['an article Url with ftp:', { type: 'news', articles: [{ title: 'A', url: 'ftp://files.example.com/a' }] }, /articles\.0\.url: url must be an absolute http:\/\/ or https:\/\/ URL, got "ftp:/],
    ['an article Url that is no URL', { type: 'news', articles: [{ title: 'A', url: 'see our site' }] }, /articles\.0\.url: url must be .*, got "see our site"$/],
    ['an article Url without its //', { type: 'news', articles: [{ title: 'A', url: 'http:example.com' }] }, /articles\.0\.url: .*got "http:example\.com"$/],
    ['an article Url with a space', { type: 'news', articles: [{ title: 'A', url: 'https://example.com/a b' }] }, /articles\.0\.url: .*got "https:\/\/example\.com\/a b"$/],
    ['an empty article PicUrl', { type: 'news', articles: [{ title: 'A', picUrl: '' }] }, /articles\.0\.picUrl: picUrl must be .*, got ""$/],
    ['a MusicUrl with javascript:', { type: 'music', musicUrl: 'JavaScript:alert(1)', thumbMediaId: 'TH' }, /^invalid music reply: musicUrl: musicUrl must be an absolute http:\/\/ or https:\/\/ URL, got "JavaScript:alert\(1\)"$/],
    ['a relative HQMusicUrl', { type: 'music', hqMusicUrl: '/songs/a.mp3', thumbMediaId: 'TH' }, /^invalid music reply: hqMusicUrl: hqMusicUrl must be .*, got "\/songs\/a\.mp3"$/],
    ['none with extra data', { type: 'none', content: 'x' }, /Unrecognized key: "content"/],
    ['text over 65536 characters', { type: 'text', content: 'x'.repeat(65_537) }, /content: content is over 65536 characters/],
    ['an article URL over 65536 characters', { type: 'news', articles: [{ title: 'A', url: 'u'.repeat(65_537) }] }, /articles\.0\.url: url is over 65536 characters/],
  ]
  for (const [what, value, reason] of invalid) {
    it(`PLUGIN_BAD_REPLY for ${what}`, () => {
      const result = parseReply(value)
      assert.equal(result.ok, false)
      if (result.ok) return
      assert.equal(result.error.code, 'PLUGIN_BAD_REPLY')
      assert.match(result.error.reason, reason)
    })
  }

  it('names the first five problems and counts the rest: 10,000 untitled articles are not a 470 KB reason', () => {
    const r = parseReply({ type: 'news', articles: Array.from({ length: 10_000 }, () => ({ url: 'https://a' })) })
    assert.equal(r.ok, false)
    if (r.ok) return
    assert.match(r.error.reason, /^invalid news reply: articles\.0\.title: .*; articles\.4\.title: [^;]*; and 9995 more like these$/)
    assert.ok(r.error.reason.length < 500, `${r.error.reason.length} characters`)
  })

  it('links of http and https, any case, with ports, queries, fragments and non-ASCII paths are accepted', () => {
    for (const url of ['http://a.b', 'HTTPS://Example.COM/x', 'https://example.com:8443/a?b=1&c=2#d', 'https://例子.测试/路径', 'http://127.0.0.1/p.jpg']) {
      const news = { type: 'news', articles: [{ title: 'A', url, picUrl: url }] }
      assert.deepEqual(parseReply(news), { ok: true, value: news })
      const music = { type: 'music', musicUrl: url, hqMusicUrl: url, thumbMediaId: 'TH' }
      assert.deepEqual(parseReply(music), { ok: true, value: music })
    }
  })

  it('a URL check stays fast on a 65,536-character value that is no URL', () => {
    const started = performance.now()
    assert.equal(parseReply({ type: 'news', articles: [{ title: 'A', url: `https://${'a'.repeat(65_520)} ` }] }).ok, false)
    assert.ok(performance.now() - started < 500, `${performance.now() - started} ms`)
  })

  it('transfer to a customer-service account of the platform\'s format is accepted', () => {
    for (const kfAccount of ['test1@test', 'kf_10_char@my-wx_id', 'KF1@gh_0123456789ab', 'a@b']) {
      assert.deepEqual(parseReply({ type: 'transfer_customer_service', kfAccount }), { ok: true, value: { type: 'transfer_customer_service', kfAccount } })
    }
  })

  it('text of exactly 65536 characters is accepted', () => {
    assert.equal(parseReply({ type: 'text', content: 'x'.repeat(65_536) }).ok, true)
  })

  it('exports the schema for the rules loader', () => {
    assert.equal(replySchema.safeParse({ type: 'text', content: 'x' }).success, true)
    assert.equal(replySchema.safeParse({ type: 'text' }).success, false)
  })
})
