import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPageOrigin, PAGE_DOMAIN, MAX_PAGE_URL, pageProblem } from '../../core/web/page-domains.ts'

const DOMAINS = ['h5.example.com', 'shop.example.com/mp']

test('a page on a page domain, or under its path, is signed', () => {
  for (const url of ['https://h5.example.com/', 'http://h5.example.com/a/b?c=1', 'https://shop.example.com/mp/list?x=1', 'https://shop.example.com/mp', 'https://shop.example.com/mp/', 'https://h5.example.com/?b=%E4%B8%AD#/x']) {
    assert.equal(pageProblem(url, DOMAINS), undefined, url)
  }
  // A page to come back to (a login's `to`) need not be written as the browser would.
  for (const to of ['https://h5.example.com', 'http://H5.Example.com/a/b?c=1', 'https://h5.example.com/?b=中']) assert.equal(pageProblem(to, DOMAINS, 'to'), undefined, to)
})

test('a url to sign must be the string the browser has: anything else would be signed and refused by WeChat', () => {
  for (const [url, written] of [
    ['https://h5.example.com', 'https://h5.example.com/'],
    ['https://H5.example.com/', 'https://h5.example.com/'],
    ['https://h5.example.com:443/', 'https://h5.example.com/'],
    [' https://h5.example.com/', 'https://h5.example.com/'],
    ['https://h5.example.com/?b=中', 'https://h5.example.com/?b=%E4%B8%AD'],
    ['https:h5.example.com/', 'https://h5.example.com/'],
  ]) {
    assert.equal(pageProblem(url, DOMAINS), `the url ${JSON.stringify(url)} is not as the browser writes it (${JSON.stringify(written)}): pass location.href.split('#')[0] exactly, the string WeChat checks the signature against`)
  }
  assert.match(pageProblem(encodeURIComponent('https://h5.example.com/'), DOMAINS) ?? '', /is not a full URL \(it reads as URL-encoded twice: encode it once\)/)
})

test("an entry's path covers that path and what is under it, not a path that only starts alike", () => {
  assert.match(pageProblem('https://shop.example.com/mpevil/x', DOMAINS) ?? '', /is not under the account's page domains/)
  assert.equal(pageProblem('https://shop.example.com/mp/a/b', ['shop.example.com/mp/']), undefined)
  assert.ok(pageProblem('https://shop.example.com/m', ['shop.example.com/mp']))
})

test("a path that a page's server reads as leaving the entry's path is not under it (encoded dot segments, ..;)", () => {
  // The URL parser resolves /mp/../x itself; these it leaves for the server, and nginx or Tomcat resolve them:
  // a ticket sent there would reach a page outside /mp on the same host.
  for (const page of ['https://shop.example.com/mp/..%2fx', 'https://shop.example.com/mp/%2e%2e%2fx', 'https://shop.example.com/mp/%2E%2E%5Cx', 'https://shop.example.com/mp/..;/x', 'https://shop.example.com/mp/a/..%2f..%2fx']) {
    assert.match(pageProblem(page, DOMAINS) ?? '', /is not under the account's page domains/, page)
    assert.match(pageProblem(page, DOMAINS, 'to') ?? '', /is not under the account's page domains/, page)
  }
  // What stays under the path is still served, encoded or not; a bare host has no path to leave.
  for (const page of ['https://shop.example.com/mp/a/..%2fb', 'https://shop.example.com/mp/a%2fb', 'https://shop.example.com/mp/..x', 'https://h5.example.com/..%2fx']) assert.equal(pageProblem(page, DOMAINS), undefined, page)
})

test('a url with a user name or password is refused: what is before the @ only looks like the host', () => {
  for (const page of ['https://evil.example.net@h5.example.com/', 'https://user:pw@h5.example.com/pay', 'https://:pw@h5.example.com/']) {
    assert.match(pageProblem(page, DOMAINS) ?? '', /has a user name or password before its host/, page)
    assert.match(pageProblem(page, DOMAINS, 'to') ?? '', /has a user name or password before its host/, page)
  }
  // The other way round it is another host: refused too.
  assert.ok(pageProblem('https://h5.example.com@evil.example.net/', DOMAINS, 'to'))
})

test('any other page is refused, saying which host and path were asked for and what is configured', () => {
  const refused = pageProblem('https://evil.example.net/pay', DOMAINS)
  assert.match(refused ?? '', /^"evil\.example\.net\/pay" is not under the account's page domains \(h5\.example\.com, shop\.example\.com\/mp\): add it to accounts\[\]\.pageDomains/)
  // The whole host: a subdomain or a parent is another domain, as in the console.
  assert.ok(pageProblem('https://a.h5.example.com/', DOMAINS))
  assert.ok(pageProblem('https://example.com/', DOMAINS))
  // A host that only starts like one.
  assert.ok(pageProblem('https://h5.example.com.evil.net/', DOMAINS))
  // Outside the entry's path.
  assert.ok(pageProblem('https://shop.example.com/other', DOMAINS))
})

test('what is no page URL is refused with what to pass', () => {
  assert.match(pageProblem(undefined, DOMAINS) ?? '', /^no url: pass the page's own URL, location\.href\.split\('#'\)\[0\], as \?url=$/)
  assert.match(pageProblem('', DOMAINS) ?? '', /^no url/)
  assert.match(pageProblem('/pay', DOMAINS) ?? '', /is not a full URL/)
  assert.match(pageProblem('ftp://h5.example.com/', DOMAINS) ?? '', /is not http\(s\)/)
  assert.match(pageProblem('javascript:alert(1)', DOMAINS) ?? '', /is not http\(s\)/)
  assert.match(pageProblem('https://h5.example.com:8443/', DOMAINS) ?? '', /has a port: the console's JS接口安全域名 take none/)
  assert.match(pageProblem(`https://h5.example.com/?q=${'x'.repeat(MAX_PAGE_URL)}`, DOMAINS) ?? '', /over 4096/)
})

test("CORS: a page's origin on the account's hosts, exactly; nothing else", () => {
  assert.equal(isPageOrigin('https://h5.example.com', DOMAINS), true)
  assert.equal(isPageOrigin('https://shop.example.com', DOMAINS), true)
  for (const origin of [undefined, '', 'null', 'https://h5.example.com.evil.net', 'https://evil.net', 'https://h5.example.com:8443', 'https://h5.example.com/', 'ftp://h5.example.com', 'not a url']) {
    assert.equal(isPageOrigin(origin, DOMAINS), false, String(origin))
  }
})

test('the setting takes hosts and host/paths as the console does, not URLs', () => {
  for (const ok of ['h5.example.com', 'h5-1.example.com/mp', 'a.b.c.example.cn/x/y', 'shop.example.com/a_b.c~d/']) assert.match(ok, PAGE_DOMAIN)
  // A path the browser would write otherwise (商城 as %E5..., \\ as /) could never match a page: refused at load.
  for (const bad of ['https://h5.example.com', 'h5.example.com:8080', 'localhost', 'h5.example.com?x=1', 'h5 .example.com', '', '1.2.3.4', 'shop.example.com/商城', 'shop.example.com/a\\b', 'shop.example.com/a%20b']) {
    assert.doesNotMatch(bad, PAGE_DOMAIN, bad)
  }
})
