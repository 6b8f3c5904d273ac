/**
 * The plugin test kit: from a plugin's own test, send it messages through the real engine in-process
 * (real router, real rules, the real plugin sandbox, a real SQLite file for sessions and storage) and
 * assert on the replies.
 *
 *   const client = await createTestClient({ root: process.cwd() })
 *   await client.expectReply('echo hi', /hi/)
 *   await client.expectReply('survey', /Question 1/, { openId: 'u2' })
 *   await client.expectNoReply(push.event('u1', 'unsubscribe'))
 *   assert.deepEqual(await client.storage('survey', { openId: 'u2' }).user.get('survey'), ...)
 *   await client.close()
 *
 * The platform API (late replies, ctx.api) is a local stand-in on 127.0.0.1 (fake-wechat-api.ts), speaking
 * the platform's JSON: what went out is in `client.sent()`, and `client.platform` scripts its answers.
 */
import assert from 'node:assert/strict'
import { isDeepStrictEqual } from 'node:util'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { UserConfig } from '../config/config-types.ts'
import { findConfigFile, loadConfig } from '../config/load-config.ts'
import { readConfigFile } from '../config/read-config-file.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import { dedupKeyOf } from '../dedup/dedup-key.ts'
import type { RawFields } from '../normalize/message-types.ts'
import { normalizeMessage } from '../normalize/normalize-message.ts'
import { parseXml } from '../normalize/safe-xml.ts'
import type { LateReplySettled } from '../platform/late-reply-sender.ts'
import { toCustomMessage } from '../reply/custom-message.ts'
import { unknownAccount } from '../config/unknown-account.ts'
import { didYouMean, suggest } from '../did-you-mean.ts'
import { listPluginFolders } from '../plugin/load-plugin-set.ts'
import type { JsonValue, KeyValue, PluginStorage, SessionState, StoredValue } from '../plugin/plugin-api.ts'
import { globalKey, isSharedAreaName, pluginNamespace, sharedNamespace, userKey } from '../plugin/storage-keys.ts'
import { incrementFailure, updateAtomically, type CompareAndSetPort } from '../plugin/storage-update.ts'
import type { Article } from '../reply/reply-types.ts'
import { startRuntime, type Runtime } from '../runtime.ts'
import { replyProblems } from './reply-problems.ts'
import type { MessageLogEntry, SessionRecord } from '../store/store.ts'
import { standInFor, type FakeSubscribeTemplate, type FakeTemplate, type FakeWeChatApi, type JsonObject, type SentVia } from './fake-wechat-api.ts'
import { atCaller } from './at-caller.ts'
import type { SentCustomMessage, SentOf } from './sent-message-types.ts'
import { buildPushXml, createWeChatSimulator, push, type PushFields } from './wechat-simulator.ts'

export { push }

/**
 * The engine's address in a test whose project gives none (publicUrl in engine.config.ts, or the test's
 * `config`): a deploy often sets it in its environment alone (PUBLIC_URL), which a test does not read. Links
 * are built on it as accounts get a stand-in AppSecret, so a project's `login:` articles and ctx.web.loginUrl
 * work in its tests; `.invalid` is never anyone's host.
 */
export const TEST_PUBLIC_URL = 'https://wxengine-test.invalid'
export type { FakeWeChatApi, JsonObject, SentVia }
export type { SentCustomMessage, SentCustomMessageType, SentMessageBody, SentOf, SentSubscribeNotice, SentTemplateMessage } from './sent-message-types.ts'

/** The AppSecret the test kit gives accounts that have none, so that the platform API works in tests. */

export interface TestClientOptions {
  /** Project directory with rules/, plugins/ and engine.config.ts (default: the working directory). */
  root?: string
  /** Overrides on top of the project config (e.g. other rulesDir, plugin config, limits). */
  config?: UserConfig
  /** Default OpenID of the user sending messages. */
  openId?: string
  /**
   * Which simulated users are in which group, by OpenID: `{ admins: ['boss'] }`, then
   * `send('broadcast hi', { openId: 'boss' })`. Given to every account of the client, over the groups
   * engine.config.ts gives it, so rules' `users:` and `ctx.user` see them as in production.
   */
  userGroups?: Record<string, string[]>
  /**
   * Default account of the messages sent (`send(..., { account })` picks another): the project's
   * `defaultAccount` unless given.
   */
  account?: string
  log?: Logger
  /** Keep the temporary data directory (for debugging). */
  keepData?: boolean
  /**
   * Load only these plugins (the others' folders are left unloaded, as `enabled: false` does): a test of one
   * plugin starts faster than with every plugin in the project. Rules that name another plugin then fall
   * through, as in production with that plugin disabled.
   */
  only?: string[]
  /**
   * The engine's clock (epoch ms), for session and storage expiry without waiting: e.g. `() => t` with a
   * `let t = Date.now()` the test moves forward (`t += 61_000` expires a 60 s session). A text sent as a
   * string carries it as its CreateTime too; a push built with `push.*` has the real time unless given one.
   */
  now?: () => number
}

export interface SendOptions {
  /** The sender (default: the client's `openId`). */
  openId?: string
  /** The account the message goes to, as WeChat posts to `/wechat/<id>` (default: the client's `account`). */
  account?: string
}

export interface TestReply {
  /** HTTP status of the passive answer. */
  status: number
  /** The reply's MsgType, or null when the engine answered `success` (no reply). */
  type: string | null
  /** Text content for text replies. */
  content?: string
  /** The articles of a news reply, in order. */
  articles?: Article[]
  /** Every field of the reply XML. */
  fields: RawFields | null
  /** The body exactly as the engine answered. */
  body: string
  /**
   * When the reply missed the reply budget (`limits.replyBudgetMs`): the engine answered `success`, and the
   * reply went out afterwards as this customer-service message, as the platform received it
   * (`{ touser, msgtype, text: { content } }`). `type`, `content` and `articles` are then the late reply's.
   */
  late?: SentCustomMessage
  /**
   * The engine took this push for WeChat's retry of an earlier one and replayed that answer without running
   * anything (the same MsgId; for events, the same sender, second, event and fields).
   */
  replayed?: boolean
  /**
   * How the engine recorded the message (its message-log entry): `replied`, `no_reply`, `late`, `failed`
   * (a plugin threw, timed out or returned something that is not a reply, and nothing else answered) or
   * `dropped`. A plugin that failed before another candidate (or the `error` reply) answered leaves
   * `replied` with `error` set.
   */
  outcome?: MessageLogEntry['outcome']
  /**
   * Why it failed, e.g. `greet: PLUGIN_ERROR: TypeError: Cannot read properties of undefined (reading 'join')`,
   * or why a late reply could not be sent (`late reply failed: API_ERROR: ...`).
   */
  error?: string
  /** What answered: `session`, `rule`, `type`, `welcome`, `default`, `error` or `none`, and the rule and plugin. */
  handledBy?: string
  rule?: string
  plugin?: string
}

export interface TestClient {
  readonly runtime: Runtime
  /** The default user's OpenID (options.openId, else 'test-user'). */
  readonly openId: string
  /**
   * Send text (as the default user, or `openId`) or a whole push built with `push.*` (its FromUserName is the
   * sender: an `openId` that differs from it throws a TypeError). Resolves with the passive answer; when the reply budget ran out first, once the plugin has
   * finished and its late reply was sent (or failed), with that reply in `late`.
   */
  send(input: string | PushFields, opts?: SendOptions): Promise<TestReply>
  /**
   * Send, then assert the reply, passive or late: text content equal to a string, matching a RegExp, or
   * fields containing `expected` (the reply XML's fields, or the customer-service JSON's when it went late),
   * at every depth: `{ Articles: { item: { Title: 'A' } } }` checks the title alone. A list must have as
   * many entries as expected, each containing its own; a RegExp matches a text field.
   * A plugin that failed on the message fails the assertion too, even when a later candidate or the
   * `default`/`error` reply answered (that reply would otherwise hide the crash); `allowErrors: true` is
   * for a test that expects the failure.
   */
  expectReply(input: string | PushFields, expected: string | RegExp | Record<string, unknown>, opts?: SendOptions & { allowErrors?: boolean }): Promise<TestReply>
  /**
   * Send, then assert the engine answered `success` (no reply) because nothing had a reply for it: a
   * plugin that failed (and so answered nothing) fails this assertion, with the plugin's error, and so
   * does a reply that went out late.
   */
  expectNoReply(input: string | PushFields, opts?: SendOptions): Promise<void>
  /**
   * Messages the platform accepted, oldest first, as it received them: customer-service messages (late
   * replies and the plugins' `ctx.api.sendToUser`), template messages (`ctx.api.sendTemplate`, with a
   * `template_id`) and subscription notices (`ctx.api.sendSubscribeMessage`, with a `template_id` too); to
   * `openId` only, when given, and of one kind only with `via`: 'custom', 'template' or 'subscribe'. Typed
   * (sent-message-types.ts): a customer-service message by its `msgtype` (`if (m.msgtype === 'text')
   * m.text.content`), and `via` gives its kind's type (`sent({ via: 'template' })[0].data.thing1.value`).
   */
  sent<V extends SentVia | undefined = undefined>(opts?: { openId?: string; via?: V }): Array<SentOf<V>>
  /**
   * Waits until `count` (default 1) messages have been sent (to `openId`, when given) since the latest
   * `send` (or `expectReply`, `expectNoReply`) began, and resolves with them: for "answer at once, send
   * later", where the send follows the reply. Earlier tests' sends do not count. Fails after `timeoutMs`
   * (default 5000) saying how many came.
   */
  waitForSent<V extends SentVia | undefined = undefined>(opts?: { openId?: string; via?: V; count?: number; timeoutMs?: number }): Promise<Array<SentOf<V>>>
  /**
   * The local stand-in for the platform API that this client's engine calls: script its answers
   * (`failNextSends(1, 45015)` for customer-service sends, `failNext(path, ...)` for any other, such as
   * '/cgi-bin/message/template/send'; `setUserError`, `route` for another endpoint) or read its `requests`.
   */
  readonly platform: FakeWeChatApi
  /**
   * The account's templates (default account, or `account`), by field names or content:
   * `setTemplates([{ templateId: 'tpl-1', fields: ['thing1', 'time2'] }])`. sendTemplate is then checked
   * against them as in production (an unknown templateId or field refused with PLUGIN_BAD_REPLY, a field
   * left out a warning). Until a test sets them, the stand-in cannot list templates (48001) and template
   * messages go out unchecked. null forgets them again.
   */
  setTemplates(templates: FakeTemplate[] | null, opts?: { account?: string }): void
  /**
   * The account's subscription templates, as setTemplates gives templates:
   * `setSubscribeTemplates([{ templateId: 'sub-1', fields: ['thing1', 'time2'] }])`. sendSubscribeMessage is
   * then checked against them as in production; until a test sets them, notices go out unchecked.
   */
  setSubscribeTemplates(templates: FakeSubscribeTemplate[] | null, opts?: { account?: string }): void
  /**
   * The user (the default one, or `openId`) subscribed to a subscription template: `notices` more notices of
   * it may be sent to them (default 1, a one-time subscription; Infinity for a long-term one; 0 for one
   * refused). From then on the stand-in refuses that user's notices of a template with none left with 43101,
   * as the platform does; a user never given a subscription takes every notice.
   */
  subscribe(templateId: string, opts?: { openId?: string; notices?: number; account?: string }): void
  /**
   * A user's file the stand-in's media/get gives for `mediaId` (as an image or voice message names it), in the
   * default account or `account`: `addMedia('m1', { contentType: 'audio/amr', bytes })`, or `{ videoUrl }`.
   * What a plugin uploaded is given back without this. (`platform.addMedia` takes the account's AppID, which
   * a test kit account may have been given: this finds it.)
   */
  addMedia(mediaId: string, media: { contentType: string; bytes: Uint8Array } | { videoUrl: string }, opts?: { account?: string }): void
  /**
   * A plugin's storage exactly as the plugin sees it as ctx.storage (`.user` is the default user's, or
   * `openId`'s): read what the plugin saved, or seed data before sending. A name that is no folder of the
   * project's plugins throws a TypeError (loaded or left out by `only`, any folder will do). `.shared(area)` reaches any shared
   * area, whichever plugin declares it.
   */
  storage(plugin: string, opts?: { openId?: string }): PluginStorage
  /**
   * The user's live session on the default account, or `account` (which plugin holds the conversation, its
   * state), or null. `S` types the state, as `definePlugin`'s second type parameter does in the plugin.
   */
  session<S extends SessionState = JsonValue>(opts?: { openId?: string; account?: string }): Promise<(Omit<SessionRecord, 'state'> & { state: S | null }) | null>
  close(): Promise<void>
}

/**
 * A plugin that ran and failed, in a log entry's `error` (`plugin: CODE: reason`, joined by '; '). Not a
 * rule naming a plugin that is not loaded (PLUGIN_LOAD: disabled, or left out by `only`).
 */
const PLUGIN_FAILED = /(?:^|; )[^\s:;]+: PLUGIN_(?:ERROR|TIMEOUT|BAD_REPLY): /

export async function createTestClient(opts: TestClientOptions = {}): Promise<TestClient> {
  const root = path.resolve(opts.root ?? process.cwd())
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-test-'))
  const project = opts.config?.accounts ? undefined : projectAccounts(root)
  // Accounts without an AppSecret get one, known to the stand-in platform, so late replies and ctx.api work.
  const { api: platform, accounts: stoodIn } = await standInFor(opts.config?.accounts ?? project!.accounts)
  const accounts = opts.userGroups ? stoodIn.map((a) => ({ ...a, userGroups: { ...a.userGroups, ...opts.userGroups } })) : stoodIn
  /** A client that could not start leaves nothing behind: the stand-in stopped, the data directory gone. */
  const abandon = async () => {
    await platform.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
  const loaded = loadConfig({
    root,
    env: projectDirsFromEnv(opts.config),
    overrides: {
      ...opts.config,
      dataDir,
      watch: false,
      accounts,
      defaultAccount: opts.account ?? opts.config?.defaultAccount ?? project?.defaultAccount ?? 'default',
      // The stand-in, unless the test points the engine at its own.
      platform: { ...opts.config?.platform, apiBase: opts.config?.platform?.apiBase ?? platform.baseUrl },
    },
  })
  if (!loaded.ok) {
    await abandon()
    throw new Error(loaded.error.reason)
  }
  const config = loaded.value
  config.publicUrl ??= TEST_PUBLIC_URL
  const leftOut: string[] = []
  if (opts.only) {
    const folders = listPluginFolders(config.pluginsDir)
    const unknown = opts.only.filter((name) => !folders.includes(name))
    if (unknown.length > 0) {
      await abandon()
      // A misspelt name would otherwise leave every plugin unloaded, and the test failing for another reason.
      throw new Error(`createTestClient: only names ${unknown.map((n) => JSON.stringify(n)).join(', ')}, not a folder of ${config.pluginsDir} (folders: ${folders.join(', ') || 'none'})`)
    }
    for (const name of folders) {
      if (opts.only.includes(name)) continue
      config.plugins[name] = { ...config.plugins[name], enabled: false }
      leftOut.push(name)
    }
  }
  // What the engine recorded for each message, so that a reply (or its absence) comes with its reason. All
  // by the message's key: one user's sends may run at once, and each must get its own outcome.
  const recorded: MessageLogEntry[] = []
  /** Replays answered, by message key: a push answered from the reply cache records no message. */
  const replays = new Map<string, number>()
  /**
   * How each late reply's send ended, by message key, with the platform's record of it: the message the
   * stand-in took for that user that is this reply's customer-service JSON (found by content: two late
   * replies to one user may be in flight together, and either may arrive first).
   */
  const lateSends = new Map<string, Array<{ settled: LateReplySettled; message?: SentCustomMessage }>>()
  let runtime: Runtime
  try {
    runtime = await startRuntime(config, {
      listen: false,
      now: opts.now,
      leftOut,
      log: opts.log ?? stderrLogger(),
      observe: (e) => {
        if (e.type === 'message') recorded.push(e.entry)
        else if (e.type === 'duplicate') replays.set(e.key, (replays.get(e.key) ?? 0) + 1)
        else if (e.type === 'late_reply' && e.key !== undefined) {
          const sentJson = e.outcome === 'sent' ? toCustomMessage(e.openId, e.reply) : undefined
          // The customer-service JSON the stand-in took: shape-checked there (sent-message-types.ts).
          const message = sentJson?.ok ? ([...platform.sent].reverse().find((m) => isDeepStrictEqual(m.body, JSON.parse(JSON.stringify(sentJson.value))))?.body as SentCustomMessage | undefined) : undefined
          lateSends.set(e.key, [...(lateSends.get(e.key) ?? []), { settled: e, message }])
        }
      },
    })
  } catch (e) {
    await abandon()
    throw e
  }
  // The engine keeps an account's template list 10 minutes: templates a test sets are the ones checked next.
  platform.onTemplatesSet(() => runtime.platform.forgetTemplates())
  // Signed with the engine's clock, so a fake one far from now is not refused as a replay. One per account.
  const simulators = new Map<string, ReturnType<typeof createWeChatSimulator>>()
  const accountOf = (id: string = config.defaultAccount) => {
    const account = config.accounts.find((a) => a.id === id)
    if (!account) throw new Error(unknownAccount(id, config.accounts.map((a) => a.id), "the test client's configuration"))
    let sim = simulators.get(id)
    if (!sim) simulators.set(id, (sim = createWeChatSimulator({ account, now: opts.now })))
    return { account, sim }
  }
  const defaultOpenId = opts.openId ?? 'test-user'
  /** Where waitForSent starts counting: the platform's sends when the latest `send` began. */
  let sentMark = 0

  async function send(input: string | PushFields, o: SendOptions = {}): Promise<TestReply> {
    const { account, sim } = accountOf(o.account)
    const openId = o.openId ?? defaultOpenId
    if (typeof input !== 'string' && o.openId !== undefined && input.FromUserName !== o.openId) {
      // A push names its sender itself: `openId` was ignored, and the test then read another user's session
      // and storage than the one the engine answered (a plugin author's walkthrough).
      throw new TypeError(`send: the push is from ${JSON.stringify(input.FromUserName)} but openId is ${JSON.stringify(o.openId)}; a push's sender is the first argument of push.*: give it there, and leave openId out`)
    }
    // A text the client builds is sent at the client's clock, so a plugin that reads "today" off the
    // message's CreateTime moves with `now` as session and storage expiry do.
    const fields = typeof input === 'string' ? push.text(openId, input, opts.now ? { CreateTime: Math.floor(opts.now() / 1000) } : {}) : input
    const req = sim.request(fields)
    const from = recorded.length
    sentMark = platform.sent.length
    // This message's entries, replays and late sends: by its key, as the engine keys it.
    const key = keyOf(account.id, fields)
    const replaysBefore = replays.get(key) ?? 0
    const lateBefore = lateSends.get(key)?.length ?? 0
    const res = await runtime.engine.handle({ method: 'POST', accountId: account.id, query: req.query, body: req.body })
    const opened = sim.openReply(res.body)
    if (opened.error) throw new Error(`reply could not be opened: ${opened.error}`)
    const f = opened.fields
    // Read as WeChat reads it: an envelope or element it would refuse is the engine's fault, never the test's.
    const problems = replyProblems(req, opened, { nowMs: opts.now?.() ?? Date.now(), newsLimits: runtime.config.limits })
    if (problems.length > 0) throw new Error(`WeChat would not show the engine's reply: ${problems.join('; ')}\n${res.body}`)
    const entryOf = () => recorded.slice(from).reverse().find((e) => e.msgKey === key)
    let entry = entryOf()
    const replayed = entry === undefined && (replays.get(key) ?? 0) > replaysBefore
    let late: SentCustomMessage | undefined
    let lateError: string | undefined
    if (f === null && !replayed && (entry === undefined || entry.outcome === 'late')) {
      // Answered `success` at the reply budget while a plugin was still working: wait for it to finish and
      // for its reply to be sent. With nothing to send, a second entry says how the message ended.
      await runtime.engine.idle()
      await runtime.platform.idle()
      entry = entryOf()
      if (entry?.outcome === 'late') {
        const send = lateSends.get(key)?.[lateBefore]
        if (send?.settled.outcome === 'sent') late = send.message
        else lateError = `late reply ${send ? `failed: ${send.settled.error}` : 'not sent'}`
      }
    }
    return {
      status: res.status,
      type: f && typeof f.MsgType === 'string' ? f.MsgType : (late?.msgtype ?? null),
      content: f && typeof f.Content === 'string' ? f.Content : late?.msgtype === 'text' ? late.text.content : undefined,
      articles: f?.MsgType === 'news' ? articlesOf(f) : late?.msgtype === 'news' ? lateArticlesOf(late.news.articles) : undefined,
      fields: f,
      body: res.body,
      late,
      replayed: replayed || undefined,
      outcome: entry?.outcome,
      error: lateError ?? entry?.error,
      handledBy: entry?.handledBy,
      rule: entry?.rule,
      plugin: entry?.plugin,
    }
  }

  /**
   * The engine's key of a push (core/dedup/dedup-key.ts), read from its XML as the engine reads it; '' for
   * one the engine refuses (a test of a malformed push), which records nothing to find.
   */
  function keyOf(accountId: string, fields: PushFields): string {
    const parsed = parseXml(buildPushXml(fields))
    const normalized = parsed.ok ? normalizeMessage(parsed.value) : parsed
    return normalized.ok ? dedupKeyOf(accountId, normalized.value) : ''
  }

  /** "got no reply (outcome failed: greet: PLUGIN_ERROR: ...)": what an assertion message needs to say. */
  const why = (r: TestReply) => `${r.outcome ?? (r.replayed ? 'a replay of an earlier push (taken for its retry)' : 'no outcome recorded')}${r.error ? `: ${r.error}` : ''}`

  const kv = runtime.store.kv
  const keyValue = (namespace: string, keyOf: (key: string) => string): KeyValue => {
    // The same read-modify-write as a plugin's (storage-update.ts), on the store directly.
    const port: CompareAndSetPort = {
      get: (key) => kv.get(namespace, keyOf(key)),
      compareAndSet: (key, expected, next, ttlSeconds) => kv.compareAndSet(namespace, keyOf(key), expected, next, ttlSeconds === undefined ? undefined : ttlSeconds * 1000),
      // As the store will hold it: its JSON.
      stored: (next) => (next === undefined ? undefined : (JSON.parse(JSON.stringify(next)) as JsonValue)),
      giveUpAt: () => Date.now() + 10_000,
    }
    return {
      get: async <T extends StoredValue = JsonValue>(key: string) => (await kv.get(namespace, keyOf(key))) as T | undefined,
      set: (key, value, ttlSeconds) => kv.set(namespace, keyOf(key), port.stored(value) as JsonValue, ttlSeconds === undefined ? undefined : ttlSeconds * 1000),
      delete: (key) => kv.delete(namespace, keyOf(key)),
      update: (key, fn, ttlSeconds) => updateAtomically(port, `storage.update(${JSON.stringify(key)})`, key, fn, ttlSeconds),
      async increment(key, by = 1, ttlSeconds) {
        try {
          return await kv.increment(namespace, keyOf(key), by, ttlSeconds === undefined ? undefined : ttlSeconds * 1000)
        } catch (e) {
          throw incrementFailure(`storage.increment(${JSON.stringify(key)})`, e)
        }
      },
    }
  }

  /** `via` selects the kind, and so its type (SentOf); the stand-in kept only bodies of their kind's shape. */
  function sentTo<V extends SentVia | undefined>(o: { openId?: string; via?: V } = {}, from = 0): Array<SentOf<V>> {
    return platform.sent
      .slice(from)
      .filter((m) => (o.openId === undefined || m.body.touser === o.openId) && (o.via === undefined || m.via === o.via))
      .map((m) => m.body as unknown as SentOf<V>)
  }

  return {
    runtime,
    openId: defaultOpenId,
    send,
    // Named, so that a failure's stack starts at the test's call (at-caller.ts).
    expectReply: function expectReply(input, expected, o) {
      return atCaller(expectReply, async () => {
        const reply = await send(input, o)
        assert.notEqual(reply.type, null, `expected a reply to ${JSON.stringify(input)}, got no reply (${reply.body}; outcome ${why(reply)})`)
        if (reply.error !== undefined && PLUGIN_FAILED.test(reply.error) && o?.allowErrors !== true) {
          assert.fail(`a plugin failed on ${JSON.stringify(input)}: ${reply.error}; the reply came from ${reply.handledBy}${reply.rule && reply.rule !== reply.handledBy ? ` ${reply.rule}` : ''} (pass { allowErrors: true } to expect that)`)
        }
        if ((typeof expected === 'string' || expected instanceof RegExp) && reply.content === undefined) {
          // A text or a RegExp is about a text reply's content: against a news reply it compared with undefined,
          // and the failure ("undefined !== 'Stamp #3'") did not say that a reply came, nor which (a plugin
          // author's walkthrough).
          assert.fail(`expected a text reply ${expected instanceof RegExp ? `matching ${expected}` : JSON.stringify(expected)}, got a ${reply.type} reply: ${JSON.stringify(reply.late ?? reply.fields)}; check its fields with expectReply(input, { ${reply.late ? 'msgtype' : 'MsgType'}: '${reply.type}', ... })`)
        }
        // The text alone did not say who gave it: a dialogue that forgot a `return` passed, and the test read
        // the default reply's words against the question it expected (a plugin author's walkthrough).
        if (typeof expected === 'string') {
          if (reply.content !== expected) {
            throw new assert.AssertionError({
              message: `reply to ${JSON.stringify(input)}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(reply.content)}, from ${answeredBy(reply)}`,
              actual: reply.content,
              expected,
              operator: 'strictEqual',
            })
          }
        } else if (expected instanceof RegExp) assertMatches(reply.content ?? '', expected, `reply content (from ${answeredBy(reply)})`)
        else {
          const fields: Record<string, unknown> | null | undefined = reply.late ?? reply.fields
          assertContains(fields ?? {}, expected, reply.late ? ' (of the late customer-service message)' : '')
        }
        return reply
      })
    },
    expectNoReply: function expectNoReply(input, o) {
      return atCaller(expectNoReply, async () => {
        const reply = await send(input, o)
        assert.equal(reply.late, undefined, `expected no reply, but one went out late: ${JSON.stringify(reply.late)}`)
        assert.equal(reply.type, null, `expected no reply, got ${reply.body}`)
        assert.ok(reply.outcome !== 'failed' && reply.outcome !== 'dropped', `expected no reply, and none came, but because the message ${why(reply)}`)
        assert.equal(reply.error, undefined, `expected no reply, and none came, but because ${why(reply)}`)
      })
    },
    sent: <V extends SentVia | undefined = undefined>(o?: { openId?: string; via?: V }) => sentTo(o),
    waitForSent: function waitForSent<V extends SentVia | undefined = undefined>(o: { openId?: string; via?: V; count?: number; timeoutMs?: number } = {}): Promise<Array<SentOf<V>>> {
      return atCaller(waitForSent, async () => {
        const count = o.count ?? 1
        const timeoutMs = o.timeoutMs ?? 5000
        const until = Date.now() + timeoutMs
        for (;;) {
          const sent = sentTo({ openId: o.openId, via: o.via }, sentMark)
          if (sent.length >= count) return sent
          if (Date.now() >= until) {
            assert.fail(`expected ${count} sent message${count === 1 ? '' : 's'}${o.openId === undefined ? '' : ` to ${o.openId}`} within ${timeoutMs} ms, got ${sent.length}`)
          }
          await new Promise((r) => setTimeout(r, 10))
        }
      })
    },
    platform,
    setTemplates(templates, o = {}) {
      platform.setTemplates(accountOf(o.account).account.appId, templates)
    },
    setSubscribeTemplates(templates, o = {}) {
      platform.setSubscribeTemplates(accountOf(o.account).account.appId, templates)
    },
    subscribe(templateId, o = {}) {
      platform.subscribe(accountOf(o.account).account.appId, o.openId ?? defaultOpenId, templateId, o.notices)
    },
    addMedia(mediaId, media, o = {}) {
      platform.addMedia(accountOf(o.account).account.appId, mediaId, media)
    },
    storage(plugin, o = {}) {
      const folders = listPluginFolders(config.pluginsDir)
      if (!folders.includes(plugin)) {
        // A misspelt name read an empty namespace: `assert.equal(await client.storage('stampz').get('n'),
        // undefined)` passed whatever the plugin stored (a plugin author's walkthrough).
        throw new TypeError(`storage(${JSON.stringify(plugin)}): no plugin of that name in ${config.pluginsDir}${didYouMean(plugin, folders)} (plugins: ${folders.join(', ') || 'none'}); a shared area is storage(plugin).shared(area)`)
      }
      const openId = o.openId ?? defaultOpenId
      const scoped = (ns: string) => ({ ...keyValue(ns, globalKey), user: keyValue(ns, (key) => userKey(openId, key)) })
      return {
        ...scoped(pluginNamespace(plugin)),
        // Any area, declared by a plugin or not: a test seeds what a plugin will read.
        shared(area) {
          if (!isSharedAreaName(area)) throw new TypeError(`storage.shared(${JSON.stringify(area)}): an area's name is lowercase letters, digits and hyphens`)
          return scoped(sharedNamespace(area))
        },
      }
    },
    session<S extends SessionState = JsonValue>(o: { openId?: string; account?: string } = {}) {
      return runtime.store.sessions.get(accountOf(o.account).account.id, o.openId ?? defaultOpenId) as Promise<(Omit<SessionRecord, 'state'> & { state: S | null }) | null>
    },
    async close() {
      try {
        await runtime.close()
      } finally {
        await platform.close()
        if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true })
      }
    },
  }
}

/**
 * Of the environment, only where the project's files are (RULES_DIR, PLUGINS_DIR, MENUS_DIR), as every
 * command reads them: `plugin new` writes the plugin there, and its test must find it. Nothing of the
 * deploy (tokens, keys, the port, DATA_DIR) is read; a directory the test's `config` gives wins.
 */
function projectDirsFromEnv(config: UserConfig | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  if (process.env.RULES_DIR && config?.rulesDir === undefined) env.RULES_DIR = process.env.RULES_DIR
  if (process.env.PLUGINS_DIR && config?.pluginsDir === undefined) env.PLUGINS_DIR = process.env.PLUGINS_DIR
  if (process.env.MENUS_DIR && config?.menusDir === undefined) env.MENUS_DIR = process.env.MENUS_DIR
  return env
}

/** The test account every project gets when its configuration names none (or cannot be read here). */
const TEST_ACCOUNT = { id: 'default', token: 'testtoken', appId: 'wxtest0000000000', mode: 'plaintext' } as const

/**
 * The project's accounts by id, with the test account's credentials, and its default account: rules in
 * rules/<id>/ and `account: <id>` are the project's, and a test of them needs those accounts; its tokens,
 * keys and secrets are not (they may come from the deploy's environment), so every account is the plaintext
 * test account under its own id (with its pageDomains). A configuration file that names no account, or cannot be read here, gets
 * the single test account (and loadConfig then says what is wrong with the file).
 */
function projectAccounts(root: string): { accounts: NonNullable<UserConfig['accounts']>; defaultAccount: string } {
  const file = findConfigFile(root)
  const read = file ? readConfigFile(file) : undefined
  const listed = read?.ok ? (read.value.accounts ?? []) : []
  const ids = [...new Set(listed.map((a) => a?.id).filter((id): id is string => typeof id === 'string' && id !== ''))]
  if (ids.length === 0) return { accounts: [{ ...TEST_ACCOUNT }], defaultAccount: TEST_ACCOUNT.id }
  const named = read?.ok ? read.value.defaultAccount : undefined
  const defaultAccount = typeof named === 'string' && ids.includes(named) ? named : ids.includes('default') ? 'default' : ids[0]
  // The account's pageDomains are the project's, not a secret: a rules file's login: article (and a plugin's
  // ctx.web.loginUrl) is checked against them, as at the engine's start.
  const pageDomainsOf = (id: string) => {
    const domains = listed.find((a) => a?.id === id)?.pageDomains
    return Array.isArray(domains) ? { pageDomains: domains } : {}
  }
  // One AppID per account, as the configuration requires: wxtest0000000000 (the single account's), ...01, ...
  return { accounts: ids.map((id, i) => ({ ...TEST_ACCOUNT, id, appId: `wxtest${String(i).padStart(10, '0')}`, ...pageDomainsOf(id) })), defaultAccount }
}

/**
 * Warnings and errors (a plugin that failed, and why) on stderr, where a test run shows them; stdout belongs
 * to the test reporter. LOG_LEVEL=info or debug shows the plugins' own log lines and every message too.
 */
function stderrLogger(): Logger {
  return createLogger({ level: process.env.LOG_LEVEL ?? 'warn', pretty: 'stderr' })
}

/** A customer-service news message's articles (the API takes one: core/reply/custom-message.ts), as a news reply's. */
function lateArticlesOf(articles: Extract<SentCustomMessage, { msgtype: 'news' }>['news']['articles']): Article[] {
  return articles.map((a) => {
    const article: Article = { title: a.title }
    if (a.description !== undefined) article.description = a.description
    if (a.picurl !== undefined) article.picUrl = a.picurl
    if (a.url !== undefined) article.url = a.url
    return article
  })
}

/** `<Articles><item>...</item></Articles>`: one item parses as an object, several as an array. */
function articlesOf(f: RawFields): Article[] {
  const box = f.Articles
  const items = typeof box === 'object' && !Array.isArray(box) ? box.item : undefined
  const list = Array.isArray(items) ? items : items === undefined ? [] : [items]
  return list.flatMap((a) => {
    if (typeof a !== 'object' || Array.isArray(a)) return []
    const article: Article = { title: typeof a.Title === 'string' ? a.Title : '' }
    if (typeof a.Description === 'string') article.description = a.Description
    if (typeof a.PicUrl === 'string') article.picUrl = a.PicUrl
    if (typeof a.Url === 'string') article.url = a.Url
    return [article]
  })
}

/** Which step of the routing gave a reply, in a test's words: the rule, the session or the rules' default reply. */
function answeredBy(reply: TestReply): string {
  const plugin = reply.plugin === undefined ? '' : `plugin ${reply.plugin}`
  switch (reply.handledBy) {
    case 'rule':
      return plugin === '' ? `rule ${reply.rule}'s inline reply` : `rule ${reply.rule} (${plugin})`
    case 'session':
      return `the session of ${plugin}`
    case 'type':
      return `${reply.rule === undefined ? 'a type handler' : `handler ${reply.rule}`}${plugin === '' ? '' : ` (${plugin})`}`
    case 'default':
      return "the rules' default reply: nothing else answered (a plugin that passes, or returns nothing, sends the message on)"
    case 'welcome':
    case 'error':
      return `the rules' ${reply.handledBy} reply`
    default:
      return reply.handledBy ?? 'no recorded step'
  }
}

/**
 * assert.match, with the expression in the failure's `expected` as text and in its message beside the label:
 * node's test reporters print a RegExp `expected` as nothing (`expected:` and a blank), and assert.match
 * given a message prints only that message, so a failure showed neither what was expected nor where.
 */
function assertMatches(actual: string, expected: RegExp, label: string): void {
  // search(), not test(): it leaves a /g expression's lastIndex as it was.
  if (actual.search(expected) >= 0) return
  throw new assert.AssertionError({ message: `${label}: ${JSON.stringify(actual)} does not match ${expected}`, actual, expected: String(expected), operator: 'match' })
}

/**
 * `expected` within `actual`: objects by the keys expected (at every depth: a nested object was compared
 * whole, so a news article's title could not be checked alone; a plugin author's review), lists entry by
 * entry with the same length, a RegExp against text, anything else equal.
 */
function assertContains(actual: unknown, expected: unknown, where: string, path = ''): void {
  const label = `reply field${path === '' ? '' : ` ${path}`}${where}`
  if (expected instanceof RegExp) {
    assert.ok(typeof actual === 'string', `${label}: expected text matching ${expected}, got ${JSON.stringify(actual)}`)
    assertMatches(actual, expected, label)
  } else if (Array.isArray(expected)) {
    // In the reply XML a repeated element (a news reply's <item>) that comes once parses as an object, not a
    // list of one: `{ Articles: { item: [{ Title: 'A' }] } }` failed on a one-article reply. The late
    // customer-service JSON has real lists.
    const list = !Array.isArray(actual) && where === '' && actual !== null && typeof actual === 'object' ? [actual] : actual
    assert.ok(Array.isArray(list) && list.length === expected.length, `${label}: expected a list of ${expected.length}, got ${JSON.stringify(actual)}`)
    expected.forEach((e, i) => assertContains(list[i], e, where, `${path}[${i}]`))
  } else if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object' && !Array.isArray(actual), `${label}: expected fields ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
    const have = Object.keys(actual as object)
    for (const [k, v] of Object.entries(expected)) {
      const at = path === '' ? k : `${path}.${k}`
      if (!Object.hasOwn(actual as object, k) && v !== undefined) {
        // A name the reply does not have compared with undefined, which said nothing of the names it has:
        // `{ type: 'news' }` (TestReply's name) for the XML's MsgType (a plugin author's walkthrough).
        assert.fail(`reply field ${at}${where}: the reply has no field "${k}"${fieldHint(k, have)}; its fields${path === '' ? '' : ` in ${path}`}: ${have.join(', ') || 'none'}`)
      }
      assertContains((actual as Record<string, unknown>)[k], v, where, at)
    }
  } else {
    assert.deepEqual(actual, expected, label)
  }
}

/**
 * ` (did you mean "MsgType"?)` for a field the reply does not have: the one it has in another case, a
 * misspelling's, or one the name ends (`type` for MsgType, `id` for MsgId, as TestReply names them).
 */
function fieldHint(name: string, have: readonly string[]): string {
  const lower = name.toLowerCase()
  const hint = have.find((h) => h.toLowerCase() === lower) ?? suggest(name, have) ?? have.find((h) => h.toLowerCase().endsWith(lower))
  return hint === undefined ? '' : ` (did you mean "${hint}"?)`
}
