/**
 * Which of an account's pages inside WeChat the engine serves (`accounts[].pageDomains`): `/jssdk-config`
 * signs `wx.config` only for them, and a web login (`/oauth`) hands the user back only to them, so a link
 * cannot send a user's identity to someone else's site. They are the account's "JS接口安全域名", set in
 * mp.weixin.qq.com (公众号设置 > 功能设置): WeChat checks a signed page against those in the browser and says
 * only `invalid url domain` there; checked here first, the page's developer reads which host was asked for
 * and which are configured. An entry is a host (`h5.example.com`) or a host and a path (`h5.example.com/mp`),
 * as the console takes them: the whole host, no port, no subdomains.
 */
import { signedPart } from './jssdk-signature.ts'

/**
 * What the console takes: letters, digits and `-` in dotted labels ending in a name (no IP address), then
 * optionally a path of URL-safe characters, compared with a page's path as the browser writes it (an entry
 * with `商城` or `\` in it could never equal one); no scheme, port or query.
 */
export const PAGE_DOMAIN = /^(?:[A-Za-z0-9-]+\.)+[A-Za-z][A-Za-z0-9-]*(\/[A-Za-z0-9\-._~/]*)?$/

/** Longer page URLs are refused unread: a real page's is far shorter. */
export const MAX_PAGE_URL = 4096

/** What each parameter naming a page should be given: /jssdk-config's `url`, a login's `to`. */
const PAGE_PARAMS = {
  url: "the page's own URL, location.href.split('#')[0]",
  to: 'the full URL of the page to come back to',
} as const

/** Why this page is not served for this account (no signature, no login back to it), or undefined when it is. */
export function pageProblem(pageUrl: string | undefined, domains: readonly string[], param: keyof typeof PAGE_PARAMS = 'url'): string | undefined {
  if (pageUrl === undefined || pageUrl === '') return `no ${param}: pass ${PAGE_PARAMS[param]}, as ?${param}=`
  if (pageUrl.length > MAX_PAGE_URL) return `the ${param} is ${pageUrl.length} characters, over ${MAX_PAGE_URL}`
  let url: URL
  try {
    url = new URL(pageUrl)
  } catch {
    const twice = /^https?%3A/i.test(pageUrl) ? ' (it reads as URL-encoded twice: encode it once)' : ''
    return `the ${param} ${quoted(pageUrl)} is not a full URL${twice}: pass ${PAGE_PARAMS[param]}`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `the ${param} ${quoted(pageUrl)} is not http(s)`
  // A signature is good for one exact string: a URL the browser writes otherwise (no / after the host, a
  // :443, spaces, a full-width letter) would be signed and then refused by WeChat as "invalid signature".
  if (param === 'url' && signedPart(url.href) !== signedPart(pageUrl)) {
    return `the url ${quoted(pageUrl)} is not as the browser writes it (${quoted(signedPart(url.href))}): pass location.href.split('#')[0] exactly, the string WeChat checks the signature against`
  }
  // No page of WeChat's has one, and `https://bank.example@h5.example.com/` reads as the bank to whoever
  // looks at a link; neither a signature nor a ticket (nor a password kept in the login's cookie) is for it.
  if (url.username !== '' || url.password !== '') return `the ${param} ${quoted(pageUrl)} has a user name or password before its host: pass ${PAGE_PARAMS[param]} without it`
  if (url.port !== '') return `the ${param} ${quoted(pageUrl)} has a port: the console's JS接口安全域名 take none`
  const host = url.hostname.toLowerCase()
  const allowed = domains.some((entry) => {
    const { entryHost, entryPath } = entryParts(entry)
    return host === entryHost && underPath(url.pathname, entryPath) && underPath(asServersResolve(url.pathname), entryPath)
  })
  if (allowed) return undefined
  return `${quoted(host + url.pathname)} is not under the account's page domains (${domains.join(', ')}): add it to accounts[].pageDomains (and, for the JS-SDK, to 公众号设置 > 功能设置 > JS接口安全域名)`
}

/** `h5.example.com/mp` -> its host (lower case, as URLs give hosts) and its path (`/mp`; '' for a bare host). */
function entryParts(entry: string): { entryHost: string; entryPath: string } {
  const slash = entry.indexOf('/')
  return slash === -1 ? { entryHost: entry.toLowerCase(), entryPath: '' } : { entryHost: entry.slice(0, slash).toLowerCase(), entryPath: entry.slice(slash) }
}

/** `/mp` (or `/mp/`) covers `/mp` and `/mp/...`, not `/mpevil`. */
function underPath(pathname: string, entryPath: string): boolean {
  const base = entryPath.endsWith('/') ? entryPath.slice(0, -1) : entryPath
  return base === '' || pathname === base || pathname.startsWith(`${base}/`)
}

/**
 * The path as a page's server may read it: the URL parser resolves `/mp/../x` itself but leaves `..%2f`,
 * `%2e%2e/` and `..;/`, which nginx (it decodes before resolving) and Tomcat (`;` starts a segment's
 * parameters) resolve. Checked too, so that a page under an entry's path is one its server also places there,
 * and no ticket or signature goes to another page of the same host.
 */
function asServersResolve(pathname: string): string {
  const resolved: string[] = []
  for (const segment of pathname.replace(/%2e/gi, '.').replace(/%2f|%5c/gi, '/').split('/').slice(1)) {
    const name = segment.split(';')[0]
    if (name === '..') resolved.pop()
    else if (name !== '.') resolved.push(segment)
  }
  return `/${resolved.join('/')}`
}

/** The origin a page on these domains calls from, for CORS: `https://h5.example.com`, when it is one of them. */
export function isPageOrigin(origin: string | undefined, domains: readonly string[]): boolean {
  if (origin === undefined || origin === '' || origin === 'null') return false
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.port !== '' || url.origin !== origin) return false
  const host = url.hostname.toLowerCase()
  return domains.some((entry) => entryParts(entry).entryHost === host)
}

function quoted(s: string): string {
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}...` : s)
}
