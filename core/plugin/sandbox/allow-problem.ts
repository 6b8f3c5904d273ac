/**
 * Whether a plugin's `allow` (the Node built-ins its sandbox may require) names only what the sandbox can give.
 * Asked by the worker before it loads the plugin, and by `wxengine rules check`, which said "ok" to a list
 * the start then refused (a review of bad input).
 */
import { makeBuiltinsFromLegacyOptions } from 'vm2/lib/builtin.js'
import { withoutNodePrefix } from './explain-load-error.ts'

/** Why the list cannot be given, in words of the fix; undefined when every name can be. */
export function allowProblem(allow: readonly string[]): string | undefined {
  const withheld = allow.filter((name) => !sandboxCanGive(name))
  if (withheld.length === 0) return undefined
  // vm2 drops these without a word: the plugin would meet "Cannot find module" only when it requires one.
  return (
    `allow names ${withheld.map((n) => JSON.stringify(n)).join(', ')}, which the sandbox does not give plugins ` +
    '(not a Node built-in, or one vm2 keeps from every sandbox: os, dns, child_process, module, worker_threads, cluster, vm, ' +
    'repl, inspector, process and a few more); remove it from allow, or do that work in the engine'
  )
}

/** What NodeVM's `builtin` option would really provide for this one name (vm2 filters it by its own lists). */
function sandboxCanGive(name: string): boolean {
  return makeBuiltinsFromLegacyOptions([withoutNodePrefix(name)], () => undefined).size > 0
}
