/**
 * `wxengine send` reads the reply as WeChat does (core/testkit/reply-problems.ts): a server behind --url that
 * answers with a wrong envelope, a CreateTime in milliseconds, a reply without its required element or a news
 * reply over the platform's limit is told so on stderr with exit 1, where it used to be printed as if the
 * user had seen it. The engine's own replies pass (every other send test would fail otherwise), and the
 * checks are shown here against replies the engine's serializer builds.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type net from 'node:net'
import { after, before, describe, test } from 'node:test'
import { serializeReply } from '../../core/reply/reply-xml.ts'
import type { Reply } from '../../core/reply/reply-types.ts'
import { replyProblems } from '../../core/testkit/reply-problems.ts'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'
import { makeProject, type Project } from './cli-harness.ts'

const account = { token: 't0k3n', appId: 'wx0123456789abcdef', encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', mode: 'plaintext' as const, originalId: 'gh_account' }
const NOW = 1_764_556_800_000
const LIMITS = { newsMaxArticles: 8, newsMaxArticlesForUserMessage: 1 }

/** The push signed as WeChat would, and `reply` built by the engine's serializer as the answer to it. */
function exchange(reply: Reply, o: { event?: boolean; createTime?: number; limits?: typeof LIMITS } = {}) {
  const sim = createWeChatSimulator({ account, now: () => NOW })
  const sent = sim.request(o.event ? push.click('o-user', 'K') : push.text('o-user', 'hi'))
  const xml = serializeReply(reply, { toUser: 'o-user', fromUser: 'gh_account', createTime: o.createTime ?? NOW / 1000, answeringUserMessage: !o.event }, o.limits ?? LIMITS).xml
  assert.ok(xml !== null)
  const opened = sim.openReply(xml)
  assert.ok(opened.fields)
  return { sent: { fields: sent.fields!, query: sent.query }, fields: opened.fields, encrypted: opened.encrypted }
}

describe('replyProblems', () => {
  test('every reply type the engine builds passes', () => {
    const replies: Reply[] = [
      { type: 'text', content: 'hi' },
      { type: 'image', mediaId: 'm1' },
      { type: 'voice', mediaId: 'm2' },
      { type: 'video', mediaId: 'm3', title: 'T' },
      { type: 'music', thumbMediaId: 'th', musicUrl: 'https://example.com/a.mp3' },
      { type: 'news', articles: [{ title: 'A', url: 'https://example.com/a' }] },
      { type: 'transfer_customer_service', kfAccount: 'kf1@gh_account' },
    ]
    for (const reply of replies) {
      const x = exchange(reply)
      assert.deepEqual(replyProblems(x.sent, x, { nowMs: NOW }), [], reply.type)
    }
    const eventNews = exchange({ type: 'news', articles: Array.from({ length: 8 }, (_, i) => ({ title: `A${i}` })) }, { event: true })
    assert.deepEqual(replyProblems(eventNews.sent, eventNews, { nowMs: NOW }), [], 'eight articles in answer to an event')
  })

  test('a reply addressed back to the wrong user or from the wrong account', () => {
    const x = exchange({ type: 'text', content: 'hi' })
    const swapped = { ...x.fields, ToUserName: 'gh_account', FromUserName: 'o-user' }
    assert.deepEqual(replyProblems(x.sent, { fields: swapped, encrypted: false }, { nowMs: NOW }), [
      'ToUserName is "gh_account", not the user who sent the push ("o-user")',
      'FromUserName is "o-user", not the account the push went to ("gh_account")',
    ])
  })

  test('CreateTime in milliseconds, far from now, or missing', () => {
    // The engine's serializer refuses milliseconds itself: another server's reply is what sends them.
    const x0 = exchange({ type: 'text', content: 'hi' })
    assert.deepEqual(replyProblems(x0.sent, { fields: { ...x0.fields, CreateTime: String(NOW) }, encrypted: false }, { nowMs: NOW }), [`CreateTime ${NOW} is in milliseconds; WeChat reads seconds`])
    const old = exchange({ type: 'text', content: 'hi' }, { createTime: NOW / 1000 - 3600 })
    assert.deepEqual(replyProblems(old.sent, old, { nowMs: NOW }), [`CreateTime ${NOW / 1000 - 3600} is 3600 s from now`])
    const x = exchange({ type: 'text', content: 'hi' })
    const { CreateTime: _dropped, ...without } = x.fields
    assert.deepEqual(replyProblems(x.sent, { fields: without, encrypted: false }, { nowMs: NOW }), ['CreateTime is missing, not a number of seconds'])
  })

  test('a plaintext reply to an encrypted push', () => {
    const x = exchange({ type: 'text', content: 'hi' })
    assert.deepEqual(replyProblems({ fields: x.sent.fields, query: { ...x.sent.query, encrypt_type: 'aes' } }, x, { nowMs: NOW }), [
      'the push was encrypted and the reply is not: an account in safe or compatible mode needs an encrypted reply',
    ])
  })

  test('a type that is no passive reply, and replies without their required element', () => {
    const x = exchange({ type: 'text', content: 'hi' })
    const problems = (fields: Record<string, unknown>) => replyProblems(x.sent, { fields: { ...x.fields, ...fields } as typeof x.fields, encrypted: false }, { nowMs: NOW })
    assert.deepEqual(problems({ MsgType: 'mpnews' }), ['MsgType "mpnews" is not a passive reply type (text, image, voice, video, music, news, transfer_customer_service)'])
    assert.deepEqual(problems({ Content: '' }), ['a text reply without Content'])
    assert.deepEqual(problems({ MsgType: 'image', Image: {} }), ['a image reply without Image.MediaId'])
    assert.deepEqual(problems({ MsgType: 'music', Music: { Title: 'T' } }), ['a music reply without Music.ThumbMediaId'])
  })

  test('news over the platform limit for a user message, and an ArticleCount that does not count', () => {
    const three = exchange({ type: 'news', articles: [{ title: 'A' }, { title: 'B' }, { title: 'C' }] }, { limits: { newsMaxArticles: 8, newsMaxArticlesForUserMessage: 8 } })
    assert.deepEqual(replyProblems(three.sent, three, { nowMs: NOW }), ['a news reply of 3 articles, more than the platform takes (1 in answer to a user message)'])
    const miscounted = { ...three.fields, ArticleCount: '2' }
    assert.deepEqual(replyProblems(three.sent, { fields: miscounted, encrypted: false }, { nowMs: NOW }), [
      'ArticleCount is "2" but the reply has 3 article(s)',
      'a news reply of 3 articles, more than the platform takes (1 in answer to a user message)',
    ])
  })
})

describe('wxengine send --url to a server whose reply WeChat would not show', () => {
  let project: Project
  let server: http.Server
  let url = ''
  /** What the server answers, given the push's FromUserName and ToUserName. */
  let answer: (user: string, account: string) => string = () => 'success'
  before(async () => {
    project = makeProject()
    server = http.createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8').on('data', (d: string) => (body += d))
      req.on('end', () => {
        const field = (name: string) => new RegExp(`<${name}><!\\[CDATA\\[(.*?)\\]\\]></${name}>`).exec(body)?.[1] ?? ''
        res.end(answer(field('FromUserName'), field('ToUserName')))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/wechat`
  })
  after(() => {
    server.closeAllConnections()
    server.close()
    project.remove()
  })

  test('a CreateTime in milliseconds and the envelope turned round: printed, then each problem, exit 1', async () => {
    const ms = Date.now()
    answer = (user, account) =>
      `<xml><ToUserName><![CDATA[${account}]]></ToUserName><FromUserName><![CDATA[${user}]]></FromUserName><CreateTime>${ms}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content></xml>`
    const r = await project.run(['send', 'hi', '--openid', 'o-alice', '--url', url])
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.stdout, 'text reply\n  Content: hello\n')
    const lines = r.stderr.split('\n')
    assert.equal(lines[0], 'wxengine send: WeChat would not show this reply to the user:')
    assert.match(lines[1]!, /^ {2}- ToUserName is "gh_\w+", not the user who sent the push \("o-alice"\)$/)
    assert.match(lines[2]!, /^ {2}- FromUserName is "o-alice", not the account the push went to \("gh_\w+"\)$/)
    assert.equal(lines[3], `  - CreateTime ${ms} is in milliseconds; WeChat reads seconds`)
    assert.equal(lines.length, 5, r.stderr)
  })

  test('a well-formed reply from that server: exit 0, nothing on stderr; with --raw the same checks run', async () => {
    answer = (user, account) =>
      `<xml><ToUserName><![CDATA[${user}]]></ToUserName><FromUserName><![CDATA[${account}]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content></xml>`
    const good = await project.run(['send', 'hi', '--openid', 'o-alice', '--url', url])
    assert.equal(good.code, 0, good.stderr)
    assert.equal(good.stderr, '')
    answer = (user, account) =>
      `<xml><ToUserName><![CDATA[${user}]]></ToUserName><FromUserName><![CDATA[${account}]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[image]]></MsgType><Image></Image></xml>`
    const raw = await project.run(['send', 'hi', '--openid', 'o-alice', '--url', url, '--raw'])
    assert.equal(raw.code, 1, raw.stderr)
    assert.match(raw.stdout, /^<xml><ToUserName><!\[CDATA\[o-alice\]\]>/)
    assert.equal(raw.stderr, 'wxengine send: WeChat would not show this reply to the user:\n  - a image reply without Image.MediaId\n')
  })
})
