/**
 * `wxengine send`: play a WeChat user. Builds the push, signs (and in safe/compatible mode encrypts) it with
 * the account's settings as WeChat does, delivers it to a running engine over HTTP (or, with --local, to an
 * engine started in this process), then opens the reply and prints it.
 */
import http from 'node:http'
import https from 'node:https'
import path from 'node:path'
import type { AccountConfig, EngineConfig } from '../../config/config-types.ts'
import { createLogger } from '../../log/logger.ts'
import type { WireResponse } from '../../receive/wire-types.ts'
import { startRuntime, StartupError } from '../../runtime.ts'
import { standInFor, type FakeWeChatApi } from '../../testkit/fake-wechat-api.ts'
import { replyProblems } from '../../testkit/reply-problems.ts'
import { createWeChatSimulator, type SimulatedRequest } from '../../testkit/wechat-simulator.ts'
import { accountNamed, EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectConfig, stdio, type GlobalFlags, type Output } from '../cli-context.ts'
import { composePush, type PushFlags } from '../compose-push.ts'
import { formatReply, formatSentMessage } from '../format-reply.ts'
import { canUploadFor } from '../../platform/media-uploads.ts'
import { loginLinkSettingsOf } from '../../web/login-link.ts'
import { DATA_DIR_HELD } from '../../store/data-dir-lock.ts'
import { createMemoryStore } from '../../store/memory-store.ts'
import type { MessageLogEntry } from '../../store/store.ts'

export interface SendFlags extends GlobalFlags, Omit<PushFlags, 'toUser'> {
  account?: string
  url?: string
  /** Shorthand for --url http://<HOST>:<port>: an engine on this machine on another port (`dev --port`). */
  port?: number
  local?: boolean
  raw?: boolean
  /** With --local: after the answer, seconds to keep the engine running and print the messages it sends through the API. */
  wait?: number
}

/** --wait without a number. A plugin's calls may run 30 s (timeoutMs), but work that answers later is mostly quicker. */
export const DEFAULT_WAIT_SECONDS = 10

export async function runSend(flags: SendFlags, io: Output = stdio): Promise<number> {
  const config = loadProjectConfig(flags, io)
  if (!config) return EXIT_USAGE
  if (flags.local && (flags.url !== undefined || flags.port !== undefined)) {
    io.err(`wxengine send: --local runs the engine here, ${flags.url !== undefined ? '--url' : '--port'} sends to one elsewhere: give one of them`)
    return EXIT_USAGE
  }
  if (flags.wait !== undefined && !flags.local) {
    io.err('wxengine send: --wait needs --local: a late reply goes out from the engine that ran the plugin, and only one in this process can be watched')
    return EXIT_USAGE
  }
  if (flags.url !== undefined && flags.port !== undefined) {
    io.err('wxengine send: --port is short for --url http://<HOST>:<port>: give one of them')
    return EXIT_USAGE
  }
  const target = sendTarget(flags.url ?? `http://${reachableHost(config.host)}:${flags.port ?? config.port}`, flags.account, config.defaultAccount)
  if ('error' in target) {
    io.err(`wxengine send: ${target.error}`)
    return EXIT_USAGE
  }
  const accountId = target.account
  const account = accountNamed(config.accounts, accountId, 'send', io)
  if (!account) return EXIT_USAGE
  const fields = composePush({ ...flags, toUser: account.originalId })
  if (!fields.ok) {
    io.err(`wxengine send: ${fields.error}`)
    return EXIT_USAGE
  }
  if (fields.value.unread) io.err(`wxengine send: ${fields.value.unread}`)
  // Said, not only documented: a reply to a made-up MediaId or EventKey should not pass for a real one.
  if (fields.value.placeholders.length > 0) {
    const names = fields.value.placeholders
    io.err(`wxengine send: placeholders sent for ${names.join(', ')} (set them with ${names.includes('EventKey') ? '--key or ' : ''}--field Name=value)`)
  }
  let sim
  try {
    sim = createWeChatSimulator({ account })
  } catch (e) {
    io.err(`wxengine: account "${account.id}": ${(e as Error).message}; check its encodingAESKey and appId`)
    return EXIT_USAGE
  }
  // Signed when it leaves, as WeChat does: an engine started in-process may take a moment to load plugins.
  const push = fields.value.fields
  const request = () => sim.request({ ...push, CreateTime: Math.floor(Date.now() / 1000) })

  const show = (res: WireResponse | undefined, sent: SimulatedRequest): number => {
    if (!res) return EXIT_FAILED
    if (res.status !== 200) {
      io.err(`wxengine send: the engine answered HTTP ${res.status}: ${res.body.trim() || '(empty body)'}${signatureHint(res, account, config.defaultAccount)}`)
      return EXIT_FAILED
    }
    if (flags.raw) io.out(res.body)
    const opened = sim.openReply(res.body)
    if (opened.error) {
      io.err(`wxengine send: the reply could not be opened: ${opened.error}${flags.raw ? '' : `\n${res.body}`}`)
      return EXIT_FAILED
    }
    if (!flags.raw) io.out(formatReply(opened.fields, opened.encrypted))
    // Checked as WeChat reads it: an engine behind --url may be another build, or a proxy's answer.
    const problems = replyProblems(sent, opened)
    if (problems.length === 0) return EXIT_OK
    io.err(`wxengine send: WeChat would not show this reply to the user:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    return EXIT_FAILED
  }
  if (flags.local) return deliverLocally(config, account, request, show, { waitSeconds: flags.wait, raw: flags.raw === true }, io)
  const req = request()
  // `dev` listens on 127.0.0.1 whatever host engine.config.ts names (HOST still wins): an engine refused at
  // that host is tried there too.
  const loopback = flags.url === undefined && reachableHost(config.host) !== '127.0.0.1' ? LOOPBACK : undefined
  return show(await deliverOverHttp(`${target.endpoint}?${req.search}`, req.body, io, loopback), req)
}

const LOOPBACK = '127.0.0.1'

/**
 * Why a running engine refuses what send signed: the token send read is not the engine's. The usual case is
 * an engine started with WECHAT_TOKEN in its environment and a send run without it, which said only
 * `HTTP 401: BAD_SIGNATURE` (an operator's walkthrough of the binary).
 */
function signatureHint(res: WireResponse, account: AccountConfig, defaultAccount: string): string {
  if (res.status !== 401 || res.body.trim() !== 'BAD_SIGNATURE') return ''
  const envToken = process.env.WECHAT_TOKEN
  const source =
    account.id !== defaultAccount
      ? 'its token in engine.config.ts'
      : envToken
        ? 'WECHAT_TOKEN in this environment'
        : 'engine.config.ts, with no WECHAT_TOKEN in this environment'
  const fix = account.id !== defaultAccount ? 'the same engine.config.ts as the engine' : 'the WECHAT_TOKEN the engine was started with (or the same engine.config.ts)'
  return `; send signed it with account "${account.id}"'s token from ${source}, and the engine has another: run send with ${fix}`
}

/**
 * Where an engine listening on `host` (HOST, as start reads it) is reached from this machine: the address
 * itself, or the loopback for every interface. It was always 127.0.0.1, PORT taken and HOST not: from one
 * environment file for both, an engine on HOST=::1 or a LAN address was "cannot reach ... Is it running?".
 */
export function reachableHost(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === '::') return LOOPBACK
  return host.includes(':') ? `[${host}]` : host
}

/**
 * Where to POST, and as which account. `--url` is the engine's base URL (`/wechat/<id>` is added), or the
 * server URL as typed into the console: ending in `/wechat` (the default account's) or `/wechat/<id>`,
 * which names the account. Such a URL was taken for a base and got `/wechat/wechat/default`, a 404 for an
 * account "wechat" (an operator's review).
 */
export function sendTarget(url: string, accountFlag: string | undefined, defaultAccount: string): { endpoint: string; account: string } | { error: string } {
  const usage = `--url takes the engine's base URL, e.g. http://127.0.0.1:8080, or its server URL as in the console, e.g. https://wx.example.com/wechat (got "${url}")`
  if (!/^https?:\/\/[^/]/.test(url)) return { error: usage }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { error: usage }
  }
  if (parsed.search || parsed.hash) return { error: `--url takes no query or fragment: send signs the push itself (got "${url}")` }
  const path = parsed.pathname.replace(/\/+$/, '')
  const endpoint = /\/wechat(?:\/([^/]+))?$/.exec(path)
  if (!endpoint) {
    const account = accountFlag ?? defaultAccount
    return { endpoint: `${parsed.origin}${path}/wechat/${encodeURIComponent(account)}`, account }
  }
  let named: string | undefined
  try {
    named = endpoint[1] === undefined ? undefined : decodeURIComponent(endpoint[1])
  } catch {
    return { error: `--url names an account that is not valid percent-encoding (got "${url}")` }
  }
  if (named === undefined && accountFlag !== undefined && accountFlag !== defaultAccount) {
    return { error: `--url ends in /wechat, the default account's URL ("${defaultAccount}"); account "${accountFlag}" answers at ${parsed.origin}${path}/${accountFlag}` }
  }
  if (named !== undefined && accountFlag !== undefined && accountFlag !== named) {
    return { error: `--url is account "${named}"'s URL, and --account says "${accountFlag}": give one of them` }
  }
  return { endpoint: `${parsed.origin}${path}`, account: named ?? defaultAccount }
}

/** A connection failing at once: no engine at that address (or no such address here). */
const NOT_THERE = new Set(['ECONNREFUSED', 'EADDRNOTAVAIL', 'EHOSTUNREACH', 'ENETUNREACH'])

/** How long `send` waits for an engine's whole answer: WeChat itself gives up after 5 s. */
const SEND_TIMEOUT_MS = 10_000
/** The most of an answer read: a reply is a few KB (a news reply of 8 articles, encrypted, well under 64 KB). */
const MAX_ANSWER_BYTES = 1024 * 1024

/** A failure after the server answered: it is there, so not "cannot reach ... Is the engine running?". */
class AnswerError extends Error {}

/** A server that took the connection and sent nothing back: there too, and stuck or not an engine. */
class SilentServerError extends Error {}

async function deliverOverHttp(url: string, body: string, io: Output, alsoAt?: string): Promise<WireResponse | undefined> {
  let tried = new URL(url).origin
  try {
    return await postXml(new URL(url), body)
  } catch (e) {
    let failure = e
    if (alsoAt && NOT_THERE.has((e as NodeJS.ErrnoException).code ?? '')) {
      const there = new URL(url)
      there.hostname = alsoAt
      try {
        return await postXml(there, body)
      } catch (again) {
        failure = again
        tried += ` and ${there.origin}`
      }
    }
    if (failure instanceof AnswerError) {
      io.err(`wxengine send: ${tried} answered, but ${failure.message}. Is it a wxengine (or the right --url)?`)
      return undefined
    }
    if (failure instanceof SilentServerError) {
      io.err(`wxengine send: ${tried} took the connection but ${failure.message} (an engine answers within 5 s). Is it a wxengine (or the right --url), or is it stuck (its log says)?`)
      return undefined
    }
    const why = (failure as NodeJS.ErrnoException).code ?? (failure as Error).message
    io.err(`wxengine send: cannot reach ${tried} (${why}). Is the engine running (wxengine start)? Use --port for one started on another port (start --port, dev --port), --url for another address, or --local to run the engine in this process.`)
    return undefined
  }
}

/**
 * POSTs the push with node's own http client, not fetch: fetch refuses the ports browsers block (6000,
 * 6665-6669, 10080, ...), and an engine started with `--port 6666` was then "cannot reach ... (bad port). Is
 * the engine running?" while it ran.
 */
function postXml(url: URL, body: string): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http
    let answer: http.IncomingMessage | undefined
    // Connected, a silence is the server's: said so, not "cannot reach ... Is the engine running?" (a CLI review).
    let connected = false
    // The whole exchange, not only silence: the socket's own timeout let an answer that trickled a byte
    // every few seconds (or streamed without end) keep `send` waiting for good (a CLI review).
    const deadline = setTimeout(() => {
      if (answer) answer.destroy(new AnswerError(`its answer did not end within ${SEND_TIMEOUT_MS / 1000} s`))
      else if (connected) req.destroy(new SilentServerError(`sent no answer in ${SEND_TIMEOUT_MS / 1000} s`))
      else req.destroy(new Error(`no answer in ${SEND_TIMEOUT_MS / 1000} s`))
    }, SEND_TIMEOUT_MS)
    const done = <T>(settle: (v: T) => void) => (v: T) => {
      clearTimeout(deadline)
      settle(v)
    }
    const req = client.request(url, { method: 'POST', headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) } }, (res) => {
      answer = res
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.length
        if (size > MAX_ANSWER_BYTES) res.destroy(new AnswerError(`its answer passed ${MAX_ANSWER_BYTES} bytes (a reply is a few KB)`))
        else chunks.push(c)
      })
      res.on('error', done(reject))
      res.on('end', () => done(resolve)({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', done(reject))
    req.on('socket', (socket) => {
      if (!socket.connecting) connected = true
      else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => (connected = true))
    })
    req.end(body)
  })
}

async function deliverLocally(
  config: EngineConfig,
  account: AccountConfig,
  request: () => SimulatedRequest,
  show: (res: WireResponse | undefined, sent: SimulatedRequest) => number,
  opts: { waitSeconds?: number; raw: boolean },
  io: Output,
): Promise<number> {
  let runConfig = config
  let standIn: FakeWeChatApi | undefined
  if (opts.waitSeconds !== undefined) {
    // The customer-service messages of this run (a late reply, ctx.api.sendToUser) go to the test kit's
    // stand-in for the platform on 127.0.0.1, to be printed: sent to WeChat, they would go to a user who
    // does not exist (cli-user), and an account without an appSecret could send none at all.
    const started = await standInFor(config.accounts)
    standIn = started.api
    runConfig = { ...config, accounts: started.accounts, platform: { ...config.platform, apiBase: standIn.baseUrl } }
  }
  let runtime
  const logged: string[] = []
  // The message's log entry when a session answered it, said after the reply (sessionHint).
  let bySession: MessageLogEntry | undefined
  try {
    runtime = await startRuntime(
      { ...runConfig, watch: false },
      {
        listen: false,
        ownDataDir: true,
        log: stderrLogger(logged),
        observe: (e) => {
          // Without --wait a late reply goes to the platform, for a user made up here: say how to see it instead.
          // Keyed on the engine's event, told right after its warning line, not on that line's wording.
          if (e.type === 'budget_spent' && !standIn) io.err(LATE_WITHOUT_WAIT_HINT)
          if (e.type === 'message' && e.entry.handledBy === 'session' && e.entry.plugin !== undefined) bySession = e.entry
        },
        platformTokens: standIn ? createMemoryStore().tokens : undefined,
        // A try-out uploads no media file: permanent material counts against the account's quota, and the run
        // would call the real platform. The media_ids a serving engine kept in the store are used; a file
        // without one answers with a placeholder, and a warning says so. Whether it could be uploaded is the
        // real configuration's say (the stand-in gives every account an appSecret).
        mediaStoredOnly: { canUpload: (id) => canUploadFor(config.accounts, id), account: account.id },
        // The same for a login link (a rules file's login: article, ctx.web.loginUrl): the real appSecret decides.
        loginLinks: loginLinkSettingsOf(config),
      },
    )
  } catch (e) {
    await standIn?.close()
    if (!(e instanceof StartupError)) throw e
    // A serving engine remembers which users of this directory have no session: a dialogue begun here would
    // not be seen by it (and two engines would answer from one reply cache).
    if (e.message.includes(DATA_DIR_HELD)) {
      // Where it listens is not recorded: `dev --port 3000` (as cli.md shows it) is not on the configured port,
      // and "without --local" alone then sent to a port nothing served (a newcomer's review).
      io.err(`wxengine send: an engine is serving from ${config.dataDir}; send to it without --local, adding --port <its port> if it was started on another than ${config.port} (start --port, dev --port); or stop it first, or give --local another DATA_DIR`)
      return EXIT_FAILED
    }
    // A plugin that failed to load was logged just above, as an error line: said again here, each showed twice.
    const unsaid = e.problems.filter((p) => !logged.some((line) => line.includes(p.replace(/^[A-Z_]+: /, '').split(process.cwd() + path.sep).join(''))))
    const said = e.problems.length - unsaid.length
    const problems = unsaid.length > 0 ? `:\n  ${unsaid.join('\n  ')}` : ''
    io.err(e.problems.length > 0 ? `wxengine send: the engine did not start: ${e.message.split(':\n')[0]}${said > 0 ? ` (${said === 1 ? 'the error' : `${said} errors`} above)` : ''}${problems}` : `wxengine send: the engine did not start: ${e.message}`)
    return EXIT_FAILED
  }
  let sentAt = Date.now()
  let printed = 0
  const printSent = () => {
    for (; standIn && printed < standIn.sent.length; printed++) {
      const m = standIn.sent[printed]
      io.out(opts.raw ? m.raw : formatSentMessage(m.body, m.at - sentAt, m.via))
    }
  }
  try {
    const req = request()
    sentAt = Date.now()
    const code = show(await runtime.engine.handle({ method: 'POST', accountId: account.id, query: req.query, body: req.body }), req)
    if (bySession) io.err(sessionHint(bySession))
    if (standIn && code === EXIT_OK) await watchStandIn(opts.waitSeconds ?? DEFAULT_WAIT_SECONDS, printSent, io)
    return code
  } finally {
    // Closing waits for a plugin still at work and sends its late reply: printed too, though past the wait.
    await runtime.close()
    if (standIn) {
      printSent()
      if (printed === 0) io.err('wxengine send: no message was sent through the API (customer-service message, template message or subscription notice)')
      await standIn.close()
    }
  }
}

/** Prints what arrives until the time is up, or Ctrl-C ends the wait early. */
async function watchStandIn(seconds: number, printSent: () => void, io: Output): Promise<void> {
  io.err(`wxengine send: waiting ${seconds} s for messages sent through the API (a late reply, ctx.api.sendToUser, ctx.api.sendTemplate, ctx.api.sendSubscribeMessage); Ctrl-C ends the wait`)
  let stop = false
  const interrupt = () => (stop = true)
  process.once('SIGINT', interrupt)
  try {
    for (const until = Date.now() + seconds * 1000; !stop && Date.now() < until; ) {
      printSent()
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(0, until - Date.now()))))
    }
  } finally {
    process.off('SIGINT', interrupt)
  }
}

/**
 * What `send --local` says when the message went to a session rather than through the rules. Every --local run
 * shares the project's store, so a dialogue one run began (`send survey --local`, as the example rules invite)
 * took the next runs' texts as its answers: `send "weather Beijing" --local` printed the survey's next question,
 * with nothing saying why (a plugin author's walkthrough).
 */
function sessionHint(entry: Pick<MessageLogEntry, 'openId' | 'plugin'>): string {
  return `hint: answered by plugin ${entry.plugin} in the conversation (session) an earlier message of ${entry.openId} began, not through the rules: a user's messages go to their conversation first until it ends or lapses; --openid <another> sends as a new user`
}

/** What `send --local` without --wait says when a plugin outran the reply budget (the engine's `budget_spent`). */
const LATE_WITHOUT_WAIT_HINT =
  'hint: add --wait to print the late reply here; without it, the late reply goes to the platform API, for a user that exists only in this try-out'

/**
 * Warnings (a plugin that threw, a rule that refers to nothing) go to stderr, one short line each with its
 * reason; stdout holds the reply. LOG_LEVEL=info (or debug) adds the plugins' own log lines (ctx.log, console).
 */
/** The engine's log lines as `level: message` on stderr; each also kept in `printed`. */
function stderrLogger(printed: string[]) {
  const names: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' }
  const here = process.cwd() + path.sep
  return createLogger({
    level: process.env.LOG_LEVEL ?? 'warn',
    destination: {
      write(line: string) {
        const entry = JSON.parse(line) as { level: number; msg?: string; reason?: unknown; error?: unknown; plugin?: unknown }
        const why = entry.reason ?? entry.error
        const from = typeof entry.plugin === 'string' && !entry.msg?.includes(entry.plugin) ? `[${entry.plugin}] ` : ''
        // The reason when the message does not already say it ("late reply failed" alone says nothing).
        const reason = why !== undefined && !entry.msg?.includes(String(why)) ? `: ${String(why)}` : ''
        // The engine names files by their full path (for its logs); here, as rules check does, as you would type them.
        const text = `${names[entry.level] ?? 'log'}: ${from}${entry.msg ?? line}${reason}`.split(here).join('')
        printed.push(text)
        process.stderr.write(`${text}\n`)
      },
    },
  })
}
