/**
 * Turns `wxengine send` flags into the push WeChat would send (field names: protocol.md §3).
 * Anything not covered by a shortcut is given with `--field Name=value`.
 */
import { ok, type Result } from '../errors.ts'
import { push, type PushFields } from '../testkit/wechat-simulator.ts'

export interface PushFlags {
  openid: string
  text?: string
  /** MsgType of a user message (default text). */
  type?: string
  /** Event name as WeChat writes it: subscribe, CLICK, VIEW, SCAN, LOCATION, ... */
  event?: string
  key?: string
  /** `lat,lng[,scale]` */
  location?: string
  fields: string[]
  toUser?: string
}

const fail = (reason: string): Result<never, string> => ({ ok: false, error: reason })

export function composePush(f: PushFlags): Result<PushFields, string> {
  const extra: PushFields = {}
  for (const pair of f.fields) {
    const eq = pair.indexOf('=')
    if (eq <= 0) return fail(`--field takes Name=value, got "${pair}"`)
    extra[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  if (f.event && f.type) return fail('give --type (a user message) or --event (an event), not both')
  if (f.key !== undefined && !f.event) return fail('--key is the EventKey of an event: add --event (e.g. --event CLICK --key MENU_HELP)')

  let location: { lat: string; lng: string; scale?: string } | undefined
  if (f.location !== undefined) {
    const parts = f.location.split(',').map((s) => s.trim())
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^-?\d+(\.\d+)?$/.test(p))) {
      return fail(`--location takes latitude,longitude[,scale], e.g. 23.13,113.26 (got "${f.location}")`)
    }
    location = { lat: parts[0], lng: parts[1], scale: parts[2] }
  }

  let fields: PushFields
  if (f.event) {
    const ev: PushFields = {}
    if (f.key !== undefined) ev.EventKey = f.key
    if (location) Object.assign(ev, { Latitude: location.lat, Longitude: location.lng, Precision: location.scale ?? '30' })
    fields = push.event(f.openid, f.event, { ...ev, ...extra })
  } else if (location) {
    if (f.type && f.type !== 'location') return fail(`--location makes a location message; it cannot be --type ${f.type}`)
    fields = push.message(f.openid, 'location', {
      Location_X: location.lat, Location_Y: location.lng, Scale: location.scale ?? '15', Label: '', ...extra,
    })
  } else if (!f.type || f.type === 'text') {
    if (f.text === undefined) return fail('nothing to send: give the text (wxengine send "hello"), or --type, --event or --location')
    fields = push.text(f.openid, f.text, extra)
  } else {
    if (f.text !== undefined) return fail(`the text argument is for text messages; a ${f.type} message takes --field Name=value`)
    fields = push.message(f.openid, f.type, extra)
  }
  if (f.toUser) fields.ToUserName = f.toUser
  return ok(fields)
}
