/**
 * The JS-SDK's `wx.config` signature (seeds/002 "JS-SDK", 附录1 of WeChat's JS-SDK document): SHA-1 of
 *
 *   jsapi_ticket=<ticket>&noncestr=<nonceStr>&timestamp=<timestamp>&url=<page url>
 *
 * the four fields in that (ASCII) order, the values as they are (not URL-encoded). The url is the page's
 * own, exactly as the browser has it (`location.href.split('#')[0]`): its fragment is no part of it, and
 * nothing else may change. A URL parser would add the `/` of `https://h5.example.com?a=1` or re-encode
 * `%7e`, and the signature would no longer be the page's. So the url is only read here, never rewritten.
 */
import { createHash, randomInt } from 'node:crypto'

/** What `wx.config` takes besides `jsApiList` and `debug`, as the page's script passes it on. */
export interface JsSdkConfig {
  appId: string
  /** Seconds. */
  timestamp: number
  nonceStr: string
  signature: string
}

/** The page URL without its fragment: the part the signature covers. */
export function signedPart(pageUrl: string): string {
  const hash = pageUrl.indexOf('#')
  return hash === -1 ? pageUrl : pageUrl.slice(0, hash)
}

export function signJsSdk(ticket: string, nonceStr: string, timestamp: number, pageUrl: string): string {
  return createHash('sha1').update(`jsapi_ticket=${ticket}&noncestr=${nonceStr}&timestamp=${timestamp}&url=${signedPart(pageUrl)}`).digest('hex')
}

const NONCE_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** 16 letters and digits, as WeChat's own samples make them (a nonce other characters would need encoding). */
export function randomNonce(length = 16): string {
  let s = ''
  for (let i = 0; i < length; i++) s += NONCE_CHARS[randomInt(NONCE_CHARS.length)]
  return s
}

export function jsSdkConfig(appId: string, ticket: string, pageUrl: string, nowMs: number, nonceStr = randomNonce()): JsSdkConfig {
  const timestamp = Math.floor(nowMs / 1000)
  return { appId, timestamp, nonceStr, signature: signJsSdk(ticket, nonceStr, timestamp, pageUrl) }
}
