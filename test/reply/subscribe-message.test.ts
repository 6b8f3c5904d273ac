import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseSubscribeMessage, toSubscribeBody } from '../../core/reply/subscribe-message.ts'
import { keywordProblem, keywordType } from '../../core/reply/subscribe-keywords.ts'
import { formatSentMessage } from '../../core/cli/format-reply.ts'

const reasonOf = (input: unknown): string => {
  const r = parseSubscribeMessage(input)
  assert.equal(r.ok, false, `accepted ${JSON.stringify(input)}`)
  if (r.ok) return ''
  assert.equal(r.error.code, 'PLUGIN_BAD_REPLY')
  return r.error.reason
}

test('the platform JSON (message/subscribe/bizsend): values as { value } text, page and miniprogram only when given, in the documented order', () => {
  const m = parseSubscribeMessage({ templateId: '9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU', data: { date2: '2026年12月3日', thing1: { value: 'TIT会议室' }, number3: 42 } })
  assert.ok(m.ok)
  assert.equal(
    JSON.stringify(toSubscribeBody('o1', m.value)),
    '{"touser":"o1","template_id":"9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU","data":{"date2":{"value":"2026年12月3日"},"thing1":{"value":"TIT会议室"},"number3":{"value":"42"}}}',
  )
  const linked = parseSubscribeMessage({ templateId: 't', data: { thing1: 'a' }, page: 'https://example.com/a?b=1', miniProgram: { appId: 'wxm', pagePath: 'pages/a' } })
  assert.ok(linked.ok)
  assert.equal(JSON.stringify(toSubscribeBody('o1', linked.value)), '{"touser":"o1","template_id":"t","page":"https://example.com/a?b=1","miniprogram":{"appid":"wxm","pagepath":"pages/a"},"data":{"thing1":{"value":"a"}}}')
})

test("the shape is refused as sendTemplate's is, each problem named with its path", () => {
  assert.equal(reasonOf({ templateId: '', data: {} }), 'invalid subscription notice: templateId: templateId is empty; data: data is empty: a subscription notice needs its fields')
  assert.equal(reasonOf({ templateId: 't', data: { 'thing 1': 'x' } }), 'invalid subscription notice: data.thing 1: "thing 1" is not a template field name (such as thing1, as in {{thing1.DATA}})')
  assert.equal(reasonOf({ templateId: 't', data: { thing1: null } }), 'invalid subscription notice: data.thing1: must be a string, a number or { value }')
  assert.equal(reasonOf({ templateId: 't', data: { thing1: { value: 'x', color: '#173177' } } }), 'invalid subscription notice: data.thing1.color: "color": colours are no longer shown by WeChat (since May 2023): drop it')
  assert.equal(reasonOf({ templateId: 't', data: 'x' }), 'invalid subscription notice: data: data must be an object of field values, such as { thing1: "Order shipped" }')
  assert.equal(reasonOf({ templateId: 't', data: { thing1: 'x' }, page: 'pages/index' }), 'invalid subscription notice: page: page must be an http(s) URL (a mini program page goes in miniProgram.pagePath)')
  // No host after the scheme: taken by the regex before, refused as replies' links are (http-url.ts).
  assert.equal(reasonOf({ templateId: 't', data: { thing1: 'x' }, page: 'https:///a' }), 'invalid subscription notice: page: page must be an http(s) URL (a mini program page goes in miniProgram.pagePath)')
  assert.equal(reasonOf({ templateId: 't', data: { thing1: 'x' }, miniProgram: { appId: '' } }), 'invalid subscription notice: miniProgram.appId: appId is empty')
  assert.match(reasonOf('a string'), /^invalid subscription notice: /)
})

test("what a sendTemplate call carried over and bizsend does not take is named, with what to use instead", () => {
  assert.equal(
    reasonOf({ templateId: 't', data: { thing1: 'x' }, url: 'https://example.com', clientMsgId: 'once', topcolor: '#f00' }),
    'invalid subscription notice: "url": a subscription notice opens `page` (an http(s) URL), not url; "clientMsgId": bizsend takes no clientMsgId (a one-time subscription allows one notice anyway); "topcolor": not a field of a subscription notice',
  )
})

test("a value over its keyword type's length is refused naming the field, its type, the limit and the length given", () => {
  assert.equal(reasonOf({ templateId: 't', data: { thing1: '巧克力礼盒（双层，含贺卡与丝带包装，限量版）' } }), 'invalid subscription notice: data.thing1: thing1 is a thing keyword: at most 20 characters, got 22')
  assert.equal(reasonOf({ templateId: 't', data: { character_string2: 'A'.repeat(33) } }), 'invalid subscription notice: data.character_string2: character_string2 is a character_string keyword: at most 32 characters, got 33')
  assert.equal(reasonOf({ templateId: 't', data: { phrase3: '已经配送完成' } }), 'invalid subscription notice: data.phrase3: phrase3 is a phrase keyword: at most 5 characters, got 6')
  assert.equal(reasonOf({ templateId: 't', data: { name4: '欧阳司马上官诸葛东方慕容' } }), 'invalid subscription notice: data.name4: name4 is a name keyword: at most 10 Chinese characters, got 12')
  assert.equal(reasonOf({ templateId: 't', data: { name4: 'Maximilian Alexander Schmidt' } }), 'invalid subscription notice: data.name4: name4 is a name keyword: at most 20 characters (10 if Chinese), got 28')
  assert.equal(reasonOf({ templateId: 't', data: { number5: '1'.repeat(33) } }), 'invalid subscription notice: data.number5: number5 is a number keyword: at most 32 digits, got 33')
  assert.equal(reasonOf({ templateId: 't', data: { phone_number6: '+86-0766-6688886612' } }), 'invalid subscription notice: data.phone_number6: phone_number6 is a phone_number keyword: at most 17 characters, got 19')
  assert.equal(reasonOf({ templateId: 't', data: { car_number7: '粤A8Z888挂12' } }), 'invalid subscription notice: data.car_number7: car_number7 is a car_number keyword: at most 8 characters, got 10')
  assert.equal(reasonOf({ templateId: 't', data: { symbol8: '++++++' } }), 'invalid subscription notice: data.symbol8: symbol8 is a symbol keyword: at most 5 characters, got 6')
  assert.equal(reasonOf({ templateId: 't', data: { letter9: 'a'.repeat(33) } }), 'invalid subscription notice: data.letter9: letter9 is a letter keyword: at most 32 characters, got 33')
  // Every value over its limit is named, a { value } too.
  assert.equal(
    reasonOf({ templateId: 't', data: { thing1: { value: 'x'.repeat(21) }, thing2: 'ok', thing3: 'y'.repeat(25) } }),
    'invalid subscription notice: data.thing1: thing1 is a thing keyword: at most 20 characters, got 21; data.thing3: thing3 is a thing keyword: at most 20 characters, got 25',
  )
})

test("a value of characters its keyword type does not take is refused saying what it takes", () => {
  assert.equal(reasonOf({ templateId: 't', data: { number1: '12 pcs' } }), 'invalid subscription notice: data.number1: number1 is a number keyword, which takes digits, with a decimal point if need be')
  assert.equal(reasonOf({ templateId: 't', data: { phrase2: 'Done' } }), 'invalid subscription notice: data.phrase2: phrase2 is a phrase keyword, which takes Chinese characters only (such as 配送中)')
  assert.equal(reasonOf({ templateId: 't', data: { letter3: 'abc1' } }), 'invalid subscription notice: data.letter3: letter3 is a letter keyword, which takes letters (A-Z, a-z) only')
  assert.equal(reasonOf({ templateId: 't', data: { character_string4: '订单A123' } }), 'invalid subscription notice: data.character_string4: character_string4 is a character_string keyword, which takes letters, digits and symbols, no Chinese characters')
  assert.equal(reasonOf({ templateId: 't', data: { phone_number5: '0766-668888 ext 2' } }), 'invalid subscription notice: data.phone_number5: phone_number5 is a phone_number keyword, which takes digits and symbols only (such as +86-0766-66888866)')
})

test('values at their limits, the formats of time, date and amount, unknown types and emoji (one character each) are not refused', () => {
  const accepted = {
    thing1: '一二三四五六七八九十一二三四五六七八九十',
    thing2: '😀'.repeat(20),
    number3: '1'.repeat(32),
    number4: '-39.80',
    number5: 1234.5,
    letter6: 'a'.repeat(32),
    symbol7: '+-*/%',
    character_string8: 'ORDER-2026_12/03#42',
    phrase9: '配送中',
    name10: '欧阳司马上官诸葛东方',
    name11: 'Maximilian Schmidt',
    phone_number12: '+86-0766-66888866',
    car_number13: '粤A8Z888挂',
    time14: '2019年10月1日 15:01 ~ 2019年10月1日 17:01 (any text: not checked)',
    date15: '2019-10-01',
    amount16: '￥39.80元',
    const17: 'anything',
    thing18: '',
  }
  const r = parseSubscribeMessage({ templateId: 't', data: accepted })
  assert.ok(r.ok, r.ok ? '' : r.error.reason)
})

test('a keyword type is its name without the number; a name without a type known here is not checked', () => {
  assert.equal(keywordType('thing1'), 'thing')
  assert.equal(keywordType('character_string12'), 'character_string')
  assert.equal(keywordType('thing'), 'thing')
  assert.equal(keywordProblem('constructor1', 'x'.repeat(100)), undefined)
  assert.equal(keywordProblem('__proto__', 'x'.repeat(100)), undefined)
  assert.equal(keywordProblem('thing', 'x'.repeat(21)), 'thing is a thing keyword: at most 20 characters, got 21')
})

test('send --local --wait prints a subscription notice by its template_id, then its page and keywords', () => {
  const shown = formatSentMessage({ touser: 'o1', template_id: 't1', page: 'https://example.com/a', data: { thing1: { value: 'a' } } }, 1500, 'subscribe')
  assert.equal(shown, 'subscription notice t1 through the subscription API (bizsend), 1.5 s after the push\n  page: https://example.com/a\n  data:\n    thing1:\n      value: a')
})
