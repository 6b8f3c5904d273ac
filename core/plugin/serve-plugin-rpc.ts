/**
 * The main thread's side of a worker's requests: storage through the KvStore, the platform API through
 * the engine's client. Failures go back as values; the worker re-throws them in the plugin.
 */
import type { UploadType } from '../platform/temporary-media.ts'
import { PlatformApiError } from '../platform/platform-api.ts'
import { parseSendable, parseSendOptions } from '../reply/custom-message-schema.ts'
import { parseTemplateMessage } from '../reply/template-message.ts'
import { parseSubscribeMessage } from '../reply/subscribe-message.ts'
import type { JsonValue } from './plugin-api.ts'
import type { PluginServices } from './plugin-host-types.ts'
import { globalKey, pluginNamespace, sharedNamespace, userKey } from './storage-keys.ts'
import type { KvScope, RpcError, RpcRequest, RpcResponse, RpcValue } from './worker-protocol.ts'

/** `sharedAreas`: the shared storage areas the plugin's definition declares, the only ones its requests may name. */
export async function servePluginRpc(plugin: string, req: RpcRequest, services: PluginServices, sharedAreas: readonly string[] = []): Promise<RpcResponse> {
  try {
    return { t: 'rpc-result', id: req.id, ok: true, value: await perform(plugin, req, services, sharedAreas) }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    // A refused platform call keeps its code and errcode across the thread: the plugin decides on them
    // (45015 give up, -1 try later), not on errmsg, which is free text ending with a request id.
    if (e instanceof PlatformApiError) {
      const error: RpcError = { code: e.code }
      if (e.errcode !== undefined) error.errcode = e.errcode
      return { t: 'rpc-result', id: req.id, ok: false, message, error }
    }
    return { t: 'rpc-result', id: req.id, ok: false, message }
  }
}

async function perform(plugin: string, req: RpcRequest, services: PluginServices, sharedAreas: readonly string[]): Promise<RpcValue> {
  const ns = req.method.startsWith('kv.') ? namespaceOf(plugin, req as { area?: string }, sharedAreas) : ''
  switch (req.method) {
    case 'kv.get':
      return services.kv.get(ns, keyOf(req.scope, req.key))
    case 'kv.set':
      await services.kv.set(ns, keyOf(req.scope, req.key), req.value, req.ttlSeconds === undefined ? undefined : req.ttlSeconds * 1000)
      return undefined
    case 'kv.delete':
      await services.kv.delete(ns, keyOf(req.scope, req.key))
      return undefined
    case 'kv.increment':
      return services.kv.increment(ns, keyOf(req.scope, req.key), req.by, req.ttlSeconds === undefined ? undefined : req.ttlSeconds * 1000)
    case 'kv.compareAndSet':
      return services.kv.compareAndSet(ns, keyOf(req.scope, req.key), req.expected?.value, req.next?.value, req.ttlSeconds === undefined ? undefined : req.ttlSeconds * 1000)
    case 'api.get':
      return services.api(req.accountId).get(req.path, req.query)
    case 'api.post':
      return services.api(req.accountId).post(req.path, req.body)
    case 'api.sendToUser': {
      // Refused as the in-process PlatformApi refuses it (code PLUGIN_BAD_REPLY), before any request.
      const message = parseSendable(req.message)
      if (!message.ok) throw new PlatformApiError({ code: message.error.code, reason: `sendToUser: ${message.error.reason}` })
      const opts = parseSendOptions(req.opts)
      if (!opts.ok) throw new PlatformApiError({ code: opts.error.code, reason: `sendToUser: ${opts.error.reason}` })
      const api = services.api(req.accountId)
      await (req.opts === undefined ? api.sendToUser(req.openId, message.value) : api.sendToUser(req.openId, message.value, opts.value))
      return undefined
    }
    case 'api.sendTemplate': {
      const message = parseTemplateMessage(req.message)
      if (!message.ok) throw new PlatformApiError({ code: message.error.code, reason: `sendTemplate: ${message.error.reason}` })
      return services.api(req.accountId).sendTemplate(req.openId, message.value)
    }
    case 'api.sendSubscribeMessage': {
      const message = parseSubscribeMessage(req.message)
      if (!message.ok) throw new PlatformApiError({ code: message.error.code, reason: `sendSubscribeMessage: ${message.error.reason}` })
      await services.api(req.accountId).sendSubscribeMessage(req.openId, message.value)
      return undefined
    }
    case 'api.uploadMedia':
      // Checked by the platform API itself (type, size, format), before any request.
      return services.api(req.accountId).uploadMedia(req.mediaType as UploadType, req.data, req.filename === undefined ? undefined : { filename: req.filename })
    case 'api.downloadMedia':
      return services.api(req.accountId).downloadMedia(req.mediaId)
    default:
      return assertNever(req)
  }
}

function keyOf(scope: KvScope, key: string): string {
  return scope === null ? globalKey(key) : userKey(scope.user, key)
}

/**
 * The plugin's own namespace, or a shared area's. The worker refuses an area the definition does not declare
 * before asking; refused here too, as every request is checked on this side of the thread.
 */
function namespaceOf(plugin: string, req: { area?: string }, sharedAreas: readonly string[]): string {
  if (req.area === undefined) return pluginNamespace(plugin)
  if (!sharedAreas.includes(req.area)) throw new Error(`storage.shared(${JSON.stringify(req.area)}): plugin ${plugin} does not declare this area (sharedStorage in its definePlugin)`)
  return sharedNamespace(req.area)
}

function assertNever(x: never): never {
  throw new Error(`unknown request ${JSON.stringify(x)}`)
}
