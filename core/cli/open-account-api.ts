/**
 * An account's platform API for a command (`wxengine menu push`, `wxengine qrcode create`), with the
 * access_token the engine uses: through the project's store, whose token store a running engine shares (one
 * refresher at a time, access-token-manager.ts). A token fetched here instead of read from there would end
 * the engine's 5 minutes later.
 */
import type { AccountConfig, EngineConfig } from '../config/config-types.ts'
import { createLogger } from '../log/logger.ts'
import { createAccessTokenManager } from '../platform/access-token-manager.ts'
import { createApiClient } from '../platform/api-client.ts'
import { createPlatformApi, type PlatformClient } from '../platform/platform-api.ts'
import { createMemoryStore } from '../store/memory-store.ts'
import { openStore } from '../store/open-store.ts'
import type { KvStore, Store } from '../store/store.ts'
import { EXIT_FAILED, EXIT_USAGE, type Output } from './cli-context.ts'

export interface AccountApi {
  api: PlatformClient
  /** The store's kv, where the engine keeps the media_ids of the files it uploaded (media-uploads.ts). */
  kv: KvStore
  close: () => Promise<void>
}

/**
 * The account's API; `close` when done. Or the exit code, said: no appSecret is the configuration's (usage),
 * a store that does not open is a failure. `command` is `menu push`, `what` what needs the token (`the menu API`).
 */
export async function openAccountApi(config: EngineConfig, account: AccountConfig, command: string, what: string, io: Output): Promise<AccountApi | number> {
  if (!account.appSecret) {
    const setting = account.id === config.defaultAccount ? 'set WECHAT_APPSECRET, or the appSecret' : 'set the appSecret'
    io.err(`wxengine ${command}: account "${account.id}" has no appSecret, and ${what} needs an access_token: ${setting} of account "${account.id}" in engine.config.ts (mp.weixin.qq.com, 设置与开发 > 基本配置 > AppSecret)`)
    return EXIT_USAGE
  }
  const log = createLogger({ level: 'silent' })
  let store: Store
  if (config.store.kind === 'memory') {
    // Nothing to share with: a running engine with the memory store holds its token in its own process.
    io.err(`note: the memory store shares no access_token with a running engine: the token fetched now replaces the engine's, which stops working in 5 minutes (the engine then fetches another)`)
    store = createMemoryStore()
  } else {
    try {
      store = await openStore(config.store, config.dataDir, log)
    } catch (e) {
      io.err(`wxengine ${command}: cannot open the ${config.store.kind} store, where the access_token is shared with the engine: ${(e as Error).message}`)
      return EXIT_FAILED
    }
  }
  const client = createApiClient({ baseUrl: config.platform.apiBase })
  const tokens = createAccessTokenManager({ appId: account.appId, appSecret: account.appSecret, client, tokens: store.tokens, log })
  return { api: createPlatformApi({ client, tokens }), kv: store.kv, close: () => store.close() }
}
