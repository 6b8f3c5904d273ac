/**
 * The mass-send API's answers as `wxengine mass` reads them: ids as digits (a 64-bit one arrives as a
 * string from the API client), statuses in words, tags; and its refusals explained.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { explainMassError, readSendAnswer, readStatusAnswer, readTags, repeatedMsgIdOf } from '../../core/mass/mass-api.ts'
import { parseApiJson, type ApiJson } from '../../core/platform/api-client.ts'

const json = (text: string) => parseApiJson(text) as ApiJson

test('a send: msg_id, and msg_data_id for an mpnews; 64-bit ids keep their digits; no msg_id is no answer', () => {
  assert.deepEqual(readSendAnswer(json('{"errcode":0,"errmsg":"send job submission success","msg_id":34182,"msg_data_id":206227730}')), { msgId: '34182', msgDataId: '206227730' })
  assert.deepEqual(readSendAnswer(json('{"errcode":0,"errmsg":"send job submission success","msg_id":2963446620935323649}')), { msgId: '2963446620935323649' })
  assert.equal(readSendAnswer(json('{"errcode":0,"errmsg":"ok"}')), undefined)
  assert.equal(repeatedMsgIdOf(json('{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":1000000001}')), '1000000001')
  assert.equal(repeatedMsgIdOf(undefined), undefined)
})

test('a status in words; one WeChat adds later is shown as it is', () => {
  assert.deepEqual(readStatusAnswer(json('{"msg_id":201053012,"msg_status":"SEND_SUCCESS"}')), { msgId: '201053012', status: 'SEND_SUCCESS', words: 'sent' })
  assert.deepEqual(readStatusAnswer(json('{"msg_id":201053012,"msg_status":"SENDING"}'))?.words, 'still sending')
  assert.deepEqual(readStatusAnswer(json('{"msg_id":201053012,"msg_status":"SOMETHING_NEW"}')), { msgId: '201053012', status: 'SOMETHING_NEW' })
  assert.equal(readStatusAnswer(json('{"msg_id":201053012}')), undefined)
})

test('tags: id, name and follower count; an answer of another shape is none', () => {
  assert.deepEqual(readTags(json('{"tags":[{"id":1,"name":"每天一罐可乐星人","count":0},{"id":2,"name":"星标组","count":0},{"id":127,"name":"广东","count":5}]}')), [
    { id: 1, name: '每天一罐可乐星人', count: 0 },
    { id: 2, name: '星标组', count: 0 },
    { id: 127, name: '广东', count: 5 },
  ])
  assert.deepEqual(readTags(json('{"tags":[]}')), [])
  assert.equal(readTags(json('{"tag":[]}')), undefined)
})

test('the refusals the mass-send API documents, in words; others by their number', () => {
  assert.match(explainMassError(45028), /^WeChat refused it with errcode 45028: no mass-send quota left/)
  assert.match(explainMassError(45066), /wait a minute/)
  assert.equal(
    explainMassError(45011),
    'WeChat refused it with errcode 45011: the API was called too often (its per-minute quota: the mass-send API takes 60 calls a minute for the account, whoever makes them): wait a minute and try again',
  )
  assert.match(explainMassError(48001), /verified/)
  assert.equal(explainMassError(12345), "WeChat refused it with errcode 12345 (no plain words for it here; look it up in WeChat's global error codes)")
})
