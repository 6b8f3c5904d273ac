/**
 * A message not routed because, at its reply budget, its user's lock in the shared store was still held by
 * that user's unsubscribe on another instance: its routing, then its clean-up deleting the user's session and
 * (log.purgeOnUnsubscribe) plugin data. Routed without the lock, as a message behind any other holder is, it
 * read half-deleted state, and what it wrote (a new follow's dialogue, its plugin data) the clean-up then
 * deleted. So it is answered `success` and dropped, with a line (engine.ts) and its `dropped` log entry.
 */
export class UnsubscribeRunningError extends Error {
  readonly code = 'UNSUBSCRIBE_RUNNING'
  constructor() {
    super("the user's unsubscribe still held their lock at the reply budget (its clean-up deleting their session and data on another instance): not routed, so that nothing it reads is half-deleted and nothing it writes is deleted after")
    this.name = 'UnsubscribeRunningError'
  }
}
