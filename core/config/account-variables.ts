/**
 * The WECHAT_* variables that set the default account's settings, by setting: what load-config.ts applies
 * (and refuses set but empty), and what config-schema.ts names in a message about the setting. One table, so
 * a variable added for one is there for the other.
 */
import type { AccountConfig } from './config-types.ts'

export const ACCOUNT_VARIABLES = {
  token: 'WECHAT_TOKEN',
  appId: 'WECHAT_APPID',
  appSecret: 'WECHAT_APPSECRET',
  encodingAESKey: 'WECHAT_ENCODING_AES_KEY',
  originalId: 'WECHAT_ORIGINAL_ID',
  mode: 'WECHAT_MODE',
} as const satisfies Partial<Record<keyof AccountConfig, string>>

export type AccountVariableSetting = keyof typeof ACCOUNT_VARIABLES
