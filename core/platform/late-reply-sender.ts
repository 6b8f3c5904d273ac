/**
 * Replies that missed WeChat's 5 s window: the message was answered `success` and its reply goes out
 * through the customer-service message API, within 48 h of the user's last interaction (protocol.md §5, §6).
 *
 * Every reply is first recorded in the outbox (pending), then sent; the entry ends `sent`, `failed` (with
 * the reason) or, when the process shuts down mid-retry, stays `pending` with its lastError. Nothing is
 * dropped without an outbox entry and a log line carrying `code` and `reason`.
 *
 * Which failures are retried (with exponential backoff and jitter):
 *   - no errcode: timeout, network failure, HTTP 5xx, non-JSON answer. A timed-out send may in fact have
 *     been delivered, so a retry can duplicate it; losing the reply is judged worse.
 *   - -1 system busy; 45011 per-minute API quota (lifts within the backoff window).
 *   - 40001 / 40014 / 42001 from the send: the token was already refreshed and the call retried once
 *     (withToken); a later attempt starts with a token from the store again, e.g. after another instance's
 *     refresh. The token API's own refusals that only a setting changes (its 40001 is a wrong AppSecret)
 *     carry that `setting` and are final.
 *   - STORE_UNAVAILABLE (the token store could not be read: Redis away). Not counted against the attempts:
 *     retried with the capped backoff for as long as the store is away, within the 48 h window, since an
 *     outage longer than the backoff's ~70 s must not turn a reply into a failure.
 * Everything else is final at once, notably 45015 (48 h window closed), 45047 (the per-interaction
 * message quota: only the user writing again reopens it, not waiting minutes), 45009 (daily quota, resets
 * at midnight), 40003 (bad openid), 43004 (unsubscribed), 48001 (no permission), 40007/47001/45008 (bad
 * message), 40013/40125 (bad AppID/AppSecret), and replies that cannot go out late at all
 * (transfer_customer_service).
 */
import type { EngineError, Result } from '../errors.ts'
import { fail, ok } from '../errors.ts'
import { createLineBudget, type LineBudget } from '../log/line-budget.ts'
import type { Logger } from '../log/logger.ts'
import type { JsonValue, PlatformApi } from '../plugin/plugin-api.ts'
import type { Reply } from '../reply/reply-types.ts'
import type { Outbox, OutboxEntry } from '../store/store.ts'
import { engineErrorOf } from './platform-api.ts'

export const TRANSIENT_ERRCODES: ReadonlySet<number> = new Set([-1, 45011, 40001, 40014, 42001])

export function isTransientError(error: EngineError): boolean {
  if (error.code === 'STORE_UNAVAILABLE') return true
  if (error.code !== 'API_ERROR') return false
  // The token API's 40001 is a wrong AppSecret, not the send API's rejected token: held by the token
  // manager for a minute, so 8 tries would only end the same way ~90 s later.
  if (error.setting !== undefined) return false
  return error.errcode === undefined || TRANSIENT_ERRCODES.has(error.errcode)
}

export interface RetryPolicy {
  /**
   * Tries in all, the first included; default 8: with the default delays about a minute of retries
   * (1, 2, 4, 8, 16, 30, 30 s, each jittered to 50-100 %), so a platform hiccup of that long loses no reply.
   */
  attempts?: number
  /** Delay before the 2nd try; doubles each time; default 1000 ms. */
  baseDelayMs?: number
  /** Cap of one delay; default 30 000 ms. */
  maxDelayMs?: number
}

export interface LateReplySenderOptions {
  /** The account's PlatformApi; undefined (or a throw) for an unknown account. */
  api: (account: string) => PlatformApi | undefined
  outbox: Outbox
  log: Logger
  /** The budget for lines that come once per reply (log/line-budget.ts): a slow plugin makes every reply late. */
  lines?: LineBudget
  retry?: RetryPolicy
  sleep?: (ms: number) => Promise<void>
  /** In [0, 1), for the jitter; default Math.random. */
  random?: () => number
  now?: () => number
  /** A send ended: sent, or failed for good with why (not called for one left pending at shutdown). For metrics and the test kit. */
  onSettled?: (settled: LateReplySettled) => void
  /**
   * Resolves once what the caller wrote about a reply before handing it over is durable: awaited after the
   * reply's outbox entry is written and before its first try. The engine's: the message log's row saying the
   * reply was handed over (store.log.committed). Sent at once, the try could reach the platform within the
   * turn, before the turn's journal write: a kill -9 then left the row out, and the log said the message was
   * answered late and then that its reply failed, with nothing between (a CI run). Never rejects.
   */
  beforeFirstTry?: () => Promise<void>
}

export interface LateReplySettled {
  account: string
  openId: string
  /** The message the reply answers (its dedup key); absent for one resumed from an outbox entry written before it was kept. */
  key?: string
  /** The reply itself (its type for the metrics; the test kit finds the platform's record of it). */
  reply: Reply
  outcome: 'sent' | 'failed'
  /** Why it failed: `code: reason`, as in its outbox entry. */
  error?: string
  /** When the reply was handed over (its outbox entry's time): the message's log rows were written then. */
  recordedAt: number
}

export interface DrainResult {
  /** True when every send finished within the timeout. */
  drained: boolean
  /** Sends still running at the timeout (their outbox entries stay pending). */
  pending: number
}

export interface LateReplySender {
  /**
   * Resolves once the reply is recorded in the outbox (never rejects); delivery and retries carry on in
   * the background. A `none` reply has nothing to send and is ignored. `msgKey`, the message it answers,
   * goes into the send's log lines and its onSettled. `settled`: told how this send ended (sent, or failed
   * for good), after the sender's own onSettled; not when it is left pending at shutdown.
   */
  send(account: string, openId: string, reply: Reply, msgKey?: string, settled?: (s: LateReplySettled) => void): Promise<void>
  /**
   * At start-up: take up the outbox entries a previous run left pending (stopped mid-retry, or killed), so
   * nothing recorded is lost. Entries past the platform's 48 h window are marked failed instead. Returns how
   * many were taken up. `settled`: told how each ended (sent, or failed for good, the expired ones too), after
   * onSettled, as send's is: the engine's `settled` of the run that handed the reply over is gone with it.
   */
  resumePending(settled?: (s: LateReplySettled) => void): Promise<number>
  /** Resolves when no send is in flight (for tests). */
  idle(): Promise<void>
  /** Shutdown: cut retry waits short, let running calls finish, wait at most `timeoutMs`. */
  drain(timeoutMs: number): Promise<DrainResult>
  readonly inFlight: number
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
/** The platform refuses customer-service messages 48 h after the user's last message (45015). */
const WINDOW_MS = 48 * 3_600_000

export function createLateReplySender(opts: LateReplySenderOptions): LateReplySender {
  const { outbox, log } = opts
  const lines = opts.lines ?? createLineBudget(log)
  // For the lines that are a reply's only record (its outbox entry could not be written): never held back.
  const unbudgeted: Pick<LineBudget, 'info' | 'error'> = {
    info: (_key, fields, msg) => (log.info(fields, msg), true),
    error: (_key, fields, msg) => (log.error(fields, msg), true),
  }
  const attempts = Math.max(1, opts.retry?.attempts ?? 8)
  const baseDelayMs = opts.retry?.baseDelayMs ?? 1000
  const maxDelayMs = opts.retry?.maxDelayMs ?? 30_000
  const sleep = opts.sleep ?? defaultSleep
  const random = opts.random ?? Math.random
  const now = opts.now ?? Date.now
  const onSettled = opts.onSettled ?? (() => undefined)

  const tasks = new Set<Promise<void>>()
  let draining = false
  let wakeDrain!: () => void
  const drainStarted = new Promise<void>((resolve) => {
    wakeDrain = resolve
  })

  /** Equal jitter: half the exponential delay fixed, half random, so a burst of failures spreads out. */
  function backoff(failedAttempt: number): number {
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (failedAttempt - 1))
    return Math.round(exp / 2 + random() * (exp / 2))
  }

  async function trySend(account: string, openId: string, reply: Reply): Promise<Result<void>> {
    let api: PlatformApi | undefined
    try {
      api = opts.api(account)
    } catch (e) {
      // BAD_CONFIG (no appSecret) or UNKNOWN_ACCOUNT, as the platform says: final, not retried.
      return { ok: false, error: engineErrorOf(e) }
    }
    if (!api) return fail('UNKNOWN_ACCOUNT', `no platform API for account ${JSON.stringify(account)} (unknown account, or no appSecret configured)`)
    try {
      await api.sendToUser(openId, reply)
      return ok(undefined)
    } catch (e) {
      return { ok: false, error: engineErrorOf(e) }
    }
  }

  /** Writes the patch to the reply's outbox entry; false when it has none or the write failed. */
  async function update(id: number | undefined, patch: Partial<OutboxEntry>, ctx: Record<string, unknown>): Promise<boolean> {
    if (id === undefined) return false
    try {
      await outbox.update(id, patch)
      return true
    } catch (e) {
      lines.error('late reply bookkeeping', { ...ctx, code: 'STORE_UNAVAILABLE', reason: `outbox update failed: ${engineErrorOf(e).reason}` }, 'late reply bookkeeping failed')
      return false
    }
  }

  async function deliver(
    account: string,
    openId: string,
    reply: Reply,
    recorded: () => void,
    msgKey: string | undefined,
    existing?: { id: number; attempts: number; at: number },
    settled?: (s: LateReplySettled) => void,
  ): Promise<void> {
    const settle = (s: LateReplySettled): void => {
      onSettled(s)
      settled?.(s)
    }
    const ctx: Record<string, unknown> = { account, openId, key: msgKey, replyType: reply.type }
    let id: number | undefined = existing?.id
    const at = existing?.at ?? now()
    if (id === undefined) {
      try {
        id = await outbox.record({ account, openId, msgKey, reply: reply as unknown as JsonValue, attempts: 0, status: 'pending', at })
      } catch (e) {
        // Sending still beats losing the reply; the log line is the record.
        unbudgeted.error('late reply not recorded', { ...ctx, code: 'STORE_UNAVAILABLE', reason: `outbox record failed: ${engineErrorOf(e).reason}` }, 'late reply not recorded; sending anyway')
      }
    }
    if (id !== undefined) ctx.outboxId = id
    recorded()
    // A reply resumed from the outbox had its rows written by the run that handed it over.
    if (existing === undefined && opts.beforeFirstTry) await opts.beforeFirstTry()
    // As a passive reply cut to its limit is (reply-xml.ts): said once, not on every retry.
    if (reply.type === 'news' && reply.articles.length > 1 && existing === undefined) {
      lines.warn('late news cut', { ...ctx, articles: reply.articles.length }, `late news reply: the customer-service API takes one article, so only the first of ${reply.articles.length} is sent`)
    }

    // Tries that reached the platform, against `attempts`; tries stopped by an unreachable store do not count.
    let platformTries = 0
    for (let attempt = (existing?.attempts ?? 0) + 1; ; attempt++) {
      const r = await trySend(account, openId, reply)
      if (r.ok) {
        // How it ended is in the outbox, or else only in this line.
        const said = (await update(id, { status: 'sent', attempts: attempt }, ctx)) ? lines : unbudgeted
        said.info('late reply sent', { ...ctx, attempts: attempt }, 'late reply sent')
        settle({ account, openId, key: msgKey, reply, outcome: 'sent', recordedAt: at })
        return
      }
      const { code, reason, errcode } = r.error
      const lastError = `${code}: ${reason}`
      const transient = isTransientError(r.error)
      if (code !== 'STORE_UNAVAILABLE') platformTries++
      const windowClosed = now() - at > WINDOW_MS
      if (!transient || platformTries >= attempts || windowClosed) {
        const final = windowClosed && transient ? `${lastError} (and the 48 h window has closed)` : lastError
        const said = (await update(id, { status: 'failed', attempts: attempt, lastError: final }, ctx)) ? lines : unbudgeted
        said.error(`late reply failed ${code}`, { ...ctx, code, reason, errcode, attempts: attempt, transient }, 'late reply failed')
        settle({ account, openId, key: msgKey, reply, outcome: 'failed', error: final, recordedAt: at })
        return
      }
      await update(id, { attempts: attempt, lastError }, ctx)
      if (draining) {
        lines.warn('late reply left pending', { ...ctx, code, reason, errcode, attempts: attempt }, 'late reply left pending at shutdown')
        return
      }
      const delayMs = backoff(attempt)
      lines.warn(`late reply retrying ${code}`, { ...ctx, code, reason, errcode, attempt, retryInMs: delayMs }, 'late reply attempt failed; retrying')
      await Promise.race([sleep(delayMs), drainStarted])
      if (draining) {
        lines.warn('late reply left pending', { ...ctx, code, reason, errcode, attempts: attempt }, 'late reply left pending at shutdown')
        return
      }
    }
  }

  function send(
    account: string,
    openId: string,
    reply: Reply,
    msgKey?: string,
    existing?: { id: number; attempts: number; at: number },
    settled?: (s: LateReplySettled) => void,
  ): Promise<void> {
    if (reply.type === 'none') {
      log.debug({ account, openId }, 'late reply is none; nothing to send')
      return Promise.resolve()
    }
    return new Promise<void>((recorded) => {
      const task: Promise<void> = deliver(account, openId, reply, recorded, msgKey, existing, settled)
        .catch((e: unknown) => {
          // Budgeted: a bug here (a settled callback that throws) fails every late reply, a line each.
          lines.error('INTERNAL late reply', { account, openId, key: msgKey, code: 'INTERNAL', reason: engineErrorOf(e).reason, stack: e instanceof Error ? e.stack : undefined }, 'late reply sender bug')
        })
        .finally(() => {
          tasks.delete(task)
          recorded()
        })
      tasks.add(task)
    })
  }

  async function resumePending(settled?: (s: LateReplySettled) => void): Promise<number> {
    let taken = 0
    for (const entry of await outbox.list('pending')) {
      if (entry.id === undefined) continue
      // The message it answers, as its send before the restart named it (absent in entries from before msg_key).
      const ctx = { account: entry.account, openId: entry.openId, key: entry.msgKey, outboxId: entry.id }
      if (now() - entry.at > WINDOW_MS) {
        const lastError = 'EXPIRED: left pending past the 48 h customer-service window'
        // Budgeted as the other lines of a send whose outbox entry says how it ended: after a long stop the
        // outbox may hold thousands. Never held back when that entry could not be written.
        const said = (await update(entry.id, { status: 'failed', lastError }, ctx)) ? lines : unbudgeted
        said.error('late reply expired', { ...ctx, code: 'API_ERROR', reason: 'pending late reply expired (48 h window)' }, 'late reply failed')
        // Failed for good, as a send that ends so is: told, or wxengine_late_replies_total missed it, and
        // the message log its `failed` row.
        const expired: LateReplySettled = { account: entry.account, openId: entry.openId, key: entry.msgKey, reply: entry.reply as unknown as Reply, outcome: 'failed', error: lastError, recordedAt: entry.at }
        onSettled(expired)
        settled?.(expired)
        continue
      }
      // Budgeted: one line each for thousands of entries said nothing the total ('resumed pending late
      // replies', runtime.ts) and the entries' own lines do not.
      lines.info('late reply resuming', ctx, 'resuming a late reply left pending by the previous run')
      await send(entry.account, entry.openId, entry.reply as unknown as Reply, entry.msgKey, { id: entry.id, attempts: entry.attempts, at: entry.at }, settled)
      taken++
    }
    return taken
  }

  async function idle(): Promise<void> {
    while (tasks.size > 0) await Promise.allSettled([...tasks])
  }

  async function drain(timeoutMs: number): Promise<DrainResult> {
    draining = true
    wakeDrain()
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs)
    })
    const drained = await Promise.race([idle().then(() => true as const), timedOut])
    clearTimeout(timer)
    return { drained, pending: tasks.size }
  }

  return {
    send: (account, openId, reply, msgKey, settled) => send(account, openId, reply, msgKey, undefined, settled),
    resumePending,
    idle,
    drain,
    get inFlight() {
      return tasks.size
    },
  }
}
