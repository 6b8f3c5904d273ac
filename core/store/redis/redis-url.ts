/**
 * A Redis URL's shape, before any connection: the configuration check (so every command refuses it as a
 * setting) and the store's connect (which also serves callers that skip the configuration) both read it here.
 */

/** The URL's database ('' when it names none), or why it is not a URL to connect with. */
export type RedisUrlShape = { ok: true; database: string } | { ok: false; problem: string }

export function readRedisUrl(url: string): RedisUrlShape {
  let protocol = ''
  let database = ''
  try {
    const parsed = new URL(url)
    protocol = parsed.protocol
    // The path's number, else `?db=` (ioredis reads both, the path first). Not decoded: a digit needs none.
    database = parsed.pathname.replace(/^\//, '') || (parsed.searchParams.get('db') ?? '')
  } catch {
    // not a URL at all: no protocol
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') return { ok: false, problem: 'not a redis:// or rediss:// URL' }
  // ioredis would send `SELECT NaN` and leave its rejection unhandled (the process died with a stack).
  if (database !== '' && !/^\d+$/.test(database)) return { ok: false, problem: `the database in the URL is ${JSON.stringify(database)}, not a number (redis://host:6379/0)` }
  return { ok: true, database }
}
