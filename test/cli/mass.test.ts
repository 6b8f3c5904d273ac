/**
 * `wxengine mass ...` as a user runs it: a child process against the real HTTP fake of the platform API
 * (core/testkit/fake-wechat-api.ts) on 127.0.0.1, with the mass-send API added as WeChat answers it: each
 * body checked field by field (anything else is 47001, as a body WeChat cannot read), a clientmsgid seen in
 * the last 24 hours refused with 45065 and the msg_id of its send, a second send to all in a day refused with
 * 45028 (a subscription account's quota), an unknown media_id 40007, an OpenID that is no follower 40003.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { clientMsgIdFor } from '../../core/mass/mass-request.ts'
import { startFakeWeChatApi, type FakeWeChatApi, type Json, type JsonObject } from '../../core/testkit/fake-wechat-api.ts'
import { makeProject, pushThroughEngine, type Project } from './cli-harness.ts'

const APP_ID = 'wx1111111111111111'
const SECRET = 'mass-secret'
// WeChat's paths written out, not MASS_PATHS imported: a wrong path in the code must fail here.
const PATHS = {
  sendall: '/cgi-bin/message/mass/sendall',
  send: '/cgi-bin/message/mass/send',
  preview: '/cgi-bin/message/mass/preview',
  get: '/cgi-bin/message/mass/get',
  delete: '/cgi-bin/message/mass/delete',
  tags: '/cgi-bin/tags/get',
}

let project: Project
let fake: FakeWeChatApi
let env: NodeJS.ProcessEnv

/** What the fake platform knows of the account. */
const FOLLOWERS = new Set(['o-alice', 'o-bob', 'o-carol'])
const MATERIAL = new Set(['news-1', 'voice-1', 'mpvideo-1', 'img-1'])
const TAGS = [
  { id: 2, name: '星标组', count: 3 },
  { id: 100, name: 'VIP 客户', count: 12 },
  { id: 101, name: '北京用户', count: 1234 },
]
/** clientmsgid -> msg_id of the sends the fake took; msg_id -> status. */
const jobs = new Map<string, number>()
const statuses = new Map<string, string>()
let nextMsgId = 1000000001
let sentToAllOn: string | undefined

const bad = (why: string): JsonObject => ({ errcode: 47001, errmsg: `data format error hint: [${why}] rid: x` })
const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)
const keysAre = (o: JsonObject, keys: string[]) => JSON.stringify(Object.keys(o).sort()) === JSON.stringify([...keys].sort())
const knownMedia = (id: Json | undefined) => typeof id === 'string' && (MATERIAL.has(id) || fake.uploads.some((u) => u.mediaId === id))

/** The content of a body, as WeChat checks it: the msgtype's object and only that; `preview` takes image, not images. */
function checkContent(b: JsonObject, preview: boolean): JsonObject | undefined {
  const type = b.msgtype
  if (type === 'text') return isObject(b.text) && keysAre(b.text, ['content']) && typeof b.text.content === 'string' ? undefined : bad('text')
  if (type === 'image' && !preview) {
    const i = b.images
    if (!isObject(i) || !Array.isArray(i.media_ids) || !keysAre(i, ['media_ids', 'need_open_comment', 'only_fans_can_comment', ...('recommend' in i ? ['recommend'] : [])])) return bad('images')
    return i.media_ids.every(knownMedia) ? undefined : { errcode: 40007, errmsg: 'invalid media_id rid: x' }
  }
  const key = type === 'image' ? 'image' : type
  if (typeof key !== 'string' || !['image', 'voice', 'mpnews', 'mpvideo'].includes(key)) return bad('msgtype')
  const c = b[key]
  if (!isObject(c) || !keysAre(c, ['media_id'])) return bad(key)
  return knownMedia(c.media_id) ? undefined : { errcode: 40007, errmsg: 'invalid media_id rid: x' }
}

/** sendall and send: the target, the content, clientmsgid, and send_ignore_reprint for an mpnews only. */
function massSend(b: JsonObject, target: 'filter' | 'touser'): JsonObject {
  const expected = [target, b.msgtype === 'image' ? 'images' : String(b.msgtype), 'msgtype', 'clientmsgid', ...(b.msgtype === 'mpnews' ? ['send_ignore_reprint'] : [])]
  if (!keysAre(b, expected)) return bad(`fields ${Object.keys(b).join(',')}`)
  const content = checkContent(b, false)
  if (content) return content
  if (typeof b.clientmsgid !== 'string' || b.clientmsgid.length > 64) return { errcode: 45067, errmsg: 'clientmsgid size exceeds limit rid: x' }
  const earlier = jobs.get(b.clientmsgid)
  if (earlier !== undefined) return { errcode: 45065, errmsg: 'clientmsgid exist rid: x', msg_id: earlier }
  if (target === 'filter') {
    const f = b.filter
    if (!isObject(f) || typeof f.is_to_all !== 'boolean' || (f.is_to_all ? !keysAre(f, ['is_to_all']) : !keysAre(f, ['is_to_all', 'tag_id']) || typeof f.tag_id !== 'number')) return bad('filter')
    if (f.is_to_all) {
      const today = new Date().toISOString().slice(0, 10)
      if (sentToAllOn === today) return { errcode: 45028, errmsg: 'has no masssend quota rid: x' }
      sentToAllOn = today
    }
  } else {
    const to = b.touser
    if (!Array.isArray(to) || to.length < 2 || to.length > 10000) return bad('touser')
    if (!to.every((id) => typeof id === 'string' && FOLLOWERS.has(id))) return { errcode: 40003, errmsg: 'invalid openid rid: x' }
  }
  const msgId = nextMsgId++
  jobs.set(b.clientmsgid, msgId)
  statuses.set(String(msgId), 'SEND_SUCCESS')
  return { errcode: 0, errmsg: 'send job submission success', msg_id: msgId, ...(b.msgtype === 'mpnews' ? { msg_data_id: 2247483650 } : {}) }
}

const requestsTo = (p: string) => fake.requests.filter((r) => r.path === p)
const lastBody = (p: string) => JSON.stringify(requestsTo(p).at(-1)?.body)
const today = () => Date.now()

before(async () => {
  project = makeProject()
  fake = await startFakeWeChatApi({ appId: APP_ID, appSecret: SECRET })
  env = { WECHAT_APPSECRET: SECRET, WECHAT_API_BASE: fake.baseUrl }
  fake.route('POST', PATHS.sendall, ({ body }) => (isObject(body) ? massSend(body, 'filter') : bad('body')))
  fake.route('POST', PATHS.send, ({ body }) => (isObject(body) ? massSend(body, 'touser') : bad('body')))
  fake.route('POST', PATHS.preview, ({ body }): JsonObject => {
    if (!isObject(body)) return bad('body')
    const who = 'touser' in body ? 'touser' : 'towxname'
    if (!keysAre(body, [who, body.msgtype === 'image' ? 'image' : String(body.msgtype), 'msgtype'])) return bad(`fields ${Object.keys(body).join(',')}`)
    if (who === 'touser' && !FOLLOWERS.has(String(body.touser))) return { errcode: 40003, errmsg: 'invalid openid rid: x' }
    return checkContent(body, true) ?? { errcode: 0, errmsg: 'preview success', msg_id: 34182 }
  })
  fake.route('POST', PATHS.get, ({ body }): JsonObject => {
    if (!isObject(body) || !keysAre(body, ['msg_id']) || typeof body.msg_id !== 'string') return bad('msg_id')
    const status = statuses.get(body.msg_id)
    // WeChat's answer to an id it does not know is not documented; a refusal of some kind.
    return status ? { msg_id: Number(body.msg_id), msg_status: status } : { errcode: 40008, errmsg: 'invalid message type rid: x' }
  })
  fake.route('POST', PATHS.delete, ({ body }): JsonObject => {
    if (!isObject(body) || typeof body.msg_id !== 'number' || !keysAre(body, ['msg_id', ...('article_idx' in body ? ['article_idx'] : [])])) return bad('msg_id')
    statuses.set(String(body.msg_id), 'DELETE')
    return { errcode: 0, errmsg: 'ok' }
  })
  fake.route('GET', PATHS.tags, () => ({ tags: TAGS.map((t) => ({ ...t })) }))
  writeFileSync(path.join(project.dir, 'poster.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]))
  writeFileSync(path.join(project.dir, 'notes.txt'), 'not a picture')
  writeFileSync(path.join(project.dir, 'vips.txt'), 'o-alice\no-bob\n\no-carol\n')
  // What Windows PowerShell 5's > writes: UTF-16 with a BOM.
  writeFileSync(path.join(project.dir, 'utf16.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('o-alice\r\no-bob\r\n', 'utf16le')]))
})
after(async () => {
  await fake.close()
  project.remove()
})

describe('wxengine mass send', () => {
  test('--dry-run prints the exact JSON with the clientmsgid it will send, and sends nothing (no appSecret, no token)', async () => {
    const sent = fake.requests.length
    const r = await project.run(['mass', 'send', '--all', '--text', '明天 9 点开门'])
    // Without --yes and without --dry-run: refused, said what it would reach.
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr,
      "wxengine mass send: this sends a text of 8 characters to every follower of the account (account default): it goes into the account's history list, and is the day's one send of a subscription account or one of a service account's 4 a month; add --yes to send it (--dry-run shows the JSON, wxengine mass preview sends it to one user first)\n",
    )
    const dry = await project.run(['mass', 'send', '--all', '--text', '明天 9 点开门', '--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    const id = clientMsgIdFor(APP_ID, { all: true }, { type: 'text', text: '明天 9 点开门' }, today())
    assert.equal(dry.stdout, `POST /cgi-bin/message/mass/sendall\n{"filter":{"is_to_all":true},"text":{"content":"明天 9 点开门"},"msgtype":"text","clientmsgid":"${id}"}\n`)
    assert.equal(dry.stderr, 'dry run: this is the JSON POST /cgi-bin/message/mass/sendall would send for account default; nothing was sent\n')
    const list = await project.run(['mass', 'send', '--to', 'o-alice,o-bob', '--mpnews', 'news-1', '--ignore-reprint', '--client-msg-id', 'spring-2026', '--dry-run'])
    assert.equal(list.code, 0, list.stderr)
    assert.equal(list.stdout, 'POST /cgi-bin/message/mass/send\n{"touser":["o-alice","o-bob"],"mpnews":{"media_id":"news-1"},"msgtype":"mpnews","clientmsgid":"spring-2026","send_ignore_reprint":1}\n')
    const file = await project.run(['mass', 'send', '--tag', '2', '--image', 'poster.jpg', '--dry-run'])
    assert.equal(file.code, 0, file.stderr)
    assert.match(file.stdout, /^POST \/cgi-bin\/message\/mass\/sendall\n\{"filter":\{"is_to_all":false,"tag_id":2\},"images":\{"media_ids":\["\(the media_id of poster\.jpg\)"\],"need_open_comment":0,"only_fans_can_comment":0\},"msgtype":"image","clientmsgid":"wxe-[0-9a-f]{40}"\}\n$/)
    assert.match(file.stderr, /^dry run: poster\.jpg is uploaded \(or its media_id taken from the store\) when it is sent/)
    assert.equal(fake.requests.length, sent)
  })

  test('--dry-run with a file whose name has a quote or a backslash: the JSON printed is the body, the name in it as written', async () => {
    const sent = fake.requests.length
    for (const name of ['my "best".jpg', 'back\\slash.jpg']) {
      writeFileSync(path.join(project.dir, name), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]))
      const r = await project.run(['mass', 'send', '--all', '--image', name, '--dry-run'])
      assert.equal(r.code, 0, r.stderr)
      const [head, json] = r.stdout.split('\n')
      assert.equal(head, 'POST /cgi-bin/message/mass/sendall')
      assert.deepEqual((JSON.parse(json!) as { images: { media_ids: string[] } }).images.media_ids, [`(the media_id of ${name})`])
    }
    assert.equal(fake.requests.length, sent)
  })

  test('to all: the exact JSON with the token the store shares; msg_id printed, the protection noted; the same command again is "already sent" (45065), exit 0, nothing new sent', async () => {
    const r = await project.run(['mass', 'send', '--all', '--text', 'hello followers', '--yes'], { env })
    assert.equal(r.code, 0, r.stderr)
    const id = clientMsgIdFor(APP_ID, { all: true }, { type: 'text', text: 'hello followers' }, today())
    assert.equal(lastBody(PATHS.sendall), `{"filter":{"is_to_all":true},"text":{"content":"hello followers"},"msgtype":"text","clientmsgid":"${id}"}`)
    assert.equal(requestsTo(PATHS.sendall).at(-1)!.query.access_token, fake.issuedTokens[0])
    const msgId = jobs.get(id)!
    assert.equal(r.stdout, `sent: a text of 15 characters to every follower of the account (account default)\nmsg_id: ${msgId}\nclientmsgid: ${id}\n`)
    assert.match(r.stderr, /^note: an account with API mass-send protection on \(设置-安全中心-风险操作保护\) holds a send to all followers until an administrator confirms it in WeChat; refused, or not confirmed within 30 minutes, it fails\n/m)
    assert.match(r.stderr, new RegExp(`^note: WeChat sends it in the background: wxengine mass status ${msgId} says where it is`, 'm'))

    const again = await project.run(['mass', 'send', '--all', '--text', 'hello followers', '--yes'], { env })
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout, '')
    assert.equal(
      again.stderr,
      `wxengine mass send: already sent as msg_id ${msgId}: clientmsgid ${id} was sent in the last 24 hours, so WeChat sent nothing new; wxengine mass status ${msgId} says how it went\n`,
    )
    assert.equal(jobs.size, 1)
    assert.equal(fake.tokenRequests, 1)

    // Another message to all the same day: the subscription account's quota is spent (45028), in words.
    const more = await project.run(['mass', 'send', '--all', '--text', 'and another', '--yes'], { env })
    assert.equal(more.code, 1)
    assert.match(more.stderr, /^wxengine mass send: nothing sent: WeChat refused it with errcode 45028: no mass-send quota left: a subscription account sends to all once a day, a service account 4 times a month .*\(POST \/cgi-bin\/message\/mass\/sendall: errcode 45028 has no masssend quota rid: x\)\n$/)
    assert.equal(more.stdout, '')
  })

  test('to a tag, an article: send_ignore_reprint sent, msg_data_id printed; to a list from --to-file; refusals in words (40007, 40003, 48001, 45066)', async () => {
    const tag = await project.run(['mass', 'send', '--tag', '100', '--mpnews', 'news-1', '--yes'], { env })
    assert.equal(tag.code, 0, tag.stderr)
    assert.match(lastBody(PATHS.sendall), /^\{"filter":\{"is_to_all":false,"tag_id":100\},"mpnews":\{"media_id":"news-1"\},"msgtype":"mpnews","clientmsgid":"wxe-[0-9a-f]{40}","send_ignore_reprint":0\}$/)
    assert.match(tag.stdout, /^sent: an article \(mpnews\) to the followers with tag 100 \(account default\)\nmsg_id: \d+\nmsg_data_id: 2247483650\nclientmsgid: wxe-/)
    assert.doesNotMatch(tag.stderr, /protection/)

    const file = await project.run(['mass', 'send', '--to-file', 'vips.txt', '--voice', 'voice-1', '--yes'], { env })
    assert.equal(file.code, 0, file.stderr)
    assert.match(lastBody(PATHS.send), /^\{"touser":\["o-alice","o-bob","o-carol"\],"voice":\{"media_id":"voice-1"\},"msgtype":"voice","clientmsgid":"wxe-[0-9a-f]{40}"\}$/)
    assert.match(file.stdout, /^sent: a voice message to 3 OpenIDs \(account default\)$/m)

    const cases: [string[], () => void, RegExp][] = [
      [['--tag', '2', '--mpvideo', 'no-such-media'], () => undefined, /nothing sent: WeChat refused it with errcode 40007: invalid media_id/],
      [['--to', 'o-alice,o-stranger', '--text', 'hi'], () => undefined, /nothing sent: WeChat refused it with errcode 40003: invalid OpenID/],
      [['--tag', '2', '--text', 'unverified'], () => fake.failNext(PATHS.sendall, 1, 48001, 'api unauthorized'), /errcode 48001: this account may not use the mass-send API \(api unauthorized\): it is for verified accounts/],
      [['--tag', '2', '--text', 'too fast'], () => fake.failNext(PATHS.sendall, 1, 45066, 'clientmsgid retry too fast'), /errcode 45066: this clientmsgid was retried within a minute: wait a minute before trying again/],
      [['--tag', '2', '--text', 'a minute'], () => fake.failNext(PATHS.sendall, 1, 45011, 'api minute-quota reach limit'), /^wxengine mass send: nothing sent: WeChat refused it with errcode 45011: the API was called too often \(its per-minute quota: the mass-send API takes 60 calls a minute for the account, whoever makes them\): wait a minute and try again \(/],
      [['--tag', '2', '--text', 'other'], () => fake.failNext(PATHS.sendall, 1, 45999, 'something new'), /errcode 45999 \(no plain words for it here; look it up in WeChat's global error codes\) \(POST \/cgi-bin\/message\/mass\/sendall: errcode 45999 something new rid: \S+\)/],
    ]
    for (const [args, arrange, stderr] of cases) {
      arrange()
      const r = await project.run(['mass', 'send', ...args, '--yes'], { env })
      assert.equal(r.code, 1, args.join(' '))
      assert.match(r.stderr, stderr, args.join(' '))
      assert.equal(r.stdout, '', args.join(' '))
    }
  })

  test('an --image file is uploaded as permanent material once: the send, a send to others and a preview of it all take the same media_id', async () => {
    const uploads = fake.uploads.length
    const r = await project.run(['mass', 'send', '--to', 'o-alice,o-bob', '--image', 'poster.jpg', '--recommend', '新品', '--open-comment', '--yes'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(fake.uploads.length, uploads + 1)
    const media = fake.uploads.at(-1)!
    assert.equal(media.type, 'image')
    assert.equal(media.filename, 'poster.jpg')
    assert.match(r.stdout, new RegExp(`^image poster\\.jpg: media_id ${media.mediaId} \\(uploaded now as permanent material\\)\\nsent: an image to 2 OpenIDs`))
    assert.match(lastBody(PATHS.send), new RegExp(`^\\{"touser":\\["o-alice","o-bob"\\],"images":\\{"media_ids":\\["${media.mediaId}"\\],"recommend":"新品","need_open_comment":1,"only_fans_can_comment":0\\},"msgtype":"image","clientmsgid":"wxe-[0-9a-f]{40}"\\}$`))

    const others = await project.run(['mass', 'send', '--to', 'o-bob,o-carol', '--image', 'poster.jpg', '--yes'], { env })
    assert.equal(others.code, 0, others.stderr)
    assert.match(others.stdout, new RegExp(`^image poster\\.jpg: media_id ${media.mediaId} \\(uploaded \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC, kept in the store\\)$`, 'm'))
    const preview = await project.run(['mass', 'preview', '--to', 'o-carol', '--image', 'poster.jpg'], { env })
    assert.equal(preview.code, 0, preview.stderr)
    assert.equal(lastBody(PATHS.preview), `{"touser":"o-carol","image":{"media_id":"${media.mediaId}"},"msgtype":"image"}`)
    assert.match(preview.stdout, /^previewed: an image to OpenID o-carol \(account default\), msg_id 34182$/m)
    assert.equal(fake.uploads.length, uploads + 1)
  })

  test('no answer from WeChat: the send may have been made; the same command again sends the same clientmsgid (exit 1)', async () => {
    fake.dropNext(PATHS.sendall, 1)
    const r = await project.run(['mass', 'send', '--tag', '2', '--text', 'lost answer', '--yes'], { env })
    assert.equal(r.code, 1)
    // The default clientmsgid changes with the UTC day (08:00 in China): "again today" could make a second send.
    // The line names the id to send again, which WeChat refuses for 24 hours if the send was made.
    const id = clientMsgIdFor(APP_ID, { tagId: 2 }, { type: 'text', text: 'lost answer' }, today())
    assert.match(r.stderr, /^wxengine mass send: no answer from WeChat \(POST \/cgi-bin\/message\/mass\/sendall: network error: .*\): the send may have been made; /)
    assert.ok(r.stderr.endsWith(`: the send may have been made; run the same command again with --client-msg-id ${id} (within 24 hours), and WeChat refuses it if it was\n`), r.stderr)
    const again = await project.run(['mass', 'send', '--tag', '2', '--text', 'lost answer', '--client-msg-id', id, '--yes'], { env })
    assert.equal(again.code, 0, again.stderr)
    // The drop came before the fake took it: sent now, with the clientmsgid named.
    assert.equal(JSON.parse(lastBody(PATHS.sendall)).clientmsgid, id)
  })

  test('system busy (-1): not "nothing sent" (it may have gone out); the clientmsgid to send again with is named', async () => {
    fake.failNext(PATHS.sendall, 1, -1, 'system error')
    const r = await project.run(['mass', 'send', '--tag', '2', '--text', 'busy today', '--yes'], { env })
    assert.equal(r.code, 1)
    const id = clientMsgIdFor(APP_ID, { tagId: 2 }, { type: 'text', text: 'busy today' }, today())
    assert.match(r.stderr, /^wxengine mass send: WeChat refused it with errcode -1: system busy: try again in a moment \(POST \/cgi-bin\/message\/mass\/sendall: errcode -1 system error rid: \S+\): the send may have been made; /)
    assert.ok(r.stderr.endsWith(`: the send may have been made; run the same command again with --client-msg-id ${id} (within 24 hours), and WeChat refuses it if it was\n`), r.stderr)
    assert.doesNotMatch(r.stderr, /nothing sent/)
    // A preview has no clientmsgid: its -1 names none, but says it may have been sent all the same.
    fake.failNext(PATHS.preview, 1, -1, 'system error')
    const preview = await project.run(['mass', 'preview', '--to', 'o-alice', '--text', 'busy today'], { env })
    assert.equal(preview.code, 1)
    assert.match(
      preview.stderr,
      /^wxengine mass preview: WeChat refused it with errcode -1: system busy: try again in a moment \(POST \/cgi-bin\/message\/mass\/preview: errcode -1 system error rid: \S+\): the preview may have been sent; look for it in the chat of OpenID o-alice before running the command again, which sends another\n$/,
    )
    assert.doesNotMatch(preview.stderr, /no preview sent|clientmsgid/)
  })

  test('45065 for a --client-msg-id used for another message: not "already sent", exit 1; for this message\'s own id (yesterday\'s default too), already sent, exit 0', async () => {
    const first = await project.run(['mass', 'send', '--tag', '2', '--text', 'spring sale', '--client-msg-id', 'promo-2026', '--yes'], { env })
    assert.equal(first.code, 0, first.stderr)
    const msgId = jobs.get('promo-2026')!
    const sent = jobs.size
    // Another message under the same id: WeChat refuses it (45065) and names the first send's msg_id.
    const other = await project.run(['mass', 'send', '--tag', '2', '--text', 'autumn sale', '--client-msg-id', 'promo-2026', '--yes'], { env })
    assert.equal(other.code, 1)
    assert.equal(
      other.stderr,
      `wxengine mass send: nothing sent: clientmsgid promo-2026 was used in the last 24 hours (msg_id ${msgId}), possibly for another message, and WeChat sends nothing new under it; if that send was this message, wxengine mass status ${msgId} says how it went; if not, give another --client-msg-id to send this one\n`,
    )
    assert.doesNotMatch(other.stderr, /already sent/)
    assert.equal(other.stdout, '')
    assert.equal(jobs.size, sent)

    // This message's default id of yesterday (UTC), given as the lost-answer line names it, taken by WeChat
    // less than 24 hours ago: that send is this message.
    const yesterday = clientMsgIdFor(APP_ID, { tagId: 2 }, { type: 'text', text: 'past midnight' }, today() - 86_400_000)
    jobs.set(yesterday, 1999999999)
    const again = await project.run(['mass', 'send', '--tag', '2', '--text', 'past midnight', '--client-msg-id', yesterday, '--yes'], { env })
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stderr, /^wxengine mass send: already sent as msg_id 1999999999: /)
  })

  test('a 64-bit msg_id keeps its digits', async () => {
    void fake.answerRawNext(PATHS.sendall, { status: 200, contentType: 'application/json', body: '{"errcode":0,"errmsg":"send job submission success","msg_id":2963446620935323649,"msg_data_id":2247483651}' })
    const r = await project.run(['mass', 'send', '--tag', '2', '--text', 'big id', '--yes'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^msg_id: 2963446620935323649\nmsg_data_id: 2247483651$/m)
  })

  test('usage mistakes are said before anything is asked or sent: exit 2', async () => {
    const cases: [string[], string][] = [
      [['--all', '--text', 'a', '--image', 'img-1'], '--text and --image both given: a mass message has one content'],
      [['--text', 'a'], 'say who gets it: --all (every follower), --tag <id> (the followers with that tag: wxengine mass tags lists them), or --to <openid,openid,...>'],
      [['--all'], 'say what to send: --text <text>, --image <file-or-media_id>, --voice <file-or-media_id>, --mpnews <media_id> or --mpvideo <media_id>'],
      [['--all', '--tag', '2', '--text', 'a'], '--all and --tag both given: a mass send goes to one target'],
      [['--to', 'o-alice', '--text', 'a'], '--to o-alice is 1 OpenID: a send to a list takes 2 to 10000 (to one user, use wxengine mass preview --to o-alice)'],
      [['--tag', 'vip', '--text', 'a'], '--tag vip: a tag is given by its id, a whole number (wxengine mass tags lists them with their ids)'],
      [['--all', '--image', 'images/missing.png'], `--image images/missing.png: no such file (${path.join('images', 'missing.png')}); a media_id has no folder or extension`],
      [['--all', '--image', 'notes.txt'], '--image "notes.txt" cannot be an image: the platform takes bmp, png, jpeg, jpg, gif files, not .txt'],
      [['--all', '--mpnews', 'poster.jpg'], '--mpnews takes a media_id, not a file: poster.jpg is one; give the media_id of an article made with the material API (material/add_news), or in the console'],
      [['--to-file', 'nobody.txt', '--text', 'a'], '--to-file nobody.txt: no such file (nobody.txt)'],
      [['--to-file', 'utf16.txt', '--text', 'a'], '--to-file utf16.txt:1:1: the file is UTF-16 (saved as "Unicode", or by Windows PowerShell 5\'s >), not UTF-8: save it as UTF-8 (with or without a BOM)'],
      [['--all', '--text', ''], '--text is empty'],
      [['--all', '--text', '   '], '--text "   " has only blanks (spaces, tabs, newlines): followers would get an empty-looking message; give the text to send'],
      [['--all', '--text', 'a', '--ignore-reprint'], '--ignore-reprint is for --mpnews (an article WeChat finds to be a reprint is sent anyway)'],
      [['--all', '--mpnews', 'news-1', '--open-comment'], '--open-comment is for --image'],
      [['--all', '--text', 'a', '--client-msg-id', 'x'.repeat(65)], '--client-msg-id is 65 bytes, over the 64 WeChat takes (it answers 45067)'],
      [['--all', '--text', 'a', '--account', 'sfae'], 'no account "sfae" in the configuration (did you mean "safe"?); accounts: default, safe'],
    ]
    const sent = fake.requests.length
    for (const [args, stderr] of cases) {
      const r = await project.run(['mass', 'send', ...args, '--yes'], { env })
      assert.equal(r.code, 2, args.join(' '))
      assert.equal(r.stderr, `wxengine mass send: ${stderr}\n`, args.join(' '))
      assert.equal(r.stdout, '', args.join(' '))
    }
    const noSecret = await project.run(['mass', 'send', '--all', '--text', 'a', '--yes'], { env: { WECHAT_API_BASE: fake.baseUrl } })
    assert.equal(noSecret.code, 2)
    assert.match(noSecret.stderr, /^wxengine mass send: account "default" has no appSecret, and the mass-send API needs an access_token/)
    assert.equal(fake.requests.length, sent)
  })
})

describe('wxengine mass send without an access_token', () => {
  test('the token API out of reach: "nothing sent" (no request reached the mass-send API), not "the send may have been made"', async () => {
    fake.expireToken()
    fake.dropNext('/cgi-bin/token', 3)
    const sent = jobs.size
    const r = await project.run(['mass', 'send', '--tag', '2', '--text', 'no token today', '--yes'], { env })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^wxengine mass send: nothing sent: GET \/cgi-bin\/token: network error/)
    assert.doesNotMatch(r.stderr, /may have been made/)
    // The only request that reached sendall (if any) carried the expired token, refused with 42001.
    assert.equal(jobs.size, sent)
  })
})

describe('wxengine mass preview, status, delete, tags', () => {
  test('preview to an OpenID or a WeChat ID; its mistakes', async () => {
    const r = await project.run(['mass', 'preview', '--to-wxname', 'wx_operator', '--mpnews', 'news-1'], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(lastBody(PATHS.preview), '{"towxname":"wx_operator","mpnews":{"media_id":"news-1"},"msgtype":"mpnews"}')
    assert.equal(r.stdout, 'previewed: an article (mpnews) to WeChat ID wx_operator (account default), msg_id 34182\n')
    const stranger = await project.run(['mass', 'preview', '--to', 'o-stranger', '--text', 'hi'], { env })
    assert.equal(stranger.code, 1)
    assert.match(stranger.stderr, /^wxengine mass preview: no preview sent: WeChat refused it with errcode 40003: invalid OpenID/)
    const sent = fake.requests.length
    for (const [args, stderr] of [
      [['--text', 'hi'], 'say who gets the preview: --to <openid> or --to-wxname <wxid>'],
      [['--to', 'o-alice,o-bob', '--text', 'hi'], '--to o-alice,o-bob: a preview goes to one OpenID (to a list, use wxengine mass send --to)'],
      [['--to', 'o-alice', '--to-wxname', 'w', '--text', 'hi'], '--to and --to-wxname both given: a preview goes to one of them'],
    ] as const) {
      const bad = await project.run(['mass', 'preview', ...args], { env })
      assert.equal(bad.code, 2, args.join(' '))
      assert.equal(bad.stderr, `wxengine mass preview: ${stderr}\n`)
    }
    assert.equal(fake.requests.length, sent)
  })

  test('status, then delete (--yes required) of an article, with --article; status says DELETE after', async () => {
    const made = await project.run(['mass', 'send', '--tag', '2', '--mpnews', 'news-1', '--client-msg-id', 'to-delete', '--yes'], { env })
    assert.equal(made.code, 0, made.stderr)
    const msgId = String(jobs.get('to-delete'))
    const status = await project.run(['mass', 'status', msgId], { env })
    assert.equal(status.code, 0, status.stderr)
    assert.equal(lastBody(PATHS.get), `{"msg_id":"${msgId}"}`)
    assert.equal(status.stdout, `msg_id ${msgId}: SEND_SUCCESS (sent)\n`)

    const unasked = await project.run(['mass', 'delete', msgId, '--article', '2'], { env })
    assert.equal(unasked.code, 2)
    assert.match(unasked.stderr, new RegExp(`^wxengine mass delete: this deletes article 2 of msg_id ${msgId}: its page stops opening .*add --yes to do it\\n$`))
    const deleted = await project.run(['mass', 'delete', msgId, '--article', '2', '--yes'], { env })
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.equal(lastBody(PATHS.delete), `{"msg_id":${msgId},"article_idx":2}`)
    assert.equal(deleted.stdout, `deleted: article 2 of msg_id ${msgId} (account default)\n`)
    const after = await project.run(['mass', 'status', msgId], { env })
    assert.equal(after.stdout, `msg_id ${msgId}: DELETE (deleted)\n`)

    for (const [args, stderr] of [
      [['status', 'abc'], 'wxengine mass status: msg_id "abc" is not one: a msg_id is digits (mass send printed it: msg_id 1000000001)'],
      [['delete', '12', '--article', 'first', '--yes'], 'wxengine mass delete: --article first: the article\'s place in the message, 1 for the first (0 deletes the whole message, as leaving it out does)'],
    ] as const) {
      const bad = await project.run(['mass', ...args], { env })
      assert.equal(bad.code, 2, args.join(' '))
      assert.equal(bad.stderr, `${stderr}\n`)
    }
  })

  test('preview and delete with no answer (a dropped connection): not "no preview sent" / "not deleted", but that either may have happened, and what to do', async () => {
    fake.dropNext(PATHS.preview, 1)
    const preview = await project.run(['mass', 'preview', '--to-wxname', 'wx_operator', '--text', 'lost preview'], { env })
    assert.equal(preview.code, 1)
    assert.match(
      preview.stderr,
      /^wxengine mass preview: no answer from WeChat \(POST \/cgi-bin\/message\/mass\/preview: network error: .*\): the preview may have been sent; look for it in the chat of WeChat ID wx_operator before running the command again, which sends another\n$/,
    )
    assert.doesNotMatch(preview.stderr, /no preview sent/)
    assert.equal(preview.stdout, '')

    fake.dropNext(PATHS.delete, 1)
    const deleted = await project.run(['mass', 'delete', '1000000001', '--yes'], { env })
    assert.equal(deleted.code, 1)
    assert.match(
      deleted.stderr,
      /^wxengine mass delete: no answer from WeChat \(POST \/cgi-bin\/message\/mass\/delete: network error: .*\): msg_id 1000000001 may have been deleted; wxengine mass status 1000000001 says DELETE once the message is, or run the same command again\n$/,
    )
    assert.doesNotMatch(deleted.stderr, /not deleted/)
    // A refusal is still said as one: nothing was deleted.
    fake.failNext(PATHS.delete, 1, 40007, 'invalid media_id')
    const refused = await project.run(['mass', 'delete', '1000000001', '--yes'], { env })
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /^wxengine mass delete: msg_id 1000000001 not deleted: WeChat refused it with errcode 40007/)
  })

  test('tags: a table of id, name and followers; --json', async () => {
    const r = await project.run(['mass', 'tags'], { env })
    assert.equal(r.code, 0, r.stderr)
    // Columns as a terminal shows them (tableLines): a Chinese character takes two.
    assert.deepEqual(r.stdout.split('\n'), [
      ' ID  NAME      FOLLOWERS',
      '  2  星标组            3',
      '100  VIP 客户         12',
      '101  北京用户       1234',
      '',
    ])
    const json = await project.run(['mass', 'tags', '--json'], { env })
    assert.deepEqual(JSON.parse(json.stdout), TAGS)
  })
})

describe('wxengine mass results', () => {
  test("the MASSSENDJOBFINISH pushes the engine received, read back from the message log with WeChat's counts", async () => {
    const fresh = makeProject()
    try {
      const nothing = await fresh.run(['mass', 'results'])
      assert.equal(nothing.code, 0)
      assert.match(nothing.stderr, /no message log yet/)
      const finish = (msgId: string, status: string, total: number, filter: number, sentCount: number, errors: number) => ({
        ToUserName: 'gh_account',
        FromUserName: 'oSystemPush',
        CreateTime: Math.floor(Date.now() / 1000),
        MsgType: 'event',
        Event: 'MASSSENDJOBFINISH',
        MsgID: msgId,
        Status: status,
        TotalCount: total,
        FilterCount: filter,
        SentCount: sentCount,
        ErrorCount: errors,
      })
      await pushThroughEngine(fresh, [
        { accountId: 'default', fields: finish('1000000001', 'send success', 100, 80, 75, 5) },
        { accountId: 'default', fields: { ToUserName: 'gh_account', FromUserName: 'o-alice', CreateTime: Math.floor(Date.now() / 1000), MsgType: 'text', Content: 'hello', MsgId: '77' } },
        { accountId: 'safe', fields: finish('2963446620935323649', 'err(30003)', 10, 10, 0, 10) },
      ])
      const r = await fresh.run(['mass', 'results'])
      assert.equal(r.code, 0, r.stderr)
      const rows = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/))
      assert.deepEqual(rows[0], ['TIME (UTC)', 'ACCOUNT', 'MSG_ID', 'STATUS', 'TOTAL', 'FILTER', 'SENT', 'ERROR'])
      assert.deepEqual(rows.slice(1).map((row) => row.slice(1)), [
        ['default', '1000000001', 'send success', '100', '80', '75', '5'],
        ['safe', '2963446620935323649', 'err(30003)', '10', '10', '0', '10'],
      ])
      assert.match(rows[1]![0]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
      assert.equal(r.stderr, '')

      const json = await fresh.run(['mass', 'results', '--account', 'default', '--json'])
      assert.equal(json.code, 0, json.stderr)
      const parsed = JSON.parse(json.stdout) as Record<string, unknown>[]
      assert.deepEqual(parsed.map(({ at: _at, ...rest }) => rest), [{ account: 'default', msgId: '1000000001', status: 'send success', totalCount: 100, filterCount: 80, sentCount: 75, errorCount: 5 }])
      // The text message's summary is its content, as before.
      const log = await fresh.run(['log', '--json'])
      assert.ok(log.stdout.split('\n').some((l) => l.includes('"kind":"text"') && l.includes('"summary":"hello"')))

      // -n: the latest results, however many entries each has in the log.
      const latest = await fresh.run(['mass', 'results', '-n', '1', '--json'])
      assert.deepEqual((JSON.parse(latest.stdout) as { msgId: string }[]).map((x) => x.msgId), ['2963446620935323649'])

      const none = await fresh.run(['mass', 'results', '--since', '2099-01-01'])
      assert.equal(none.code, 0)
      assert.equal(none.stderr, 'no mass send results received since then\n')
      const badSince = await fresh.run(['mass', 'results', '--since', 'yesterday'])
      assert.equal(badSince.code, 2)
    } finally {
      fresh.remove()
    }
  })
})
