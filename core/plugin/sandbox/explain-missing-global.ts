/**
 * "fetch is not defined" as a plugin's author needs it. The sandbox is a fresh realm: what JavaScript itself
 * has, plus timers, console and Buffer. Node's web globals (fetch, URL, TextEncoder, AbortController, ...)
 * are not in it, and an author coming from Node or another bot framework reaches for fetch first, then
 * learns nothing from V8's ReferenceError. Free of vm2, like explain-load-error.ts.
 */
import { docsPage } from '../../docs-page.ts'

/** Globals of Node that a plugin's realm does not have (checked against vm2's NodeVM on Node 20). */
const NODE_ONLY_GLOBALS = new Set([
  'fetch', 'Request', 'Response', 'Headers', 'FormData', 'Blob', 'WebSocket',
  'URL', 'URLSearchParams', 'AbortController', 'AbortSignal', 'TextEncoder', 'TextDecoder',
  'structuredClone', 'queueMicrotask', 'atob', 'btoa', 'crypto', 'performance',
  'EventTarget', 'Event', 'MessageChannel', 'BroadcastChannel',
])
const HTTP_GLOBALS = new Set(['fetch', 'Request', 'Response', 'Headers', 'FormData', 'WebSocket'])

/**
 * The reason, with what to do when it is a Node global the sandbox lacks; any other reason as it is.
 * `pluginDir`, the plugin's folder, is where the docs the reason names are looked for (docs-page.ts).
 */
export function explainMissingGlobal(reason: string, pluginDir: string): string {
  const name = /^ReferenceError: (\w+) is not defined\b/.exec(reason)?.[1]
  if (name === undefined || !NODE_ONLY_GLOBALS.has(name)) return reason
  if (HTTP_GLOBALS.has(name)) {
    return `${reason}: the plugin sandbox has no ${name}; allow node's http or https for the plugin (allow: ['http'] in its settings in engine.config.ts) and use http.request (${docsPage('plugins.md#calling-an-http-api', pluginDir)})`
  }
  return `${reason}: the plugin sandbox has only what JavaScript itself has, plus timers, console and Buffer, not Node's web globals such as ${name} (${docsPage('plugins.md#sandbox', pluginDir)})`
}
