/**
 * The bodies of the mass-send API (高级群发接口) for `wxengine mass`, checked before anything is sent: one
 * target (all, a tag, 2 to 10000 OpenIDs), one content, the options that belong to that content, the
 * clientmsgid (given: at most 64 bytes; else a hash of account, target, content and UTC day).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  checkClientMsgId,
  clientMsgIdFor,
  contentFlagOf,
  deleteBody,
  describeTarget,
  massContentOf,
  massTargetOf,
  MASS_PATHS,
  msgIdOf,
  previewBody,
  previewTargetOf,
  sendBody,
  type MassContent,
  type MassTarget,
} from '../../core/mass/mass-request.ts'

const target = (flags: Parameters<typeof massTargetOf>[0]): MassTarget => {
  const r = massTargetOf(flags)
  assert.ok(r.ok, r.ok ? '' : r.message)
  return r.value
}
const targetRefused = (flags: Parameters<typeof massTargetOf>[0]): string => {
  const r = massTargetOf(flags)
  assert.equal(r.ok, false, `${JSON.stringify(flags)} was accepted`)
  return r.ok ? '' : r.message
}
const content = (...args: Parameters<typeof massContentOf>): MassContent => {
  const r = massContentOf(...args)
  assert.ok(r.ok, r.ok ? '' : r.message)
  return r.value
}
const contentRefused = (...args: Parameters<typeof massContentOf>): string => {
  const r = massContentOf(...args)
  assert.equal(r.ok, false, `${JSON.stringify(args)} was accepted`)
  return r.ok ? '' : r.message
}

test('sendall to everyone or a tag, send to an OpenID list: the exact JSON WeChat documents, clientmsgid in each', () => {
  const text = content('text', 'hello')
  assert.deepEqual(sendBody(target({ all: true }), text, 'c1'), {
    path: MASS_PATHS.sendall,
    body: { filter: { is_to_all: true }, text: { content: 'hello' }, msgtype: 'text', clientmsgid: 'c1' },
  })
  assert.equal(JSON.stringify(sendBody(target({ tag: '2' }), text, 'c1').body), '{"filter":{"is_to_all":false,"tag_id":2},"text":{"content":"hello"},"msgtype":"text","clientmsgid":"c1"}')
  const list = sendBody(target({ to: 'o1,o2' }), text, 'c1')
  assert.equal(list.path, '/cgi-bin/message/mass/send')
  assert.equal(JSON.stringify(list.body), '{"touser":["o1","o2"],"text":{"content":"hello"},"msgtype":"text","clientmsgid":"c1"}')
  assert.equal(MASS_PATHS.sendall, '/cgi-bin/message/mass/sendall')
})

test('each content as its msgtype: mpnews with send_ignore_reprint, images as a media_ids list with the comment switches', () => {
  const all = target({ all: true })
  assert.equal(
    JSON.stringify(sendBody(all, content('mpnews', 'news-1'), 'c').body),
    '{"filter":{"is_to_all":true},"mpnews":{"media_id":"news-1"},"msgtype":"mpnews","clientmsgid":"c","send_ignore_reprint":0}',
  )
  assert.equal(JSON.stringify(sendBody(all, content('mpnews', 'news-1', { ignoreReprint: true }), 'c').body).includes('"send_ignore_reprint":1'), true)
  assert.equal(JSON.stringify(sendBody(all, content('voice', 'v-1'), 'c').body), '{"filter":{"is_to_all":true},"voice":{"media_id":"v-1"},"msgtype":"voice","clientmsgid":"c"}')
  assert.equal(JSON.stringify(sendBody(all, content('mpvideo', 'mv-1'), 'c').body), '{"filter":{"is_to_all":true},"mpvideo":{"media_id":"mv-1"},"msgtype":"mpvideo","clientmsgid":"c"}')
  assert.equal(
    JSON.stringify(sendBody(all, content('image', 'img-1'), 'c').body),
    '{"filter":{"is_to_all":true},"images":{"media_ids":["img-1"],"need_open_comment":0,"only_fans_can_comment":0},"msgtype":"image","clientmsgid":"c"}',
  )
  assert.equal(
    JSON.stringify(sendBody(all, content('image', 'img-1', { recommend: 'look', openComment: true, fansOnlyComment: true }), 'c').body),
    '{"filter":{"is_to_all":true},"images":{"media_ids":["img-1"],"recommend":"look","need_open_comment":1,"only_fans_can_comment":1},"msgtype":"image","clientmsgid":"c"}',
  )
})

test('preview: to one OpenID or a WeChat ID, an image as image.media_id, no clientmsgid', () => {
  const p = previewBody(unwrap(previewTargetOf({ to: 'o1' })), content('image', 'img-1'))
  assert.deepEqual(p, { path: '/cgi-bin/message/mass/preview', body: { touser: 'o1', image: { media_id: 'img-1' }, msgtype: 'image' } })
  assert.equal(JSON.stringify(previewBody(unwrap(previewTargetOf({ toWxname: 'wxid_a' })), content('text', 'hi')).body), '{"towxname":"wxid_a","text":{"content":"hi"},"msgtype":"text"}')
  assert.equal(JSON.stringify(previewBody(unwrap(previewTargetOf({ to: 'o1' })), content('mpnews', 'n1')).body), '{"touser":"o1","mpnews":{"media_id":"n1"},"msgtype":"mpnews"}')
  assert.match(refusedOf(previewTargetOf({})), /^say who gets the preview: --to <openid> or --to-wxname <wxid>$/)
  assert.match(refusedOf(previewTargetOf({ to: 'o1', toWxname: 'w' })), /^--to and --to-wxname both given: a preview goes to one of them$/)
  assert.match(refusedOf(previewTargetOf({ to: 'o1,o2' })), /^--to o1,o2: a preview goes to one OpenID/)
})

function unwrap<T>(r: { ok: true; value: T } | { ok: false; message: string }): T {
  assert.ok(r.ok, r.ok ? '' : r.message)
  return r.value
}
function refusedOf(r: { ok: boolean; message?: string }): string {
  assert.equal(r.ok, false)
  return r.message ?? ''
}

test('targets: exactly one of --all, --tag, --to, --to-file; a list of 2 to 10000 distinct OpenIDs; a tag a whole number', () => {
  assert.equal(targetRefused({}), 'say who gets it: --all (every follower), --tag <id> (the followers with that tag: wxengine mass tags lists them), or --to <openid,openid,...>')
  assert.equal(targetRefused({ all: true, tag: '2' }), '--all and --tag both given: a mass send goes to one target')
  assert.equal(targetRefused({ to: 'o1' }), '--to o1 is 1 OpenID: a send to a list takes 2 to 10000 (to one user, use wxengine mass preview --to o1)')
  assert.equal(targetRefused({ to: 'o1,o1' }), '--to o1,o1 is 1 OpenID (o1 given twice): a send to a list takes 2 to 10000 (to one user, use wxengine mass preview --to o1)')
  assert.equal(targetRefused({ to: ' , ' }), '--to names no OpenID: give 2 to 10000, separated by commas')
  const many = Array.from({ length: 10_001 }, (_, i) => `o${i}`)
  assert.equal(targetRefused({ toFile: { name: 'users.txt', text: many.join('\n') } }), '--to-file users.txt has 10001 OpenIDs: a send to a list takes at most 10000 (split it into several sends)')
  assert.deepEqual(target({ toFile: { name: 'u.txt', text: 'o1\no2\r\n\no3, o2\n' } }), { openIds: ['o1', 'o2', 'o3'] })
  assert.deepEqual(target({ to: 'o1, o2' }), { openIds: ['o1', 'o2'] })
  // A word that is no OpenID is refused where it is: a CSV export's names and a comment went out as OpenIDs.
  assert.equal(targetRefused({ toFile: { name: 'fans.csv', text: 'openid,nickname\noAAAA,张三\n' } }), '--to-file fans.csv:2: "张三" is no OpenID (letters, digits, _ and -, e.g. oAbC... of 28): give OpenIDs only, one a line (# begins a comment)')
  assert.equal(targetRefused({ to: 'o1,o2;o3' }), '--to: "o2;o3" is no OpenID (letters, digits, _ and -, e.g. oAbC... of 28): give OpenIDs only, separated by commas')
  assert.deepEqual(target({ toFile: { name: 'u.txt', text: '# VIPs, from the March export\no1 # Alice\no2\n' } }), { openIds: ['o1', 'o2'] })
  assert.equal(targetRefused({ tag: 'vip' }), '--tag vip: a tag is given by its id, a whole number (wxengine mass tags lists them with their ids)')
  assert.deepEqual(target({ tag: '0' }), { tagId: 0 })
  assert.equal(describeTarget({ all: true }), 'every follower of the account')
  assert.equal(describeTarget({ tagId: 2 }), 'the followers with tag 2')
  assert.equal(describeTarget({ openIds: ['a', 'b', 'c'] }), '3 OpenIDs')
})

test('--client-msg-id: empty or only blanks is refused (an id easy to mistype and reuse); one with characters is kept as given', () => {
  assert.equal(refusedOf(checkClientMsgId('')), '--client-msg-id is empty')
  assert.equal(refusedOf(checkClientMsgId('  ')), '--client-msg-id "  " is only blanks: give an id with characters to read (promo-2026-12)')
  assert.deepEqual(checkClientMsgId(' promo '), { ok: true, value: ' promo ' })
})

test('content: one flag; options only with their content; empty or spaced media_ids refused', () => {
  assert.deepEqual(contentFlagOf({ text: 'hi' }), { ok: true, type: 'text', value: 'hi' })
  assert.equal(refusedOf(contentFlagOf({})), 'say what to send: --text <text>, --image <file-or-media_id>, --voice <file-or-media_id>, --mpnews <media_id> or --mpvideo <media_id>')
  assert.equal(refusedOf(contentFlagOf({ text: 'hi', image: 'a.jpg' })), '--text and --image both given: a mass message has one content')
  assert.equal(contentRefused('text', ''), '--text is empty')
  assert.equal(contentRefused('text', '   '), '--text "   " has only blanks (spaces, tabs, newlines): followers would get an empty-looking message; give the text to send')
  assert.match(contentRefused('text', ' \n\t\u3000'), /has only blanks/)
  // Blanks around a text are the text's own: kept as given.
  assert.deepEqual(content('text', '  hi  '), { type: 'text', text: '  hi  ' })
  assert.equal(contentRefused('mpnews', 'a b'), '--mpnews "a b" is not a media_id (it has spaces)')
  assert.equal(contentRefused('voice', ''), '--voice is empty: give a file or a media_id')
  assert.equal(contentRefused('text', 'hi', { ignoreReprint: true }), '--ignore-reprint is for --mpnews (an article WeChat finds to be a reprint is sent anyway)')
  assert.equal(contentRefused('mpnews', 'n', { recommend: 'x' }), '--recommend is for --image')
  assert.equal(contentRefused('image', 'i', { fansOnlyComment: true }), '--fans-only-comment needs --open-comment (who may comment on comments that are off?)')
})

test('the default clientmsgid: the same account, target, content and UTC day give the same one; any of them changed, another; at most 64 bytes', () => {
  const day = Date.UTC(2026, 4, 1, 8)
  const text = content('text', 'hello')
  const a = clientMsgIdFor('wx1', { all: true }, text, day)
  assert.match(a, /^wxe-[0-9a-f]{40}$/)
  assert.ok(Buffer.byteLength(a) <= 64)
  assert.equal(clientMsgIdFor('wx1', { all: true }, text, Date.UTC(2026, 4, 1, 23, 59)), a)
  assert.notEqual(clientMsgIdFor('wx1', { all: true }, text, Date.UTC(2026, 4, 2, 0, 1)), a)
  assert.notEqual(clientMsgIdFor('wx2', { all: true }, text, day), a)
  assert.notEqual(clientMsgIdFor('wx1', { tagId: 2 }, text, day), a)
  assert.notEqual(clientMsgIdFor('wx1', { all: true }, content('text', 'hello!'), day), a)
  // Who is sent to, not in what order.
  assert.equal(clientMsgIdFor('wx1', { openIds: ['o1', 'o2'] }, text, day), clientMsgIdFor('wx1', { openIds: ['o2', 'o1'] }, text, day))
  // An article sent again with --ignore-reprint (after a send stopped as a reprint) is another send.
  assert.notEqual(clientMsgIdFor('wx1', { all: true }, content('mpnews', 'n'), day), clientMsgIdFor('wx1', { all: true }, content('mpnews', 'n', { ignoreReprint: true }), day))
})

test('msg_id: digits only, kept as digits (64-bit); delete sends it as a number while exact, article_idx when given', () => {
  assert.deepEqual(msgIdOf('201053012'), { ok: true, value: '201053012' })
  assert.equal(refusedOf(msgIdOf('abc')), 'msg_id "abc" is not one: a msg_id is digits (mass send printed it: msg_id 1000000001)')
  assert.equal(refusedOf(msgIdOf('')), 'msg_id "" is not one: a msg_id is digits (mass send printed it: msg_id 1000000001)')
  assert.deepEqual(deleteBody('30124', undefined), { msg_id: 30124 })
  assert.deepEqual(deleteBody('30124', 2), { msg_id: 30124, article_idx: 2 })
  assert.deepEqual(deleteBody('9223372036854775807', undefined), { msg_id: '9223372036854775807' })
})
