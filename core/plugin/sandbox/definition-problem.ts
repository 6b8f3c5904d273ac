/**
 * What is wrong with a plugin's definition beyond `name` and `handle` (which load-plugin-module.ts requires),
 * in the author's terms; undefined when nothing is.
 *
 * Why: plugins are compiled without a type check, so what `definePlugin`'s types would refuse loads anyway.
 * `setUp(api)` or `Dispose()` (a case away from the names the engine calls) was kept as a method of the
 * author's own and never called: the plugin started with no timers and no error, and its cleanup never ran.
 * `setup: 'x'` failed as "setup failed: TypeError: def.setup is not a function", naming the engine's variable.
 * Keys of the author's own are fine (`this.tick` helpers); only a known name spelt another way is refused.
 */
const LIFECYCLE = ['setup', 'dispose'] as const
const KNOWN = ['name', 'handle', 'sharedStorage', ...LIFECYCLE]

/** `setUp`, `set_up`, `SETUP` all read `setup`. */
const folded = (key: string): string => key.toLowerCase().replace(/[_-]/g, '')

export function definitionProblem(def: object): string | undefined {
  for (const key of LIFECYCLE) {
    const value = (def as Record<string, unknown>)[key]
    if (value !== undefined && typeof value !== 'function') {
      return `the definition's ${key} must be a function (${key}(${key === 'setup' ? 'api' : ''}) { ... }), not ${value === null ? 'null' : `a ${typeof value}`}`
    }
  }
  for (const key of Object.keys(def)) {
    if (KNOWN.includes(key)) continue
    const meant = KNOWN.find((k) => folded(k) === folded(key))
    if (meant !== undefined && !Object.hasOwn(def, meant)) {
      return `the definition has ${JSON.stringify(key)}, which the engine never calls or reads: the name is ${JSON.stringify(meant)}`
    }
  }
  return undefined
}
