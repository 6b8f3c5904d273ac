/**
 * Assembles a running engine from a configuration: store, platform clients, rules and plugins, the engine,
 * the HTTP server, hot reload, and an orderly shutdown. The CLI's `start` and `dev`, the test kit and the
 * end-to-end tests all start the engine through here, so they run exactly what production runs.
 */
import type http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { EngineConfig } from './config/config-types.ts'
import { createEngine, type Engine, type EngineEvent } from './engine.ts'
import { createLogger, type Logger } from './log/logger.ts'
import type { PluginServices } from './plugin/plugin-host-types.ts'
import { createPlatform, type Platform } from './platform/create-platform.ts'
import { canUploadFor, countMissingMedia, createMediaUploads } from './platform/media-uploads.ts'
import { createMemoryStore } from './store/memory-store.ts'
import { isInside } from './is-inside.ts'
import { createGenerations, type Generations } from './reload/generations.ts'
import { loadGeneration, type LoadedParts } from './reload/load-generation.ts'
import { pluginInputsOf, pluginsToRestart } from './reload/plugins-to-restart.ts'
import { configForReload, type ConfigForReload, type ConfigSource } from './reload/reread-config.ts'
import { watchSources, type ChangedSources, type SourceWatcher } from './reload/watch-sources.ts'
import { readRulesOffThread } from './route/rules/read-rules-off-thread.ts'
import type { MediaResolver } from './route/rules/load-rule-set.ts'
import { createAdminRoutes } from './server/admin-routes.ts'
import { proxiesInFront } from './server/client-address.ts'
import { createJsSdkEndpoint, JSSDK_PATH } from './web/jssdk-endpoint.ts'
import { createWebLoginEndpoint, IDENTITY_PATH, LOGIN_PATH } from './web/web-login-endpoint.ts'
import { createWebRateLimit } from './web/web-rate-limit.ts'
import { loginLinkSettingsOf, type LoginLinkSettings } from './web/login-link.ts'
import type { CountWebRequest } from './web/web-outcome.ts'
import { createApiClient } from './platform/api-client.ts'
import { createApp } from './server/create-app.ts'
import { createHttpServer, drainServer } from './server/http-server.ts'
import { watchOpenFiles, type OpenFilesWatch } from './server/open-files-watch.ts'
import { createLineBudget, type LineBudget } from './log/line-budget.ts'
import { createResumedLateReplyRows } from './log/resumed-late-reply-rows.ts'
import { createTrafficSummary } from './log/traffic-summary.ts'
import { createMetrics, type Metrics } from './server/metrics.ts'
import { lockDataDir, type DataDirLock } from './store/data-dir-lock.ts'
import { openStore } from './store/open-store.ts'
import { StoreOpenError } from './store/store-open-error.ts'
import { AddonCacheError } from './binary/native-addon.ts'
import type { Store, TokenStore } from './store/store.ts'

export interface Runtime {
  config: EngineConfig
  engine: Engine
  store: Store
  generations: Generations
  platform: Platform
  metrics: Metrics
  log: Logger
  /**
   * Reload rules/ and plugins/ now (and the user groups and plugin settings, with `rereadConfig`); false (and
   * the old set kept) when the new set, or the configuration, does not load.
   */
  reload(): Promise<boolean>
  /** The public server, when started with listen. */
  server?: http.Server
  adminServer?: http.Server
  url?: string
  adminUrl?: string
  /** Graceful: stop accepting, finish in-flight messages and late replies, flush, close. */
  close(): Promise<void>
}

export interface StartOptions {
  log?: Logger
  /** Start the HTTP server(s); false gives an in-process engine (tests, `wxengine send --local`). */
  listen?: boolean
  /**
   * Hold the data directory as a serving engine does (store/data-dir-lock.ts); default: when listening.
   * `send --local` runs messages, writing sessions that a serving engine's cache would never see: it holds it too.
   */
  ownDataDir?: boolean
  observe?: (event: EngineEvent) => void
  /** The clock of message handling and of the store's expiries (sessions, storage): tests fake it. */
  now?: () => number
  /** When old log entries and finished late replies are first pruned (and followers who left folded); then hourly. Default a minute (tests set less). */
  pruneFirstAfterMs?: number
  /** Plugins the test kit's `only` left unloaded: rules naming them are not warned about (left out on purpose). */
  leftOut?: readonly string[]
  /**
   * Where access tokens are kept (default: the store). `send --local --wait` points the platform at a stand-in,
   * whose tokens must not reach the store a serving engine reads its tokens from.
   */
  platformTokens?: TokenStore
  /** The first retry of a failed media upload (media-uploads.ts; default a minute): tests set less. */
  mediaRetryFirstMs?: number
  /**
   * Upload no media file (`send --local`): each gets the media_id the store has, or a placeholder
   * (media-uploads.ts storedOnly). `canUpload`: whether the serving engine could upload for an account.
   */
  mediaStoredOnly?: { canUpload: (accountId: string) => boolean; account?: string }
  /**
   * What login links are built with, when not this configuration's: `send --local --wait` passes the real
   * configuration's, as its stand-in gives every account an appSecret a login would not have.
   */
  loginLinks?: LoginLinkSettings
  /**
   * How to read the configuration again, as this one was read (`start`, `dev`): each reload then applies
   * its accounts' userGroups and its plugins section, and names any other change for a restart
   * (reload/reread-config.ts); under `watch: true` a save of its file reloads too. Without it (the test
   * kit, `send --local`) a reload reads rules/ and plugins/ only, with the configuration given here.
   */
  rereadConfig?: ConfigSource
}

const PRUNE_FIRST_AFTER_MS = 60_000
const PRUNE_EVERY_MS = 3_600_000

export class StartupError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [],
    /** Trying again later may succeed as it is (StoreOpenError.transient): the start exits 1, not 2. */
    readonly transient = false,
  ) {
    super(problems.length > 0 ? `${message}:\n  ${problems.join('\n  ')}` : message)
  }
}

export async function startRuntime(config: EngineConfig, opts: StartOptions = {}): Promise<Runtime> {
  const log = opts.log ?? createLogger({ level: config.log.level, pretty: config.log.pretty })
  let store: Store
  // A serving engine owns its data directory (store/data-dir-lock.ts), and so does `send --local`, which runs
  // messages (ownDataDir); `wxengine log` and `stats` only read beside one. The memory store has no directory.
  let dirLock: DataDirLock | undefined
  try {
    if ((opts.ownDataDir ?? opts.listen !== false) && config.store.kind !== 'memory') dirLock = lockDataDir(config.dataDir, { log })
    store = await openStore(config.store, config.dataDir, log, { now: opts.now, journalAnswers: config.log.retentionDays > 0 })
  } catch (e) {
    dirLock?.release()
    // A file of the data directory that cannot be used: name the setting, not only the path.
    const inDataDir =
      config.store.kind === 'sqlite' && e instanceof StoreOpenError && !e.transient && !(e.cause instanceof AddonCacheError) &&
      isInside(config.dataDir, e.location)
    const hint = inDataDir ? ` (the data directory: DATA_DIR, or dataDir in engine.config.ts)` : config.store.kind === 'redis' ? ' (the Redis server: REDIS_URL, or store.url in engine.config.ts)' : ''
    throw new StartupError(`cannot open the ${config.store.kind} store: ${(e as Error).message}${hint}`, [], e instanceof StoreOpenError && e.transient)
  }
  // Media files without a media_id: counted at each load, taken for the live set's once that load goes live.
  let missingMedia: { loaded: ReadonlyMap<string, number>; live: ReadonlyMap<string, number> } = { loaded: new Map(), live: new Map() }
  const metrics = createMetrics({ mediaFilesMissing: () => missingMedia.live })
  const traffic = createTrafficSummary(log)
  // One budget of per-request lines for the engine and both HTTP layers: a flood is one wherever it is refused.
  const lines = createLineBudget(log)
  const observe = (event: EngineEvent) => {
    metrics.observe(event)
    traffic.observe(event)
    opts.observe?.(event)
  }
  // Counted when a late reply's send ends (sent, or failed for good), not when it is handed over.
  const platform = createPlatform({
    config,
    store: opts.platformTokens ? { ...store, tokens: opts.platformTokens } : store,
    log,
    lines,
    onLateReply: (settled) => observe({ type: 'late_reply', ...settled }),
    // As the engine waits for the message log before an answer (engine.ts waitForLog), a late reply waits for its row.
    commitLogFirst: config.log.retentionDays > 0 && config.log.commitBeforeAnswer,
  })
  const services: PluginServices = {
    kv: store.kv,
    api: (accountId) => platform.apiFor(accountId),
    log,
  }
  // Inline replies naming a file are uploaded at each load; a retry that succeeds reloads (the watcher is made
  // below). A platform that is a stand-in keeps the media_ids it gives apart from the store, as its tokens:
  // they mean nothing to the real platform. Uploading nothing (`send --local`, with or without a stand-in),
  // the store's media_ids are only read.
  let reloadForMedia = (): void => undefined
  const media = createMediaUploads({
    accounts: config.accounts,
    apiFor: (id) => (canUploadFor(config.accounts, id) ? platform.apiFor(id) : undefined),
    kv: opts.platformTokens && !opts.mediaStoredOnly ? createMemoryStore().kv : store.kv,
    storedOnly: opts.mediaStoredOnly,
    log,
    onRecovered: () => reloadForMedia(),
    onUploadFailed: (account, file) => observe({ type: 'media_upload_failed', account, file }),
    retryFirstMs: opts.mediaRetryFirstMs,
  })
  // The media files the last load that got as far as them named: watched with rules/ (those outside it too).
  let mediaFiles: string[] = []
  const resolveMedia: MediaResolver = async (files) => {
    mediaFiles = files.flatMap((f) => f.media.map((m) => m.media.path))
    const warnings = await media.resolve(files)
    missingMedia = { ...missingMedia, loaded: countMissingMedia(files) }
    return warnings
  }
  // Parsed on this thread: nothing is served before the first set is in, and a worker would only add its start.
  // The plugins load beside them, so that a refused start names every broken file, the rules' and the plugins'.
  const first = await loadGeneration(config, services, log, { leftOut: opts.leftOut, resolveMedia, loginLinks: opts.loginLinks, pluginsBesideRules: true, lines })
  if (!first.ok) {
    media.close()
    traffic.close()
    await store.close()
    dirLock?.release()
    throw new StartupError('rules or plugins failed to load', first.problems)
  }
  for (const w of first.warnings) log.warn(w)
  for (const n of first.notes) log.info(n)
  missingMedia = { ...missingMedia, live: missingMedia.loaded }
  // What the serving set was loaded from, for a reload that would take it away (load-generation.ts).
  let running = first.sources
  const generations = createGenerations({ rules: first.rules, plugins: first.plugins, userGroups: first.userGroups, pageDomains: first.pageDomains, slowestPluginMs: first.slowestPluginMs }, (e) => log.error({ err: e }, 'disposing a generation failed'))

  const engine = createEngine({ config, store, generations, lateReplies: platform.lateReplies, log, now: opts.now, observe, lines })

  // Late replies a previous run recorded but did not get out (stopped mid-retry, or killed) go out now.
  // Only from a serving engine: a runtime that does not listen (`send --local`, `log`, the test kit) sends
  // one message and stops, and must not take up a whole backlog of another run's replies on the way.
  // Such a reply that fails for good gets its message-log row here: the engine that wrote the message's
  // other rows, and would have written this one, was the previous run's.
  const resumedRows = createResumedLateReplyRows({ messageLog: config.log.retentionDays > 0 ? store.log : null, log, now: opts.now })
  if (opts.listen !== false) {
    void platform.resumePending((settled) => resumedRows.record(settled)).then(
      (n) => n > 0 && log.info({ resumed: n }, 'resumed pending late replies'),
      (e) => log.error({ code: 'STORE_UNAVAILABLE', reason: (e as Error).message }, 'could not read the outbox'),
    )
  }

  // A reload's rules are parsed in a worker: the answers of every account wait for nothing but the compile.
  const readRules = readRulesOffThread(log)
  // What the serving plugins' workers were started with: a reload that changes none of it keeps them.
  let pluginInputs = pluginInputsOf(config, opts.loginLinks ?? loginLinkSettingsOf(config))
  const reloadNow = async (changed: ChangedSources): Promise<LoadedParts> => {
    // The configuration is read on this thread, unlike the rules: engine.config.ts is one small file (a
    // sucrase transform and a compile, a few milliseconds), not worth a worker's start.
    const reread: ConfigForReload = opts.rereadConfig ? configForReload(config, opts.rereadConfig) : { ok: true, config, warnings: [] }
    // Refused as a rules file with an error is: the last good generation serves on, the line says why.
    if (!reread.ok) return { ok: false, code: 'BAD_CONFIG', problems: reread.problems }
    // An edit of rules/ (the usual one) keeps the plugins running, and an edit of one plugin starts that one
    // again: a restart of every worker cost each its setup, its timers and what it held in memory.
    const inputs = pluginInputsOf(reread.config, opts.loginLinks ?? loginLinkSettingsOf(reread.config))
    const serving = { plugins: generations.current().plugins, restart: pluginsToRestart(changed, pluginInputs, inputs) }
    const parts = await loadGeneration(reread.config, services, log, { leftOut: opts.leftOut, readRules, resolveMedia, loginLinks: opts.loginLinks, lines, running, serving })
    if (parts.ok) {
      parts.warnings.push(...reread.warnings)
      running = parts.sources
      pluginInputs = inputs
    }
    return parts
  }
  // Under `watch: true` (`wxengine dev`) the configuration's file, and the project's files it imports, are
  // watched with the media files outside rules/: a save reloads as an edit of a rules file does, applying
  // what a reload applies.
  const configFile = opts.rereadConfig?.file
  const configImports = opts.rereadConfig?.imported ?? (() => [])
  const watchedFiles = () => (configFile ? [...mediaFiles, configFile, ...configImports()] : mediaFiles)
  const watcher: SourceWatcher = watchSources({
    dirs: config.watch ? [config.rulesDir, config.pluginsDir] : [],
    files: watchedFiles(),
    generations,
    load: reloadNow,
    log,
    onReload: (ok) => {
      metrics.reloads.inc({ outcome: ok ? 'ok' : 'refused' })
      if (ok) missingMedia = { ...missingMedia, live: missingMedia.loaded }
      // A refused reload may have read new rules (a plugin failed to load): their files are the ones to watch.
      watcher.watchFiles(watchedFiles())
    },
  })
  // The rules' media only: the plugins' workers are kept (nothing of theirs changed).
  reloadForMedia = () => void watcher.reload(new Set())
  // Watching before serving: an edit made once the engine says it is up must be picked up.
  const watching = await Promise.race([watcher.ready.then(() => true), delay(10_000).then(() => false)])
  if (!watching) log.warn({ dirs: [config.rulesDir, config.pluginsDir] }, 'file watcher not ready after 10 s: edits made now may need a second save to reload')

  // Message-log entries and finished late replies (sent or failed, with their text) older than
  // log.retentionDays are deleted every hour, the first time a minute after start: an engine restarted more
  // often than hourly (deploys, `wxengine dev`) must prune too. With the log off (0 days), everything it
  // logged while it was on goes at the next prune, and so do finished late replies: nothing about a user's
  // messages is kept then. The log's prune also folds the followers who unfollowed before its cut into
  // anonymous counts (store.ts foldFollowers); with log.purgeOnUnsubscribe (a user's data goes when they
  // leave) every follower who unfollowed is folded now, whatever the log's retention.
  const pruneOld = () => {
    const now = Date.now()
    const before = now - config.log.retentionDays * 86_400_000
    void store.log.prune(before).catch((e) => log.warn({ err: e }, 'log prune failed'))
    if (config.log.purgeOnUnsubscribe && config.log.retentionDays > 0) {
      void store.log.foldFollowers(now).catch((e) => log.warn({ err: e }, 'followers fold failed'))
    }
    void store.outbox.prune(before).catch((e) => log.warn({ err: e }, 'outbox prune failed'))
  }
  let pruneTimer = setTimeout(() => {
    pruneOld()
    pruneTimer = setInterval(pruneOld, PRUNE_EVERY_MS).unref()
  }, opts.pruneFirstAfterMs ?? PRUNE_FIRST_AFTER_MS).unref()

  const runtime: Runtime = {
    config,
    engine,
    store,
    generations,
    platform,
    metrics,
    log,
    reload: () => watcher.reload(),
    close: async () => {
      if (closed) return closed
      closed = (async () => {
        clearTimeout(pruneTimer)
        media.close()
        openFiles?.close()
        await watcher.close()
        // Side by side: the servers close once their requests are answered (or cut), and the messages in
        // flight finish. WeChat waits 5 s at most; in-flight messages finish within the budget, late replies
        // a bit after.
        await Promise.all([
          ...[runtime.server, runtime.adminServer].map((s) => (s ? drainServer(s, config.limits.replyBudgetMs + 1_000) : undefined)),
          Promise.race([engine.idle(), delay(config.limits.replyBudgetMs + 2_000)]),
        ])
        await platform.drain(5_000)
        await resumedRows.appended()
        traffic.close()
        // After the plugins' stop: their runners log through this budget (a worker stopped at shutdown).
        await generations.close(2_000)
        lines.close()
        await store.close()
        dirLock?.release()
      })()
      return closed
    },
  }
  let closed: Promise<void> | undefined
  let openFiles: OpenFilesWatch | undefined

  if (opts.listen !== false) {
    try {
      await listenAll(runtime, observe, lines)
    } catch (e) {
      // A port in use: release the store, the plugin workers and the timers, or the process would hang.
      await runtime.close()
      throw e
    }
    // Connections the OS drops for want of file descriptors never reach the server: only a count can tell.
    openFiles = watchOpenFiles({ log })
    // `url` is one to try from this machine; `address` is what the server is bound to (0.0.0.0: every interface).
    const bound = runtime.server?.address() as AddressInfo | undefined
    // Each account's mode as resolved: an EncodingAESKey from the environment makes a plaintext account compatible.
    const modes = Object.fromEntries(config.accounts.map((a) => [a.id, a.mode]))
    log.info({ url: runtime.url, address: bound && `${bound.address}:${bound.port}`, publicUrl: config.publicUrl, admin: runtime.adminUrl, accounts: config.accounts.map((a) => a.id), modes, store: store.kind }, 'wxengine listening')
    // stdout is buffered (core/log/logger.ts): the operator and the process manager see at once that it is up.
    log.flush()
  }
  return runtime
}

/** The public server, and the admin one when it has its own port; each is set on `runtime` as it starts. */
async function listenAll(runtime: Runtime, observe: (event: EngineEvent) => void, lines: LineBudget): Promise<void> {
  const { config, engine, log } = runtime
  const sharePort = config.admin.enabled && config.admin.port === undefined
  // On its own port (bound to 127.0.0.1 as documented) nothing is in front of the admin routes: no proxy's header is read.
  const adminRoutes = config.admin.enabled ? createAdminRoutes({ runtime, token: config.admin.token, proxies: sharePort ? proxiesInFront(config.trustProxy) : 0, lines }) : undefined
  const { accounts, defaultAccount } = config
  // As the generation serving now has them: a reload that changes an account's pageDomains changes these too.
  const pageDomainsOf = (accountId: string) => runtime.generations.current().pageDomains?.get(accountId) ?? []
  const count: CountWebRequest = (endpoint, account, outcome) => runtime.metrics.webRequests.inc({ endpoint, account, outcome })
  const web = [
    createWebRateLimit({
      perMinute: config.limits.webRequestsPerMinute,
      proxies: proxiesInFront(config.trustProxy),
      paths: [{ path: JSSDK_PATH, endpoint: 'jssdk-config' }, { path: IDENTITY_PATH, endpoint: 'oauth-identity' }, { path: LOGIN_PATH, endpoint: 'oauth' }],
      lines,
      count,
      pageDomainsOf: (accountId) => pageDomainsOf(accountId ?? defaultAccount),
    }),
    createJsSdkEndpoint({ accounts, defaultAccount, pageDomainsOf, ticketFor: (id) => runtime.platform.jsapiTicketFor(id), log, lines, count }),
    createWebLoginEndpoint({ accounts, defaultAccount, pageDomainsOf, publicUrl: config.publicUrl, openBase: config.platform.openBase, client: createApiClient({ baseUrl: config.platform.apiBase }), kv: runtime.store.kv, log, lines, count }),
  ]
  const app = createApp({ engine, log, defaultAccount: config.defaultAccount, maxBodyBytes: config.limits.maxBodyBytes, web, extraRoutes: sharePort ? adminRoutes : undefined, observe, lines })
  const serverOptions = { requestTimeoutMs: config.limits.requestTimeoutMs, log, observe, lines }
  runtime.server = await listen(createHttpServer(app.callback(), serverOptions), config.port, config.host)
  runtime.url = urlOf(runtime.server)
  if (adminRoutes && !sharePort) {
    const Koa = (await import('koa')).default
    const adminApp = new Koa().use(adminRoutes.routes())
    runtime.adminServer = await listen(createHttpServer(adminApp.callback(), serverOptions), config.admin.port!, '127.0.0.1')
    runtime.adminUrl = urlOf(runtime.adminServer)
  } else if (sharePort) {
    runtime.adminUrl = runtime.url
  }
}

function listen(server: http.Server, port: number, host: string): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}

function urlOf(server: http.Server): string {
  const a = server.address() as AddressInfo
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address === '0.0.0.0' ? '127.0.0.1' : a.address
  return `http://${host}:${a.port}`
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref())
