/**
 * Who sent a request: the connection's address, or behind reverse proxies (`trustProxy`) the address the
 * outermost of them saw.
 *
 * Each proxy appends the address it was reached from to X-Forwarded-For, so with `proxies` of them in front
 * the entry that many places from the end is the one the first proxy wrote: the client's. Everything before
 * it is whatever the client sent itself, and trusting it would let anyone name any address (a fresh one per
 * request, to dodge a per-client allowance). Koa's `maxIpsCount` reads the header the same way; it is not
 * used here because turning on Koa's `proxy` would also make `ctx.host` follow X-Forwarded-Host.
 *
 * An entry with a port (`203.0.113.9:4711`, `[2001:db8::1]:4711`, as some load balancers write) is the
 * address without it. With fewer entries than proxies (a request that skipped the outer ones) the first entry
 * is taken; with no header, the connection's address.
 */
import type Koa from 'koa'

/** `trustProxy` as a count: false none, true one (nginx), a number that many (a CDN, then nginx: 2). */
export function proxiesInFront(trustProxy: boolean | number): number {
  return trustProxy === true ? 1 : trustProxy === false ? 0 : trustProxy
}

export function clientAddress(ctx: Pick<Koa.Context, 'get' | 'socket'>, proxies: number): string {
  const connection = ctx.socket.remoteAddress ?? ''
  if (proxies <= 0) return connection
  const header = ctx.get('X-Forwarded-For')
  if (header === '') return connection
  const entries = header.split(',')
  const entry = entries[Math.max(0, entries.length - proxies)]!.trim()
  return entry === '' ? connection : withoutPort(entry)
}

function withoutPort(entry: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(entry)
  if (bracketed) return bracketed[1]!
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry)
  return v4 ? v4[1]! : entry
}
