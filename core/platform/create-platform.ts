/**
 * The platform side of a runtime: one API client, an access_token manager and PlatformApi per account that
 * has an appSecret, and the late-reply sender. Accounts without a secret can still answer passively; a late
 * reply or a plugin's API call for them fails with `BAD_CONFIG` saying so (and `wxengine start` warns).
 */
import type { EngineConfig } from '../config/config-types.ts'
import type { LateReplies } from '../engine.ts'
import type { LineBudget } from '../log/line-budget.ts'
import type { Logger } from '../log/logger.ts'
import type { Store } from '../store/store.ts'
import { createAccessTokenManager, type AccessTokenManager } from './access-token-manager.ts'
import { createApiClient } from './api-client.ts'
import { createJsapiTicket, type JsapiTicket } from './jsapi-ticket.ts'
import { createLateReplySender, type DrainResult, type LateReplySenderOptions, type LateReplySettled } from './late-reply-sender.ts'
import { createPlatformApi, PlatformApiError, type PlatformClient } from './platform-api.ts'

export interface Platform {
  /** The account's API; throws a PlatformApiError (BAD_CONFIG: no appSecret, UNKNOWN_ACCOUNT) when it has none. */
  apiFor(accountId: string): PlatformClient
  lateReplies: LateReplies
  /** Wait for late replies in flight (shutdown), at most `timeoutMs`. */
  drain(timeoutMs: number): Promise<DrainResult>
  /** Resolves when no late reply is in flight (tests). */
  idle(): Promise<void>
  /** Take up late replies a previous run left pending in the outbox; `settled`: told how each ended (late-reply-sender.ts). */
  resumePending(settled?: (s: LateReplySettled) => void): Promise<number>
  /** The account's jsapi_ticket (the JS-SDK's signatures, core/web/), or why it has none (no appSecret). */
  jsapiTicketFor(accountId: string): JsapiTicket | { unavailable: string }
  /** Drop every account's template lists kept for sendTemplate's and sendSubscribeMessage's checks (the test kit, when a test sets them). */
  forgetTemplates(): void
}

export const WITHOUT_SECRET =
  "the platform API needs one (for its access_token), so replies that miss the reply budget cannot go out late and plugins' ctx.api calls (sendToUser, sendTemplate, sendSubscribeMessage, post, get) fail; set WECHAT_APPSECRET (the default account) or the account's appSecret in engine.config.ts"

export function createPlatform(opts: {
  config: EngineConfig
  store: Store
  log: Logger
  lines?: LineBudget
  onLateReply?: LateReplySenderOptions['onSettled']
  /** Whether the message log's rows are durable before an answer leaves (the engine's waitForLog): a late reply's too. */
  commitLogFirst?: boolean
}): Platform {
  const { config, store, log } = opts
  const client = createApiClient({ baseUrl: config.platform.apiBase })
  const apis = new Map<string, PlatformClient>()
  const tokenManagers = new Map<string, AccessTokenManager>()
  for (const account of config.accounts) {
    if (!account.appSecret) continue
    const tokens = createAccessTokenManager({ appId: account.appId, appSecret: account.appSecret, client, tokens: store.tokens, log, lines: opts.lines })
    tokenManagers.set(account.id, tokens)
    apis.set(account.id, createPlatformApi({ client, tokens, log }))
  }
  const apiFor = (accountId: string): PlatformClient => {
    const api = apis.get(accountId)
    if (api) return api
    if (config.accounts.some((a) => a.id === accountId)) {
      throw new PlatformApiError({ code: 'BAD_CONFIG', reason: `account "${accountId}" has no appSecret: ${WITHOUT_SECRET}` })
    }
    throw new PlatformApiError({ code: 'UNKNOWN_ACCOUNT', reason: `no account "${accountId}"` })
  }
  const tickets = new Map<string, JsapiTicket>()
  const jsapiTicketFor = (accountId: string): JsapiTicket | { unavailable: string } => {
    let ticket = tickets.get(accountId)
    if (ticket) return ticket
    const tokens = tokenManagers.get(accountId)
    if (!tokens) return { unavailable: `account "${accountId}" has no appSecret, and the jsapi_ticket needs an access_token: set ${accountId === config.defaultAccount ? 'WECHAT_APPSECRET or ' : ''}the account's appSecret in engine.config.ts` }
    ticket = createJsapiTicket({ appId: tokens.appId, withToken: tokens.withToken, tokenWaitBoundMs: tokens.waitBoundMs, client, tokens: store.tokens, log, lines: opts.lines })
    tickets.set(accountId, ticket)
    return ticket
  }
  const sender = createLateReplySender({
    api: apiFor,
    outbox: store.outbox,
    log,
    lines: opts.lines,
    onSettled: opts.onLateReply,
    beforeFirstTry: opts.commitLogFirst ? () => store.log.committed() : undefined,
  })
  return {
    apiFor,
    lateReplies: sender,
    drain: (timeoutMs) => sender.drain(timeoutMs),
    idle: () => sender.idle(),
    resumePending: (settled) => sender.resumePending(settled),
    jsapiTicketFor,
    forgetTemplates: () => {
      for (const api of apis.values()) api.forgetTemplates()
    },
  }
}
