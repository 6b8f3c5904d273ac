import path from 'node:path'

/**
 * `./x`, `../x`, `.`, `..` or an absolute path: a file of the project, not a package or a built-in. For
 * every reader of imports (a plugin's, followed by rules check; engine.config.ts's). A module of its own, with
 * no imports but node's: the configuration's reader is in the declaration files `wxengine init` writes, which
 * must not pull in the sandbox's vm2 internals.
 */
export function isPathSpecifier(specifier: string): boolean {
  return /^\.\.?(\/|$)/.test(specifier) || path.isAbsolute(specifier)
}
