/**
 * CORS for the web endpoints a page's script may call (/jssdk-config, /oauth-identity): the page's origin is
 * allowed when it is on the account's page domains, no other; a preflight is answered 204. Nothing here is
 * secret from other sites (a signature fits one URL, a ticket is good once); it decides whose script may read
 * an answer.
 */
import type Koa from 'koa'
import { isPageOrigin } from './page-domains.ts'

/**
 * How long a browser may reuse a preflight's answer (Access-Control-Max-Age). Without it each call of a
 * script that adds a header of its own was preceded by a preflight (Chrome's default keeps one 5 s). Ten
 * minutes: a page's calls share one preflight. It only spares the round trip: each answer still carries
 * its own Access-Control-Allow-Origin, so a page domain taken off the configuration is refused at once.
 * (Chrome caps it at 2 hours, Firefox at 24 hours; a preflight is cached per URL.)
 */
export const PREFLIGHT_MAX_AGE_SECONDS = 600

/** Allows the request's origin when it is one of the account's pages; true when the request was a preflight, now answered. */
export function answerCors(ctx: Koa.Context, domains: readonly string[], allow: string): boolean {
  const origin = ctx.get('Origin')
  if (isPageOrigin(origin, domains)) ctx.set('Access-Control-Allow-Origin', origin)
  ctx.vary('Origin')
  if (ctx.method !== 'OPTIONS') return false
  ctx.set('Allow', allow)
  ctx.set('Access-Control-Allow-Methods', 'GET')
  // A script that adds a header of its own (X-Requested-With) must not fail its preflight.
  const asked = ctx.get('Access-Control-Request-Headers')
  if (asked) ctx.set('Access-Control-Allow-Headers', asked.slice(0, 200))
  ctx.set('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS))
  ctx.status = 204
  return true
}
