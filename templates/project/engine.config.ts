/**
 * The engine's configuration (every setting: __DOCS__/configuration.md). The environment overrides it:
 * WECHAT_TOKEN, WECHAT_APPID, WECHAT_APPSECRET, WECHAT_ENCODING_AES_KEY, WECHAT_ORIGINAL_ID for this
 * account, and PORT, DATA_DIR, LOG_LEVEL for the engine.
 */
import { defineConfig } from 'wxengine/config'

export default defineConfig({
  port: 8080,
  // Where users' browsers reach the engine (or PUBLIC_URL): web logins come back there, and login links are
  // built on it (__DOCS__/web.md).
  // publicUrl: 'https://wx.example.com',
  accounts: [
    {
      id: 'default',
      // The Token you type into the WeChat admin console (基本配置 > 服务器配置): made up for you here.
      token: '__TOKEN__',
      // Your account's AppID (and appSecret, for replies after 5 s and the platform API).
      appId: '__APPID__',
      mode: 'plaintext',
      // Your pages inside WeChat (its JS接口安全域名): /jssdk-config signs them, /oauth logs users in to them.
      // pageDomains: ['h5.example.com'],
    },
  ],
})
