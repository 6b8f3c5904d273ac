/**
 * vm2's internals that the sandbox's files use, and only what they use: its table of the built-ins a NodeVM
 * hands out (lib/builtin.js), and below, how it compiles a module.
 */
declare module 'vm2/lib/builtin.js' {
  export function makeBuiltinsFromLegacyOptions(builtins: string[], hostRequire: (name: string) => unknown): Map<string, unknown>
}

/** How vm2 compiles a module before it runs it (compile-like-sandbox.ts does the same, without running). */
declare module 'vm2/lib/transformer.js' {
  export function transformer(args: null, body: string, isAsync: boolean, isGenerator: boolean, filename: string): { code: string; hasAsync: boolean }
}
declare module 'vm2/lib/script.js' {
  export const MODULE_PREFIX: string
  export const STRICT_MODULE_PREFIX: string
  export const MODULE_SUFFIX: string
}
declare module 'vm2/lib/compiler.js' {
  export function removeShebang(code: string): string
}
