/**
 * Turns `wxengine send` flags into the push WeChat would send (field names: protocol.md §3).
 * Anything not covered by a shortcut is given with `--field Name=value`; the fields a message or event
 * must have and that were not given get placeholders (push-placeholders.ts), so that `--type image` alone
 * is an image a handler sees.
 */
import { ok, type Result } from '../errors.ts'
import { push, type PushFields } from '../testkit/wechat-simulator.ts'
import { placeholdersFor, unreadKindWarning } from './push-placeholders.ts'

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

/** An element name as the pushes have them (ToUserName, Location_X, SendPicsInfo): ASCII, no dot (the path's separator). */
const ELEMENT_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/

export interface ComposedPush {
  fields: PushFields
  /** The fields the push needed and was not given, filled from push-placeholders.ts (`SendPicsInfo.Count`). */
  placeholders: string[]
  /** The MsgType or Event is none the engine reads (unreadKindWarning). */
  unread?: string
}

export function composePush(f: PushFlags): Result<ComposedPush, string> {
  // A push has its sender or is refused (400 MISSING_FIELD): said here, as the mistake typed, not as the engine's answer.
  if (f.openid.trim() === '') return fail(`--openid takes the sending user's OpenID, e.g. --openid u1 (got ${JSON.stringify(f.openid)})`)
  let extra: PushFields = {}
  for (const pair of f.fields) {
    const eq = pair.indexOf('=')
    const path = pair.slice(0, Math.max(eq, 0)).split('.')
    if (eq <= 0 || path.includes('')) return fail(`--field takes Name=value (Parent.Name=value inside an element), got "${pair}"`)
    // Said here, not as the engine's BAD_XML "expected an element name at offset 242" for the push built of it.
    const bad = path.find((name) => !ELEMENT_NAME.test(name) || name === '__proto__')
    if (bad !== undefined) return fail(`--field ${JSON.stringify(pair.slice(0, 60))}: ${JSON.stringify(bad.slice(0, 40))} is not an element name WeChat writes (a letter or _, then letters, digits, _ or -)`)
    // A dotted name reaches inside an element: ScanCodeInfo.ScanResult, SendLocationInfo.Label.
    const field = path.reduceRight<PushFields[string]>((inner, name) => ({ [name]: inner }), pair.slice(eq + 1)) as PushFields
    extra = mergeAll(extra, field)
  }
  if (f.event && f.type) return fail('give --type (a user message) or --event (an event), not both')
  if (f.key !== undefined && !f.event) return fail('--key is the EventKey of an event: add --event (e.g. --event CLICK --key MENU_HELP)')

  let location: { lat: string; lng: string; scale?: string } | undefined
  if (f.location !== undefined) {
    const parts = f.location.split(',').map((s) => s.trim())
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^-?\d+(\.\d+)?$/.test(p))) {
      return fail(`--location takes latitude,longitude[,scale], e.g. 23.13,113.26 (got "${f.location}")`)
    }
    // A place no map has: the engine takes it (a push is as WeChat sends it), and the plugin under test meets
    // a latitude WeChat never sends. Said here, where it was typed.
    if (Math.abs(Number(parts[0])) > 90 || Math.abs(Number(parts[1])) > 180) {
      return fail(`--location: a latitude is -90 to 90 and a longitude -180 to 180, latitude first (got "${f.location}")`)
    }
    location = { lat: parts[0], lng: parts[1], scale: parts[2] }
  }

  let composed: ComposedPush
  if (f.event) {
    const ev: PushFields = {}
    if (f.key !== undefined) ev.EventKey = f.key
    const event = f.event.toLowerCase()
    if (location && event === 'location_select') {
      ev.SendLocationInfo = { Location_X: location.lat, Location_Y: location.lng, Scale: location.scale ?? '15' }
    } else if (location && event === 'location') {
      Object.assign(ev, { Latitude: location.lat, Longitude: location.lng, Precision: location.scale ?? '30' })
    } else if (location) {
      // WeChat puts a place on these two events only: on another it would be fields no handler reads.
      return fail(`--location goes with --event LOCATION (a location report) or --event location_select, not --event ${f.event}`)
    }
    const name = f.event
    composed = complete({ event: name }, mergeAll(ev, extra), (all) => push.event(f.openid, name, all))
  } else {
    const type = f.type ?? (location ? 'location' : 'text')
    if (location && type !== 'location') return fail(`--location makes a location message; it cannot be --type ${type}`)
    if (type === 'text') {
      if (f.text === undefined) return fail('nothing to send: give the text (wxengine send "hello"), or --type, --event or --location')
      composed = { fields: push.text(f.openid, f.text, extra), placeholders: [] }
    } else {
      if (f.text !== undefined) return fail(`the text argument is for text messages; a ${type} message takes --field Name=value`)
      const at: PushFields = location ? { Location_X: location.lat, Location_Y: location.lng, Scale: location.scale ?? '15' } : {}
      composed = complete({ msgType: type }, mergeAll(at, extra), (all) => push.message(f.openid, type, all))
    }
  }
  if (f.toUser) composed.fields.ToUserName = f.toUser
  return ok(composed)
}

/** The push `build` makes of the given fields over the placeholders of what the kind needs; their names; whether the engine reads the kind. */
function complete(kind: { msgType: string } | { event: string }, given: PushFields, build: (fields: PushFields) => PushFields): ComposedPush {
  const defaults = placeholdersFor(kind)
  return { fields: build(mergeAll(defaults, given)), placeholders: notGiven(defaults, given), unread: unreadKindWarning(kind) }
}

const isElement = (v: PushFields[string] | undefined): v is PushFields => typeof v === 'object' && !Array.isArray(v)

/** `over` on top of `base`, element by element; neither is changed. */
function mergeAll(base: PushFields, over: PushFields): PushFields {
  const out: PushFields = { ...base }
  for (const [name, value] of Object.entries(over)) {
    const under = out[name]
    out[name] = isElement(under) && isElement(value) ? mergeAll(under, value) : value
  }
  return out
}

/**
 * The placeholders' names the given fields leave to them, dotted inside elements. An empty placeholder is
 * not named: it is what WeChat itself sends when there is nothing (a location's Label).
 */
function notGiven(defaults: PushFields, given: PushFields, prefix = ''): string[] {
  const names: string[] = []
  for (const [name, value] of Object.entries(defaults)) {
    const g = given[name]
    if (isElement(value)) {
      if (g === undefined || isElement(g)) names.push(...notGiven(value, g ?? {}, `${prefix}${name}.`))
    } else if (g === undefined && value !== '') {
      names.push(`${prefix}${name}`)
    }
  }
  return names
}
