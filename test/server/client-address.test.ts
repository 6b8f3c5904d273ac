/**
 * Who sent a request (core/server/client-address.ts): the connection, or behind `proxies` reverse proxies
 * the X-Forwarded-For entry the outermost one wrote, never one the client could have written itself.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { clientAddress, proxiesInFront } from '../../core/server/client-address.ts'

function request(forwardedFor: string | undefined, connection = '10.1.1.1') {
  return { get: (name: string) => (name.toLowerCase() === 'x-forwarded-for' ? (forwardedFor ?? '') : ''), socket: { remoteAddress: connection } } as Parameters<typeof clientAddress>[0]
}

test('no proxy trusted: the connection, whatever the header says', () => {
  assert.equal(clientAddress(request('203.0.113.9'), 0), '10.1.1.1')
  assert.equal(clientAddress(request(undefined), 0), '10.1.1.1')
})

test('one proxy: the last entry, the one the proxy appended; what the client wrote in front is passed over', () => {
  assert.equal(clientAddress(request('203.0.113.9'), 1), '203.0.113.9')
  assert.equal(clientAddress(request('6.6.6.6, 203.0.113.9'), 1), '203.0.113.9')
  assert.equal(clientAddress(request('6.6.6.6,203.0.113.9 '), 1), '203.0.113.9')
})

test('a chain of proxies: the entry as many places from the end as there are proxies', () => {
  // The client forged 6.6.6.6; the CDN appended the client (203.0.113.9); nginx appended the CDN (198.51.100.2).
  assert.equal(clientAddress(request('6.6.6.6, 203.0.113.9, 198.51.100.2'), 2), '203.0.113.9')
  assert.equal(clientAddress(request('6.6.6.6, 203.0.113.9, 198.51.100.2'), 3), '6.6.6.6')
  // Fewer entries than proxies (the outer ones skipped): the first entry.
  assert.equal(clientAddress(request('203.0.113.9'), 2), '203.0.113.9')
})

test('no header, or an empty entry where the client should be: the connection', () => {
  assert.equal(clientAddress(request(undefined), 1), '10.1.1.1')
  assert.equal(clientAddress(request('203.0.113.9, '), 1), '10.1.1.1')
})

test('an entry with a port is the address without it; IPv6 ones as written, bracketed or not', () => {
  assert.equal(clientAddress(request('203.0.113.9:4711'), 1), '203.0.113.9')
  assert.equal(clientAddress(request('[2001:db8::1]:4711'), 1), '2001:db8::1')
  assert.equal(clientAddress(request('[2001:db8::1]'), 1), '2001:db8::1')
  assert.equal(clientAddress(request('2001:db8::1'), 1), '2001:db8::1')
  // Not an address (a proxy that writes `unknown`): kept as written; the caller keys and cuts it.
  assert.equal(clientAddress(request('unknown'), 1), 'unknown')
})

test('trustProxy as a count: false none, true one, a number that many', () => {
  assert.equal(proxiesInFront(false), 0)
  assert.equal(proxiesInFront(true), 1)
  assert.equal(proxiesInFront(0), 0)
  assert.equal(proxiesInFront(2), 2)
})
