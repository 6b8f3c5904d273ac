/**
 * wxengine configuration. Every secret and deploy setting can also come from the environment, which wins:
 * PORT, DATA_DIR, RULES_DIR, PLUGINS_DIR, MENUS_DIR, and for the default account WECHAT_TOKEN, WECHAT_APPID,
 * WECHAT_APPSECRET, WECHAT_ENCODING_AES_KEY, WECHAT_ORIGINAL_ID, WECHAT_ADMINS (see docs/configuration.md).
 */
import { defineConfig } from 'wxengine/config'

export default defineConfig({
  port: 8080,
  defaultAccount: 'default',
  accounts: [
    {
      // Served at /wechat and /wechat/default. Replace the token (or set WECHAT_TOKEN) before going live.
      id: 'default',
      token: 'wxenginedev',
      appId: 'wx0000000000000000',
      mode: 'plaintext',
      // Who may trigger rules marked `users: admins` (docs/rules.md#users-who-may-trigger-a-rule), by OpenID;
      // or WECHAT_ADMINS=oAbc...,oDef... in the environment.
      // userGroups: { admins: ['oAbc1234567890abcdefghijklmn'] },
    },
  ],
  store: { kind: 'sqlite' },
  plugins: {
    'menu-click': {
      config: {
        replies: { MENU_HELP: 'Send "survey" to take the survey, "news" for the news, or share a location.' },
      },
    },
  },
})
