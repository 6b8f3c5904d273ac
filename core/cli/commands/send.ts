/**
 * `wxengine send`: play a WeChat user. Builds the push, signs (and in safe/compatible mode encrypts) it with
 * the account's settings as WeChat does, delivers it to a running engine over HTTP (or, with --local, to an
 * engine started in this process), then opens the reply and prints it.
 */
import type { AccountConfig } from '../../config/config-types.ts'
import { createLogger } from '../../log/logger.ts'
import type { WireResponse } from '../../receive/wire-types.ts'
import { startRuntime, StartupError } from '../../runtime.ts'
import { createWeChatSimulator } from '../../testkit/wechat-simulator.ts'
import { accountNamed, EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectConfig, stdio, type GlobalFlags, type Output } from '../cli-context.ts'
import { composePush, type PushFlags } from '../compose-push.ts'
import { formatReply } from '../format-reply.ts'
import { DATA_DIR_HELD } from '../../store/data-dir-lock.ts'

export interface SendFlags extends GlobalFlags, Omit<PushFlags, 'toUser'> {
  account?: string
  url?: string
  /** Shorthand for --url http://127.0.0.1:<port>: an engine on this machine on another port (`dev --port`). */
  port?: number
  local?: boolean
  raw?: boolean
}

export async function runSend(flags: SendFlags, io: Output = stdio): Promise<number> {
  const config = loadProjectConfig(flags, io)
  if (!config) return EXIT_USAGE
  if (flags.local && (flags.url !== undefined || flags.port !== undefined)) {
    io.err(`wxengine send: --local runs the engine here, ${flags.url !== undefined ? '--url' : '--port'} sends to one elsewhere: give one of them`)
    return EXIT_USAGE
  }
  if (flags.url !== undefined && flags.port !== undefined) {
    io.err('wxengine send: --port is short for --url http://127.0.0.1:<port>: give one of them')
    return EXIT_USAGE
  }
  const target = sendTarget(flags.url ?? `http://127.0.0.1:${flags.port ?? config.port}`, flags.account, config.defaultAccount)
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

  let res: WireResponse | undefined
  if (flags.local) {
    res = await deliverLocally(config, account, request, io)
  } else {
    const req = request()
    res = await deliverOverHttp(`${target.endpoint}?${req.search}`, req.body, io)
  }
  if (!res) return EXIT_FAILED
  if (res.status !== 200) {
    io.err(`wxengine send: the engine answered HTTP ${res.status}: ${res.body.trim() || '(empty body)'}`)
    return EXIT_FAILED
  }
  if (flags.raw) {
    io.out(res.body)
    return EXIT_OK
  }
  const opened = sim.openReply(res.body)
  if (opened.error) {
    io.err(`wxengine send: the reply could not be opened: ${opened.error}\n${res.body}`)
    return EXIT_FAILED
  }
  io.out(formatReply(opened.fields, opened.encrypted))
  return EXIT_OK
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

async function deliverOverHttp(url: string, body: string, io: Output): Promise<WireResponse | undefined> {
  try {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body, signal: AbortSignal.timeout(10_000) })
    return { status: r.status, contentType: r.headers.get('content-type') ?? '', body: await r.text() }
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause
    const why = cause?.code ?? cause?.message ?? (e as Error).message
    io.err(`wxengine send: cannot reach ${new URL(url).origin} (${why}). Is the engine running (wxengine start)? Use --url for another address, or --local to run the engine in this process.`)
    return undefined
  }
}

async function deliverLocally(
  config: Parameters<typeof startRuntime>[0],
  account: AccountConfig,
  request: () => { query: Record<string, string>; body: string },
  io: Output,
): Promise<WireResponse | undefined> {
  let runtime
  try {
    runtime = await startRuntime({ ...config, watch: false }, { listen: false, ownDataDir: true, log: stderrLogger() })
  } catch (e) {
    if (!(e instanceof StartupError)) throw e
    // A serving engine caches the sessions of this directory: a dialogue moved on here would be lost to it.
    if (e.message.includes(DATA_DIR_HELD)) {
      io.err(`wxengine send: an engine is serving from ${config.dataDir}; send to it without --local (or stop it first, or give --local another DATA_DIR)`)
      return undefined
    }
    io.err(`wxengine send: the engine did not start: ${e.message}`)
    return undefined
  }
  try {
    const req = request()
    return await runtime.engine.handle({ method: 'POST', accountId: account.id, query: req.query, body: req.body })
  } finally {
    await runtime.close()
  }
}

/**
 * Warnings (a plugin that threw, a rule that refers to nothing) go to stderr, one short line each with its
 * reason; stdout holds the reply. LOG_LEVEL=info (or debug) adds the plugins' own log lines (ctx.log, console).
 */
function stderrLogger() {
  const names: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' }
  return createLogger({
    level: process.env.LOG_LEVEL ?? 'warn',
    destination: {
      write(line: string) {
        const entry = JSON.parse(line) as { level: number; msg?: string; reason?: unknown; error?: unknown; plugin?: unknown }
        const why = entry.reason ?? entry.error
        const from = typeof entry.plugin === 'string' && !entry.msg?.includes(entry.plugin) ? `[${entry.plugin}] ` : ''
        // The reason when the message does not already say it ("late reply failed" alone says nothing).
        const reason = why !== undefined && !entry.msg?.includes(String(why)) ? `: ${String(why)}` : ''
        process.stderr.write(`${names[entry.level] ?? 'log'}: ${from}${entry.msg ?? line}${reason}\n`)
      },
    },
  })
}
