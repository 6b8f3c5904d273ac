/**
 * `wxengine send` builds the push WeChat would send from what was typed (compose-push.ts). Over generated
 * flags (fast-check): it is refused with a reason or built, never thrown on, and every push it builds is XML
 * the engine reads (so a typo is said by `send`, not answered by the engine's BAD_XML with an offset).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from '../support/fast-check.ts'
import { composePush } from '../../core/cli/compose-push.ts'
import { buildPushXml } from '../../core/testkit/wechat-simulator.ts'
import { parseXml } from '../../core/normalize/safe-xml.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'

const typed = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('', ' ', 'a b', '<x>', ']]>', '__proto__', 'xml', '1a', 'Content', 'A.B', '.', '..', '='))
const name = fc.oneof(typed, fc.constantFrom('ToUserName', 'EventKey', 'ScanCodeInfo.ScanResult', 'SendPicsInfo.Count', 'Content', 'MsgId', 'A.B.C', 'Location_X'))
const field = fc.tuple(name, typed).map(([n, v]) => `${n}=${v}`)
const fields = fc.array(field, { maxLength: 4 })
const type = fc.oneof(fc.constantFrom('text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link', 'file'), typed)
const event = fc.oneof(fc.constantFrom('subscribe', 'unsubscribe', 'CLICK', 'VIEW', 'SCAN', 'LOCATION', 'location_select', 'scancode_push', 'pic_weixin', 'MASSSENDJOBFINISH'), typed)
const location = fc.oneof(fc.constantFrom('23.13,113.26', '23.13,113.26,15', '1,2,3,4', 'a,b', ' -1.5 , 2 '), typed)
const openid = fc.oneof(fc.constant('o-user'), typed)
/** As people type them: a text, a message of a type, an event, a place; sometimes with a flag that does not belong. */
const flags = fc.oneof(
  fc.record({ openid, text: typed, fields, toUser: typed }, { requiredKeys: ['openid', 'text', 'fields'] }),
  fc.record({ openid, type, fields, location }, { requiredKeys: ['openid', 'type', 'fields'] }),
  fc.record({ openid, event, key: typed, fields, location }, { requiredKeys: ['openid', 'event', 'fields'] }),
  fc.record({ openid, location, fields }, { requiredKeys: ['openid', 'location', 'fields'] }),
  fc.record({ openid, text: typed, type, event, key: typed, location, fields, toUser: typed }, { requiredKeys: ['openid', 'fields'] }),
)

test('any flags: refused with a reason, or a push the engine reads; never a throw', () => {
  const seen = { built: 0, refused: 0 }
  fc.assert(
    fc.property(flags, (f) => {
      const r = composePush(f)
      if (!r.ok) {
        seen.refused++
        assert.ok(r.error.length > 0 && r.error.length < 400, r.error)
        return
      }
      seen.built++
      const xml = buildPushXml(r.value.fields)
      const read = parseXml(xml)
      assert.ok(read.ok, `${JSON.stringify(f)} built XML the engine refuses: ${read.ok ? '' : read.error.reason}`)
      normalizeMessage(read.value)
    }),
    { numRuns: 4000 },
  )
  assert.ok(seen.built > 200 && seen.refused > 200, JSON.stringify(seen))
})
