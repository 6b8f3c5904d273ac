import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTemplateMessage, toTemplateBody } from '../../core/reply/template-message.ts'
import { formatSentMessage } from '../../core/cli/format-reply.ts'

test('the platform JSON: field values as { value } text, optional parts only when given, in the documented order', () => {
  const m = parseTemplateMessage({ templateId: 't1', data: { thing1: 'a', number2: 7, time3: { value: '2026-12-03 10:00' } } })
  assert.ok(m.ok)
  assert.equal(
    JSON.stringify(toTemplateBody('o1', m.value)),
    '{"touser":"o1","template_id":"t1","data":{"thing1":{"value":"a"},"number2":{"value":"7"},"time3":{"value":"2026-12-03 10:00"}}}',
  )
  const withLink = parseTemplateMessage({ templateId: 't1', data: { thing1: 'a' }, miniProgram: { appId: 'wxm' } })
  assert.ok(withLink.ok)
  assert.deepEqual(toTemplateBody('o1', withLink.value).miniprogram, { appid: 'wxm' })
})

test('what the platform would refuse with a bare 47003 is refused first, naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ templateId: 't', data: {} }, /^invalid template message: data: data is empty/],
    [{ templateId: 't', data: { thing1: null } }, /data\.thing1: must be a string, a number or \{ value \}/],
    [{ templateId: 't', data: { thing1: { value: 'x', color: '#173177' } } }, /data\.thing1\.color: "color": colours are no longer shown by WeChat \(since May 2023\): drop it/],
    [{ templateId: 't', data: { thing1: { value: 'x', size: 2 } } }, /data\.thing1\.size: "size": only \{ value \} is sent/],
    [{ templateId: 't', data: { thing1: Number.NaN } }, /data\.thing1/],
    [{ templateId: 't', data: { thing1: 'x' }, miniProgram: { appId: '' } }, /miniProgram\.appId: appId is empty/],
    [{ templateId: 't', data: { thing1: 'x' }, clientMsgId: 'x'.repeat(65) }, /clientMsgId: clientMsgId is over 64 characters/],
    [{ templateId: 't', data: { thing1: 'x' }, topcolor: '#FF0000' }, /Unrecognized key: "topcolor"/],
    // Written as http(s) but no URL (no host): the regex before took them; http-url.ts, as replies' links, does not.
    [{ templateId: 't', data: { thing1: 'x' }, url: 'https:///pay' }, /^invalid template message: url: url must be an http\(s\) URL$/],
    [{ templateId: 't', data: { thing1: 'x' }, url: 'http://#top' }, /^invalid template message: url: url must be an http\(s\) URL$/],
    [{ templateId: 't', data: { thing1: 'x' }, url: 'https://a:99999/' }, /^invalid template message: url: url must be an http\(s\) URL$/],
    ['a string', /^invalid template message: /],
  ]
  for (const [input, reason] of cases) {
    const r = parseTemplateMessage(input)
    assert.equal(r.ok, false, JSON.stringify(input))
    if (r.ok) continue
    assert.equal(r.error.code, 'PLUGIN_BAD_REPLY')
    assert.match(r.error.reason, reason, JSON.stringify(input))
  }
})

test('send --local --wait prints a template message by its template_id and its fields', () => {
  const shown = formatSentMessage({ touser: 'o1', template_id: 't1', data: { thing1: { value: 'a' } } }, 1500, 'template')
  assert.equal(shown, 'template message t1 through the template API, 1.5 s after the push\n  data:\n    thing1:\n      value: a')
})
