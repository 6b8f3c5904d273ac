/**
 * Which deliveries count as the same message (core/dedup/dedup-key.ts; protocol.md §5, seeds/000):
 * retries must share a key, different pushes must not, even from one sender in one second.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dedupKeyOf } from '../../core/dedup/dedup-key.ts'
import type { InboundMessage } from '../../core/normalize/message-types.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'
import { parseXml } from '../../core/normalize/safe-xml.ts'

function msg(inner: string): InboundMessage {
  const parsed = parseXml(`<xml>${inner}</xml>`)
  assert.ok(parsed.ok)
  const r = normalizeMessage(parsed.value)
  assert.ok(r.ok)
  return r.value
}

const head = (from: string, t: number, type = 'event') =>
  `<ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${t}</CreateTime><MsgType><![CDATA[${type}]]></MsgType>`

test('a message is keyed on its MsgId, per account', () => {
  const a = msg(head('o_user', 1700000000, 'text') + '<Content>hi</Content><MsgId>9223372036854775807</MsgId>')
  const b = msg(head('o_user', 1700000001, 'text') + '<Content>hi again</Content><MsgId>9223372036854775807</MsgId>')
  assert.equal(dedupKeyOf('acc', a), 'acc:m:o_user:9223372036854775807')
  assert.equal(dedupKeyOf('acc', a), dedupKeyOf('acc', b), 'a retry carries the same MsgId')
  assert.notEqual(dedupKeyOf('acc', a), dedupKeyOf('other', a))
})

test('the same MsgId from two users is two messages: neither gets the other\'s answer', () => {
  const alice = msg(head('o_alice', 1700000000, 'text') + '<Content>secret</Content><MsgId>777000222</MsgId>')
  const bob = msg(head('o_bob', 1700000000, 'text') + '<Content>hi</Content><MsgId>777000222</MsgId>')
  assert.notEqual(dedupKeyOf('acc', alice), dedupKeyOf('acc', bob))
})

test('a retried event gets the same key: same sender, second and fields', () => {
  const click = () => msg(head('o_user', 1700000000) + '<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MENU_HELP]]></EventKey>')
  assert.equal(dedupKeyOf('acc', click()), dedupKeyOf('acc', click()))
  assert.match(dedupKeyOf('acc', click()), /^acc:e:o_user:1700000000:CLICK:MENU_HELP:[\w-]{16}$/)
})

test('two TEMPLATESENDJOBFINISH for one user in one second (different MsgID) are two messages', () => {
  const a = msg(head('o_user', 1700000000) + '<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID><Status><![CDATA[success]]></Status>')
  const b = msg(head('o_user', 1700000000) + '<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163840</MsgID><Status><![CDATA[failed:user block]]></Status>')
  assert.equal(a.kind, 'template_send_job_finish')
  assert.equal(dedupKeyOf('acc', a), 'acc:j:TEMPLATESENDJOBFINISH:200163836')
  assert.notEqual(dedupKeyOf('acc', a), dedupKeyOf('acc', b))
})

test('two MASSSENDJOBFINISH finishing in one second (always from mphelper) are two messages; a retry is one', () => {
  const job = (id: string) =>
    msg(head('mphelper', 1700000000) + `<Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>${id}</MsgID><Status><![CDATA[send success]]></Status><TotalCount>100</TotalCount><FilterCount>80</FilterCount><SentCount>75</SentCount><ErrorCount>5</ErrorCount>`)
  assert.notEqual(dedupKeyOf('acc', job('1000001625')), dedupKeyOf('acc', job('1000001626')))
  assert.equal(dedupKeyOf('acc', job('1000001625')), dedupKeyOf('acc', job('1000001625')))
})

test('an unknown event carrying MsgID is keyed on it', () => {
  const m = msg(head('mphelper', 1700000000) + '<Event><![CDATA[SOMENEWJOBFINISH]]></Event><MsgID>987654321</MsgID>')
  assert.equal(m.kind, 'unknown')
  assert.equal(dedupKeyOf('acc', m), 'acc:j:SOMENEWJOBFINISH:987654321')
})

test('two different events of one user in one second without an EventKey are two messages', () => {
  const card = (code: string) =>
    msg(head('o_user', 1700000000) + `<Event><![CDATA[user_get_card]]></Event><CardId><![CDATA[pCARD]]></CardId><IsGiveByFriend>0</IsGiveByFriend><UserCardCode><![CDATA[${code}]]></UserCardCode>`)
  assert.notEqual(dedupKeyOf('acc', card('226009850808')), dedupKeyOf('acc', card('226009850809')))
  assert.equal(dedupKeyOf('acc', card('226009850808')), dedupKeyOf('acc', card('226009850808')))
})

test('an id of any length makes a key of bounded length: a forged 400 KB MsgId, MsgID or EventKey is not carried into the store and every line about the message (a review of bad input)', () => {
  // FromUserName was bounded for this (normalize-message.ts MAX_ID_LENGTH); the ids beside it in the key were not.
  const huge = '7'.repeat(400_000)
  const text = (id: string) => msg(head('o_user', 1700000000, 'text') + `<Content>hi</Content><MsgId>${id}</MsgId>`)
  const job = (id: string) => msg(head('mphelper', 1700000000) + `<Event>MASSSENDJOBFINISH</Event><MsgID>${id}</MsgID>`)
  const click = (key: string) => msg(head('o_user', 1700000000) + `<Event>CLICK</Event><EventKey>${key}</EventKey>`)
  for (const keyOf of [(id: string) => dedupKeyOf('acc', text(id)), (id: string) => dedupKeyOf('acc', job(id)), (id: string) => dedupKeyOf('acc', click(id))]) {
    const key = keyOf(huge)
    assert.ok(key.length < 200, `a ${key.length}-character key`)
    // Still one message's own: a retry shares it, another id does not.
    assert.equal(keyOf(huge), key)
    assert.notEqual(keyOf(`${huge}8`), key)
    assert.notEqual(keyOf('8' + huge.slice(1)), key)
  }
  // Ids WeChat sends are kept as they are: a 64-bit MsgId, a menu key of up to 128 bytes.
  assert.equal(dedupKeyOf('acc', text('9223372036854775807')), 'acc:m:o_user:9223372036854775807')
  assert.match(dedupKeyOf('acc', click('K'.repeat(128))), new RegExp(`^acc:e:o_user:1700000000:CLICK:${'K'.repeat(128)}:[\\w-]{16}$`))
})
