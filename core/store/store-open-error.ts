/**
 * A store that cannot be opened at start-up (unreadable file, not a database, newer schema,
 * unreachable server). Opening is the one place a store throws: without state the engine must not start,
 * and the message names the file or URL so the operator knows where to look.
 */
import type { ErrorCode } from '../errors.ts'

export class StoreOpenError extends Error {
  readonly code: ErrorCode = 'STORE_UNAVAILABLE'
  override readonly name = 'StoreOpenError'

  /**
   * Whether trying again later may succeed without a change to the settings: a Redis server not (yet)
   * reachable, a data directory still held by the engine being replaced. The start exits 1 for these and 2
   * for the rest, so a supervisor restarts the one and not the other.
   */
  readonly transient: boolean

  constructor(
    readonly location: string,
    readonly reason: string,
    options?: { cause?: unknown; transient?: boolean },
  ) {
    super(`cannot open store at ${location}: ${reason}`, options)
    this.transient = options?.transient ?? false
  }
}
