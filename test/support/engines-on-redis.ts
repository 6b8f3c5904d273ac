/**
 * Engines in this process (engine-harness.ts), each with its own temp data, on one throwaway redis-server
 * (redis-server.ts), as a fleet's instances share one Redis (docs/scaling.md); and a client of the test's own
 * on it (`admin`), to look at the keys and to take a user's lock as another instance would. The fleet tests
 * of the user's lock started this in the same lines, and each stopped it in its own.
 */
import { Redis } from 'ioredis'
import { startHarness, type Harness, type HarnessOptions } from './engine-harness.ts'
import { startRedisServer, type RedisServer } from './redis-server.ts'

export interface EnginesOnRedis {
  redis: RedisServer
  /** Started one after the other, all with the same options. */
  engines: Harness[]
  admin: Redis
  /** Disconnects `admin`, closes the engines, then stops the server. */
  close(): Promise<void>
}

/**
 * `count` engines with `opts`; the store is this server's Redis, with what `opts.config.store` adds to it
 * (a commandTimeoutMs). Whatever started is closed again if one of them does not start.
 */
export async function startEnginesOnRedis(count: number, opts: HarnessOptions): Promise<EnginesOnRedis> {
  const redis = await startRedisServer()
  const admin = new Redis(redis.url)
  const engines: Harness[] = []
  const close = async () => {
    admin.disconnect()
    await Promise.all(engines.map((e) => e.close()))
    await redis.stop()
  }
  const options: HarnessOptions = { ...opts, config: { ...opts.config, store: { ...opts.config?.store, kind: 'redis', url: redis.url } } }
  try {
    for (let i = 0; i < count; i++) engines.push(await startHarness(options))
  } catch (err) {
    await close()
    throw err
  }
  return { redis, engines, admin, close }
}
