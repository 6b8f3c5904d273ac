/** `npm run build:binary [-- --out file --strip]`: the same as `wxengine build` (core/binary/build-binary.ts). */
import { parseArgs } from 'node:util'
import { runBuild } from '../core/cli/commands/build.ts'
import { outPath } from './out-path.ts'

const USAGE = 'usage: npm run build:binary -- [--out <file>] [--strip]\n'
let values: { out?: string; strip?: boolean; help?: boolean }
try {
  values = parseArgs({ options: { out: { type: 'string', short: 'o' }, strip: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values
} catch (e) {
  // An unknown or malformed option: say so in one line, as `wxengine` does, not with a stack.
  process.stderr.write(`build:binary: ${(e as Error).message}\n${USAGE}`)
  process.exit(2)
}
if (values.help) {
  // Asked for: the usage on stdout and exit 0, as `wxengine build --help` does.
  process.stdout.write(`${USAGE}the same as \`wxengine build\` (docs/cli.md#wxengine-build): --out where to write it (default: dist/wxengine in the source tree; a relative path is taken from where you ran npm), --strip to strip the copied node's symbol table (smaller)\n`)
} else {
  process.exitCode = await runBuild({ ...values, out: outPath(values.out, process.env.INIT_CWD) })
}
