/** PX takes a positive integer: round a TTL up so an entry never lapses before its expiry time. */
export function toPx(ms: number): number {
  return Math.max(1, Math.ceil(ms))
}
