/**
 * The body of POST /cgi-bin/qrcode/create for `wxengine qrcode create <scene>`, checked before it is sent:
 * the action by the scene's shape (a number: *_SCENE with scene_id, else *_STR_SCENE with scene_str) and
 * --permanent, the ranges WeChat states, --expire as a duration of at most 30 days.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseExpire, qrcodeBody } from '../../core/qrcode/qrcode-request.ts'

const body = (scene: string, opts: { permanent?: boolean; expire?: string; str?: boolean } = {}) => {
  const r = qrcodeBody({ scene, permanent: opts.permanent ?? false, expire: opts.expire, str: opts.str ?? false })
  assert.ok(r.ok, r.ok ? '' : r.message)
  return r.body
}
const refused = (scene: string, opts: { permanent?: boolean; expire?: string; str?: boolean } = {}) => {
  const r = qrcodeBody({ scene, permanent: opts.permanent ?? false, expire: opts.expire, str: opts.str ?? false })
  assert.equal(r.ok, false, `${scene} ${JSON.stringify(opts)} was accepted`)
  return r.ok ? '' : r.message
}

test('a number is a scene_id, anything else a scene_str; temporary by default for 30 days, expire_seconds always sent', () => {
  assert.equal(JSON.stringify(body('123')), '{"expire_seconds":2592000,"action_name":"QR_SCENE","action_info":{"scene":{"scene_id":123}}}')
  assert.equal(JSON.stringify(body('test', { expire: '7d' })), '{"expire_seconds":604800,"action_name":"QR_STR_SCENE","action_info":{"scene":{"scene_str":"test"}}}')
  assert.equal(JSON.stringify(body('1001', { permanent: true })), '{"action_name":"QR_LIMIT_SCENE","action_info":{"scene":{"scene_id":1001}}}')
  assert.equal(JSON.stringify(body('poster-a', { permanent: true })), '{"action_name":"QR_LIMIT_STR_SCENE","action_info":{"scene":{"scene_str":"poster-a"}}}')
  assert.equal(JSON.stringify(body('1001', { permanent: true, str: true })), '{"action_name":"QR_LIMIT_STR_SCENE","action_info":{"scene":{"scene_str":"1001"}}}')
  assert.deepEqual(body('4294967295'), { expire_seconds: 2592000, action_name: 'QR_SCENE', action_info: { scene: { scene_id: 4294967295 } } })
  assert.deepEqual(body('100000', { permanent: true }).action_info, { scene: { scene_id: 100000 } })
  assert.deepEqual(body('一'.repeat(64)).action_info, { scene: { scene_str: '一'.repeat(64) } })
})

test('scene_id ranges: a temporary code 1 to 4294967295 (32-bit, non-zero), a permanent one 1 to 100000; --str is the way out', () => {
  assert.match(refused('100001', { permanent: true }), /^scene 100001: a permanent code's scene_id is 1 to 100000 \(QR_LIMIT_SCENE\); add --str to send it as the scene string "100001" \(QR_LIMIT_STR_SCENE\)$/)
  assert.match(refused('4294967296'), /^scene 4294967296: a temporary code's scene_id is 1 to 4294967295 \(QR_SCENE: 32 bits\); add --str to send it as the scene string "4294967296" \(QR_STR_SCENE\)$/)
  assert.match(refused('0'), /^scene 0: a temporary code's scene_id is 1 to 4294967295 .*add --str/)
  // WeChat keeps the number: the push would say 123, which `scene: '0123'` does not match.
  assert.equal(refused('0123'), 'scene 0123: as a scene_id it is the number 123, and WeChat pushes 123, which a handler with scene: \'0123\' does not match; write 123, or add --str to send "0123" as a scene string')
  assert.deepEqual(body('0123', { str: true }).action_info, { scene: { scene_str: '0123' } })
  assert.deepEqual(body('0', { str: true }).action_info, { scene: { scene_str: '0' } })
})

test('a scene_str is 1 to 64 characters; the qrscene_ prefix is WeChat\'s, not the scene\'s', () => {
  assert.equal(refused(''), 'the scene is empty: give a number (1001) or a text of 1 to 64 characters (poster-a)')
  assert.equal(refused('a'.repeat(65)), `scene "${'a'.repeat(65)}": a scene string is 1 to 64 characters, this one has 65`)
  assert.equal(refused('qrscene_1001'), 'scene "qrscene_1001": write it without qrscene_ (WeChat adds that to a new follower\'s push, and a handler\'s scene: is written without it): wxengine qrcode create 1001')
})

test('--expire: a duration of 1 second to 30 days, for a temporary code only', () => {
  assert.equal(parseExpire('3600s'), 3600)
  assert.equal(parseExpire('3600'), 3600)
  assert.equal(parseExpire('30m'), 1800)
  assert.equal(parseExpire('12h'), 43200)
  assert.equal(parseExpire('30d'), 2592000)
  assert.equal(body('1', { expire: '720h' }).expire_seconds, 2592000)
  assert.equal(refused('1', { expire: '31d' }), '--expire 31d is 2678400 seconds, over the 2592000 (30 days) WeChat allows a temporary code')
  assert.equal(refused('1', { expire: '2592001' }), '--expire 2592001 is 2592001 seconds, over the 2592000 (30 days) WeChat allows a temporary code')
  assert.equal(refused('1', { expire: '0s' }), '--expire 0s: a temporary code lives 1 second or more')
  assert.equal(refused('1', { expire: 'a week' }), '--expire takes a duration of at most 30 days: 7d, 12h, 30m, 3600s (or seconds alone: 3600); got "a week"')
  assert.equal(refused('1', { expire: '1.5d' }), '--expire takes a duration of at most 30 days: 7d, 12h, 30m, 3600s (or seconds alone: 3600); got "1.5d"')
  assert.equal(refused('1', { permanent: true, expire: '7d' }), '--expire is for a temporary code: a permanent one (--permanent) never expires')
})
