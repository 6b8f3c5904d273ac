/**
 * One message, from request to reply, top to bottom:
 *
 *   receive   -> the server hands us { method, accountId, query, body }        (core/receive)
 *   verify    -> replay window, signature, AES decrypt, AppId                   (core/verify)
 *   normalize -> the flat typed InboundMessage                                  (core/normalize)
 *   dedup     -> run once per message, replay the same bytes to retries         (core/dedup)
 *   route     -> session lock, text rules, type handlers, welcome/default      (core/route)
 *   reply     -> XML, encrypted when the request was; late replies via the API (core/reply, core/platform)
 *
 * `handle` never throws and never answers 500 for anything a client can send: errors become a status and
 * a log line with their code and reason.
 */
import type { AccountConfig, EngineConfig } from './config/config-types.ts'
import { createExactlyOnce, type ExactlyOnce } from './dedup/exactly-once.ts'
import { dedupKeyOf } from './dedup/dedup-key.ts'
import { createReplayMemory } from './dedup/replay-memory.ts'
import { httpStatusOf, isBug, type EngineError, type ErrorCode } from './errors.ts'
import type { Logger } from './log/logger.ts'
import { createLineBudget, type LineBudget } from './log/line-budget.ts'
import { createMessageRecorder } from './log/message-recorder.ts'
import { answersUserMessage, type InboundMessage, type MessageKind } from './normalize/message-types.ts'
import { normalizeMessage } from './normalize/normalize-message.ts'
import type { AccountInfo } from './plugin/plugin-api.ts'
import type { Generation, Generations } from './reload/generations.ts'
import { SUCCESS, type WireRequest, type WireResponse } from './receive/wire-types.ts'
import type { Reply } from './reply/reply-types.ts'
import { serializeReply } from './reply/reply-xml.ts'
import { sealReply } from './reply/seal-reply.ts'
import { routeMessage, textRulesRead, type AboutMessage, type RouteDeps, type RouteResult, type RouteSignal } from './route/router.ts'
import { REGEX_TEXT_MAX_LENGTH } from './route/rules/text-matcher.ts'
import { createUserQueue, waitForUserLock, withUserLock, type UserLock } from './route/user-queue.ts'
import { storageNamespacesOf, userKeyPrefix } from './plugin/storage-keys.ts'
import { UNSUBSCRIBING, type HeldUserLock, type MessageLogEntry, type SessionRecord, type Store, type StoredReply } from './store/store.ts'
import { LockLostError } from './store/lock-lost-error.ts'
import { UnsubscribeRunningError } from './route/unsubscribe-running-error.ts'
import { createAddresseeCheck } from './verify/addressee-check.ts'
import { verifyEndpoint, verifyPost, verifyPostBody, verifyPushQuery, type VerifiedAccount } from './verify/verify-request.ts'
import { createWeChatCipher } from './verify/wechat-cipher.ts'
import { quotedShort, shortened } from './shown-text.ts'

/** What the engine reports as it works; metrics and tests listen. */
export type EngineEvent =
  | { type: 'message'; entry: MessageLogEntry }
  | { type: 'rejected'; code: ErrorCode; status: number; account?: string }
  | { type: 'duplicate'; account: string; openId: string; key: string; waited: boolean }
  | { type: 'plugin_error'; plugin: string; code: ErrorCode }
  /**
   * The reply budget was spent: the message was answered `success` and its reply, if any, goes out late. Once
   * per message, when `success` is given; `plugin`: the one still working (none when the message waited for
   * its session or its user's lock, say). How it ends comes later: its `message` entry, and a `late_reply`.
   */
  | { type: 'budget_spent'; account: string; openId: string; key: string; plugin?: string }
  /** A late reply's send ended (from the platform's sender, not the engine); `key` is its message's, when it answers one. */
  | { type: 'late_reply'; account: string; openId: string; key?: string; reply: Reply; outcome: 'sent' | 'failed'; error?: string; recordedAt: number }
  /** A rule's inline reply names a media file the account has no media_id for: the message went on as after a failing plugin. */
  | { type: 'media_unavailable'; account: string; rule: string; file: string }
  /** An upload of a media file failed (at a load or a retry; from media-uploads.ts, not the engine): once per try, not per rule. */
  | { type: 'media_upload_failed'; account: string; file: string }

/** Sends a reply after the passive answer was already given (customer-service API). Never rejects. */
export interface LateReplies {
  /**
   * `msgKey`: the message it answers (its dedup key), carried into the sender's log lines and events.
   * `settled`: told once the send has ended (sent, or failed for good).
   */
  send(accountId: string, openId: string, reply: Reply, msgKey?: string, settled?: (s: { outcome: 'sent' | 'failed'; error?: string }) => void): Promise<void>
}

/**
 * How long a user's next message waits, after their earlier message's routing ended past the reply budget,
 * for that message's late reply to reach the platform (sent, or failed for good) before it is routed.
 * Without the wait the next message, answered passively in a millisecond, reached the user before the late
 * reply, still an HTTPS round trip away: a dialogue's next question shown above the answer to the last.
 * 2 s: a customer-service send is one round trip to the platform (well under a second as a rule), and after
 * a transient failure the sender's first retry comes 0.5 to 1 s later (late-reply-sender.ts, default
 * backoff), so the bound covers a send and, usually, its first retry. Longer, a slow platform or a send
 * retried for minutes would hold every later message of the user (their wait counts against their own
 * reply budget, 4.5 s by default). Past the bound the order of the two replies is not promised.
 */
export const LATE_REPLY_ORDER_BOUND_MS = 2_000

export interface EngineDeps {
  config: EngineConfig
  store: Store
  generations: Generations
  lateReplies: LateReplies
  log: Logger
  now?: () => number
  observe?: (event: EngineEvent) => void
  /** The budget of per-request and per-message lines, shared with the HTTP layer (log/line-budget.ts). */
  lines?: LineBudget
}

export interface Engine {
  handle(req: WireRequest): Promise<WireResponse>
  /**
   * A POST's account and query, checked before its body is read: the refusal to send (the same status, log
   * line and metric as `handle`'s), or undefined when the body is worth reading. A client without the token
   * is then answered at once, and cannot make the server hold a body of up to `maxBodyBytes` per connection
   * until the request timeout. `handle` does not check again the query passed here (the same object).
   */
  refuseBeforeBody(accountId: string | undefined, query: WireRequest['query']): WireResponse | undefined
  /**
   * Answers to messages come out together at the end of an event-loop turn already: they wait for the
   * message log's write, which the store makes once per turn. The server then need not hold them for a turn
   * again (a second turn of latency that measured slower, BENCHMARKS.md).
   */
  readonly answersAtTurnEnd: boolean
  /** Resolves when no message is being handled (late replies included); for graceful shutdown. */
  idle(): Promise<void>
}

function buildAccounts(accounts: AccountConfig[]): Map<string, VerifiedAccount> {
  const map = new Map<string, VerifiedAccount>()
  for (const config of accounts) {
    let cipher
    if (config.encodingAESKey) {
      const made = createWeChatCipher(config.encodingAESKey, config.appId)
      if (!made.ok) throw new Error(`account "${config.id}": ${made.error.reason}`)
      cipher = made.value
    }
    map.set(config.id, { config, cipher })
  }
  return map
}

export function createEngine(deps: EngineDeps): Engine {
  const { config, store, generations, log } = deps
  const now = deps.now ?? Date.now
  const observe = deps.observe ?? (() => undefined)
  const lines = deps.lines ?? createLineBudget(log)
  const accounts = buildAccounts(config.accounts)
  const limits = config.limits
  const waitForLog = config.log.retentionDays > 0 && config.log.commitBeforeAnswer
  const exactlyOnce: ExactlyOnce = createExactlyOnce({
    dedup: store.dedup,
    replyCacheMs: limits.replyCacheMs,
    // A claim outlives the slowest first delivery (budget) plus margin. A store across the network renews a
    // shorter one while the message runs, up to this (redis-dedup.ts), so that a dead claimer's lapses sooner.
    pendingTtlMs: limits.replyBudgetMs + 10_000,
    waitMs: limits.replyBudgetMs,
    fallback: SUCCESS,
    // The answer still goes out; a retry meanwhile (on another instance) may get `success` instead of it.
    // Whose answer (`about`: the account and user run() was given), as the message's other lines say it.
    onUnrecorded: (key, reason, about) => lines.warn('STORE_UNAVAILABLE unrecorded', { code: 'STORE_UNAVAILABLE', reason, ...about, key }, 'answer given but not recorded for retries yet'),
  })
  // Messages handled whose push could still be replayed: seen again past the reply cache, they are not run.
  const replays = createReplayMemory()
  const checkAddressee = createAddresseeCheck(log)
  const record = createMessageRecorder({
    messageLog: config.log.retentionDays > 0 ? store.log : null,
    log,
    now,
    onRecorded: (entry) => observe({ type: 'message', entry }),
  })
  // One user's messages are routed one at a time (a dialogue reads and writes the user's session); across a
  // fleet also under a lock in the shared store, held as long as a routing may run (budget, then a plugin).
  const userQueue = createUserQueue()
  // Called through the store each time rather than bound once: a test that holds a user's clean-up (its
  // fenced deletes come with the lock) wraps the store's lockUser after the engine is made.
  const lockUser: UserLock | undefined = store.sessions.lockUser ? (account, openId, ttlMs, forUnsubscribe) => store.sessions.lockUser!(account, openId, ttlMs, forUnsubscribe) : undefined
  let active = 0
  let idleWaiters: Array<() => void> = []
  const enter = () => void active++
  const leave = () => {
    if (--active === 0) {
      const waiters = idleWaiters
      idleWaiters = []
      for (const w of waiters) w()
    }
  }

  function reject(error: EngineError, accountId?: string): WireResponse {
    const status = httpStatusOf[error.code] ?? 500
    // A budget of lines per code and configured account: a flood at one account's URL (anyone can POST there)
    // must not hold back the first refusal of another (WeChat's pushes signed with a token changed in the
    // console, say). An id that names no account is the URL's, anyone's to choose: those share the code's.
    const key = accountId !== undefined && accounts.has(accountId) ? `${error.code} ${accountId}` : error.code
    lines.warn(key, { code: error.code, reason: error.reason, account: accountId, status }, `request refused: ${error.reason}`)
    observe({ type: 'rejected', code: error.code, status, account: accountId })
    return { status, contentType: 'text/plain; charset=utf-8', body: error.code }
  }

  async function handle(req: WireRequest): Promise<WireResponse> {
    enter()
    try {
      return await handleOrThrow(req)
    } catch (e) {
      // A bug of ours. WeChat must still get something it accepts, and the log must say what happened.
      // `reason` as every failure line has it (a search on it finds this one too); the stack in `err`.
      // The account as handleOrThrow took it: at /wechat the path names none, and the default one answered.
      const account = shortened(req.accountId ?? config.defaultAccount, 64)
      lines.error('INTERNAL', { code: 'INTERNAL', reason: e instanceof Error ? e.message : String(e), err: e, account }, 'internal error while handling a request')
      observe({ type: 'rejected', code: 'INTERNAL', status: 200, account })
      return SUCCESS
    } finally {
      leave()
    }
  }

  /** Queries refuseBeforeBody accepted: handle skips their check (a WeakSet, so only this engine can mark one). */
  const signedQueries = new WeakSet<WireRequest['query']>()

  function refuseBeforeBody(accountIdIn: string | undefined, query: WireRequest['query']): WireResponse | undefined {
    const accountId = accountIdIn ?? config.defaultAccount
    const account = accounts.get(accountId)
    if (!account) return unknownAccount(accountId)
    const signed = verifyPushQuery(account, query, Math.floor(now() / 1000), limits.timestampWindowSeconds)
    if (!signed.ok) return reject(signed.error, accountId)
    signedQueries.add(query)
    return undefined
  }

  function unknownAccount(accountId: string): WireResponse {
    // The id is whatever anyone put in the URL path: up to node's 16 KB of headers, which went into the line
    // three times (reason, account, msg), and control characters. Shown short and quoted as JSON.
    return reject({ code: 'UNKNOWN_ACCOUNT', reason: `no account ${quotedShort(accountId, 64)}` }, shortened(accountId, 64))
  }

  async function handleOrThrow(req: WireRequest): Promise<WireResponse> {
    const accountId = req.accountId ?? config.defaultAccount
    const account = accounts.get(accountId)
    if (!account) return unknownAccount(accountId)
    if (req.method === 'GET') {
      const echo = verifyEndpoint(account, req.query, Math.floor(now() / 1000), limits.timestampWindowSeconds)
      if (!echo.ok) return reject(echo.error, accountId)
      return { status: 200, contentType: 'text/plain; charset=utf-8', body: echo.value }
    }
    const started = performance.now()
    const trusted = signedQueries.has(req.query)
      ? verifyPostBody(account, req.query, req.body)
      : verifyPost(account, req.query, req.body, Math.floor(now() / 1000), limits.timestampWindowSeconds)
    if (!trusted.ok) return reject(trusted.error, accountId)
    if (trusted.value.compatibleAsPlain) noteCompatibleAsPlain(accountId)
    // As a plain body's (server/create-app.ts), under the same budget key.
    if (trusted.value.notUtf8 !== undefined) lines.warn('BODY_NOT_UTF8', { account: accountId, reason: trusted.value.notUtf8 }, `push body is not UTF-8: ${trusted.value.notUtf8}`)
    const normalized = normalizeMessage(trusted.value.fields)
    if (!normalized.ok) return reject(normalized.error, accountId)
    const message = normalized.value
    // Made before the lines below, which carry it as every line about one message does (its log entry and
    // its lines are found together): written before it, the regex line had none.
    const key = dedupKeyOf(accountId, message)
    checkAddressee(accountId, account.config.originalId, message.toUser, key)
    // A known type with a field that does not fit (Content repeated, a coordinate that is not a number) is
    // served on as `unknown`, keeping the reason; said here, or it passed as a no-reply nobody could explain.
    // Keyed on the type as looked up (trimmed: a reason is given only for a known type, so few keys), and
    // the type and event shown short: untrimmed, `text` with one more space each push got a budget of its
    // own, and a MsgType of a megabyte of spaces a line of a megabyte (a bad-input review).
    if (message.kind === 'unknown' && message.reason !== undefined) {
      const fields = { account: accountId, openId: message.fromUser, key, msgType: shortened(message.msgType, 64), event: message.event === undefined ? undefined : shortened(message.event, 64), reason: message.reason }
      lines.warn(`unfit ${message.msgType.trim().toLowerCase()}`, fields, `message kept as unknown: ${message.reason}`)
    }
    // The matcher skips the regexes (text-matcher.ts); said here, where the line budget is. The trim (as the
    // matcher's) only for a text already past the bound.
    const ruleText = textRulesRead(message)
    const longText = ruleText !== undefined && ruleText.length > REGEX_TEXT_MAX_LENGTH ? ruleText.trim().length : 0
    if (longText > REGEX_TEXT_MAX_LENGTH) {
      lines.warn('regex text too long', { account: accountId, openId: message.fromUser, key, length: longText, reason: `text longer than ${REGEX_TEXT_MAX_LENGTH} characters` }, `text longer than ${REGEX_TEXT_MAX_LENGTH} characters: rules' regex keywords are not tried on it (text-matcher.ts says why), their exact, prefix and contains keywords are`)
    }
    const nowSeconds = Math.floor(now() / 1000)
    // Handled before and no longer in the reply cache (within it, the cached answer is replayed as to a retry).
    const replayed = replays.seen(key, nowSeconds)
    let delivery
    try {
      delivery = exactlyOnce.run(
        key,
        replayed ? () => refuseReplay(accountId, message, key) : () => produce(account, message, trusted.value.encrypted, key, started),
        started + limits.replyBudgetMs,
        { account: accountId, openId: message.fromUser },
      )
      if (delivery instanceof Promise) delivery = await delivery
    } catch (e) {
      // The state store is unreachable: we cannot know whether this message already ran elsewhere, so we
      // neither run it (no double answers) nor hang past WeChat's 5 s. The loss is logged and counted.
      drop(accountId, message, key, started, e, 'dropped')
      // Its `dropped` entry is the only record of a message answered `success`, which WeChat will not send
      // again: durable before the answer, as every answered message's entry is (below). Without the wait a
      // kill -9 right after the answer lost it (a chaos review).
      if (waitForLog) await store.log.committed()
      return SUCCESS
    }
    // Remembered once answered, not before: a delivery that failed (its claim given up) runs again when retried.
    // A retry answered at once from the reply cache (the message was answered) is remembered under its own
    // timestamp too: a retry may come under a later query than the first try's, and captured, it outlived it.
    if (delivery.duplicate ? !delivery.waited : !replayed) rememberHandled(key, req.query.timestamp, nowSeconds)
    if (delivery.duplicate && delivery.gaveUp !== undefined) {
      // Another instance claimed the message and gave no answer this retry could replay: it is slow, stuck on
      // the store, or died mid-message (its claim lapses within seconds, and WeChat's next retry runs it).
      // The user may get nothing: never silent (a fleet review found it at debug).
      lines.warn(
        'duplicate gave up',
        { account: accountId, openId: message.fromUser, key, reason: delivery.gaveUp },
        "retry answered success without the first delivery's answer: the instance that claimed the message had not answered by the reply deadline (slow, stuck on the store, or stopped); if it stopped, its claim lapses and WeChat's next retry, if one comes, runs the message (docs/scaling.md)",
      )
    }
    if (!delivery.duplicate && delivery.tookOver) {
      // The first delivery's run failed, or its instance died (its claim lapsed): this retry ran the message.
      // Its side effects may have happened twice then (docs/scaling.md): said, never silent.
      lines.warn(
        'retry took over',
        { account: accountId, openId: message.fromUser, key },
        'retry ran the message itself: the instance that claimed it gave the claim up (its run failed) or let it lapse (it stopped, or lost the store)',
      )
    }
    if (delivery.duplicate) {
      if (delivery.gaveUp === undefined) log.debug({ account: accountId, openId: message.fromUser, key, waited: delivery.waited }, 'duplicate delivery answered from the reply cache')
      observe({ type: 'duplicate', account: accountId, openId: message.fromUser, key, waited: delivery.waited })
    }
    if (waitForLog) {
      // The message's log entry is durable before WeChat sees the answer (issue #4: after a kill -9 every
      // answered message is in the log). Batched by the store: one journal write serves every message of a turn.
      // A retry too: the answer it replays may be one given in this turn, still queued for the turn's write of
      // the reply journal (SQLite store); answered before it, a kill -9 right after lost it, and the retry
      // after the restart ran the message again. When nothing is queued this returns at once.
      await store.log.committed()
    }
    const r = delivery.reply
    return { status: r.status, contentType: r.contentType, body: r.body }
  }

  /**
   * How long past its timestamp a handled message is remembered: until no replay of its push can pass the
   * timestamp check and still reach replays.seen(). The check lets the window's last second in (timestamp-
   * window.ts), and it is made when the query arrives (refuseBeforeBody), before the body: one sent as slowly
   * as the request timeout lets it (which node checks once a second, http-server.ts) is looked up here that
   * much later. Remembered only for the window, a replay in its last second, or one whose body was dribbled
   * in from inside it, was run again.
   */
  const rememberedSeconds = limits.timestampWindowSeconds + 1 + Math.ceil(limits.requestTimeoutMs / 1000) + 1

  /** Remembers a message answered until no replay of its push can be accepted (verified an integer). */
  function rememberHandled(key: string, timestamp: string | undefined, nowSeconds: number): void {
    replays.remember(key, Number(timestamp ?? nowSeconds) + rememberedSeconds, nowSeconds)
    const forgotten = replays.overflowed()
    if (forgotten > 0) {
      lines.warn('replay memory full', { forgotten, held: replays.size }, 'replay memory full: handled messages were not remembered until older ones expire; a replay of one inside the window would run again')
    }
  }

  /** A push handled already, replayed past the reply cache: `success`, and a line saying so (dedup/replay-memory.ts). */
  function refuseReplay(accountId: string, message: InboundMessage, key: string): StoredReply {
    lines.warn('REPLAYED', { code: 'REPLAYED', account: accountId, openId: message.fromUser, key }, 'push refused as a replay: this message was handled inside the replay window and its answer is no longer cached; answered success, not run again')
    observe({ type: 'rejected', code: 'REPLAYED', status: 200, account: accountId })
    return SUCCESS
  }

  /** Plaintext accounts that were sent a compatible-mode push: said once each, the console and the configuration disagreeing. */
  const compatibleNoted = new Set<string>()
  function noteCompatibleAsPlain(accountId: string): void {
    if (compatibleNoted.has(accountId)) return
    compatibleNoted.add(accountId)
    log.warn(
      { account: accountId, mode: 'plaintext', pushes: 'compatible' },
      `account "${accountId}" is configured plaintext but WeChat sends in compatible mode (兼容模式 in the console): its pushes are read from their plain fields and answered in plain XML, which WeChat takes in that mode; set encodingAESKey and mode: compatible to take the encrypted copy`,
    )
  }

  /**
   * A message dropped because routing failed: the store away (`STORE_UNAVAILABLE`) or a bug of ours
   * (`INTERNAL`, with its stack). One line, and its message-log entry says so. `when`: at the door
   * (`dropped`), or after the budget, when it was already answered `success` and its first entry says
   * `late` (`after budget`: the store away under a message queued past its budget, say).
   */
  function drop(accountId: string, message: InboundMessage, key: string, started: number, e: unknown, when: 'dropped' | 'after budget'): void {
    if (e instanceof UnsubscribeRunningError) {
      // Not a failure: the engine's choice, while another instance deletes the user's data.
      lines.warn(`${e.code} ${accountId}`, { code: e.code, reason: e.message, account: accountId, key, openId: message.fromUser, kind: message.kind }, "message dropped: the user's unsubscribe clean-up still runs on another instance; answered success")
      record(accountId, message, key, undefined, 'dropped', started, `${e.code}: ${e.message}`)
      return
    }
    const bug = isBug(e)
    const code = bug ? 'INTERNAL' : 'STORE_UNAVAILABLE'
    const reason = e instanceof Error ? e.message : String(e)
    const said = when === 'after budget' ? 'routing failed after the budget' : bug ? 'message dropped: internal error' : 'message dropped: state store unavailable'
    lines.error(`${code} ${when}`, { code, reason, err: bug ? e : undefined, account: accountId, key, openId: message.fromUser }, said)
    record(accountId, message, key, undefined, 'dropped', started, `${code}: ${reason}`)
  }

  // What the router needs of a generation, made once per generation rather than once per message. The user
  // groups are the generation's (a reload reads them again): a message keeps those it started with.
  const routeDeps = new WeakMap<Generation, RouteDeps>()
  function routeDepsOf(generation: Generation): RouteDeps {
    let made = routeDeps.get(generation)
    if (!made) {
      made = { rules: generation.rules, plugins: generation.plugins, sessions: store.sessions, now, userGroups: generation.userGroups, onPluginError, onMediaUnavailable, onStoreError, onOrphanSessionKept, onSessionEndedMeanwhile, onReplyWithheld }
      routeDeps.set(generation, made)
    }
    return made
  }

  // The router's callbacks below get the message `about` as every engine line about one message names it
  // (account, openId, key), so the failure and its message's entry are found together. Its key is the one
  // handleOrThrow made, carried on the message's route signal (produce): not made again here.
  function onPluginError(plugin: string, error: EngineError, about: AboutMessage, heldLock = false): void {
    // A failing lock holder loses the lock (router.ts): the user's dialogue ends there, answers and all. Said in
    // the line, or "the bot forgot my order halfway" had nothing in the log to point at.
    const ended = heldLock ? "; it held the user's conversation, which is ended (its lock released: their next message goes down the rules)" : ''
    lines.warn(`${error.code} ${plugin}`, { code: error.code, reason: error.reason, plugin, ...about, lockReleased: heldLock || undefined }, `plugin ${plugin} failed: ${error.reason}${ended}`)
    observe({ type: 'plugin_error', plugin, code: error.code })
  }

  function onMediaUnavailable(rule: string, file: string, error: EngineError, about: AboutMessage): void {
    lines.warn(`${error.code} ${file}`, { code: error.code, reason: error.reason, rule, file, ...about }, `media file ${file} unavailable: ${error.reason}`)
    observe({ type: 'media_unavailable', account: about.account, rule, file })
  }

  function onStoreError(plugin: string, error: EngineError, about: AboutMessage): void {
    const why = error.code === 'LOCK_LOST' ? "this instance no longer holds the user's lock" : 'state store unavailable'
    lines.error(`${error.code} session`, { code: error.code, reason: error.reason, plugin, ...about }, `session not saved: ${why} (the reply goes out)`)
  }

  function onOrphanSessionKept(plugin: string, error: EngineError, about: AboutMessage): void {
    lines.warn(`${error.code} orphan session`, { code: error.code, reason: error.reason, plugin, ...about }, 'session of a plugin that is not loaded not deleted: state store unavailable (the message is answered without it; the next one tries again)')
  }

  function onSessionEndedMeanwhile(plugin: string, about: AboutMessage): void {
    lines.info(`session ended meanwhile ${plugin}`, { plugin, ...about }, `session of plugin ${plugin} ended while it answered (wxengine session end, or expired): its update is not saved, the dialogue stays ended (the reply goes out)`)
  }

  function onReplyWithheld(result: RouteResult, kind: MessageKind, about: AboutMessage): void {
    const by = result.plugin !== undefined ? `plugin ${result.plugin}` : result.rule !== undefined ? `rule "${result.rule}"` : result.handledBy
    const why = kind === 'unsubscribe' ? 'the user has unfollowed' : 'it is a report of the platform, not something a user said'
    // The reason as the message words it: `wxengine send` prints a reason after a message that does not say it.
    lines.warn(`withheld ${kind}`, { ...about, reason: why, kind, handledBy: result.handledBy, rule: result.rule, plugin: result.plugin, replyType: result.reply?.type }, `reply withheld: ${by} answered the ${kind} push, which no reply can reach (${why}); answered success`)
  }

  /**
   * Routes a message and turns the result into the answer. Synchronous when routing is (an inline reply,
   * the session store in this process): no budget timer, no promise. Otherwise routing races the budget.
   */
  function produce(
    account: VerifiedAccount,
    message: InboundMessage,
    encrypted: boolean,
    key: string,
    started: number,
  ): StoredReply | Promise<StoredReply> {
    const accountId = account.config.id
    const info: AccountInfo = { id: accountId, appId: account.config.appId, originalId: account.config.originalId }
    const lease = generations.acquire()
    const signal: RouteSignal = { budgetSpent: false, key }
    const user = `${accountId}\n${message.fromUser}`
    const route = routingOf(message, info, lease.generation, signal, user)
    const cleanUp = message.kind === 'unsubscribe' ? unsubscribeCleanUp(message, accountId, key, storageNamespacesOf(lease.generation.plugins), userLockTtlMs(lease.generation)) : undefined
    // Settled once this message's late reply, if it has one, has reached the platform (below); a fleet's lock
    // is kept until then when the budget was spent (an unsubscribe has no reply to send: its clean-up instead).
    // `budgetSpent` is read as routing ends: not spent by then, routing wins the race with the budget (no
    // timer runs between that and answerWithinBudget), and the message is answered in time.
    let handing: Promise<void> | undefined
    let routing: RouteResult | Promise<RouteResult>
    try {
      routing = userQueue.run(
        user,
        lockUser
          ? () => routeUnderFleetLock(accountId, message.fromUser, key, started, lease.generation, route, cleanUp ? cleanUp.run : () => (signal.budgetSpent ? handing : undefined), cleanUp !== undefined)
          : route,
      )
    } catch (e) {
      routed(user, signal)
      // The session lookup failed at once (the message is dropped, as the caller logs). An unsubscribe's
      // clean-up is still tried, as when the lookup fails later: the store may fail lookups only.
      if (cleanUp) userQueue.hold(user, cleanUp.run())
      lease.release()
      throw e
    }
    // The user's next message (a new follow) waits for the clean-up too, or it could find the old session.
    if (cleanUp) userQueue.hold(user, cleanUp.after(routing))
    if (!(routing instanceof Promise)) {
      routed(user, signal)
      lease.release()
      return answerOf(account, message, encrypted, key, started, routing)
    }
    // The user's next message also waits for this one's late reply, if it has one, to reach the platform
    // (LATE_REPLY_ORDER_BOUND_MS at most): answerWithinBudget settles `handedOver` on every path, at once
    // when the message is answered in time or late with nothing to send. Only here, where routing waits:
    // a synchronous routing (the hot path) is answered in time and allocates nothing for it.
    // A fleet's instances do not share the queue: there the user's lock is kept until then instead, when
    // the budget was spent (routeUnderFleetLock's `thenUnderLock` above), so the order holds across them too.
    let handedOver!: () => void
    handing = new Promise<void>((resolve) => (handedOver = resolve))
    userQueue.hold(user, handing)
    enter() // held until routing ends, even when that is after the passive answer (late reply)
    return answerWithinBudget(
      account,
      message,
      encrypted,
      key,
      started,
      signal,
      routing.finally(() => {
        routed(user, signal)
        lease.release()
        leave()
      }),
      handedOver,
    )
  }

  /**
   * Each user's message being routed now (`${account}\n${openId}`), by its signal: a message that spends its
   * budget queued behind it (user-queue.ts) says whose plugin it waited for. Without that, a newcomer saw a
   * working plugin answer late after a hung one and nothing pointed at the hung one (a newcomer's walkthrough).
   */
  const routingNow = new Map<string, RouteSignal>()
  function routed(user: string, signal: RouteSignal): void {
    if (routingNow.get(user) === signal) routingNow.delete(user)
  }

  /**
   * The routing of one message, as the user queue (and the fleet lock) calls it. Made here rather than as an
   * arrow bound to a name in produce: tsx and the binary's bundle (esbuild's keepNames) give every such
   * closure its name with Object.defineProperty, which cost 0.7 µs a message (1.7 % of the main thread in
   * bench/profile-server.ts). A returned arrow has no name to keep.
   */
  function routingOf(message: InboundMessage, info: AccountInfo, generation: Generation, signal: RouteSignal, user: string): (session?: SessionRecord | null, writes?: HeldUserLock['writes']) => RouteResult | Promise<RouteResult> {
    return (session, writes) => {
      routingNow.set(user, signal)
      return routeMessage(message, info, writes ? fencedDepsOf(generation, writes) : routeDepsOf(generation), signal, session)
    }
  }

  /**
   * The route deps of a message routed holding the user's lock in the shared store: its session writes go
   * through the lock's fenced ones, so that an instance paused past the lock's TTL cannot write the session
   * over the one the next holder wrote meanwhile (refused: LOCK_LOST, and the reply still goes out).
   */
  function fencedDepsOf(generation: Generation, writes: HeldUserLock['writes']): RouteDeps {
    return { ...routeDepsOf(generation), sessions: { ...store.sessions, put: writes.put, delete: writes.delete } }
  }

  /** How long a user lock is taken for: as long as a routing under it may run (see routeUnderFleetLock). */
  function userLockTtlMs(generation: Generation): number {
    return limits.replyBudgetMs + (generation.slowestPluginMs ?? limits.pluginTimeoutMs) + 1_000
  }

  /** Routing holding the user's lock in the shared store (a fleet), waited for until the reply budget. */
  function routeUnderFleetLock(
    accountId: string,
    openId: string,
    key: string,
    started: number,
    generation: Generation,
    route: (session: SessionRecord | null | undefined, writes?: HeldUserLock['writes']) => RouteResult | Promise<RouteResult>,
    thenUnderLock: (writes?: HeldUserLock['writes']) => Promise<unknown> | undefined,
    forUnsubscribe: boolean,
  ): Promise<RouteResult> {
    return withUserLock(
      lockUser!,
      accountId,
      openId,
      {
        // As long as a routing may run: the budget, then a plugin finishing late (its deadline as the
        // generation's settings give it: a reload may have raised a plugin's timeoutMs). An unsubscribe's
        // clean-up after it keeps the lock alive while it runs (withUserLock): its length has no bound known
        // here (a purge scans as many keys as the user has), and a fixed guess was outlived by a slow one.
        // So does the wait for a late reply to reach the platform (LATE_REPLY_ORDER_BOUND_MS at most).
        ttlMs: userLockTtlMs(generation),
        deadline: started + limits.replyBudgetMs,
        // Budgeted, per account: a lock whose release was lost is met by every message of its user until
        // it lapses, and one instance's slow plugin by every user it serves; unbudgeted, that was a line a
        // message. The message's key and a `reason`, as every per-message line has them.
        onNotHeld: () =>
          lines.warn(
            `lock not held ${accountId}`,
            { account: accountId, openId, key, reason: 'user lock still held at the reply budget' },
            "the user's lock was still held at the reply budget (another instance routing their earlier message, or a lock whose release was lost): routed without it",
          ),
        // The unsubscribe's lock says so: the user's next message on another instance is not routed through
        // its clean-up (route/unsubscribe-running-error.ts).
        forUnsubscribe,
        // Once routing has ended: the unsubscribe's clean-up, or a late reply on its way to the platform
        // (answered in time, or late with nothing to send: undefined, the lock released at once).
        thenUnderLock,
      },
      route,
    )
  }

  /**
   * Routing that has to wait (a plugin runs, or the session store is across the network) races the reply
   * budget; past it WeChat gets `success` at once and the reply goes out late through the API.
   */
  async function answerWithinBudget(
    account: VerifiedAccount,
    message: InboundMessage,
    encrypted: boolean,
    key: string,
    started: number,
    signal: RouteSignal,
    routing: Promise<RouteResult>,
    handedOver: () => void,
  ): Promise<StoredReply> {
    const accountId = account.config.id
    // `handedOver` is settled in two places only: this function's `finally` for every message that is not
    // answered late (routing failed or answered in time: nothing goes out late, the user's next message need
    // not wait), and the late handler's for one that is (below). `late` says which owns it.
    let late = false
    try {
      // Routing against the budget: one promise settled by whichever comes first (cheaper than Promise.race).
      let timer: NodeJS.Timeout | undefined
      let result: RouteResult | 'budget'
      try {
        result = await new Promise<RouteResult | 'budget'>((resolve, reject) => {
          // Whole milliseconds: node keeps one timer list per distinct duration, and a fractional one made a
          // list (and a priority-queue entry) per message.
          timer = setTimeout(resolve, Math.max(0, Math.floor(limits.replyBudgetMs - (performance.now() - started))), 'budget')
          routing.then(resolve, reject)
        })
      } finally {
        clearTimeout(timer)
      }
      if (result !== 'budget') return answerOf(account, message, encrypted, key, started, result)
      late = true
      return answerLate(accountId, message, key, started, signal, routing, handedOver)
    } finally {
      if (!late) handedOver()
    }
  }

  /**
   * The budget is spent before routing ended: WeChat gets `success` now, and the reply goes out late through
   * the customer-service API when the plugin finishes (protocol.md §5). `handedOver` is this function's to
   * settle, on every path: once the late reply's send has ended (or LATE_REPLY_ORDER_BOUND_MS has passed),
   * at once when there is nothing to send or routing failed. Nothing before its late handler is in place can
   * throw (a flag, a Map lookup, a count), so no path leaves it unsettled.
   */
  function answerLate(
    accountId: string,
    message: InboundMessage,
    key: string,
    started: number,
    signal: RouteSignal,
    routing: Promise<RouteResult>,
    handedOver: () => void,
  ): StoredReply {
    // WeChat gives up at 5 s and retries: no candidate after the running one is tried (router.ts).
    signal.budgetSpent = true
    const running = signal.running
    // Not routing yet: it waited behind this user's earlier message, whose plugin (if one runs) is named.
    const ahead = routingNow.get(`${accountId}\n${message.fromUser}`)
    const behind = ahead !== undefined && ahead !== signal ? (ahead.running?.plugin ?? '') : undefined
    // Held until the late reply is handed to the platform, so idle() (graceful shutdown) cannot resolve
    // in the gap between the plugin finishing and the send starting.
    enter()
    // Set once a send owns `handedOver` (its end, or the bound, settles it); otherwise the `finally` does.
    let sending = false
    void routing.then((late) => {
      // A reply to send: recorded with its type, and its outbox entry carries it from here (sent or failed).
      // A transfer to customer service goes to the sender too: only a passive reply can hand the user to the
      // agents, so the sender refuses it with the reason (an outbox entry, a `late reply failed` line, a
      // `failed` row). Kept from it, it was recorded as a quiet no_reply and the user waited for no one.
      if (late.reply && late.reply.type !== 'none') {
        // The user's next message waits until the send has ended, or for the bound: armed first, so that
        // whatever fails below (a send that throws, one left pending at shutdown, which is never told
        // settled) cannot hold the user's messages for good. Unref'd: it must not keep a process up.
        const bound = setTimeout(handedOver, LATE_REPLY_ORDER_BOUND_MS)
        bound.unref()
        sending = true
        record(accountId, message, key, late, 'late', started)
        // A send that fails for good (the 48 h window closed, no appSecret) adds a row saying so: the row
        // above says only that a reply was handed over. Log only: the metrics count it as a late reply failed.
        return deps.lateReplies.send(accountId, message.fromUser, late.reply, key, (s) => {
          clearTimeout(bound)
          handedOver()
          if (s.outcome === 'failed') record(accountId, message, key, late, 'failed', started, `late reply failed: ${s.error}`, 'log')
        })
      }
      // Nothing to send: the second entry says how the message ended (a plugin that failed: `failed`).
      record(accountId, message, key, late, !late.reply && late.errors.length > 0 ? 'failed' : 'no_reply', started)
    }, (e: unknown) => {
      drop(accountId, message, key, started, e, 'after budget')
    }).finally(() => {
      if (!sending) handedOver()
      leave()
    })
    // Recorded now, as every message is when it is answered: its entry is journaled before `success`
    // leaves (handleOrThrow waits for that). Recorded only when the plugin finished, a message whose
    // plugin outlived the process (kill -9, the OOM killer) was in neither the log nor the outbox.
    // Only once the late handler is in place (it settles `handedOver` and leaves on every path): this
    // throwing (a bug) must not hold the user's next messages, or idle(), for good.
    record(accountId, message, key, running && { ...running, reply: null, errors: [] }, 'late', started, undefined, 'log')
    // Says which plugin was slow and on whose message: the line is how an author learns that theirs was. Its
    // `reason`, as every line about a failed or delayed message has one; none running and none ahead: it
    // waited for what routing reads first (the user's session, or in a fleet their lock, in the state store).
    const why = running?.plugin
      ? `plugin ${running.plugin} is still working`
      : behind !== undefined
        ? `it waited behind this user's earlier message${behind ? `, whose plugin ${behind} is still working` : ''} (one user's messages run one at a time)`
        : "it waited for the user's session or lock in the state store"
    // A budget of lines per plugin: one slow plugin's flood must not hold back the first line of another
    // turning slow (its author's only word of it).
    lines.warn(
      `budget spent ${running?.plugin ?? ''}`,
      { account: accountId, openId: message.fromUser, key, reason: why, budgetMs: limits.replyBudgetMs, plugin: running?.plugin, rule: running?.rule, behindPlugin: behind || undefined },
      `reply budget spent: answered success; ${why}, the reply will go out late`,
    )
    // The line may be held (a budget of lines) or below the log level: what needs to know (metrics, `send
    // --local`'s hint) is told by the event, never by the line's wording.
    observe({ type: 'budget_spent', account: accountId, openId: message.fromUser, key, plugin: running?.plugin })
    return SUCCESS
  }

  /** The routed reply as the HTTP answer: serialized, sealed when the request was encrypted, recorded. */
  function answerOf(account: VerifiedAccount, message: InboundMessage, encrypted: boolean, key: string, started: number, result: RouteResult): StoredReply {
    const accountId = account.config.id
    if (!result.reply) {
      record(accountId, message, key, result, result.errors.length > 0 ? 'failed' : 'no_reply', started)
      return SUCCESS
    }
    const serialized = serializeReply(
      result.reply,
      { toUser: message.fromUser, fromUser: message.toUser, createTime: Math.floor(now() / 1000), answeringUserMessage: answersUserMessage(message) },
      limits,
    )
    // Whose reply was changed, as every per-message line says it: an operator reading "news reply cut" must
    // be able to find the user's message (`wxengine log --user`) and the rule or plugin that built it.
    // Budgeted per account and reply type: one account's flood must not hold back another's first line.
    for (const warning of serialized.warnings) {
      lines.warn(`reply ${result.reply.type} ${accountId}`, { account: accountId, openId: message.fromUser, key, replyType: result.reply.type, rule: result.rule, plugin: result.plugin, reason: warning }, warning)
    }
    if (serialized.xml === null) {
      record(accountId, message, key, result, 'no_reply', started)
      return SUCCESS
    }
    const body = encrypted ? sealReply(account, serialized.xml, Math.floor(now() / 1000)) : serialized.xml
    record(accountId, message, key, result, 'replied', started)
    return { status: 200, contentType: 'application/xml; charset=utf-8', body }
  }

  /**
   * A user who unsubscribes leaves any dialogue: their lock is released (after its plugin saw the event), so
   * a later subscribe starts fresh. Privacy: their plugin data can be purged too (log.purgeOnUnsubscribe).
   * Runs once routing has ended, however it ended, and once only; idle() waits for it from now.
   * In a fleet it runs holding the user's lock that routing took (`run`, handed to withUserLock), released
   * after it: run after the release, it raced the user's next message on another instance, which could read
   * the session it was deleting, write it back after, or have its own new dialogue deleted (a fleet review).
   * `after(routing)` runs it when routing held no lock (one instance; a lock never had: the store away).
   */
  function unsubscribeCleanUp(
    message: InboundMessage,
    accountId: string,
    key: string,
    namespaces: string[],
    lockTtlMs: number,
  ): { run: (writes?: HeldUserLock['writes']) => Promise<void>; after: (routing: RouteResult | Promise<RouteResult>) => Promise<void> } {
    enter()
    let running: Promise<void> | undefined
    const cleanUp = (writes?: HeldUserLock['writes']) =>
      writes || !lockUser ? cleanUpOnUnsubscribe(message, accountId, key, namespaces, writes) : cleanUpTakingLock(message, accountId, key, namespaces, lockTtlMs)
    const run = (writes?: HeldUserLock['writes']) => (running ??= cleanUp(writes).finally(leave))
    const unlocked = () => run()
    return { run, after: (routing) => Promise.resolve(routing).then(unlocked, unlocked) }
  }

  /**
   * A fleet's clean-up whose unsubscribe was routed without the user's lock (another instance's message of the
   * user held it past the budget, or the store failed the first ask): run at once, it deleted the session
   * while that message still ran, which then wrote it back (the dialogue the user left resumed on their next
   * follow), and no waiter knew an unsubscribe was under way. So it takes the lock for itself first, marked as
   * an unsubscribe's, asking every 20 ms (less often while the store fails: user-queue.ts) for as long as
   * another holder can keep it (`ttlMs`); not had by then,
   * it runs without it, and a line says so.
   */
  async function cleanUpTakingLock(message: InboundMessage, accountId: string, key: string, namespaces: string[], ttlMs: number): Promise<void> {
    const openId = message.fromUser
    // Every failed ask is a blip here, the first too: the clean-up has no reply to give up for.
    const { answer, failure } = await waitForUserLock(lockUser!, accountId, openId, { ttlMs, deadline: performance.now() + ttlMs, forUnsubscribe: true })
    const held = answer !== null && answer !== UNSUBSCRIBING ? answer : undefined
    const failed = failure && (failure.error instanceof Error ? failure.error.message : String(failure.error))
    const reason = failure ? `taking the lock failed: ${failed}` : 'the lock was still held by another instance'
    if (!held) {
      lines.warn(
        `clean-up unlocked ${accountId}`,
        { account: accountId, openId, key, reason: `${reason} for ${ttlMs} ms` },
        "clean-up on unsubscribe runs without the user's lock: a message of theirs routed meanwhile on another instance may write back what it deletes",
      )
      return cleanUpOnUnsubscribe(message, accountId, key, namespaces)
    }
    const stopKeepingAlive = held.keepAlive()
    try {
      await cleanUpOnUnsubscribe(message, accountId, key, namespaces, held.writes)
    } finally {
      stopKeepingAlive()
      // A failed release is the store's to retry (redis-sessions.ts).
      void held.release().catch(() => undefined)
    }
  }

  /**
   * `writes`: the user lock's fenced session writes, when the clean-up runs holding it: a clean-up whose lock
   * lapsed (this instance paused past it) must not delete the session the user's next message wrote since;
   * refused, it stops there, before the purge, and says so.
   */
  async function cleanUpOnUnsubscribe(message: InboundMessage, accountId: string, key: string, namespaces: string[], writes?: HeldUserLock['writes']): Promise<void> {
    try {
      await (writes ?? store.sessions).delete(accountId, message.fromUser)
      if (!config.log.purgeOnUnsubscribe) return
      let removed = 0
      for (const ns of namespaces) removed += await (writes ?? store.kv).deletePrefix(ns, userKeyPrefix(message.fromUser))
      // Budgeted, as both lines come once per unsubscribe: a wave of unfollows (after a mass send) wrote an
      // info line a message, and a store refusing deletes an error line each (traffic-summary.ts says why
      // that silences the service's other lines).
      lines.info(`purged ${accountId}`, { account: accountId, openId: message.fromUser, key, removed }, 'purged user data on unsubscribe')
    } catch (e) {
      // Whose clean-up: with several accounts on one store, the account says which one's data was left behind.
      const code = e instanceof LockLostError ? e.code : 'STORE_UNAVAILABLE'
      lines.error(`${code} unsubscribe ${accountId}`, { code, reason: (e as Error).message, account: accountId, openId: message.fromUser, key }, 'clean-up on unsubscribe failed')
    }
  }

  return {
    handle,
    refuseBeforeBody,
    answersAtTurnEnd: waitForLog,
    idle: () => (active === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r))),
  }
}
