/**
 * wxengine configuration. Every secret and deploy setting can also come from the environment, which wins:
 * PORT, DATA_DIR, RULES_DIR, PLUGINS_DIR, MENUS_DIR, and for the default account WECHAT_TOKEN, WECHAT_APPID,
 * WECHAT_APPSECRET, WECHAT_ENCODING_AES_KEY, WECHAT_ORIGINAL_ID, WECHAT_ADMINS, WECHAT_PAGE_DOMAINS, and
 * PUBLIC_URL and TRUST_PROXY (see docs/configuration.md).
 */
import { defineConfig } from 'wxengine/config'

export default defineConfig({
  port: 8080,
  // Where users' browsers reach the engine (or PUBLIC_URL): web logins come back there, and login links
  // (ctx.web.loginUrl, a menu button's or a news article's login:) are built on it (docs/web.md).
  // publicUrl: 'https://wx.example.com',
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
      // Your pages inside WeChat (its JS接口安全域名): /jssdk-config signs them, /oauth logs users in to them
      // (docs/web.md); or WECHAT_PAGE_DOMAINS=h5.example.com. Both need the appSecret.
      // pageDomains: ['h5.example.com'],
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
