/**
 * One ioredis connection tuned for a webhook with a 5 s deadline (protocol.md §5): a command either
 * answers quickly or fails quickly, it is never queued while Redis is away and never resent after a
 * reconnect. Reconnecting happens in the background with a bounded backoff.
 *
 * - enableOfflineQueue: false      a command issued while disconnected rejects at once
 * - maxRetriesPerRequest: 0        commands in flight when the socket closes reject at once
 * - autoResendUnfulfilledCommands  false: a command whose reply was lost is not replayed later, when its
 *                                  caller has long given up (a late SET would overwrite newer data)
 * - commandTimeout                 a server that stops answering without closing the socket
 * - enableAutoPipelining           the commands issued in one event-loop turn (several messages' claims,
 *                                  locks and records under load) go out in one socket write: a write per
 *                                  command was 40 % of an instance's main thread (BENCHMARKS.md, fleet).
 *                                  ioredis sends one pipeline at a time, so a command issued behind one
 *                                  that hangs can take up to twice commandTimeout: what a message awaits is
 *                                  bounded by its own deadline besides (dedup/exactly-once.ts)
 * - socketTimeout                  a connection that went silent without closing (a peer or NAT entry gone
 *                                  without a RST) is dropped and replaced: otherwise every command on it
 *                                  timed out for the ~15 min the kernel takes to give up, and ioredis kept
 *                                  each in its queue (114 MB for 30,000 claims; a Redis review)
 */
import { Redis } from 'ioredis'
import type { Logger } from '../../log/logger.ts'
import { StoreOpenError } from '../store-open-error.ts'
import { readRedisUrl } from './redis-url.ts'

export interface RedisConnectionOptions {
  url: string
  log: Logger
  commandTimeoutMs: number
  /** Upper bound of the reconnect backoff. */
  maxReconnectDelayMs: number
  connectTimeoutMs: number
}

export interface RedisConnection {
  client: Redis
  /** A command not answered within this fails (twice this behind a pipeline that hangs: see above). */
  commandTimeoutMs: number
  /** Connected and past the ready check right now. */
  isReady(): boolean
  /** Runs each time the connection comes back after a loss. */
  onRecovered(listener: () => void): void
  /** Resolves true once ready (at once when it is), false after `ms` without it or when closing. */
  whenReady(ms: number): Promise<boolean>
  /** Safe to call twice. */
  close(): Promise<void>
}

const FIRST_RECONNECT_DELAY_MS = 50
/** A silent connection is replaced after this many command timeouts' worth of no data at all. */
const SOCKET_TIMEOUT_FACTOR = 3

/** The URL for messages: never print a password. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(not a URL)'
  }
}

/**
 * A command Redis refused that may be accepted later as it is: a full Redis (OOM), a replica not yet
 * promoted (READONLY), one loading its data or busy with a script. Not an ACL's NOPERM: that is a setting.
 */
export function refusalMayPass(err: unknown): boolean {
  return mayPass(err) || /^(OOM|READONLY|LOADING|BUSY|MASTERDOWN|TRYAGAIN)\b/.test(messageOf(err))
}

/** Network failures that may pass by themselves: Redis not (yet) up or reachable, or not answering in time. */
const MAY_PASS_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE'])

/**
 * Whether a failed connect may succeed later as it is (the start exits 1 and is restarted), or Redis
 * refused the settings (a wrong password, a database it does not have, a TLS mismatch: exit 2).
 */
function mayPass(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code !== undefined && MAY_PASS_CODES.has(code)) return true
  // Our own deadline, a command not answered in time, a connection silent for socketTimeout, ioredis giving
  // up on a dropped socket, a server still loading its data.
  return /^no answer within|^Command timed out|^Socket timeout|Connection is closed|^LOADING/.test(messageOf(err))
}

/**
 * Whether a command that failed may still have run, or still run, on Redis: the client stopped waiting (the
 * command timeout), or the connection closed with it sent (ioredis then gives up on it: "max retries per
 * request", with retries off). One refused, or never sent (the connection was already down: no offline
 * queue), surely did nothing.
 */
export function mayHaveRun(err: unknown): boolean {
  return /Command timed out|Connection is closed|max retries per request/.test(messageOf(err))
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name
  return String(err)
}

/** Connects and PINGs; rejects with a StoreOpenError naming the URL and the cause, leaving nothing running. */
export async function connectRedis(opts: RedisConnectionOptions): Promise<RedisConnection> {
  const shownUrl = redactRedisUrl(opts.url)
  const shape = readRedisUrl(opts.url)
  if (!shape.ok) throw new StoreOpenError(shownUrl, shape.problem)
  const { database } = shape

  const client = new Redis(opts.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableAutoPipelining: true,
    commandTimeout: opts.commandTimeoutMs,
    // No byte for this long while commands wait: the connection is gone, whatever the socket says.
    socketTimeout: SOCKET_TIMEOUT_FACTOR * opts.commandTimeoutMs,
    connectTimeout: opts.connectTimeoutMs,
    retryStrategy: (attempt) => Math.min(FIRST_RECONNECT_DELAY_MS * 2 ** Math.min(attempt - 1, 16), opts.maxReconnectDelayMs),
  })

  let lastError: Error | undefined
  // Without a listener ioredis prints every failed reconnect attempt to the console.
  // A server that does not speak Redis (an HTTP or SSH port) answers with a protocol error, then the PING
  // fails on the closed stream: that later error said nothing of why ("Stream isn't writeable").
  let notRedis: Error | undefined
  client.on('error', (err: Error) => {
    lastError = err
    if (/^Protocol error\b/.test(err.message)) notRedis ??= err
  })

  let timer: NodeJS.Timeout | undefined
  try {
    // Our own deadline as well: a server that accepts TCP but never finishes the handshake (wrong
    // protocol, AUTH trouble) would otherwise keep connect() pending.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${opts.connectTimeoutMs} ms`)), opts.connectTimeoutMs + 100)
    })
    await Promise.race([client.connect(), deadline])
    await Promise.race([client.ping(), deadline])
    // ioredis selects the URL's database on connect but only emits an 'error' when Redis refuses it, and
    // then works on database 0: a mistyped number would share another deployment's keys. Asked again here,
    // a refusal stops the start.
    if (database !== '' && database !== '0') await Promise.race([client.select(Number(database)), deadline])
  } catch (err) {
    client.disconnect()
    if (notRedis) {
      throw new StoreOpenError(shownUrl, `the server there does not speak Redis (it answered ${JSON.stringify(/got "(.*?)"/.exec(notRedis.message)?.[1] ?? '?')} where a Redis reply begins): a wrong port?`, { cause: notRedis })
    }
    const cause = lastError ?? err
    throw new StoreOpenError(shownUrl, `Redis: ${messageOf(cause)}`, { cause, transient: mayPass(cause) })
  } finally {
    clearTimeout(timer)
  }

  let up = true
  let lostAt = 0
  let closing = false
  /**
   * This connection's SELECT was refused (a Redis restarted with fewer databases): ioredis says so in an
   * 'error' and carries on, in database 0, where another deployment's keys may be. The connection is dropped
   * before it is ready and tried again later; the start refuses the same (above).
   */
  let wrongDatabase = false
  client.on('connect', () => {
    wrongDatabase = false
  })
  /** Why reconnecting fails, as said in the log this outage: each reason once (a password changed: NOAUTH). */
  const saidReasons = new Set<string>()
  const recoveredListeners: Array<() => void> = []
  // The outage's first line says why the connection went ("connection closed" when Redis dropped it); why
  // it cannot come back is another matter (a password changed, a server refusing clients), and used to be
  // said nowhere. Each new reason while down gets one line.
  client.on('error', (err: Error) => {
    if (closing) return
    if (!wrongDatabase && /DB index is out of range|invalid DB index/i.test(messageOf(err))) {
      wrongDatabase = true
      client.disconnect(true)
    }
    if (up) return
    const reason = messageOf(err)
    // Our own commands refused while down (no offline queue) say nothing about why the reconnect fails.
    if (/^Stream isn't writeable/.test(reason)) return
    // A few distinct reasons at most; a server answering something new on every attempt is not one more line each.
    if (saidReasons.has(reason) || saidReasons.size >= 5) return
    saidReasons.add(reason)
    opts.log.warn({ code: 'STORE_UNAVAILABLE', reason, url: shownUrl }, 'redis reconnect failing')
  })

  // ioredis emits close/error for every failed reconnect attempt; the log gets one line per outage.
  client.on('close', () => {
    if (closing || !up) return
    up = false
    lostAt = Date.now()
    opts.log.warn(
      { code: 'STORE_UNAVAILABLE', reason: lastError ? messageOf(lastError) : 'connection closed', url: shownUrl },
      'redis connection lost; store commands fail fast until it is back',
    )
  })
  client.on('ready', () => {
    if (closing || up || wrongDatabase) return
    up = true
    opts.log.info({ url: shownUrl, downMs: Date.now() - lostAt }, 'redis connection recovered')
    lastError = undefined
    saidReasons.clear()
    for (const listener of recoveredListeners) listener()
  })

  return {
    client,
    commandTimeoutMs: opts.commandTimeoutMs,
    isReady: () => !closing && client.status === 'ready',
    onRecovered(listener) {
      recoveredListeners.push(listener)
    },
    whenReady(ms) {
      if (closing) return Promise.resolve(false)
      if (client.status === 'ready' && !wrongDatabase) return Promise.resolve(true)
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          client.off('ready', onReady)
          resolve(false)
        }, ms)
        // Registered after the 'ready' listener above, so a wrong database has been seen (and dropped) first.
        function onReady(): void {
          if (wrongDatabase) return
          clearTimeout(timer)
          client.off('ready', onReady)
          resolve(true)
        }
        client.on('ready', onReady)
      })
    },
    async close() {
      if (closing) return
      closing = true
      if (client.status === 'ready') {
        try {
          await client.quit()
          return
        } catch {
          // fall through: drop the socket instead
        }
      }
      client.disconnect()
    },
  }
}
