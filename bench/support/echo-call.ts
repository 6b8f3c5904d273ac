/** One call of the example echo plugin, as the router makes it for "hello, echo": the plugin benches' load. */
import { fileURLToPath } from 'node:url'
import type { Logger } from '../../core/log/logger.ts'
import type { TextMessage } from '../../core/normalize/message-types.ts'
import { loadPluginSet } from '../../core/plugin/load-plugin-set.ts'
import type { PluginCall, PluginSet } from '../../core/plugin/plugin-host-types.ts'
import type { PluginIsolation } from '../../core/plugin/plugin-isolation.ts'
import { createMemoryStore } from '../../core/store/memory-store.ts'

const message: TextMessage = {
  kind: 'text',
  toUser: 'gh_0123456789ab',
  fromUser: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  createTime: 1_700_000_000,
  msgId: '1234567890123456',
  content: 'hello, echo',
  raw: {
    ToUserName: 'gh_0123456789ab',
    FromUserName: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    CreateTime: '1700000000',
    MsgType: 'text',
    Content: 'hello, echo',
    MsgId: '1234567890123456',
  },
}

export const echoCall: PluginCall = {
  plugin: 'echo',
  message,
  key: 'main:m:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o:1234567890123456',
  account: { id: 'main', appId: 'wx0000000000000001' },
  match: { rule: 'echo', via: 'prefix', keyword: 'echo', captures: [], groups: {}, fromClick: false, args: {} },
  session: { active: false, state: undefined },
}

/** The example plugins but echo, each disabled. */
const echoAlone = Object.fromEntries(['survey', 'order', 'news-demo', 'location-responder', 'menu-click', 'checkin', 'points'].map((name) => [name, { enabled: false }]))

/** The example project's plugins/ with echo alone enabled, loaded; throws unless echo loaded. */
export async function loadEchoAlone(isolation: PluginIsolation, log: Logger): Promise<PluginSet> {
  const { set, errors } = await loadPluginSet({
    isolation,
    dir: fileURLToPath(new URL('../../plugins', import.meta.url)),
    settings: echoAlone,
    defaultTimeoutMs: 5000,
    services: { kv: createMemoryStore().kv, api: () => { throw new Error('unused') }, log },
    log,
  })
  if (errors.length > 0 || !set.has('echo')) throw new Error(`echo did not load: ${JSON.stringify(errors)}`)
  return set
}
