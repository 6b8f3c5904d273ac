/** `npm run build:binary [-- --out file --strip]`: the same as `wxengine build` (core/binary/build-binary.ts). */
import { parseArgs } from 'node:util'
import { runBuild } from '../core/cli/commands/build.ts'

const { values } = parseArgs({ options: { out: { type: 'string', short: 'o' }, strip: { type: 'boolean' } } })
process.exitCode = await runBuild(values)
