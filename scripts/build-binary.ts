/** `npm run build:binary [-- --out file --strip]`: the same as `wxengine build` (core/binary/build-binary.ts). */
import { parseArgs } from 'node:util'
import { runBuild } from '../core/cli/commands/build.ts'

let values: { out?: string; strip?: boolean }
try {
  values = parseArgs({ options: { out: { type: 'string', short: 'o' }, strip: { type: 'boolean' } } }).values
} catch (e) {
  // An unknown or malformed option: say so in one line, as `wxengine` does, not with a stack.
  process.stderr.write(`build:binary: ${(e as Error).message}\nusage: npm run build:binary -- [--out <file>] [--strip]\n`)
  process.exit(2)
}
process.exitCode = await runBuild(values)
