/**
 * A link a reply carries: a news article's Url and PicUrl, a music reply's MusicUrl and HQMusicUrl (and a
 * template message's url, a subscription notice's page, which WeChat opens the same way). WeChat
 * opens or fetches these from the user's phone; only http and https work there, and the seeds describe
 * them as links (seeds/001: 图片链接, 跳转链接, 音乐链接).
 *
 * Why it is checked: `javascript:alert(1)`, `data:`, `file:` or a word with no scheme at all passed the reply
 * check and went out, to an article the user taps and nothing happens (or, for a scheme some client does
 * follow, a script in a page of ours). An absolute http(s) URL, with a host and no whitespace: `new URL`
 * alone would take `http:example.com` and drop a tab or a newline inside, so the text is checked as written.
 */
import { quotedShort } from '../shown-text.ts'

/** The host part cannot hold `/?#`, so the split between it and the rest is fixed: linear on 65,536 characters. */
const WRITTEN_AS_HTTP_URL = /^https?:\/\/[^\s/?#]+(?:[/?#]\S*)?$/i

/** True for an absolute http(s) URL as the rule above reads it (a template's url, a notice's page). */
export function isHttpUrl(value: string): boolean {
  return httpUrlProblem('url', value) === undefined
}

/** What is wrong with `value` as an http(s) URL, as "<field> must be ..., got X"; undefined when it is one. */
export function httpUrlProblem(field: string, value: string): string | undefined {
  if (WRITTEN_AS_HTTP_URL.test(value)) {
    try {
      const url = new URL(value)
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '') return undefined
    } catch {
      // Not a URL after all (a bad port, a host with characters no host has): said below.
    }
  }
  return `${field} must be an absolute http:// or https:// URL, got ${quotedShort(value, 60)}`
}
