/**
 * A store that cannot be opened at start-up (unreadable file, not a database, newer schema,
 * unreachable server). Opening is the one place a store throws: without state the engine must not start,
 * and the message names the file or URL so the operator knows where to look.
 */
import type { ErrorCode } from '../errors.ts'

export class StoreOpenError extends Error {
  readonly code: ErrorCode = 'STORE_UNAVAILABLE'
  override readonly name = 'StoreOpenError'

  constructor(
    readonly location: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot open store at ${location}: ${reason}`, options)
  }
}
