/** The platform API side (protocol.md §6): access_token, authenticated calls, late replies. */
export { createApiClient, DEFAULT_API_TIMEOUT_MS } from './api-client.ts'
export type { ApiClient, ApiClientOptions, ApiJson } from './api-client.ts'

export { createAccessTokenManager, isTokenRejected, isTransientTokenError, TOKEN_CONFIG_ERRCODES, TOKEN_REJECTED_ERRCODES } from './access-token-manager.ts'
export type { AccessTokenManager, AccessTokenManagerOptions } from './access-token-manager.ts'

export { createPlatformApi, engineErrorOf, PlatformApiError, CUSTOM_SEND_PATH } from './platform-api.ts'
export type { PlatformClient, PlatformApiOptions } from './platform-api.ts'

export { createLateReplySender, isTransientError, TRANSIENT_ERRCODES } from './late-reply-sender.ts'
export type { LateReplySender, LateReplySenderOptions, RetryPolicy, DrainResult } from './late-reply-sender.ts'
