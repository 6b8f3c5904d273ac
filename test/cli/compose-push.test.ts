import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { composePush, type PushFlags } from '../../core/cli/compose-push.ts'
import { PUSH_PLACEHOLDERS } from '../../core/cli/push-placeholders.ts'
import { MESSAGE_KINDS, type InboundMessage } from '../../core/normalize/message-types.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'
import { parseXml } from '../../core/normalize/safe-xml.ts'
import { buildPushXml } from '../../core/testkit/wechat-simulator.ts'

/** What the engine makes of the push send would send: through the XML, as it arrives. */
function received(flags: Partial<PushFlags>): { message: InboundMessage; placeholders: string[] } {
  const composed = composePush({ openid: 'u1', fields: [], ...flags })
  assert.ok(composed.ok, composed.ok ? '' : composed.error)
  const raw = parseXml(buildPushXml(composed.value.fields))
  assert.ok(raw.ok)
  const message = normalizeMessage(raw.value)
  assert.ok(message.ok)
  return { message: message.value, placeholders: composed.value.placeholders }
}

describe('wxengine send: placeholders for the fields a push must have', () => {
  test('every kind the engine reads, named alone (--type image, --event SCAN), is that kind, not unknown (it was unknown: "PicUrl is absent")', () => {
    for (const [kind, p] of Object.entries(PUSH_PLACEHOLDERS)) {
      const { message } = received('msgType' in p ? { type: p.msgType } : { event: p.event })
      assert.equal(message.kind, kind, `${kind}: ${message.kind === 'unknown' ? message.reason : ''}`)
    }
    // Every kind but text (the text argument) and unknown has its entry; the type says so too.
    assert.deepEqual(Object.keys(PUSH_PLACEHOLDERS).sort(), MESSAGE_KINDS.filter((k) => k !== 'text' && k !== 'unknown').sort())
  })

  test('the placeholders are named, and what is given is used instead', () => {
    const image = received({ type: 'image' })
    assert.deepEqual(image.placeholders, ['PicUrl', 'MediaId'])
    assert.ok(image.message.kind === 'image' && image.message.mediaId === 'cli-image-media-id')
    const given = received({ type: 'image', fields: ['MediaId=m1'] })
    assert.deepEqual(given.placeholders, ['PicUrl'])
    assert.ok(given.message.kind === 'image' && given.message.mediaId === 'm1')
    const click = received({ event: 'click', key: 'MENU_HELP' })
    assert.deepEqual(click.placeholders, [])
    assert.ok(click.message.kind === 'click' && click.message.eventKey === 'MENU_HELP')
  })

  test('--location gives a location message, a location report and a location_select their place; an empty Label is not called a placeholder', () => {
    const message = received({ location: '1.5,2.5' })
    assert.deepEqual(message.placeholders, [])
    assert.ok(message.message.kind === 'location' && message.message.locationX === 1.5 && message.message.scale === 15)
    const bare = received({ type: 'location' })
    assert.deepEqual(bare.placeholders, ['Location_X', 'Location_Y', 'Scale'])
    const report = received({ event: 'LOCATION', location: '1.5,2.5,10' })
    assert.ok(report.message.kind === 'location_report' && report.message.precision === 10)
    const select = received({ event: 'location_select', key: 'K', location: '1.5,2.5' })
    assert.deepEqual(select.placeholders, [])
    assert.ok(select.message.kind === 'location_select' && select.message.locationY === 2.5)
  })

  test('--field Parent.Name=value sets a field inside an element and keeps its other placeholders', () => {
    const scan = received({ event: 'scancode_push', key: 'K', fields: ['ScanCodeInfo.ScanResult=hello'] })
    assert.deepEqual(scan.placeholders, ['ScanCodeInfo.ScanType'])
    assert.ok(scan.message.kind === 'scancode_push' && scan.message.scanResult === 'hello' && scan.message.scanType === 'qrcode')
    for (const bad of ['.X=1', 'A..B=1', 'A.=1', '=1']) {
      const r = composePush({ openid: 'u1', type: 'image', fields: [bad] })
      assert.ok(!r.ok && r.error.startsWith('--field takes Name=value'), bad)
    }
    // Not an element name: said by send, not answered by the engine's BAD_XML "expected an element name at offset 242".
    for (const [bad, name] of [['a b=1', 'a b'], ['Scan.<x=1', '<x'], ['1a=1', '1a'], ['__proto__=x', '__proto__']]) {
      const r = composePush({ openid: 'u1', type: 'image', fields: [bad] })
      assert.ok(!r.ok, bad)
      assert.equal(r.error, `--field ${JSON.stringify(bad)}: ${JSON.stringify(name)} is not an element name WeChat writes (a letter or _, then letters, digits, _ or -)`)
    }
  })

  test('an event or type the engine does not read is sent as given, with no placeholders', () => {
    const { message, placeholders } = received({ event: 'some_new_event', fields: ['Foo=bar'] })
    assert.equal(message.kind, 'unknown')
    assert.deepEqual(placeholders, [])
  })

  test('a MsgType or Event the engine does not read is said, with the known one it is closest to (--event CLIK arrived as unknown in silence)', () => {
    const said = (flags: Partial<PushFlags>) => {
      const r = composePush({ openid: 'u1', fields: [], ...flags })
      assert.ok(r.ok)
      return r.value.unread
    }
    assert.equal(said({ event: 'CLIK' }), '"CLIK" is no Event the engine reads (did you mean "CLICK"?): sent as given, it arrives as an unknown message')
    assert.equal(said({ type: 'imgae' }), '"imgae" is no MsgType the engine reads (did you mean "image"?): sent as given, it arrives as an unknown message')
    assert.equal(said({ event: 'some_new_event' }), '"some_new_event" is no Event the engine reads: sent as given, it arrives as an unknown message')
    // Known ones, in any case, are not: the engine reads Event and MsgType case-insensitively.
    for (const flags of [{ event: 'click', key: 'K' }, { event: 'LOCATION' }, { type: 'IMAGE' }, { text: 'hi' }] as Partial<PushFlags>[]) assert.equal(said(flags), undefined, JSON.stringify(flags))
  })

  test('--location off the map is refused, latitude first (91,2 went out as a place WeChat never sends)', () => {
    for (const location of ['91,2', '-90.5,2', '23.1,181', '113.26,23.13']) {
      assert.deepEqual(composePush({ openid: 'u1', fields: [], location }), { ok: false, error: `--location: a latitude is -90 to 90 and a longitude -180 to 180, latitude first (got "${location}")` })
    }
    for (const location of ['90,180', '-90,-180', '23.13,113.26']) assert.ok(composePush({ openid: 'u1', fields: [], location }).ok, location)
  })

  test('an empty or blank --openid is a usage mistake, not a push the engine refuses (400 MISSING_FIELD)', () => {
    for (const openid of ['', '   ']) {
      assert.deepEqual(composePush({ openid, fields: [], text: 'hi' }), { ok: false, error: `--openid takes the sending user's OpenID, e.g. --openid u1 (got ${JSON.stringify(openid)})` })
    }
    assert.ok(composePush({ openid: 'u1', fields: [], text: 'hi' }).ok)
  })

  test('--location with an event that carries no place is refused (it added Latitude and Longitude to a CLICK)', () => {
    const r = composePush({ openid: 'u1', fields: [], event: 'CLICK', key: 'K', location: '1.5,2.5' })
    assert.deepEqual(r, { ok: false, error: '--location goes with --event LOCATION (a location report) or --event location_select, not --event CLICK' })
  })
})
