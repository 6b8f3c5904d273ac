/**
 * A parameter QR code (带参数二维码) asked for: the body of POST /cgi-bin/qrcode/create, checked here against
 * the limits WeChat states so that a code is not refused (or, worse, made for a scene the push will not carry):
 *
 *   temporary  {"expire_seconds": N, "action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 123}}}
 *              or "QR_STR_SCENE" with {"scene_str": "..."}; N at most 2592000 (30 days); scene_id 32-bit, not 0
 *   permanent  "QR_LIMIT_SCENE" (scene_id 1 to 100000) or "QR_LIMIT_STR_SCENE", no expire_seconds; at most
 *              100000 permanent codes an account
 *   scene_str  1 to 64 characters, either kind
 *
 * A scene written as digits is a scene_id, anything else a scene_str; `str` sends digits as a scene_str. Either
 * way the push carries the same text (EventKey `qrscene_<scene>` on a follow, `<scene>` on a follower's scan),
 * so a handler's `scene: 1001` matches both. expire_seconds is always sent: WeChat's default when it is left
 * out is a minute, which no poster survives.
 */
import { QR_SCENE_PREFIX } from '../normalize/normalize-message.ts'

export const QRCODE_CREATE_PATH = '/cgi-bin/qrcode/create'
/** On the mp host (platform.mpBase), not the API's: GET ?ticket=<url-encoded ticket> answers the image. */
export const QRCODE_SHOW_PATH = '/cgi-bin/showqrcode'

export const MAX_EXPIRE_SECONDS = 2_592_000
export const DEFAULT_EXPIRE_SECONDS = MAX_EXPIRE_SECONDS
export const MAX_TEMPORARY_SCENE_ID = 4_294_967_295
export const MAX_PERMANENT_SCENE_ID = 100_000
export const MAX_SCENE_STR_CHARS = 64
/** The prefix of a follow's EventKey after a code: the normalizer's, which reads it off. */
export { QR_SCENE_PREFIX }

export type QrActionName = 'QR_SCENE' | 'QR_STR_SCENE' | 'QR_LIMIT_SCENE' | 'QR_LIMIT_STR_SCENE'

export interface QrCodeBody {
  expire_seconds?: number
  action_name: QrActionName
  action_info: { scene: { scene_id: number } | { scene_str: string } }
}

export interface QrCodeAsked {
  /** As typed: what the push will carry and a handler's `scene:` names. */
  scene: string
  permanent: boolean
  /** A duration (`7d`, `12h`, `30m`, `3600s`, `3600`); temporary codes only. */
  expire?: string
  /** Send a scene of digits as a scene_str. */
  str: boolean
}

export type QrCodeBodyResult = { ok: true; body: QrCodeBody } | { ok: false; message: string }

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 }

/** Seconds, or undefined when it is no duration. Bounds are qrcodeBody's to say. */
export function parseExpire(text: string): number | undefined {
  const m = /^(\d+)\s*([smhd]?)$/.exec(text.trim())
  if (!m) return undefined
  return Number(m[1]) * UNIT_SECONDS[m[2] || 's']!
}

export function qrcodeBody(asked: QrCodeAsked): QrCodeBodyResult {
  const { scene, permanent, str } = asked
  const refuse = (message: string): QrCodeBodyResult => ({ ok: false, message })

  let expireSeconds: number | undefined
  if (permanent) {
    if (asked.expire !== undefined) return refuse('--expire is for a temporary code: a permanent one (--permanent) never expires')
  } else if (asked.expire === undefined) {
    expireSeconds = DEFAULT_EXPIRE_SECONDS
  } else {
    expireSeconds = parseExpire(asked.expire)
    if (expireSeconds === undefined) return refuse(`--expire takes a duration of at most 30 days: 7d, 12h, 30m, 3600s (or seconds alone: 3600); got ${JSON.stringify(asked.expire)}`)
    if (expireSeconds < 1) return refuse(`--expire ${asked.expire}: a temporary code lives 1 second or more`)
    if (expireSeconds > MAX_EXPIRE_SECONDS) return refuse(`--expire ${asked.expire} is ${expireSeconds} seconds, over the ${MAX_EXPIRE_SECONDS} (30 days) WeChat allows a temporary code`)
  }

  if (scene === '') return refuse('the scene is empty: give a number (1001) or a text of 1 to 64 characters (poster-a)')
  if (scene.startsWith(QR_SCENE_PREFIX)) {
    return refuse(`scene ${JSON.stringify(scene)}: write it without ${QR_SCENE_PREFIX} (WeChat adds that to a new follower's push, and a handler's scene: is written without it): wxengine qrcode create ${scene.slice(QR_SCENE_PREFIX.length)}`)
  }
  const numeric = /^\d+$/.test(scene) && !str
  let sceneInfo: QrCodeBody['action_info']['scene']
  if (numeric) {
    const id = Number(scene)
    if (scene.length > 1 && scene.startsWith('0') && id > 0) {
      return refuse(`scene ${scene}: as a scene_id it is the number ${id}, and WeChat pushes ${id}, which a handler with scene: '${scene}' does not match; write ${id}, or add --str to send "${scene}" as a scene string`)
    }
    const max = permanent ? MAX_PERMANENT_SCENE_ID : MAX_TEMPORARY_SCENE_ID
    if (id < 1 || id > max) {
      const kind = permanent ? `a permanent code's scene_id is 1 to ${max} (QR_LIMIT_SCENE)` : `a temporary code's scene_id is 1 to ${max} (QR_SCENE: 32 bits)`
      return refuse(`scene ${scene}: ${kind}; add --str to send it as the scene string "${scene}" (${permanent ? 'QR_LIMIT_STR_SCENE' : 'QR_STR_SCENE'})`)
    }
    sceneInfo = { scene_id: id }
  } else {
    const chars = [...scene].length
    if (chars > MAX_SCENE_STR_CHARS) return refuse(`scene ${JSON.stringify(scene)}: a scene string is 1 to ${MAX_SCENE_STR_CHARS} characters, this one has ${chars}`)
    sceneInfo = { scene_str: scene }
  }
  const action_name: QrActionName = permanent ? (numeric ? 'QR_LIMIT_SCENE' : 'QR_LIMIT_STR_SCENE') : numeric ? 'QR_SCENE' : 'QR_STR_SCENE'
  return { ok: true, body: { ...(expireSeconds !== undefined ? { expire_seconds: expireSeconds } : {}), action_name, action_info: { scene: sceneInfo } } }
}
