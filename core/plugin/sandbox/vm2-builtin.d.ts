/** vm2's own table of the built-ins a NodeVM hands out (lib/builtin.js); only what load-plugin-module.ts uses. */
declare module 'vm2/lib/builtin.js' {
  export function makeBuiltinsFromLegacyOptions(builtins: string[], hostRequire: (name: string) => unknown): Map<string, unknown>
}
