/**
 * What a running engine leaves in a project's store: an access_token it fetched from the (fake) platform
 * (access-token-manager.ts). For the tests of commands that must use that token, not fetch one of their own.
 */
import { createLogger } from '../../core/log/logger.ts'
import { openStore } from '../../core/store/open-store.ts'

/** Fetches a token for `appId` as the engine does and keeps it in the SQLite store of `dataDir`; returns it. */
export async function storeEngineToken(apiBase: string, dataDir: string, appId: string, secret: string): Promise<string> {
  const answer = (await (await fetch(`${apiBase}/cgi-bin/token?grant_type=client_credential&appid=${appId}&secret=${secret}`)).json()) as { access_token: string }
  const store = await openStore({ kind: 'sqlite' }, dataDir, createLogger({ level: 'silent' }))
  try {
    await store.tokens.set(appId, { token: answer.access_token, expiresAt: Date.now() + 7_200_000 })
  } finally {
    await store.close()
  }
  return answer.access_token
}
