/**
 * The platform side of a runtime: one API client, an access_token manager and PlatformApi per account that
 * has an appSecret, and the late-reply sender. Accounts without a secret can still answer passively; a late
 * reply for them is recorded as failed with that reason.
 */
import type { EngineConfig } from '../config/config-types.ts'
import type { LateReplies } from '../engine.ts'
import type { LineBudget } from '../log/line-budget.ts'
import type { Logger } from '../log/logger.ts'
import type { Store } from '../store/store.ts'
import { createAccessTokenManager } from './access-token-manager.ts'
import { createApiClient } from './api-client.ts'
import { createLateReplySender, type DrainResult, type LateReplySenderOptions } from './late-reply-sender.ts'
import { createPlatformApi, type PlatformClient } from './platform-api.ts'

export interface Platform {
  apiFor(accountId: string): PlatformClient | undefined
  lateReplies: LateReplies
  /** Wait for late replies in flight (shutdown), at most `timeoutMs`. */
  drain(timeoutMs: number): Promise<DrainResult>
  /** Resolves when no late reply is in flight (tests). */
  idle(): Promise<void>
  /** Take up late replies a previous run left pending in the outbox. */
  resumePending(): Promise<number>
}

export function createPlatform(opts: { config: EngineConfig; store: Store; log: Logger; lines?: LineBudget; onLateReply?: LateReplySenderOptions['onSettled'] }): Platform {
  const { config, store, log } = opts
  const client = createApiClient({ baseUrl: config.platform.apiBase })
  const apis = new Map<string, PlatformClient>()
  for (const account of config.accounts) {
    if (!account.appSecret) continue
    const tokens = createAccessTokenManager({ appId: account.appId, appSecret: account.appSecret, client, tokens: store.tokens, log })
    apis.set(account.id, createPlatformApi({ client, tokens }))
  }
  const sender = createLateReplySender({ api: (accountId) => apis.get(accountId), outbox: store.outbox, log, lines: opts.lines, onSettled: opts.onLateReply })
  return {
    apiFor: (accountId) => apis.get(accountId),
    lateReplies: sender,
    drain: (timeoutMs) => sender.drain(timeoutMs),
    idle: () => sender.idle(),
    resumePending: () => sender.resumePending(),
  }
}
