/**
 * The Cookie header a browser sends back after a response: each Set-Cookie line's name=value, without its
 * attributes (path, expires, samesite...), joined with '; '; empty when the response set no cookie. The
 * web-login tests each wrote this conversion in the same line, as `slice(0, indexOf(';'))`, which cuts the
 * last character off a line that has no attributes: split at ';' keeps such a line whole.
 */
export function cookieHeaderFrom(headers: Headers): string {
  return headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ')
}
