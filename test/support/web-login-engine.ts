/**
 * An engine (engine-harness.ts) whose web logins go to a fake WeChat API (core/testkit/fake-wechat-api.ts) that
 * knows each account's AppSecret: the consent page, the code exchange and the user's profile answered over real
 * HTTP on loopback. The web-login tests each started this pair in the same lines, and each had to close both.
 */
import type { AccountConfig } from '../../core/config/config-types.ts'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { startHarness, type Harness } from './engine-harness.ts'

/** The account the web-login tests log into: it has an AppSecret, and its pages are on h5.example.com. */
export const WEB_LOGIN_ACCOUNT: AccountConfig = { id: 'main', token: 'maintoken', appId: 'wxmain0000000001', appSecret: 'main-secret', mode: 'plaintext', pageDomains: ['h5.example.com'] }

export interface WebLoginEngine extends Harness {
  /** The platform the engine's logins go to: what it was asked (`requests`), the browser's user, failures to give. */
  fake: FakeWeChatApi
  /** Closes the engine, then the fake platform. */
  close(): Promise<void>
}

/** The fake platform knows the accounts that have an AppSecret; an account without one cannot log users in anyway. */
export async function startWebLoginEngine(accounts: AccountConfig[] = [WEB_LOGIN_ACCOUNT]): Promise<WebLoginEngine> {
  const fake = await startFakeWeChatApi({ apps: accounts.flatMap((a) => (a.appSecret ? [{ appId: a.appId, appSecret: a.appSecret }] : [])) })
  let engine: Harness
  try {
    engine = await startHarness({ accounts, config: { platform: { apiBase: fake.baseUrl, openBase: fake.baseUrl } } })
  } catch (err) {
    await fake.close()
    throw err
  }
  return {
    ...engine,
    fake,
    async close() {
      await engine.close()
      await fake.close()
    },
  }
}
