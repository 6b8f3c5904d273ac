/**
 * What ioredis's socketTimeout costs (connect-redis.ts sets it, so that a silent connection is replaced):
 * a client with it and one without, side by side in one run against one throwaway redis-server, rounds
 * alternating which goes first; 64 concurrent auto-pipelined SETs, as the engine issues them under load.
 * Prints SETs/s per round, the medians and their ratio (with / without).
 *
 *   node --import tsx bench/redis-socket-timeout.bench.ts
 */
import { Redis } from 'ioredis'
import { startRedisServer } from '../test/support/redis-server.ts'
import { median } from './support/median.ts'

const server = await startRedisServer()
async function round(socketTimeout: number | undefined, n: number): Promise<number> {
  const c = new Redis(server.url, { enableAutoPipelining: true, commandTimeout: 1000, ...(socketTimeout ? { socketTimeout } : {}), lazyConnect: true })
  await c.connect()
  const t = performance.now()
  let next = 0
  const worker = async () => {
    while (next < n) {
      next++
      await c.set(`k${next % 1000}`, 'v', 'PX', 10000)
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker))
  const took = performance.now() - t
  c.disconnect()
  return (n / took) * 1000
}
const results: Record<string, number[]> = { off: [], on: [] }
for (let i = 0; i < 6; i++) {
  const order = i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)
  for (const which of order) results[which].push(await round(which === 'on' ? 3000 : undefined, 150_000))
}
console.log(JSON.stringify({ off: results.off.map(Math.round), on: results.on.map(Math.round), medianOff: Math.round(median(results.off)), medianOn: Math.round(median(results.on)), ratio: (median(results.on) / median(results.off)).toFixed(3) }))
await server.stop()
