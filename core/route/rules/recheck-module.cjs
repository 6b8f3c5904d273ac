'use strict'
/**
 * recheck, loaded on first use. It is 2.9 MB of compiled Scala: most rule sets never need it
 * (slow-regex.ts asks only about regexes with three or more repetitions), so neither the engine's start nor
 * any CLI command pays for it otherwise. CommonJS because a `require` inside a function is lazy under tsx
 * and in the binary's bundle alike (esbuild wraps the module and runs it at the call); an ESM `import()`
 * would make the rules check asynchronous.
 */
let loaded

function recheckModule() {
  if (loaded === undefined) loaded = require('recheck')
  return loaded
}

module.exports = { recheckModule }
